"""Delivery receipts: the de-facto text form (SMPP 3.4 appendix B) and message ids.

The receipted_message_id / message_state TLVs are authoritative when present; the text
form is the fallback for SMSCs that send only that:

    id:IIIIIIIIII sub:SSS dlvrd:DDD submit date:YYMMDDhhmm done date:YYMMDDhhmm
    stat:DDDDDDD err:E text:...

SMSCs disagree on whether the id in a receipt is written as in submit_sm_resp, or in hex
one place and decimal in the other; `message_ids_equal` and `normalise_message_id` cope.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Final, Literal

from smsgw.smpp.constants import MessageState

IdConvention = Literal["hex", "decimal", "as-is"]

_KEY: Final = re.compile(
    r"(?<!\S)(id|sub|dlvrd|submit[ _]?date|done[ _]?date|stat|err|text)\s*:",
    re.IGNORECASE,
)
_DIGITS: Final = re.compile(r"[0-9]+")
_HEX_WITH_LETTER: Final = re.compile(r"[0-9a-fA-F]*[a-fA-F][0-9a-fA-F]*")
_HEX: Final = re.compile(r"[0-9a-fA-F]+")
_ID_PADDING: Final = " \t\r\n\0"

_STATES: Final[dict[str, MessageState]] = {
    "ENROUTE": MessageState.ENROUTE,
    "DELIVRD": MessageState.DELIVERED,
    "DELIVERED": MessageState.DELIVERED,
    "EXPIRED": MessageState.EXPIRED,
    "DELETED": MessageState.DELETED,
    "UNDELIV": MessageState.UNDELIVERABLE,
    "UNDELIVERABLE": MessageState.UNDELIVERABLE,
    "FAILED": MessageState.UNDELIVERABLE,
    "ACCEPTD": MessageState.ACCEPTED,
    "ACCEPTED": MessageState.ACCEPTED,
    "UNKNOWN": MessageState.UNKNOWN,
    "REJECTD": MessageState.REJECTED,
    "REJECTED": MessageState.REJECTED,
}


@dataclass(frozen=True, slots=True)
class ReceiptText:
    """Fields of a text receipt; any may be missing. Dates are naive (SMSC local time)."""

    message_id: str | None
    submitted: int | None
    delivered: int | None
    submit_date: datetime | None
    done_date: datetime | None
    stat: str | None
    err: str | None
    text: str | None

    @property
    def state(self) -> MessageState | None:
        return None if self.stat is None else receipt_state(self.stat)


def receipt_state(stat: str) -> MessageState:
    """MessageState of a receipt's stat (DELIVRD, UNDELIV, ...); UNKNOWN for others."""
    return _STATES.get(stat.strip().upper(), MessageState.UNKNOWN)


def parse_receipt_date(value: str) -> datetime | None:
    """YYMMDDhhmm or YYMMDDhhmmss as a naive datetime in 20YY; None if not a date."""
    if not _DIGITS.fullmatch(value) or len(value) not in (10, 12):
        return None
    year, month, day, hour, minute = (int(value[i : i + 2]) for i in range(0, 10, 2))
    second = int(value[10:12] or "0")
    try:
        return datetime(2000 + year, month, day, hour, minute, second)
    except ValueError:
        return None


def _count(value: str | None) -> int | None:
    return int(value) if value is not None and _DIGITS.fullmatch(value) else None


def _date(value: str | None) -> datetime | None:
    return None if value is None else parse_receipt_date(value)


def _canonical_key(key: str) -> str:
    return re.sub(r"[ _]", "", key.lower())


def _fields(text: str) -> dict[str, str]:
    fields: dict[str, str] = {}
    matches = list(_KEY.finditer(text))
    for index, match in enumerate(matches):
        key = _canonical_key(match.group(1))
        if key == "text":
            fields.setdefault(key, text[match.end() :])
            break
        end = matches[index + 1].start() if index + 1 < len(matches) else len(text)
        fields.setdefault(key, text[match.end() : end].strip())
    return fields


def parse_receipt_text(text: str) -> ReceiptText | None:
    """The receipt in `text`, or None when it has neither an id nor a stat field."""
    fields = _fields(text)
    if "id" not in fields and "stat" not in fields:
        return None
    return ReceiptText(
        message_id=fields.get("id"),
        submitted=_count(fields.get("sub")),
        delivered=_count(fields.get("dlvrd")),
        submit_date=_date(fields.get("submitdate")),
        done_date=_date(fields.get("donedate")),
        stat=fields.get("stat"),
        err=fields.get("err"),
        text=fields.get("text"),
    )


def _numeric_value(message_id: str) -> int | None:
    """Decimal value of an all-digit id, hex value of a hex id with a letter, else None.

    All-digit ids are read as decimal only, so two different decimals never compare equal.
    """
    try:
        if _DIGITS.fullmatch(message_id):
            return int(message_id, 10)
        if _HEX_WITH_LETTER.fullmatch(message_id):
            return int(message_id, 16)
    except ValueError:  # more digits than int() converts
        return None
    return None


def message_ids_equal(a: str, b: str) -> bool:
    """Whether two message ids name the same message, across hex/decimal, zeros and case.

    "0A1B" equals "2587" and "000123" equals "123". An all-digit hex id (e.g. "1000" for
    4096) cannot be told from a decimal one: configure the convention and compare
    `normalise_message_id` keys for such SMSCs.
    """
    a, b = a.strip(_ID_PADDING), b.strip(_ID_PADDING)
    if a.lower() == b.lower():
        return True
    value_a, value_b = _numeric_value(a), _numeric_value(b)
    return value_a is not None and value_a == value_b


def normalise_message_id(message_id: str, convention: IdConvention = "as-is") -> str:
    """A lookup key for `message_id` written in `convention`.

    "hex" and "decimal" give the number in decimal without leading zeros, so an id
    stored from submit_sm_resp in one convention matches a receipt in the other; an id
    that does not fit its convention is kept as written. "as-is" only trims padding.
    """
    cleaned = message_id.strip(_ID_PADDING)
    pattern, base = (_HEX, 16) if convention == "hex" else (_DIGITS, 10)
    if convention == "as-is" or not pattern.fullmatch(cleaned):
        return cleaned
    try:
        return str(int(cleaned, base))
    except ValueError:  # more digits than int() converts
        return cleaned
