"""The charge-confirmation state machine: one table, every step idempotent.

    REQUESTED ─request_accepted─▶ AWAITING_CONFIRMATION ─confirmed─▶ CONFIRMED ─applied─▶ APPLIED
        │                              │
        └─ declined | failed | timed_out ─┴─▶ DECLINED | FAILED | EXPIRED

REQUESTED: limits passed, the charge request (with this charge's id as idempotency key)
is being sent to the operator, or, in gateway mode, the 1/0 question to the subscriber.
AWAITING_CONFIRMATION: the operator accepted the request; the subscriber is deciding.
CONFIRMED: the money has been taken from the phone. APPLIED: it is in the ledger (and
the session it pays for has started): the only step that moves money, and it can
happen once since nothing leaves APPLIED.

Why the less obvious rows:
- confirmed/declined straight from REQUESTED: the operator's callback can overtake the
  answer to our own request.
- EXPIRED + confirmed -> CONFIRMED: the timeout is our decision, a confirmation is the
  operator's report that the money is gone from the phone. It must still reach the
  parking account, or money would be lost.
- Stale events that tell nothing new (a late request_accepted, a timeout after the
  answer, a decline of an expired charge) are no-ops, as is every event repeated in the
  state it led to. A contradiction (declined after confirmed) is not in the table and
  raises, because no safe reading of it exists.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import StrEnum
from types import MappingProxyType

from smsgw.domain.errors import DomainError
from smsgw.domain.money import Money

DEFAULT_CONFIRMATION_TIMEOUT = timedelta(minutes=15)


class ChargeState(StrEnum):
    REQUESTED = "requested"
    AWAITING_CONFIRMATION = "awaiting_confirmation"
    CONFIRMED = "confirmed"
    APPLIED = "applied"
    DECLINED = "declined"
    EXPIRED = "expired"
    FAILED = "failed"


class ChargeEvent(StrEnum):
    REQUEST_ACCEPTED = "request_accepted"  # the operator took the request / we asked 1 or 0
    CONFIRMED = "confirmed"  # the subscriber confirmed and the operator took the money
    DECLINED = "declined"  # the subscriber said no
    FAILED = "failed"  # the operator refused or could not charge
    TIMED_OUT = "timed_out"  # the deadline passed without an answer
    APPLIED = "applied"  # the money was posted to the ledger


class ChargeTransitionError(DomainError):
    """An event the table lacks for the state: an operator contradiction or a caller bug.
    The subscriber hears the temporary-error reply; the facts name state and event."""

    reply_key = "error.temporary"


_S = ChargeState
_E = ChargeEvent

TRANSITIONS: Mapping[tuple[ChargeState, ChargeEvent], ChargeState] = MappingProxyType(
    {
        # the way forward
        (_S.REQUESTED, _E.REQUEST_ACCEPTED): _S.AWAITING_CONFIRMATION,
        (_S.REQUESTED, _E.CONFIRMED): _S.CONFIRMED,
        (_S.REQUESTED, _E.DECLINED): _S.DECLINED,
        (_S.REQUESTED, _E.FAILED): _S.FAILED,
        (_S.REQUESTED, _E.TIMED_OUT): _S.EXPIRED,
        (_S.AWAITING_CONFIRMATION, _E.REQUEST_ACCEPTED): _S.AWAITING_CONFIRMATION,
        (_S.AWAITING_CONFIRMATION, _E.CONFIRMED): _S.CONFIRMED,
        (_S.AWAITING_CONFIRMATION, _E.DECLINED): _S.DECLINED,
        (_S.AWAITING_CONFIRMATION, _E.FAILED): _S.FAILED,
        (_S.AWAITING_CONFIRMATION, _E.TIMED_OUT): _S.EXPIRED,
        (_S.CONFIRMED, _E.APPLIED): _S.APPLIED,
        # a confirmation after our timeout still brings the money in
        (_S.EXPIRED, _E.CONFIRMED): _S.CONFIRMED,
        # repeats and stale news: no-ops
        (_S.CONFIRMED, _E.REQUEST_ACCEPTED): _S.CONFIRMED,
        (_S.CONFIRMED, _E.CONFIRMED): _S.CONFIRMED,
        (_S.CONFIRMED, _E.TIMED_OUT): _S.CONFIRMED,
        (_S.APPLIED, _E.REQUEST_ACCEPTED): _S.APPLIED,
        (_S.APPLIED, _E.CONFIRMED): _S.APPLIED,
        (_S.APPLIED, _E.TIMED_OUT): _S.APPLIED,
        (_S.APPLIED, _E.APPLIED): _S.APPLIED,
        (_S.DECLINED, _E.REQUEST_ACCEPTED): _S.DECLINED,
        (_S.DECLINED, _E.DECLINED): _S.DECLINED,
        (_S.DECLINED, _E.TIMED_OUT): _S.DECLINED,
        (_S.FAILED, _E.REQUEST_ACCEPTED): _S.FAILED,
        (_S.FAILED, _E.FAILED): _S.FAILED,
        (_S.FAILED, _E.TIMED_OUT): _S.FAILED,
        (_S.EXPIRED, _E.REQUEST_ACCEPTED): _S.EXPIRED,
        (_S.EXPIRED, _E.DECLINED): _S.EXPIRED,
        (_S.EXPIRED, _E.FAILED): _S.EXPIRED,
        (_S.EXPIRED, _E.TIMED_OUT): _S.EXPIRED,
    }
)

PENDING_STATES = frozenset({ChargeState.REQUESTED, ChargeState.AWAITING_CONFIRMATION})
# States whose amount counts toward the operator's day and month limits: pending charges
# reserve, taken ones have used them. Declined, failed and expired ones took nothing.
RESERVING_STATES = PENDING_STATES | {ChargeState.CONFIRMED, ChargeState.APPLIED}
# EXPIRED is not final: a late confirmation still brings the money in (see above).
FINAL_STATES = frozenset({ChargeState.APPLIED, ChargeState.DECLINED, ChargeState.FAILED})


@dataclass(frozen=True, slots=True)
class Transition:
    source: ChargeState
    event: ChargeEvent
    target: ChargeState

    @property
    def changed(self) -> bool:
        """False for a no-op: the caller must not act (post money, reply) again."""
        return self.source is not self.target


def transition(state: ChargeState, event: ChargeEvent) -> Transition:
    target = TRANSITIONS.get((state, event))
    if target is None:
        raise ChargeTransitionError(state=str(state), event=str(event))
    return Transition(state, event, target)


@dataclass(frozen=True, slots=True)
class Charge:
    """One request to take money from a phone through its operator.

    `id` is the idempotency key sent to the operator, so a retried request is the same
    charge; `purpose` references what the money pays for (e.g. the session id)."""

    id: str
    phone: str
    operator_id: str
    amount: Money
    purpose: str
    requested_at: datetime
    deadline: datetime
    state: ChargeState = ChargeState.REQUESTED

    def __post_init__(self) -> None:
        if not self.id:
            raise ValueError("a charge needs an id (its idempotency key)")
        if not self.amount.is_positive:
            raise ValueError(f"a charge needs a positive amount, got {self.amount}")
        if self.requested_at.tzinfo is None or self.deadline.tzinfo is None:
            raise ValueError("charge times must be timezone-aware")
        if self.deadline <= self.requested_at:
            raise ValueError("a charge's deadline must come after its request")


def new_charge(
    *,
    charge_id: str,
    phone: str,
    operator_id: str,
    amount: Money,
    purpose: str,
    now: datetime,
    timeout: timedelta = DEFAULT_CONFIRMATION_TIMEOUT,
) -> Charge:
    return Charge(
        id=charge_id,
        phone=phone,
        operator_id=operator_id,
        amount=amount,
        purpose=purpose,
        requested_at=now,
        deadline=now + timeout,
    )


def apply_event(charge: Charge, event: ChargeEvent) -> tuple[Charge, Transition]:
    """The charge after `event`, and the transition taken (check `.changed`)."""
    step = transition(charge.state, event)
    if not step.changed:
        return charge, step
    return replace(charge, state=step.target), step


def is_pending(charge: Charge) -> bool:
    """Still waiting for the subscriber or the operator: one per phone at a time."""
    return charge.state in PENDING_STATES


def is_expired(charge: Charge, now: datetime) -> bool:
    """Pending past its deadline: time to feed it `timed_out`."""
    return is_pending(charge) and now >= charge.deadline


def reserves_limits(charge: Charge) -> bool:
    return charge.state in RESERVING_STATES
