"""What every HTTP endpoint shares: typed errors, JSON answers, phone numbers, form bytes.

Every error answer is JSON `{"error": "<code>", "message": "..."}`. A handler raises an
`HttpError` subclass; its class attributes say the status and the code, and the error
middleware in http_app turns it into the answer.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import ClassVar
from urllib.parse import unquote_plus, unquote_to_bytes

import orjson
from aiohttp import web

# --- errors ------------------------------------------------------------------------------


class HttpError(Exception):
    """A refusal the client is told about; the message is the human-readable part."""

    status: ClassVar[int] = 400
    code: ClassVar[str] = "bad_request"
    headers: ClassVar[Mapping[str, str]] = {}


class MissingFieldError(HttpError):
    code = "missing_field"


class InvalidFieldError(HttpError):
    code = "invalid_field"


class InvalidJsonError(HttpError):
    code = "invalid_json"


class UnauthorizedError(HttpError):
    status = 401
    code = "unauthorized"
    headers: ClassVar[Mapping[str, str]] = {"WWW-Authenticate": 'Bearer realm="smsgw"'}


class UnknownLinkError(HttpError):
    status = 404
    code = "unknown_link"


class ZoneNotFoundError(HttpError):
    status = 404
    code = "unknown_zone"


class PayloadTooLargeError(HttpError):
    status = 413
    code = "payload_too_large"


class UnsupportedMediaTypeError(HttpError):
    status = 415
    code = "unsupported_media_type"


class NotStoredError(HttpError):
    """The message could not be stored: the sender should try again later."""

    status = 503
    code = "not_stored"


class NotReadyError(HttpError):
    status = 503
    code = "not_ready"


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
    """Digits only, without a "+" or "00" international prefix; InvalidFieldError else."""
    number = raw.strip().replace(" ", "")
    for prefix in _INTERNATIONAL_PREFIXES:
        if number.startswith(prefix):
            number = number[len(prefix) :]
            break
    if not _MSISDN.fullmatch(number):
        raise InvalidFieldError(f"{field} must be a phone number of 3 to 15 digits")
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
    """The whole body, or PayloadTooLargeError as soon as it passes `limit` bytes."""
    declared = request.content_length
    if declared is not None and declared > limit:
        raise PayloadTooLargeError(f"the body may be at most {limit} bytes")
    body = bytearray()
    async for chunk in request.content.iter_chunked(64 * 1024):
        body += chunk
        if len(body) > limit:
            raise PayloadTooLargeError(f"the body may be at most {limit} bytes")
    return bytes(body)


def link_of(request: web.Request, links: Mapping[str, str]) -> tuple[str, str]:
    """The `{link}` in the path and the operator it belongs to; UnknownLinkError else."""
    link_id = request.match_info["link"]
    operator_id = links.get(link_id)
    if operator_id is None:
        raise UnknownLinkError(f"no link {link_id!r} is configured")
    return link_id, operator_id
