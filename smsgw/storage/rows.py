"""Rows to domain objects and back, the same for both backends.

The backends differ only in how a time comes out of a row (SQLite: ISO text, asyncpg:
an aware datetime), so each decoder takes the backend's `TimeDecoder`.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

import orjson

from smsgw.domain.charges import Charge, ChargeState
from smsgw.domain.ledger import Account, AccountKind, Entry, Transaction, TransactionKind
from smsgw.domain.money import Money
from smsgw.domain.parking import ParkingSession, SessionState
from smsgw.language import Language
from smsgw.service.messages import InboundSms, OutboundSms
from smsgw.service.ports import (
    HeldReceipt,
    Job,
    JobKind,
    JsonObject,
    OutboundPart,
    OutboxState,
    PhoneProfile,
    StoredCharge,
    StoredInbound,
    StoredOutbound,
    StoreFigures,
)


class Row(Protocol):
    """What sqlite3.Row and asyncpg.Record share: a value by column name."""

    def __getitem__(self, key: str, /) -> Any: ...


TimeDecoder = Callable[[Any], datetime]


# --- times -------------------------------------------------------------------------------


def as_utc(moment: datetime) -> datetime:
    """Storage holds UTC only; a naive time is a caller bug, not a guess about its zone."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"storage times must be timezone-aware, got {moment!r}")
    return moment.astimezone(UTC)


def utc_text(moment: datetime) -> str:
    """Fixed-width ISO text, so that text order is time order (SQLite)."""
    return as_utc(moment).isoformat(timespec="microseconds")


def lease_end(now: datetime, lease_seconds: float) -> datetime:
    if lease_seconds <= 0:
        raise ValueError(f"a lease must last a positive time, got {lease_seconds}")
    return as_utc(now) + timedelta(seconds=lease_seconds)


def optional_time(value: Any, decode: TimeDecoder) -> datetime | None:
    return None if value is None else decode(value)


def time_ordered_id(moment: datetime) -> str:
    """A unique id that sorts by `moment`: new rows land at the right edge of the primary
    key's B-tree instead of at random pages, which halves the pages a group commit
    writes (SQLite measured 23k -> 49k inserts/s). 64 random bits keep nodes apart."""
    micros = int(as_utc(moment).timestamp() * 1_000_000)
    return f"{micros:014x}{secrets.token_hex(8)}"


# --- JSON --------------------------------------------------------------------------------


def details_json(details: JsonObject) -> str:
    return orjson.dumps(dict(details), option=orjson.OPT_SORT_KEYS).decode()


def details_from_json(text: str) -> JsonObject:
    value = orjson.loads(text)
    if not isinstance(value, dict):
        raise ValueError(f"charge details must be a JSON object, got {type(value).__name__}")
    return value


# --- rows -> domain ----------------------------------------------------------------------


def inbound_from_row(row: Row, decode: TimeDecoder) -> StoredInbound:
    sms = InboundSms(
        link_id=row["link_id"],
        operator_id=row["operator_id"],
        sender=row["sender"],
        receiver=row["receiver"],
        text=row["text"],
        received_at=decode(row["received_at"]),
        dedup_key=row["dedup_key"],
    )
    return StoredInbound(id=row["id"], sms=sms)


def phone_from_row(row: Row) -> PhoneProfile:
    language = row["language"]
    return PhoneProfile(
        msisdn=row["msisdn"],
        language=None if language is None else Language(language),
        operator_id=row["operator_id"],
    )


def entry_from_row(row: Row) -> Entry:
    return Entry(Account.from_key(row["account"]), Money(row["amount_minor"], row["currency"]))


def transaction_from_rows(head: Row, entries: list[Entry], decode: TimeDecoder) -> Transaction:
    return Transaction(
        id=head["id"],
        kind=TransactionKind(head["kind"]),
        reference=head["reference"],
        entries=tuple(entries),
        at=decode(head["at"]),
    )


