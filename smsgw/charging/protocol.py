"""The wire vocabulary of the operator charging protocol (docs/operator-charging.md).

Both sides use it: the gateway's client and callback parser, and the simulated operator.
Bodies are JSON objects in UTF-8; money is an integer count of minor units beside an
ISO 4217 currency code, never a decimal or a float.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from types import MappingProxyType
from urllib.parse import quote

import orjson

from smsgw.domain.money import Money
from smsgw.service.ports import CALLBACK_MAX_SKEW, ChargeOutcome

# the reason words are defined by the service's charging port (it picks the driver's
# reply by them) and are this protocol's vocabulary too: the simulated operator reads them here
from smsgw.service.ports import Reason as Reason

CHARGES_PATH = "/charges"
# How far a signed timestamp may be from the receiver's clock, either way (the service
# keeps callback nonces by the same figure, so it is defined beside its ports).
MAX_SKEW = CALLBACK_MAX_SKEW
# Bodies are small; anything bigger is not a message of this protocol.
MAX_BODY_BYTES = 16 * 1024
MAX_ID_CHARS = 128
MAX_TEXT_CHARS = 1000
MAX_URL_CHARS = 2000


class WireStatus(StrEnum):
    PENDING = "pending"  # the operator is asking the subscriber
    CONFIRMED = "confirmed"  # the money was taken from the phone
    DECLINED = "declined"  # the subscriber said no
    FAILED = "failed"  # the operator could not charge (see "reason")


FINAL_STATUSES = frozenset({WireStatus.CONFIRMED, WireStatus.DECLINED, WireStatus.FAILED})

OUTCOME_OF_STATUS: Mapping[WireStatus, ChargeOutcome] = MappingProxyType(
    {
        WireStatus.PENDING: ChargeOutcome.ACCEPTED,
        WireStatus.CONFIRMED: ChargeOutcome.CONFIRMED,
        WireStatus.DECLINED: ChargeOutcome.DECLINED,
        WireStatus.FAILED: ChargeOutcome.FAILED,
    }
)


class MalformedBodyError(ValueError):
    """A body that is not a message of this protocol; the text says which field."""


def charge_path(charge_id: str) -> str:
    """`/charges/{charge_id}`, the id percent-encoded as one path segment."""
    return f"{CHARGES_PATH}/{quote(charge_id, safe='')}"


def status_signed_body(charge_id: str) -> bytes:
    """A GET has no body, so its signature covers the charge id instead: a captured
    signature then reads only that charge, whatever path prefix a proxy adds."""
    return charge_id.encode("utf-8")


@dataclass(frozen=True, slots=True)
class ChargeRequest:
    """The body of `POST {base}/charges`."""

    charge_id: str
    msisdn: str
    amount: Money
    text: str
    callback_url: str
    confirmed_by_subscriber: bool

    def to_json(self) -> bytes:
        return orjson.dumps(
            {
                "charge_id": self.charge_id,
                "msisdn": self.msisdn,
                "amount": self.amount.minor,
                "currency": self.amount.currency,
                "text": self.text,
                "callback_url": self.callback_url,
                "confirmed_by_subscriber": self.confirmed_by_subscriber,
            }
        )

    def same_charge(self, other: ChargeRequest) -> bool:
        """Whether a repeat of this charge id asks for the same money from the same phone.

        Only these fields make a repeat a different charge (409): a retry may carry a
        re-rendered text or a moved callback URL, and refusing it would strand a charge
        the subscriber may already be confirming."""
        return (self.msisdn, self.amount) == (other.msisdn, other.amount)

    @classmethod
    def from_json(cls, body: bytes) -> ChargeRequest:
        fields = json_object(body)
        return cls(
            charge_id=text_field(fields, "charge_id", MAX_ID_CHARS),
            msisdn=msisdn_field(fields, "msisdn"),
            amount=amount_fields(fields),
            text=text_field(fields, "text", MAX_TEXT_CHARS),
            callback_url=url_field(fields, "callback_url"),
            confirmed_by_subscriber=bool_field(fields, "confirmed_by_subscriber"),
        )


@dataclass(frozen=True, slots=True)
class ChargeView:
    """An operator's answer about one charge: the POST answer, the GET answer."""

    charge_id: str
    status: WireStatus
    operator_reference: str | None = None
    reason: str | None = None

    def to_json(self) -> bytes:
        view: dict[str, object] = {
            "charge_id": self.charge_id,
            "status": self.status.value,
            "operator_reference": self.operator_reference,
        }
        if self.reason is not None:
            view["reason"] = self.reason
        return orjson.dumps(view)

    @classmethod
    def from_json(cls, body: bytes) -> ChargeView:
        fields = json_object(body)
        return cls(
            charge_id=text_field(fields, "charge_id", MAX_ID_CHARS),
            status=status_field(fields),
            operator_reference=optional_text_field(fields, "operator_reference"),
            reason=optional_text_field(fields, "reason"),
        )


