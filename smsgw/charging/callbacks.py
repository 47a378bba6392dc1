"""Verifying an operator's charge callback before anything believes it.

`parse_callback` (the service's `CallbackVerifier`) checks, in this order: both
signature headers are there (unsigned), the signature matches the per-operator secret
(bad_signature), the timestamp is unix seconds (malformed) within `MAX_SKEW` of our
clock (stale), and the body is a callback of the protocol (malformed). What it returns
is authentic and fresh, but NOT yet known to be new: the nonce-replay check needs the
database, so the service does it with `Tx.remember_nonce` in the same unit of work that
applies the callback, and answers "replayed" when that returns False.

Each refusal is a `CallbackRejected` subclass whose `verdict` names it; the HTTP
listener (smsgw/transport/http_callbacks.py) turns verdicts into statuses and bodies.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

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
from smsgw.charging.signing import SIGNATURE_HEADER, TIMESTAMP_HEADER, secret_bytes, verify
from smsgw.service.ports import (
    CallbackRefusedError,
    CallbackVerdict,
    ChargeCallback,
    ChargeOutcome,
)

_CALLBACK_OUTCOMES = {
    WireStatus.CONFIRMED: ChargeOutcome.CONFIRMED,
    WireStatus.DECLINED: ChargeOutcome.DECLINED,
    WireStatus.FAILED: ChargeOutcome.FAILED,
}
# A timestamp longer than this is no unix time in seconds (and int() of it is costly).
_MAX_TIMESTAMP_DIGITS = 12


class CallbackRejected(CallbackRefusedError):  # noqa: N818  # the name the protocol documents
    """A callback the gateway refuses; the message is the detail shown to the operator."""

    verdict = CallbackVerdict.MALFORMED

    @property
    def reason(self) -> str:
        """The word the operator reads (docs/operator-charging.md)."""
        return self.verdict.value


class MalformedCallbackError(CallbackRejected):
    verdict = CallbackVerdict.MALFORMED


class UnsignedCallbackError(CallbackRejected):
    verdict = CallbackVerdict.UNSIGNED


class BadSignatureError(CallbackRejected):
    verdict = CallbackVerdict.BAD_SIGNATURE


class StaleCallbackError(CallbackRejected):
    verdict = CallbackVerdict.STALE


class ReplayedCallbackError(CallbackRejected):
    """The nonce was seen before: that message was stored before, so the operator may
    stop retrying it."""

    verdict = CallbackVerdict.REPLAYED


class UnknownOperatorCallbackError(CallbackRejected):
    """The callback URL names no operator with charging configured."""

    verdict = CallbackVerdict.UNKNOWN_OPERATOR


class UnknownChargeCallbackError(CallbackRejected):
    """Authentic, but about a charge this gateway never asked this operator for."""

    verdict = CallbackVerdict.UNKNOWN_CHARGE


class ConflictingCallbackError(CallbackRejected):
    """Contradicts what the charge already is (declined after confirmed)."""

    verdict = CallbackVerdict.CONFLICT


def parse_callback(
    operator_id: str,
    secret: bytes | str,
    headers: Mapping[str, str],
    body: bytes,
    now: datetime,
) -> ChargeCallback:
    """The verified callback, or a `CallbackRejected` saying why not (see module doc).

    `headers` may be aiohttp's case-insensitive mapping or a plain dict; `secret` is the
    operator's shared secret as configured (text) or as bytes."""
    timestamp = _header(headers, TIMESTAMP_HEADER)
    signature = _header(headers, SIGNATURE_HEADER)
    if timestamp is None or signature is None:
        raise UnsignedCallbackError(f"{TIMESTAMP_HEADER} and {SIGNATURE_HEADER} are required")
    if not verify(secret_bytes(secret), timestamp, body, signature):
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
