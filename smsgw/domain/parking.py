"""The parking session as pure code: its states, and the decisions pay/extend/stop/expire.

    AWAITING_PAYMENT ─paid─▶ ACTIVE ─stopped─▶ STOPPED
           │                   │ ▲ extended
           └─cancelled─▶ CANCELLED └─expired─▶ EXPIRED

Each decision takes the facts it needs as arguments (the parking-account balance, the
phone's sessions, the plate's active session, the zone, `now`) and returns a plan or
raises a `DomainError` naming the reply. Nothing here reads a clock or storage.

Choices made here:
- A session's interval is fixed when it is planned: it starts at the `now` of the pay
  command and ends `hours` later (elapsed time, see billing.end_for). Confirming the
  charge a little later does not move it; that interval is what the driver was quoted.
- `prepaid` is always the price of [start, end), its paid minutes rounded once
  (an extension costs the extended session's price minus what was paid), so a stop
  refunds prepaid − price(start, stop), which is never negative.
- Money: the parking account pays first; only the shortfall is charged to the phone,
  and a shortfall below the operator's minimum is charged as the minimum, the excess
  staying on the account (`min_charge_excess`). Ledger moves (`post_*` below):
  session_paid when a session becomes ACTIVE, session_extended per extension,
  session_refund on a stop. Charging the phone (charge_confirmed) is the charge flow's.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import StrEnum
from types import MappingProxyType

from smsgw.commands.model import Extend, Stop
from smsgw.commands.text import format_command
from smsgw.domain import ledger
from smsgw.domain.billing import end_for, extension_price, price, refund_for_stop
from smsgw.domain.errors import (
    AmbiguousExtendError,
    AmbiguousStopError,
    DomainError,
    ExtensionTooLongError,
    InvalidTransitionError,
    NoSessionToExtendError,
    NoSessionToStopError,
    NothingToPayError,
    PlateAlreadyActiveError,
    TooManyHoursError,
)
from smsgw.domain.money import Money
from smsgw.domain.tariffs import Zone, as_utc, next_paid_start

DEFAULT_REMINDER_MINUTES = 10


class SessionState(StrEnum):
    AWAITING_PAYMENT = "awaiting_payment"
    ACTIVE = "active"
    STOPPED = "stopped"
    EXPIRED = "expired"
    CANCELLED = "cancelled"


class SessionEvent(StrEnum):
    PAID = "paid"
    EXTENDED = "extended"
    STOPPED = "stopped"
    EXPIRED = "expired"
    CANCELLED = "cancelled"


_S = SessionState
_E = SessionEvent
TRANSITIONS: Mapping[tuple[SessionState, SessionEvent], SessionState] = MappingProxyType(
    {
        (_S.AWAITING_PAYMENT, _E.PAID): _S.ACTIVE,
        (_S.AWAITING_PAYMENT, _E.CANCELLED): _S.CANCELLED,
        (_S.ACTIVE, _E.EXTENDED): _S.ACTIVE,
        (_S.ACTIVE, _E.STOPPED): _S.STOPPED,
        (_S.ACTIVE, _E.EXPIRED): _S.EXPIRED,
    }
)


@dataclass(frozen=True, slots=True)
class ParkingSession:
    """One plate parked in one zone for one phone; times are aware (zone-local)."""

    id: str
    phone: str
    zone: str
    plate: str
    start: datetime
    end: datetime
    prepaid: Money  # price of [start, end); moves to revenue when the session is paid
    state: SessionState = SessionState.AWAITING_PAYMENT
    closed_at: datetime | None = None  # when it was stopped, expired or cancelled

    def __post_init__(self) -> None:
        if as_utc(self.end) < as_utc(self.start):  # also refuses naive times
            raise ValueError(f"session {self.id} ends before it starts")

    def is_running(self, now: datetime) -> bool:
        return self.state is SessionState.ACTIVE and as_utc(now) < as_utc(self.end)

    def next_state(self, event: SessionEvent) -> SessionState:
        target = TRANSITIONS.get((self.state, event))
        if target is None:
            raise InvalidTransitionError(
                f"session {self.id}: no '{event}' from state '{self.state}'"
            )
        return target


@dataclass(frozen=True, slots=True)
class Funding:
    """How a price is paid: parking account first, then the phone for the shortfall."""

    price: Money
    balance: Money  # the parking account before this payment
    from_balance: Money
    to_charge: Money  # asked of the operator; zero when the account covers the price
    min_charge_excess: Money  # part of to_charge above the shortfall; stays on the account

    @property
    def needs_charge(self) -> bool:
        return self.to_charge.is_positive

    @property
    def charged_minimum(self) -> bool:
        return self.min_charge_excess.is_positive

    @property
    def balance_after(self) -> Money:
        return self.balance + self.to_charge - self.price


@dataclass(frozen=True, slots=True)
class PaymentPlan(Funding):
    zone: str
    plate: str
    hours: int
    start: datetime
    end: datetime


@dataclass(frozen=True, slots=True)
class ExtensionPlan(Funding):
    session_id: str
    plate: str
    hours: int
    new_end: datetime


@dataclass(frozen=True, slots=True)
class StopPlan:
    session_id: str
    plate: str
    stopped_at: datetime
    billed_until: datetime  # where the used time ends (the stop, within the session)
    used: Money
    refund: Money  # back to the parking account, never to the phone


def fund(price_due: Money, balance: Money, operator_minimum: Money | None) -> Funding:
    if balance.is_negative:
        raise ValueError(f"a parking account is never negative, got {balance}")
    from_balance = min(balance, price_due)
    shortfall = price_due - from_balance
    to_charge = shortfall
    if shortfall.is_positive and operator_minimum is not None and shortfall < operator_minimum:
        to_charge = operator_minimum
    return Funding(
        price=price_due,
        balance=balance,
        from_balance=from_balance,
        to_charge=to_charge,
        min_charge_excess=to_charge - shortfall,
    )


def extend_example(plate: str, hours: int = 1) -> str:
    """The extend command a reply suggests, written as the parser reads it back."""
    return format_command(Extend(hours, plate))


def stop_example(plate: str) -> str:
    """The stop command a reply suggests, written as the parser reads it back."""
    return format_command(Stop(plate))


# --- paying ------------------------------------------------------------------------------


def plan_payment(
    *,
    zone: Zone,
    plate: str,
    hours: int,
    now: datetime,
    balance: Money,
    plate_session: ParkingSession | None,
    operator_minimum: Money | None,
) -> PaymentPlan:
    """Start `plate` in `zone` for `hours` from `now`; refuse a plate already parked."""
    _check_hours(zone, hours)
    if plate_session is not None and plate_session.is_running(now):
        raise PlateAlreadyActiveError(
            plate=plate, end=plate_session.end, example=extend_example(plate, hours)
        )
    start = as_utc(now).astimezone(zone.tz)
    quote = price(zone, start, end_for(zone, start, hours))
    if quote.is_free:
        raise NothingToPayError(zone=zone.number, until=next_paid_start(zone, quote.start))
    funding = fund(quote.amount, balance, operator_minimum)
    return PaymentPlan(
        **_funding_fields(funding),
        zone=zone.number,
        plate=plate,
        hours=hours,
        start=quote.start,
        end=quote.end,
    )


def new_session(plan: PaymentPlan, *, session_id: str, phone: str) -> ParkingSession:
    return ParkingSession(
        id=session_id,
        phone=phone,
        zone=plan.zone,
        plate=plan.plate,
        start=plan.start,
        end=plan.end,
        prepaid=plan.price,
    )


def activate(session: ParkingSession) -> ParkingSession:
    """The payment went through (charge confirmed, or paid from the account alone)."""
    return replace(session, state=session.next_state(SessionEvent.PAID))


def cancel(session: ParkingSession, now: datetime) -> ParkingSession:
    """Declined, timed out or over a limit: the session never starts, nothing was paid."""
    return replace(session, state=session.next_state(SessionEvent.CANCELLED), closed_at=now)


# --- extending ---------------------------------------------------------------------------


def running_sessions(sessions: Iterable[ParkingSession], now: datetime) -> list[ParkingSession]:
    return sorted(
        (session for session in sessions if session.is_running(now)),
        key=lambda session: session.plate,
    )


def session_to_extend(
    sessions: Iterable[ParkingSession], plate: str | None, hours: int, now: datetime
) -> ParkingSession:
    """The phone's running session `X` means: PLATE's, or the only one."""

    def ambiguous(plates: list[str]) -> DomainError:
        return AmbiguousExtendError(plates=plates, example=extend_example(plates[0], hours))

    return _meant_session(sessions, plate, now, NoSessionToExtendError, ambiguous)


def plan_extension(
    *,
    session: ParkingSession,
    zone: Zone,
    hours: int,
    now: datetime,
    balance: Money,
    operator_minimum: Money | None,
) -> ExtensionPlan:
    """Add `hours` to a running session, within the zone's maximum for the whole session."""
    if hours < 1:
        raise ValueError(f"hours must be at least 1, got {hours}")
    if not session.is_running(now):
        raise NoSessionToExtendError()
    new_end = end_for(zone, session.end, hours)
    longest = timedelta(hours=zone.max_hours)
    if as_utc(new_end) - as_utc(session.start) > longest:
        left = (longest - (as_utc(session.end) - as_utc(session.start))) // timedelta(hours=1)
        if left >= 1:  # show the longest extension that still fits
            raise ExtensionTooLongError(
                max_hours=zone.max_hours, example=extend_example(session.plate, left)
            )
        raise ExtensionTooLongError(max_hours=zone.max_hours)
    added = extension_price(zone, session.start, session.end, new_end, session.prepaid)
    funding = fund(added, balance, operator_minimum)
    return ExtensionPlan(
        **_funding_fields(funding),
        session_id=session.id,
        plate=session.plate,
        hours=hours,
        new_end=new_end,
    )