def callback_body(view: ChargeView, *, nonce: str, timestamp: str) -> bytes:
    """The body an operator POSTs to the callback URL (sign it with the same timestamp)."""
    fields: dict[str, object] = {
        "charge_id": view.charge_id,
        "status": view.status.value,
        "operator_reference": view.operator_reference,
        "nonce": nonce,
        "timestamp": int(timestamp),
    }
    if view.reason is not None:
        fields["reason"] = view.reason
    return orjson.dumps(fields)


def error_body(error: str, detail: str) -> bytes:
    """Every refusal in this protocol, either way: `{"error": ..., "detail": ...}`."""
    return orjson.dumps({"error": error, "detail": detail})


# --- reading fields ------------------------------------------------------------------------


def json_object(body: bytes) -> Mapping[str, object]:
    if len(body) > MAX_BODY_BYTES:
        raise MalformedBodyError(f"body is over {MAX_BODY_BYTES} bytes")
    try:
        value = orjson.loads(body)
    except orjson.JSONDecodeError as error:
        raise MalformedBodyError(f"body is not JSON in UTF-8 ({error})") from None
    if not isinstance(value, dict):
        raise MalformedBodyError("body must be a JSON object")
    return value


def text_field(fields: Mapping[str, object], key: str, max_chars: int) -> str:
    value = fields.get(key)
    if not isinstance(value, str) or not value or len(value) > max_chars:
        raise MalformedBodyError(f"{key!r} must be a string of 1..{max_chars} characters")
    return value


def optional_text_field(fields: Mapping[str, object], key: str) -> str | None:
    if fields.get(key) is None:
        return None
    return text_field(fields, key, MAX_ID_CHARS)


def msisdn_field(fields: Mapping[str, object], key: str) -> str:
    value = fields.get(key)
    if not isinstance(value, str) or not value.isascii() or not value.isdigit():
        raise MalformedBodyError(f"{key!r} must be the number in international digits")
    if not 5 <= len(value) <= 15:
        raise MalformedBodyError(f"{key!r} must have 5..15 digits")
    return value


def url_field(fields: Mapping[str, object], key: str) -> str:
    value = text_field(fields, key, MAX_URL_CHARS)
    if not value.startswith(("http://", "https://")):
        raise MalformedBodyError(f"{key!r} must be an http(s) URL")
    return value


def bool_field(fields: Mapping[str, object], key: str) -> bool:
    value = fields.get(key)
    if not isinstance(value, bool):
        raise MalformedBodyError(f"{key!r} must be true or false")
    return value


def int_field(fields: Mapping[str, object], key: str) -> int:
    value = fields.get(key)
    if isinstance(value, bool) or not isinstance(value, int):
        raise MalformedBodyError(f"{key!r} must be a whole number")
    return value


def amount_fields(fields: Mapping[str, object]) -> Money:
    minor = int_field(fields, "amount")
    if minor <= 0:
        raise MalformedBodyError("'amount' must be above zero (integer minor units)")
    currency = fields.get("currency")
    if not isinstance(currency, str):
        raise MalformedBodyError("'currency' must be an ISO 4217 code, e.g. RUB")
    try:
        return Money(minor, currency)
    except ValueError:
        raise MalformedBodyError("'currency' must be an ISO 4217 code, e.g. RUB") from None


def status_field(fields: Mapping[str, object]) -> WireStatus:
    value = fields.get("status")
    choices = [status.value for status in WireStatus]
    if not isinstance(value, str) or value not in choices:
        raise MalformedBodyError(f"'status' must be one of {choices}")
    return WireStatus(value)
