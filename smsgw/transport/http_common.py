"""What every HTTP endpoint shares: typed errors, JSON answers, phone numbers, form bytes.

Every error answer is JSON `{"error": "<code>", "message": "..."}`. A handler raises an
`HttpError` with one of the `Refusal`s below, which says the status and the code, and
the error middleware in http_app turns it into the answer.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import ipaddress
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final
from urllib.parse import unquote_plus, unquote_to_bytes

import orjson
from aiohttp import web

# --- errors ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Refusal:
    """One kind of refusal: the HTTP status and the JSON error code it answers with."""

    status: int
    code: str
    headers: Mapping[str, str] | None = None


class HttpError(Exception):
    """A refusal the client is told about; the message is the human-readable part."""

    def __init__(self, refusal: Refusal, message: str) -> None:
        super().__init__(message)
        self.refusal = refusal

    def answer(self) -> web.Response:
        """The JSON answer: the refusal's status, code and headers, and this message."""
        refusal = self.refusal
        return json_error(refusal.status, refusal.code, str(self), refusal.headers)


# the refusals the endpoints raise, one row each: status, error code (and headers)
MISSING_FIELD: Final = Refusal(400, "missing_field")
INVALID_FIELD: Final = Refusal(400, "invalid_field")
INVALID_JSON: Final = Refusal(400, "invalid_json")
UNAUTHORIZED: Final = Refusal(401, "unauthorized", {"WWW-Authenticate": 'Bearer realm="smsgw"'})
# a link's MO or report endpoint called without that link's credential
LINK_UNAUTHORIZED: Final = Refusal(
    401, "unauthorized", {"WWW-Authenticate": 'Basic realm="smsgw link"'}
)
SOURCE_NOT_ALLOWED: Final = Refusal(403, "forbidden")
UNKNOWN_LINK: Final = Refusal(404, "unknown_link")
UNKNOWN_ZONE: Final = Refusal(404, "unknown_zone")
UNKNOWN_OUTBOX_ID: Final = Refusal(404, "unknown_outbox_id")
PAYLOAD_TOO_LARGE: Final = Refusal(413, "payload_too_large")
UNSUPPORTED_MEDIA_TYPE: Final = Refusal(415, "unsupported_media_type")
# the message could not be stored: the sender should try again later
NOT_STORED: Final = Refusal(503, "not_stored")
NOT_READY: Final = Refusal(503, "not_ready")
# the driver API (http_driver, docs/driver-api.md)
DRIVER_UNAUTHORIZED: Final = Refusal(
    401, "unauthorized", {"WWW-Authenticate": 'Bearer realm="smsgw driver"'}
)
BAD_CODE: Final = Refusal(401, "bad_code")
CSRF: Final = Refusal(403, "csrf")
NOT_FOUND: Final = Refusal(404, "not_found")
UNKNOWN_OPERATOR: Final = Refusal(422, "unknown_operator")
BAD_PLATE: Final = Refusal(422, "bad_plate")
TOO_MANY_VEHICLES: Final = Refusal(422, "too_many_vehicles")


def too_many_codes(retry_after: int) -> Refusal:
    """429 with the seconds until the next code may be asked for."""
    return Refusal(429, "too_many_codes", {"Retry-After": str(retry_after)})


# --- JSON answers ------------------------------------------------------------------------


def _dumps(body: object) -> str:
    # orjson writes datetimes as ISO 8601 and dataclasses (Money) as objects natively
    return orjson.dumps(body).decode("utf-8")


def json_response(
    body: object, status: int = 200, headers: Mapping[str, str] | None = None
) -> web.Response:
    return web.json_response(body, status=status, headers=headers, dumps=_dumps)


def json_error(
    status: int, code: str, message: str, headers: Mapping[str, str] | None = None
) -> web.Response:
    return json_response({"error": code, "message": message}, status=status, headers=headers)


# --- phone numbers -----------------------------------------------------------------------

# E.164 allows 15 digits; short numbers (7757) have at least 3
_MSISDN = re.compile(r"[0-9]{3,15}")
_INTERNATIONAL_PREFIXES = ("+", "00")


def normalise_msisdn(raw: str, field: str) -> str:
    """Digits only, without a "+" or "00" international prefix; an INVALID_FIELD HttpError else."""
    number = raw.strip().replace(" ", "")
    for prefix in _INTERNATIONAL_PREFIXES:
        if number.startswith(prefix):
            number = number[len(prefix) :]
            break
    if not _MSISDN.fullmatch(number):
        raise HttpError(INVALID_FIELD, f"{field} must be a phone number of 3 to 15 digits")
    return number


# --- form bytes --------------------------------------------------------------------------