def extend(session: ParkingSession, plan: ExtensionPlan, now: datetime) -> ParkingSession:
    """Apply a (paid) extension; a session that ended meanwhile cannot be extended."""
    if plan.session_id != session.id:
        raise ValueError(f"plan for session {plan.session_id} applied to {session.id}")
    if not session.is_running(now):
        raise NoSessionToExtendError()
    return replace(
        session,
        state=session.next_state(SessionEvent.EXTENDED),
        end=plan.new_end,
        prepaid=session.prepaid + plan.price,
    )


# --- stopping and expiring -----------------------------------------------------------------


def session_to_stop(
    sessions: Iterable[ParkingSession], plate: str | None, now: datetime
) -> ParkingSession:
    """The phone's running session `S` means: PLATE's, or the only one."""

    def ambiguous(plates: list[str]) -> DomainError:
        return AmbiguousStopError(plates=plates, example=stop_example(plates[0]))

    return _meant_session(sessions, plate, now, NoSessionToStopError, ambiguous)


def _meant_session(
    sessions: Iterable[ParkingSession],
    plate: str | None,
    now: datetime,
    no_session: Callable[[], DomainError],
    ambiguous: Callable[[list[str]], DomainError],
) -> ParkingSession:
    """The running session with `plate`, or without a plate the only running one; a
    missing one raises `no_session()`, several without a plate `ambiguous(their plates)`."""
    running = running_sessions(sessions, now)
    chosen = _choose(running, plate)
    if chosen is not None:
        return chosen
    if plate is not None or not running:
        raise no_session()
    raise ambiguous([session.plate for session in running])


