"""MO over HTTP: Kannel's `get-url` (GET query or POST form) and a JSON endpoint.

    GET  /mo/kannel/{link}?secret=S&sender=%p&receiver=%P&text=%b&coding=%c&charset=%C&smsc=%i&id=%I
    POST /mo/kannel/{link}?secret=S   the same fields as an x-www-form-urlencoded body
    POST /mo/json/{link}?secret=S     {"sender": ..., "receiver": ..., "text": ..., "id": ...}

The link in the path is a configured HTTP (kannel) link and names the operator; every
request must carry that link's secret (`?secret=` or HTTP basic auth) and, when the link
lists networks, come from one of them (docs/security.md). Kannel
percent-encodes the message's octets in the charset it reports (`%C`): UTF-16BE for UCS-2
messages, so the text is decoded from the raw query bytes, never from a string some
layer already decoded as UTF-8.

The answer is 200 with an empty text/plain body once the message is stored, 400 (JSON)
for a missing or invalid field, 401/403/404 (JSON) for a request the link does not take,
503 when it could not be stored (Kannel then tries again).

Redeliveries: Kannel retries a get-url whose answer it did not get, with the same `%I`.
An MO that repeats the transport id of an earlier one on the same link is that message
again (the store keeps it once, across restarts, by its dedup key); an MO without an id
is always a new message, even when it repeats a recent text: a driver may well send
`S` twice.
The gateway sends its replies itself through sendsms, so the body is empty; configure the
Kannel `sms-service` with `max-messages = 0` so it never turns an answer into an SMS.
"""

from __future__ import annotations

import codecs
import hashlib
import uuid
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

import orjson
import structlog
from aiohttp import web

from smsgw.observability import mask_msisdn
from smsgw.service.messages import InboundSms
from smsgw.transport.http_common import (
    INVALID_FIELD,
    INVALID_JSON,
    MISSING_FIELD,
    NOT_STORED,
    UNSUPPORTED_MEDIA_TYPE,
    HttpError,
    HttpLink,
    authorised_link,
    normalise_msisdn,
    parse_form_bytes,
    read_limited,
)

log = structlog.get_logger(__name__)

AcceptMo = Callable[[InboundSms], Awaitable[bool]]
Clock = Callable[[], datetime]

FORM_CONTENT_TYPE = "application/x-www-form-urlencoded"
# a message id longer than this is kept as a digest, so the dedup key stays small
MAX_MESSAGE_ID = 64
MAX_CHARSET_NAME = 40

# Kannel's %c
CODING_7BIT = "0"
CODING_8BIT = "1"
CODING_UCS2 = "2"

# charsets a message may arrive in; anything else (or an unknown name) falls back to the
# coding's default, so a misconfigured charset still gets the message stored and answered
_TEXT_CODECS = frozenset(
    {"utf-8", "utf-16", "utf-16-be", "utf-16-le", "ascii", "koi8-r", "koi8-u", "mac-cyrillic"}
)
_TEXT_CODEC_FAMILIES = ("iso8859-", "cp125", "cp866")
_CHARSET_ALIASES = {"ucs-2": "utf-16-be", "ucs2": "utf-16-be", "ucs-2be": "utf-16-be"}
_UTF16_BOMS = (codecs.BOM_UTF16_BE, codecs.BOM_UTF16_LE)


@dataclass(frozen=True, slots=True)
class KannelMoFields:
    """Names of the get-url parameters; the defaults match the URL in the module doc."""

    sender: str = "sender"  # %p
    receiver: str = "receiver"  # %P
    text: str = "text"  # %b (or %a)
    coding: str = "coding"  # %c: 0 = 7-bit, 1 = 8-bit, 2 = UCS-2
    charset: str = "charset"  # %C: UTF-16BE, ISO-8859-1, UTF-8, WINDOWS-1251, ...
    smsc: str = "smsc"  # %i
    message_id: str = "id"  # %I: Kannel's id for the message, the only dedup key


def decode_mo_text(raw: bytes, coding: str | None, charset: str | None) -> str:
    """The message text from its octets. Never raises: bad octets become U+FFFD.

    The charset wins when it is a known text charset; else the coding decides: UCS-2 is
    UTF-16BE, 8-bit data is shown as hex (as the SMPP side does, so binary cannot pass
    for a command), 7-bit text is UTF-8, or Latin-1 if it is not valid UTF-8.
    """
    codec = _text_codec(charset)
    if codec is None:
        return _decode_by_coding(raw, coding)
    if codec == "utf-16" and not raw.startswith(_UTF16_BOMS):
        codec = "utf-16-be"  # without a byte-order mark, network order
    return raw.decode(codec, errors="replace")


def _text_codec(charset: str | None) -> str | None:
    name = (charset or "").strip().lower()
    if not name or len(name) > MAX_CHARSET_NAME or not name.isascii():
        return None
    name = _CHARSET_ALIASES.get(name, name)
    try:
        codec = codecs.lookup(name).name
    except (LookupError, ValueError):  # ValueError: a NUL in the name
        return None
    if codec in _TEXT_CODECS or codec.startswith(_TEXT_CODEC_FAMILIES):
        return codec
    return None


def _decode_by_coding(raw: bytes, coding: str | None) -> str:
    if coding == CODING_UCS2:
        return raw.decode("utf-16-be", errors="replace")
    if coding == CODING_8BIT:
        return raw.hex()
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("latin-1")


