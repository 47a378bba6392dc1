"""The ports of the service layer: what it needs from outside, as Protocols.

The store's port (`Store`, `Tx` and the conflicts a `Tx` reports) is in store_port.py;
this module holds what passes through it (the stored things) and the operators' ports
(charging, MT sending). The service only ever sees these types.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from types import MappingProxyType
from typing import Protocol, runtime_checkable

from smsgw.domain.charges import Charge
from smsgw.domain.ledger import Transaction
from smsgw.domain.money import Money
from smsgw.domain.parking import ParkingSession
from smsgw.language import Language
from smsgw.service.messages import InboundSms, OutboundSms

JsonObject = Mapping[str, object]


class OutboxState(StrEnum):
    PENDING = "pending"  # waiting to be submitted
    SENT = "sent"  # the SMSC/HTTP sender accepted it (message_id known)
    DELIVERED = "delivered"  # a delivery receipt said so
    FAILED = "failed"  # given up after retries, or a final receipt said undeliverable


class JobKind(StrEnum):
    REMINDER = "reminder"  # text the driver N minutes before the end
    SESSION_END = "session_end"  # expire the session and text the end notice
    CHARGE_EXPIRY = "charge_expiry"  # a pending charge's confirmation deadline
    CHARGE_RETRY = "charge_retry"  # re-send a charge request that got no answer


@dataclass(frozen=True, slots=True)
class StoredInbound:
    id: str
    sms: InboundSms


@dataclass(frozen=True, slots=True)
class SmppMoSeen:
    """An MO (or one part of a long one) an SMPP link stored earlier, with the bind it
    was last answered on: what tells a redelivery from a new text."""

    id: str
    bind_id: str
    answered_at: datetime | None  # None: stored, the answer not yet written
    answer_status: int | None
    bind_down_at: datetime | None  # when that bind went down, or was last seen up


@dataclass(frozen=True, slots=True)
class SmppPartKey:
    """One concatenated MO being reassembled on a link."""

    link_id: str
    sender: str
    receiver: str
    reference: int
    total: int


@dataclass(frozen=True, slots=True)
class SmppPart:
    key: SmppPartKey
    seqnum: int
    data_coding: int
    payload: bytes
    received_at: datetime


@dataclass(frozen=True, slots=True)
class StoredOutbound:
    sms: OutboundSms
    state: OutboxState
    attempts: int
    message_id: str | None


@dataclass(frozen=True, slots=True)
class OutboundPart:
    """One submitted part of a reply: its SMSC message id and what its receipt said."""

    outbox_id: str
    part: int  # 1-based
    parts: int
    message_id: str
    state: OutboxState  # SENT until its receipt says DELIVERED or FAILED
    sent_at: datetime
    receipt_at: datetime | None


@dataclass(frozen=True, slots=True)
class HeldReceipt:
    """A receipt whose message id no submit_sm_resp has brought yet (they may overtake
    it); applied when the id is recorded, reported unmatched after `expires_at`."""

    id: int
    operator_id: str
    message_id: str  # as the SMSC wrote it
    state: OutboxState
    received_at: datetime
    expires_at: datetime


@dataclass(frozen=True, slots=True)
class PartReceipt:
    """A receipt matched to a part: the reply's state after it, and whether this
    receipt is what made the reply final."""

    outbox_id: str
    operator_id: str
    reply_state: OutboxState
    settled: bool


@dataclass(frozen=True, slots=True)
class StoredCharge:
    charge: Charge
    # what the money is for, in the service's own terms (JSON object), e.g.
    # {"action": "pay", "session_id": ...} or {"action": "extend", "hours": 2, ...}
    details: JsonObject
    operator_reference: str | None  # the operator's own id for the charge, once known


@dataclass(frozen=True, slots=True)
class Job:
    id: str
    kind: JobKind
    reference: str  # session id or charge id
    due_at: datetime

    @classmethod
    def of(cls, kind: JobKind, reference: str, due_at: datetime) -> Job:
        """The one way the service makes a job: one job of a kind per reference, so
        scheduling it again moves it instead of adding a second."""
        return cls(id=f"{kind.value}:{reference}", kind=kind, reference=reference, due_at=due_at)


@dataclass(frozen=True, slots=True)
class PhoneProfile:
    msisdn: str
    language: Language | None  # None: the deployment's default
    operator_id: str | None  # the operator last seen for this phone (from its link)


@dataclass(frozen=True, slots=True)
class ChargeUsage:
    """A phone's charges through one operator in the current day and month."""

    day_amount: Money
    day_count: int
    month_amount: Money
    month_count: int