def plan_stop(session: ParkingSession, zone: Zone, now: datetime) -> StopPlan:
    """Stop early: the used time is rounded up to the billing step, the rest is refunded."""
    if not session.is_running(now):
        raise NoSessionToStopError()
    # another node's clock may lag a little behind the one that started the session
    stopped_at = max(as_utc(now), as_utc(session.start)).astimezone(zone.tz)
    refund = refund_for_stop(zone, session.start, session.end, stopped_at, session.prepaid)
    return StopPlan(
        session_id=session.id,
        plate=session.plate,
        stopped_at=stopped_at,
        billed_until=refund.billed_until,
        used=refund.used,
        refund=refund.refund,
    )


def stop(session: ParkingSession, plan: StopPlan) -> ParkingSession:
    if plan.session_id != session.id:
        raise ValueError(f"plan for session {plan.session_id} applied to {session.id}")
    # the session now ends at the stop and keeps only the money it used
    return replace(
        session,
        state=session.next_state(SessionEvent.STOPPED),
        end=plan.stopped_at,
        prepaid=plan.used,
        closed_at=plan.stopped_at,
    )


def expire(session: ParkingSession, now: datetime) -> ParkingSession:
    """The paid time is over: the session closes at its end, whenever this runs."""
    if as_utc(now) < as_utc(session.end):
        raise InvalidTransitionError(f"session {session.id} runs until {session.end}")
    return replace(session, state=session.next_state(SessionEvent.EXPIRED), closed_at=session.end)


