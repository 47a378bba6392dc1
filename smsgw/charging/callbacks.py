"""Verifying an operator's charge callback before anything believes it.

`parse_callback` checks, in this order: both signature headers are there (401
unsigned), the signature matches the per-operator secret (401 bad_signature), the
timestamp is unix seconds (400 malformed) within `MAX_SKEW` of our clock (401 stale),
and the body is a callback of the protocol (400 malformed). What it returns is
authentic and fresh, but NOT yet known to be new: the nonce-replay check needs the
database, so the service does it with `Tx.remember_nonce` in the same unit of work that
applies the callback, and answers `ReplayedCallbackError` (409) when that returns False.

Each refusal is a `CallbackRejected` subclass whose class attributes say how to answer:
`http_status` and the JSON `reason`; `to_json()` is the response body.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import ClassVar

from smsgw.charging.protocol import (
    MAX_ID_CHARS,
    MAX_SKEW,
    MalformedBodyError,
    WireStatus,
    int_field,
    json_object,
    optional_text_field,
    status_field,
    text_field,
)
from smsgw.charging.signing import SIGNATURE_HEADER, TIMESTAMP_HEADER, verify
from smsgw.service.ports import ChargeCallback, ChargeOutcome

_CALLBACK_OUTCOMES = {
    WireStatus.CONFIRMED: ChargeOutcome.CONFIRMED,
    WireStatus.DECLINED: ChargeOutcome.DECLINED,
    WireStatus.FAILED: ChargeOutcome.FAILED,
}
# A timestamp longer than this is no unix time in seconds (and int() of it is costly).
_MAX_TIMESTAMP_DIGITS = 12


class CallbackRejected(Exception):  # noqa: N818  # the name the protocol documents
    """A callback the gateway refuses; the message is the detail shown to the operator."""

    http_status: ClassVar[int] = 400
    reason: ClassVar[str] = "rejected"

    def to_json(self) -> dict[str, str]:
        return {"error": self.reason, "detail": str(self)}


class MalformedCallbackError(CallbackRejected):
    http_status = 400
    reason = "malformed"


class UnsignedCallbackError(CallbackRejected):
    http_status = 401
    reason = "unsigned"


class BadSignatureError(CallbackRejected):
    http_status = 401
    reason = "bad_signature"


class StaleCallbackError(CallbackRejected):
    http_status = 401
    reason = "stale"


class ReplayedCallbackError(CallbackRejected):
    """Raised by the service when `Tx.remember_nonce` says the nonce was seen: that
    message was stored before, so the operator may stop retrying it."""

    http_status = 409
    reason = "replayed"


class UnknownOperatorCallbackError(CallbackRejected):
    """The callback URL names no operator with charging configured."""

    http_status = 404
    reason = "unknown_operator"


class UnknownChargeCallbackError(CallbackRejected):
    """Authentic, but about a charge this gateway never asked this operator for."""

    http_status = 404
    reason = "unknown_charge"


class ConflictingCallbackError(CallbackRejected):
    """Contradicts what the charge already is (declined after confirmed)."""

    http_status = 409
    reason = "conflict"


def parse_callback(
    operator_id: str,
    secret: bytes,
    headers: Mapping[str, str],
    body: bytes,
    now: datetime,
) -> ChargeCallback:
    """The verified callback, or a `CallbackRejected` saying why not (see module doc).

    `headers` may be aiohttp's case-insensitive mapping or a plain dict."""
    timestamp = _header(headers, TIMESTAMP_HEADER)
    signature = _header(headers, SIGNATURE_HEADER)
    if timestamp is None or signature is None:
        raise UnsignedCallbackError(f"{TIMESTAMP_HEADER} and {SIGNATURE_HEADER} are required")
    if not verify(secret, timestamp, body, signature):
        raise BadSignatureError("the signature does not match the body and timestamp")
    sent_at = _unix_seconds(timestamp)
    _refuse_stale(sent_at, now)
    return _callback_from_body(operator_id, body, sent_at)


def _header(headers: Mapping[str, str], name: str) -> str | None:
    value = headers.get(name)
    if value is not None:
        return value
    wanted = name.lower()
    return next((v for k, v in headers.items() if k.lower() == wanted), None)


def _unix_seconds(timestamp: str) -> int:
    text = timestamp.strip()
    if not (text.isascii() and text.isdigit() and len(text) <= _MAX_TIMESTAMP_DIGITS):
        raise MalformedCallbackError(f"{TIMESTAMP_HEADER} must be whole unix seconds")
    return int(text)


def _refuse_stale(sent_at: int, now: datetime) -> None:
    skew = abs(now.timestamp() - sent_at)
    if skew > MAX_SKEW.total_seconds():
        raise StaleCallbackError(
            f"timestamp is {int(skew)} s from the gateway's clock "
            f"(at most {int(MAX_SKEW.total_seconds())} s)"
        )


def _callback_from_body(operator_id: str, body: bytes, sent_at: int) -> ChargeCallback:
    try:
        fields = json_object(body)
        status = status_field(fields)
        if status not in _CALLBACK_OUTCOMES:
            raise MalformedBodyError("a callback's status must be final, not pending")
        if int_field(fields, "timestamp") != sent_at:
            raise MalformedBodyError(f"'timestamp' must equal {TIMESTAMP_HEADER}")
        return ChargeCallback(
            operator_id=operator_id,
            charge_id=text_field(fields, "charge_id", MAX_ID_CHARS),
            outcome=_CALLBACK_OUTCOMES[status],
            operator_reference=optional_text_field(fields, "operator_reference"),
            nonce=text_field(fields, "nonce", MAX_ID_CHARS),
            reason=optional_text_field(fields, "reason"),
        )
    except MalformedBodyError as error:
        raise MalformedCallbackError(str(error)) from None