@dataclass(frozen=True, slots=True)
class PhoneHistory:
    """A phone's stored records at or before a moment, each list newest first (ties by id,
    descending) and at most the asked limit long; support merges them into one timeline."""

    movements: Sequence[Transaction]  # ledger transactions touching its parking account
    charges: Sequence[StoredCharge]  # by requested_at, in whatever state they are now
    sessions: Sequence[ParkingSession]  # by start, every state
    replies: Sequence[StoredOutbound]  # texts to the phone by created_at, with send state


@dataclass(frozen=True, slots=True)
class StoreFigures:
    """Totals read from the store for the metrics page, the same on every node."""

    charged: Sequence[tuple[str, Money]]  # (operator id, what its subscribers were charged)
    refunded: Sequence[tuple[str, Money]]  # (zone, returned to parking accounts from it)
    active_sessions: Sequence[tuple[str, int]]  # (zone, ACTIVE sessions)


# --- operator charging ------------------------------------------------------------------


class ChargeOutcome(StrEnum):
    ACCEPTED = "accepted"  # the operator is asking the subscriber; a callback will follow
    CONFIRMED = "confirmed"  # money taken from the phone
    DECLINED = "declined"  # the subscriber said no
    FAILED = "failed"  # the operator refused (no money on the phone, blocked, limits…)
    UNKNOWN = "unknown"  # no usable answer (network, timeout, 5xx): ask again later


class Reason(StrEnum):
    """Why a charge was not taken: "reason" beside a declined or failed status. The
    driver's reply names it in words and says what to do next; a value not listed here
    is read as UNKNOWN."""

    DECLINED = "declined"  # the subscriber answered no
    INSUFFICIENT_FUNDS = "insufficient_funds"  # too little on the phone (incl. what must remain)
    OPERATOR_LIMIT = "operator_limit"  # over one of the operator's own payment limits
    SUBSCRIBER_BARRED = "subscriber_barred"  # payments barred for this number
    UNKNOWN = "unknown"  # any other refusal
    # older words some operators still send, read as the ones above
    UNKNOWN_SUBSCRIBER = "unknown_subscriber"  # not this operator's subscriber
    BLOCKED = "blocked"  # = subscriber_barred
    LIMIT_EXCEEDED = "limit_exceeded"  # = operator_limit
    TIMEOUT = "timeout"  # the subscriber did not answer within the operator's own time


# the older words, and what they mean
REASON_ALIASES: Mapping[str, Reason] = MappingProxyType(
    {
        Reason.BLOCKED.value: Reason.SUBSCRIBER_BARRED,
        Reason.LIMIT_EXCEEDED.value: Reason.OPERATOR_LIMIT,
        Reason.UNKNOWN_SUBSCRIBER.value: Reason.UNKNOWN,
    }
)


def reason_of(word: str | None) -> Reason:
    """A reason word from the wire as one of the five the gateway tells drivers apart."""
    if word is None:
        return Reason.UNKNOWN
    alias = REASON_ALIASES.get(word)
    if alias is not None:
        return alias
    try:
        return Reason(word)
    except ValueError:
        return Reason.UNKNOWN


@dataclass(frozen=True, slots=True)
class ChargeAnswer:
    outcome: ChargeOutcome
    operator_reference: str | None = None
    detail: str = ""
    # why a charge failed, in the protocol's words (docs/operator-charging.md)
    reason: str | None = None