def http_dedup_key(message_id: str | None) -> str:
    """The transport's id for the message when it gives one: a retry of the same request
    carries the same id. Without an id nothing tells a retry from a driver texting the
    same words again, so the message is new: a unique key."""
    if message_id:
        if len(message_id) <= MAX_MESSAGE_ID:
            return f"id:{message_id}"
        return "id:" + hashlib.sha256(message_id.encode("utf-8", "replace")).hexdigest()[:32]
    return f"new:{uuid.uuid4().hex}"


class MoEndpoints:
    """The MO handlers of one HTTP listener."""

    def __init__(
        self,
        accept_mo: AcceptMo,
        links: Mapping[str, HttpLink],
        *,
        fields: KannelMoFields | None = None,
        clock: Clock = lambda: datetime.now(UTC),
        max_body_bytes: int = 64 * 1024,
    ) -> None:
        self.accept_mo = accept_mo
        self.links = links
        self.fields = fields or KannelMoFields()
        self.clock = clock
        self.max_body_bytes = max_body_bytes

    def add_routes(self, app: web.Application) -> None:
        app.router.add_get("/mo/kannel/{link}", self.kannel)
        app.router.add_post("/mo/kannel/{link}", self.kannel)
        app.router.add_post("/mo/json/{link}", self.json)

    async def kannel(self, request: web.Request) -> web.Response:
        link_id, link = authorised_link(request, self.links)
        values = parse_form_bytes(request.rel_url.raw_query_string)
        if request.method == "POST":
            values.update(await self._form_body(request))  # the body wins over the query
        sms = self._sms_from_kannel(link_id, link.operator, values)
        await self._store(sms)
        return web.Response(status=200, content_type="text/plain", body=b"")

    async def json(self, request: web.Request) -> web.Response:
        link_id, link = authorised_link(request, self.links)
        document = _json_object(await read_limited(request, self.max_body_bytes))
        now = self.clock()
        sender = normalise_msisdn(_json_str(document, "sender"), "sender")
        receiver = normalise_msisdn(_json_str(document, "receiver"), "receiver")
        text = _json_str(document, "text")
        message_id = _json_id(document)
        sms = InboundSms(
            link_id=link_id,
            operator_id=link.operator,
            sender=sender,
            receiver=receiver,
            text=text,
            received_at=now,
            dedup_key=http_dedup_key(message_id),
        )
        await self._store(sms)
        return web.Response(status=200, content_type="text/plain", body=b"")

    def _sms_from_kannel(
        self, link_id: str, operator_id: str, values: Mapping[str, bytes]
    ) -> InboundSms:
        names = self.fields
        now = self.clock()
        sender = normalise_msisdn(_required_ascii(values, names.sender), names.sender)
        receiver = normalise_msisdn(_required_ascii(values, names.receiver), names.receiver)
        if names.text not in values:
            raise HttpError(MISSING_FIELD, f"{names.text} is required")
        text = decode_mo_text(
            values[names.text],
            _optional_ascii(values, names.coding),
            _optional_ascii(values, names.charset),
        )
        message_id = _optional_text(values, names.message_id)
        return InboundSms(
            link_id=link_id,
            operator_id=operator_id,
            sender=sender,
            receiver=receiver,
            text=text,
            received_at=now,
            dedup_key=http_dedup_key(message_id),
        )

    async def _form_body(self, request: web.Request) -> dict[str, bytes]:
        if request.content_type != FORM_CONTENT_TYPE:
            raise HttpError(UNSUPPORTED_MEDIA_TYPE, f"a POST body must be {FORM_CONTENT_TYPE}")
        return parse_form_bytes(await read_limited(request, self.max_body_bytes))

    async def _store(self, sms: InboundSms) -> None:
        try:
            stored = await self.accept_mo(sms)
        except Exception:
            # whatever went wrong, the message is not safe yet: the sender must retry
            log.exception("mo.not_stored", link=sms.link_id, sender=mask_msisdn(sms.sender))
            raise HttpError(
                NOT_STORED, "the message could not be stored; try again later"
            ) from None
        if not stored:
            log.warning("mo.not_stored", link=sms.link_id, sender=mask_msisdn(sms.sender))
            raise HttpError(NOT_STORED, "the message could not be stored; try again later")


def _optional_ascii(values: Mapping[str, bytes], name: str) -> str | None:
    raw = values.get(name)
    return None if raw is None else raw.decode("ascii", errors="replace").strip()


def _optional_text(values: Mapping[str, bytes], name: str) -> str | None:
    raw = values.get(name)
    return None if raw is None else raw.decode("utf-8", errors="replace").strip() or None


def _required_ascii(values: Mapping[str, bytes], name: str) -> str:
    value = _optional_ascii(values, name)
    if not value:
        raise HttpError(MISSING_FIELD, f"{name} is required")
    return value


def _json_object(body: bytes) -> dict[str, object]:
    try:
        document = orjson.loads(body)
    except orjson.JSONDecodeError:
        raise HttpError(INVALID_JSON, "the body must be a JSON object") from None
    if not isinstance(document, dict):
        raise HttpError(INVALID_JSON, "the body must be a JSON object")
    return document


def _json_str(document: Mapping[str, object], name: str) -> str:
    if name not in document:
        raise HttpError(MISSING_FIELD, f"{name} is required")
    value = document[name]
    if not isinstance(value, str):
        raise HttpError(INVALID_FIELD, f"{name} must be a string")
    return value


def _json_id(document: Mapping[str, object]) -> str | None:
    value = document.get("id")
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise HttpError(INVALID_FIELD, "id must be a string or a number")
    return str(value) or None