def parse_form_bytes(encoded: str | bytes) -> dict[str, bytes]:
    """`a=1&b=%04%10` → {"a": b"1", "b": b"\\x04\\x10"}: values stay raw bytes.

    Kannel percent-encodes a message's octets in whatever charset it names, UTF-16BE
    included, so decoding a value to text must wait until the charset is known. Names
    are ASCII in practice; the first occurrence of a name wins.
    """
    text = encoded.decode("latin-1") if isinstance(encoded, bytes) else encoded
    pairs: dict[str, bytes] = {}
    for item in text.split("&"):
        if not item:
            continue
        name, _, value = item.partition("=")
        key = unquote_plus(name, encoding="latin-1")
        if key not in pairs:
            pairs[key] = unquote_to_bytes(value.replace("+", " "))
    return pairs


async def read_limited(request: web.Request, limit: int) -> bytes:
    """The whole body, or a PAYLOAD_TOO_LARGE HttpError as soon as it passes `limit` bytes."""
    declared = request.content_length
    if declared is not None and declared > limit:
        raise HttpError(PAYLOAD_TOO_LARGE, f"the body may be at most {limit} bytes")
    body = bytearray()
    async for chunk in request.content.iter_chunked(64 * 1024):
        body += chunk
        if len(body) > limit:
            raise HttpError(PAYLOAD_TOO_LARGE, f"the body may be at most {limit} bytes")
    return bytes(body)


# --- HTTP links and their credentials -----------------------------------------------------

IpNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
# the query parameter a link's credential may travel in (Kannel's get-url and dlr-url
# are plain URLs, so a query parameter is what Kannel can always send)
SECRET_PARAMETER = "secret"


@dataclass(frozen=True, slots=True)
class HttpLink:
    """A link whose MO and delivery reports arrive over HTTP (Kannel's get-url/dlr-url).

    `secret` must come with every request, as `?secret=` or as the password of HTTP basic
    auth; an empty secret refuses everything. `networks` (when not empty) are the only
    source addresses the link's requests may come from.
    """

    operator: str
    secret: str
    networks: tuple[IpNetwork, ...] = ()


class LinkRefusal:
    """Why a request for a link was refused: the label of the refusal counter."""

    UNKNOWN_LINK = "unknown_link"
    BAD_CREDENTIAL = "bad_credential"
    SOURCE_NOT_ALLOWED = "source_not_allowed"


class LinkRefusedError(Exception):
    """Carries the refusal reason beside the HTTP error to answer with."""

    def __init__(self, reason: str, error: HttpError) -> None:
        super().__init__(reason)
        self.reason = reason
        self.error = error


def authorised_link(request: web.Request, links: Mapping[str, HttpLink]) -> tuple[str, HttpLink]:
    """The `{link}` in the path and its settings, once the request proved it may use it.

    Unknown links and links of another type answer alike (404), so a caller cannot
    probe which SMPP links exist; the credential is compared in constant time.
    """
    link_id = request.match_info["link"]
    link = links.get(link_id)
    if link is None:
        raise LinkRefusedError(
            LinkRefusal.UNKNOWN_LINK,
            HttpError(UNKNOWN_LINK, f"no HTTP link {link_id!r} is configured"),
        )
    if link.networks and not _source_allowed(request.remote, link.networks):
        raise LinkRefusedError(
            LinkRefusal.SOURCE_NOT_ALLOWED,
            HttpError(SOURCE_NOT_ALLOWED, "this link does not accept requests from this address"),
        )
    if not _credential_matches(request, link.secret):
        raise LinkRefusedError(
            LinkRefusal.BAD_CREDENTIAL,
            HttpError(LINK_UNAUTHORIZED, "this link needs its secret (?secret= or basic auth)"),
        )
    return link_id, link


def _source_allowed(remote: str | None, networks: tuple[IpNetwork, ...]) -> bool:
    if not remote:
        return False
    try:
        address = ipaddress.ip_address(remote.split("%", 1)[0])
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return any(address in network for network in networks)


def _credential_matches(request: web.Request, secret: str) -> bool:
    if not secret:
        return False  # a link without a secret takes nothing over HTTP
    expected = secret.encode("utf-8")
    offered = _offered_credentials(request)
    # every offered credential is compared, so the time taken says nothing of which matched
    matches = [hmac.compare_digest(candidate, expected) for candidate in offered]
    return any(matches)


def _offered_credentials(request: web.Request) -> list[bytes]:
    offered: list[bytes] = []
    query = parse_form_bytes(request.rel_url.raw_query_string)
    if SECRET_PARAMETER in query:
        offered.append(query[SECRET_PARAMETER])
    password = _basic_auth_password(request.headers.get("Authorization", ""))
    if password is not None:
        offered.append(password)
    return offered


def _basic_auth_password(header: str) -> bytes | None:
    scheme, _, encoded = header.strip().partition(" ")
    if scheme.lower() != "basic" or not encoded:
        return None
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True)
    except (binascii.Error, ValueError):
        return None
    _user, separator, password = decoded.partition(b":")
    return password if separator else None