@dataclass(frozen=True, slots=True)
class ChargeCallback:
    """A verified (signature, freshness, nonce checked) result from an operator."""

    operator_id: str
    charge_id: str
    outcome: ChargeOutcome  # CONFIRMED, DECLINED or FAILED
    operator_reference: str | None
    nonce: str
    reason: str | None = None  # why it failed, in the protocol's words


class ChargingApi(Protocol):
    """One operator's charging API (docs/operator-charging.md)."""

    async def request_charge(
        self, charge: Charge, text: str, callback_url: str, confirmed_by_subscriber: bool
    ) -> ChargeAnswer:
        """Ask the operator to take `charge.amount` (idempotent by `charge.id`).
        `confirmed_by_subscriber`: the gateway already took the subscriber's `1`
        (confirmation = "gateway"), so the operator charges without asking again."""

    async def charge_status(self, charge: Charge) -> ChargeAnswer:
        """Poll the outcome (the fallback when a callback does not come)."""


# --- sending MT -----------------------------------------------------------------------


class SendError(Exception):
    """The message was not accepted. `temporary`: worth retrying later."""

    temporary: bool = True


class PermanentSendError(SendError):
    temporary = False


class MtSender(Protocol):
    """One operator's way out: an SMPP link or an HTTP sender (Kannel sendsms)."""

    async def send(self, sms: OutboundSms) -> str:
        """Submit every part; the message id of the first part (receipts refer to it).
        Raises SendError."""


# (part number from 1, number of parts, the SMSC's message id for that part)
PartAccepted = Callable[[int, int, str], Awaitable[None]]


@runtime_checkable
class PartwiseSender(Protocol):
    """A sender that reports each part's message id as soon as the SMSC gives it, so a
    delivery receipt that overtakes the other parts' answers still finds its part."""

    async def send_parts(self, sms: OutboundSms, on_part: PartAccepted) -> str:
        """As `MtSender.send`; `on_part` is awaited for every part the SMSC accepted."""


# --- operator callbacks ---------------------------------------------------------------

# How far a callback's timestamp may be from our clock and still be fresh. The service
# keeps callback nonces for twice this (a replay older than that cannot be fresh).
CALLBACK_MAX_SKEW = timedelta(minutes=5)


class CallbackVerdict(StrEnum):
    """What became of an operator's charge callback; the values are the words the
    operator reads (docs/operator-charging.md)."""

    STORED = "stored"  # applied (or already applied the same way)
    MALFORMED = "malformed"
    UNSIGNED = "unsigned"
    BAD_SIGNATURE = "bad_signature"
    STALE = "stale"
    REPLAYED = "replayed"  # this nonce was stored before: stop retrying it
    UNKNOWN_OPERATOR = "unknown_operator"
    UNKNOWN_CHARGE = "unknown_charge"
    CONFLICT = "conflict"  # contradicts what the charge already is
    UNAVAILABLE = "unavailable"  # not applied, nothing remembered: send it again later


class CallbackRefusedError(Exception):
    """A callback refused before anything believes it; the message is the detail shown
    to the operator, `verdict` says which refusal it is."""

    verdict: CallbackVerdict = CallbackVerdict.MALFORMED


@dataclass(frozen=True, slots=True)
class CallbackAnswer:
    verdict: CallbackVerdict
    detail: str = ""
    result: str | None = None  # with STORED: what the callback did to the charge


# Checks a callback's signature, freshness and form (not its nonce: that needs the store,
# and is remembered in the unit that applies it): called with (operator_id, secret as
# configured or bytes, headers, body, now), it returns the verified callback or raises
# `CallbackRefusedError` saying why not (smsgw/charging/callbacks.py `parse_callback`).
CallbackVerifier = Callable[[str, bytes | str, Mapping[str, str], bytes, datetime], ChargeCallback]