def reminder_due_at(
    session: ParkingSession, minutes_before: int = DEFAULT_REMINDER_MINUTES
) -> datetime:
    """When to text the "ends soon" reminder; never before the session started."""
    due = as_utc(session.end) - timedelta(minutes=minutes_before)
    return max(due, as_utc(session.start)).astimezone(session.end.tzinfo)


def end_due_at(session: ParkingSession) -> datetime:
    """When to expire the session and text that it has ended."""
    return session.end


# --- ledger moves ------------------------------------------------------------------------


def activation_transaction(session: ParkingSession, at: datetime) -> ledger.Transaction | None:
    """An activated session's price from the parking account to the zone's revenue."""
    kind = ledger.TransactionKind.SESSION_PAID
    return _session_transaction(kind, session, session.id, session.prepaid, at)


def extension_transaction(
    session: ParkingSession, plan: ExtensionPlan, *, extension_id: str, at: datetime
) -> ledger.Transaction | None:
    """An extension's price from the parking account to the zone's revenue."""
    kind = ledger.TransactionKind.SESSION_EXTENDED
    return _session_transaction(kind, session, extension_id, plan.price, at)


def refund_transaction(session: ParkingSession, plan: StopPlan) -> ledger.Transaction | None:
    """A stop's unused money back to the parking account."""
    kind = ledger.TransactionKind.SESSION_REFUND
    return _session_transaction(kind, session, session.id, plan.refund, plan.stopped_at)


def _session_transaction(
    kind: ledger.TransactionKind,
    session: ParkingSession,
    reference: str,
    amount: Money,
    at: datetime,
) -> ledger.Transaction | None:
    """The movement named `<kind>:<reference>`, or None when there is no money to move."""
    if not amount.is_positive:
        return None
    return ledger.session_movement(
        kind, f"{kind}:{reference}", reference, session.phone, session.zone, amount, at
    )


def post_activation(
    book: ledger.Ledger, session: ParkingSession, at: datetime
) -> ledger.Transaction | None:
    return _post(book, activation_transaction(session, at))


def post_extension(
    book: ledger.Ledger,
    session: ParkingSession,
    plan: ExtensionPlan,
    *,
    extension_id: str,
    at: datetime,
) -> ledger.Transaction | None:
    return _post(book, extension_transaction(session, plan, extension_id=extension_id, at=at))


def post_stop(
    book: ledger.Ledger, session: ParkingSession, plan: StopPlan
) -> ledger.Transaction | None:
    return _post(book, refund_transaction(session, plan))


def _post(book: ledger.Ledger, transaction: ledger.Transaction | None) -> ledger.Transaction | None:
    return None if transaction is None else book.post(transaction)


# --- helpers -----------------------------------------------------------------------------


def _check_hours(zone: Zone, hours: int) -> None:
    if hours < 1:
        raise ValueError(f"hours must be at least 1, got {hours}")
    if hours > zone.max_hours:
        raise TooManyHoursError(max_hours=zone.max_hours)


def _choose(running: list[ParkingSession], plate: str | None) -> ParkingSession | None:
    if plate is not None:
        return next((session for session in running if session.plate == plate), None)
    return running[0] if len(running) == 1 else None


def _funding_fields(funding: Funding) -> dict[str, Money]:
    return {
        "price": funding.price,
        "balance": funding.balance,
        "from_balance": funding.from_balance,
        "to_charge": funding.to_charge,
        "min_charge_excess": funding.min_charge_excess,
    }