def session_from_row(row: Row, decode: TimeDecoder) -> ParkingSession:
    return ParkingSession(
        id=row["id"],
        phone=row["phone"],
        zone=row["zone"],
        plate=row["plate"],
        start=decode(row["start_at"]),
        end=decode(row["end_at"]),
        prepaid=Money(row["prepaid_minor"], row["currency"]),
        state=SessionState(row["state"]),
        closed_at=optional_time(row["closed_at"], decode),
    )


def charge_from_row(row: Row, decode: TimeDecoder) -> StoredCharge:
    charge = Charge(
        id=row["id"],
        phone=row["phone"],
        operator_id=row["operator_id"],
        amount=Money(row["amount_minor"], row["currency"]),
        purpose=row["purpose"],
        requested_at=decode(row["requested_at"]),
        deadline=decode(row["deadline"]),
        state=ChargeState(row["state"]),
    )
    return StoredCharge(
        charge=charge,
        details=details_from_json(row["details"]),
        operator_reference=row["operator_reference"],
    )


def outbound_from_row(row: Row, decode: TimeDecoder) -> StoredOutbound:
    sms = OutboundSms(
        outbox_id=row["outbox_id"],
        operator_id=row["operator_id"],
        sender=row["sender"],
        receiver=row["receiver"],
        text=row["text"],
        created_at=decode(row["created_at"]),
    )
    return StoredOutbound(
        sms=sms,
        state=OutboxState(row["state"]),
        attempts=row["attempts"],
        message_id=row["message_id"],
    )


def job_from_row(row: Row, decode: TimeDecoder) -> Job:
    return Job(
        id=row["id"],
        kind=JobKind(row["kind"]),
        reference=row["reference"],
        due_at=decode(row["due_at"]),
    )


def phone_account_range(msisdn: str) -> tuple[str, str]:
    """Account keys of the phone's parking accounts (every currency) lie in [first, end):
    `phone:<msisdn>:` up to `phone:<msisdn>;` (';' sorts right after ':'), so an index on
    the account key is used where LIKE would not be."""
    prefix = f"{AccountKind.PHONE}:{msisdn}"
    return f"{prefix}:", f"{prefix};"


def store_figures(
    charged: list[tuple[str, int]], refunded: list[tuple[str, int]], active: list[tuple[str, int]]
) -> StoreFigures:
    """Figures from (account key, minor) pairs: operator accounts for what was charged,
    zone revenue accounts for what was refunded."""
    return StoreFigures(
        charged=[_owner_money(key, minor) for key, minor in charged],
        refunded=[_owner_money(key, minor) for key, minor in refunded],
        active_sessions=[(zone, int(count)) for zone, count in active],
    )


def _owner_money(key: str, minor: int) -> tuple[str, Money]:
    account = Account.from_key(key)
    return account.owner, Money(int(minor), account.currency)


def part_from_row(row: Row, decode: TimeDecoder) -> OutboundPart:
    receipt_at = row["receipt_at"]
    return OutboundPart(
        outbox_id=row["outbox_id"],
        part=row["part"],
        parts=row["parts"],
        message_id=row["message_id"],
        state=OutboxState(row["state"]),
        sent_at=decode(row["sent_at"]),
        receipt_at=None if receipt_at is None else decode(receipt_at),
    )


def held_receipt_from_row(row: Row, decode: TimeDecoder) -> HeldReceipt:
    return HeldReceipt(
        id=row["id"],
        operator_id=row["operator_id"],
        message_id=row["message_id"],
        state=OutboxState(row["state"]),
        received_at=decode(row["received_at"]),
        expires_at=decode(row["expires_at"]),
    )


def reply_state_of(part_states: Sequence[str], parts: int) -> OutboxState | None:
    """What the parts' receipts say of the whole reply: FAILED when any part failed,
    DELIVERED when all `parts` were delivered, else None (not final yet)."""
    if OutboxState.FAILED in part_states:
        return OutboxState.FAILED
    delivered = sum(1 for state in part_states if state == OutboxState.DELIVERED)
    return OutboxState.DELIVERED if delivered >= parts else None
