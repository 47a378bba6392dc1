"""A charge's answer, applied inside one unit of work that holds the phone's lock.

confirmed: the money lands on the parking account (charge_confirmed), then pays what it
was asked for: a pay starts its session, an extend moves the end. If that is no longer
possible (the plate got another active session, the session ended, the confirmation
came after our timeout) the money stays on the account and the driver is told so.
declined / failed / timed out: the awaiting session is cancelled and the driver told.
A top-up (driver API) pays for nothing but the account: confirmed, it is credited and
the driver told "topped up" (even after our timeout); closed, only told.

Every step is compare-and-set on the charge state, and every ledger posting is named
after the charge, so a duplicate, replayed or retried answer moves money at most once:
a repeat finds the charge already settled and changes nothing.
"""

from __future__ import annotations

from enum import StrEnum

import structlog

from smsgw.domain.charges import (
    Charge,
    ChargeEvent,
    ChargeState,
    ChargeTransitionError,
    apply_event,
    is_pending,
)
from smsgw.domain.errors import DomainError
from smsgw.domain.parking import (
    ParkingSession,
    SessionState,
    activate,
    cancel,
    plan_extension,
)
from smsgw.domain.tariffs import as_utc
from smsgw.service.payments import (
    ACTION_EXTEND,
    ChargePurpose,
    answer_number,
    is_waiting_for_subscriber,
)
from smsgw.service.ports import JobKind, Reason, StoredCharge, reason_of
from smsgw.service.session_flow import (
    MovedOut,
    close_if_ended,
    credit_charge,
    extend_session,
    move_out,
    phone_balance,
    start_session,
)
from smsgw.service.unit import Unit, local_time

log = structlog.get_logger(__name__)

_CLOSING_REPLIES = {
    ChargeState.DECLINED: "pay.declined",
    ChargeState.FAILED: "pay.failed",
    ChargeState.EXPIRED: "pay.expired",
}
# a top-up's closing replies name no zone or plate (the operator's reason is not told)
_TOP_UP_CLOSING_REPLIES = {
    ChargeState.DECLINED: "topup.declined",
    ChargeState.FAILED: "topup.failed",
    ChargeState.EXPIRED: "topup.expired",
}
# a failed charge's reply by the operator's reason (docs/operator-charging.md)
_REASON_REPLIES = {
    Reason.DECLINED: "pay.declined",
    Reason.INSUFFICIENT_FUNDS: "pay.insufficient_funds",
    Reason.OPERATOR_LIMIT: "pay.operator_limit",
    Reason.SUBSCRIBER_BARRED: "pay.barred",
    Reason.TIMEOUT: "pay.expired",
    Reason.UNKNOWN: "pay.failed",
}
_STAGES = {
    ChargeState.AWAITING_CONFIRMATION: "accepted",
    ChargeState.CONFIRMED: "confirmed",
    ChargeState.APPLIED: "applied",
    ChargeState.DECLINED: "declined",
    ChargeState.FAILED: "failed",
    ChargeState.EXPIRED: "expired",
}
_ANSWERS = frozenset({ChargeState.CONFIRMED, ChargeState.DECLINED, ChargeState.FAILED})
_FINAL_NEWS = frozenset({ChargeEvent.CONFIRMED, ChargeEvent.DECLINED, ChargeEvent.FAILED})


class Settlement(StrEnum):
    APPLIED = "applied"  # confirmed, and the parking it paid for started or was extended
    CREDITED = "credited"  # confirmed, the money stays on the parking account
    CLOSED = "closed"  # declined, failed or timed out now
    UNCHANGED = "unchanged"  # nothing new: a duplicate or stale answer
    CONTRADICTION = "contradiction"  # e.g. declined after confirmed: logged, ignored


class ChargeChangedConcurrentlyError(RuntimeError):
    """The compare-and-set lost although the phone was locked: roll back and retry."""


def reply_id(charge: Charge, state: ChargeState) -> str:
    return f"charge:{charge.id}:{state.value}"


async def settle(
    unit: Unit,
    stored: StoredCharge,
    event: ChargeEvent,
    reference: str | None = None,
    reason: str | None = None,
) -> Settlement:
    charge = stored.charge
    try:
        _, step = apply_event(charge, event)
    except ChargeTransitionError:
        log.warning(
            "charge_contradiction", charge_id=charge.id, state=charge.state, charge_event=event
        )
        return Settlement.CONTRADICTION
    if not step.changed:
        if event in _FINAL_NEWS and not is_pending(charge):
            await unit.tx.cancel_jobs(charge.id)  # nothing left to poll for
        return Settlement.UNCHANGED
    if not await unit.tx.update_charge(charge.id, charge.state, step.target, reference):
        raise ChargeChangedConcurrentlyError(charge.id)
    _note(unit, charge, step.target)
    if step.target is ChargeState.CONFIRMED:
        return await _confirmed(unit, stored)
    if step.target is ChargeState.AWAITING_CONFIRMATION:
        return Settlement.UNCHANGED
    await _closed(unit, stored, step.target, reason)
    return Settlement.CLOSED


async def _confirmed(unit: Unit, stored: StoredCharge) -> Settlement:
    charge = stored.charge
    await credit_charge(unit, charge)
    await unit.tx.cancel_jobs(charge.id)
    purpose = ChargePurpose.from_details(stored.details, charge.amount.currency)
    if purpose.is_top_up:  # late or not, the money was all it was for
        result = await _topped_up(unit, charge)
    elif charge.state is ChargeState.EXPIRED:
        result = await _credit_only(unit, charge, purpose, "pay.credited_late")
    elif purpose.action == ACTION_EXTEND:
        result = await _apply_extension(unit, charge, purpose)
    else:
        result = await _apply_payment(unit, charge, purpose)
    if not await unit.tx.update_charge(charge.id, ChargeState.CONFIRMED, ChargeState.APPLIED):
        raise ChargeChangedConcurrentlyError(charge.id)
    _note(unit, charge, ChargeState.APPLIED)
    return result


def _note(unit: Unit, charge: Charge, state: ChargeState) -> None:
    """For the metrics, counted by the caller once the unit has committed."""
    unit.charge_stages.append((charge.operator_id, _STAGES[state]))
    if state in _ANSWERS:
        unit.confirmation_seconds.append((unit.now - charge.requested_at).total_seconds())


async def _apply_payment(unit: Unit, charge: Charge, purpose: ChargePurpose) -> Settlement:
    session = await unit.tx.get_session(purpose.session_id)
    zone = unit.deployment.zones.get(purpose.zone)
    if (
        session is None
        or zone is None
        or session.state is not SessionState.AWAITING_PAYMENT
        or unit.now >= as_utc(session.end)
    ):
        return await _credit_only(unit, charge, purpose, "pay.credited_late", session)
    other = await _plate_running_elsewhere(unit, session)
    if other is not None and other.zone == session.zone:
        return await _credit_only(unit, charge, purpose, "pay.credited_plate_busy", session)
    balance = await phone_balance(unit, zone.currency)
    if balance < session.prepaid:  # cannot happen while payments wait for pending charges
        log.error("charge_short_of_price", charge_id=charge.id, session_id=session.id)
        return await _credit_only(unit, charge, purpose, "pay.credited_late", session)
    # the car moved zones: the old session stops as the new one starts
    moved: MovedOut | None = await move_out(unit, other) if other is not None else None
    active = activate(session)
    await start_session(unit, active, is_new=False)
    facts: dict[str, object] = {
        "zone": purpose.zone,
        "plate": session.plate,
        "end": local_time(active.end, zone),
        "amount": session.prepaid,
        "balance": await phone_balance(unit, zone.currency),
    }
    if moved is not None:
        await unit.reply_once(
            reply_id(charge, ChargeState.CONFIRMED),
            "pay.moved",
            old_zone=moved.zone,
            refund=moved.refund,
            **facts,
        )
    elif purpose.excess.is_positive:
        await unit.reply_once(
            reply_id(charge, ChargeState.CONFIRMED),
            "pay.started_min_charge",
            charged=charge.amount,
            **facts,
        )
    else:
        await unit.reply_once(reply_id(charge, ChargeState.CONFIRMED), "pay.started", **facts)
    return Settlement.APPLIED


async def _plate_running_elsewhere(unit: Unit, session: ParkingSession) -> ParkingSession | None:
    """The plate's other running session (paid meanwhile, or the one being moved from)."""
    other = await unit.tx.active_session_for_plate(session.plate)
    if other is None or other.id == session.id:
        return None
    other = await close_if_ended(unit, other)
    return other if other.state is SessionState.ACTIVE else None


async def _apply_extension(unit: Unit, charge: Charge, purpose: ChargePurpose) -> Settlement:
    session = await unit.tx.get_session(purpose.session_id)
    zone = unit.deployment.zones.get(purpose.zone)
    if session is None or zone is None or not session.is_running(unit.now):
        return await _credit_only(unit, charge, purpose, "extend.credited_ended")
    balance = await phone_balance(unit, zone.currency)
    try:
        plan = plan_extension(
            session=session,
            zone=zone,
            hours=purpose.hours,
            now=unit.now,
            balance=balance,
            operator_minimum=None,
        )
    except DomainError:
        return await _credit_only(unit, charge, purpose, "extend.credited_ended")
    if plan.needs_charge:  # the price moved since the request: keep the money, say so
        return await _credit_only(unit, charge, purpose, "extend.credited_ended")
    extended = await extend_session(unit, session, plan, extension_id=charge.id)
    facts: dict[str, object] = {
        "zone": zone.number,
        "plate": session.plate,
        "end": local_time(extended.end, zone),
        "amount": plan.price,
        "balance": plan.balance_after,
    }
    key = "extend.done_min_charge" if purpose.excess.is_positive else "extend.done"
    await unit.reply_once(
        reply_id(charge, ChargeState.CONFIRMED), key, charged=charge.amount, **facts
    )
    return Settlement.APPLIED


async def _topped_up(unit: Unit, charge: Charge) -> Settlement:
    """A top-up of the parking account (driver API): credited above, only told here."""
    await unit.reply_once(
        reply_id(charge, ChargeState.CONFIRMED),
        "topup.done",
        amount=charge.amount,
        balance=await phone_balance(unit, charge.amount.currency),
    )
    return Settlement.CREDITED


async def _credit_only(
    unit: Unit,
    charge: Charge,
    purpose: ChargePurpose,
    key: str,
    session: ParkingSession | None = None,
) -> Settlement:
    if session is not None and session.state is SessionState.AWAITING_PAYMENT:
        await unit.tx.update_session(cancel(session, unit.now))
    balance = await phone_balance(unit, charge.amount.currency)
    await unit.reply_once(
        reply_id(charge, ChargeState.CONFIRMED),
        key,
        plate=purpose.plate,
        amount=charge.amount,
        balance=balance,
    )
    return Settlement.CREDITED


def _must_remain(unit: Unit, charge: Charge) -> dict[str, object]:
    """What the operator keeps on the phone (Beeline: 10 RUB), for the
    insufficient-funds reply; nothing for operators without such a rule."""
    policy = unit.deployment.policy(charge.operator_id)
    floor = policy.limits.must_remain if policy is not None else None
    return {} if floor is None else {"must_remain": floor}


async def _closed(
    unit: Unit, stored: StoredCharge, target: ChargeState, reason: str | None
) -> None:
    charge = stored.charge
    purpose = ChargePurpose.from_details(stored.details, charge.amount.currency)
    await unit.tx.cancel_jobs(charge.id)
    if not purpose.is_top_up and purpose.action != ACTION_EXTEND:
        session = await unit.tx.get_session(purpose.session_id)
        if session is not None and session.state is SessionState.AWAITING_PAYMENT:
            await unit.tx.update_session(cancel(session, unit.now))
    key = _CLOSING_REPLIES[target]
    if target is ChargeState.FAILED:
        key = _REASON_REPLIES[reason_of(reason)]
    if purpose.is_top_up:
        key = _TOP_UP_CLOSING_REPLIES[target]
    await unit.reply_once(
        reply_id(charge, target),
        key,
        zone=purpose.zone,
        plate=purpose.plate,
        amount=charge.amount,
        operator_number=answer_number(unit, charge.operator_id, purpose),
        **_must_remain(unit, charge),
    )
    if target is ChargeState.EXPIRED and not is_waiting_for_subscriber(charge, purpose):
        # the operator may still take the money after our timeout: keep asking a while
        await unit.schedule(
            JobKind.CHARGE_RETRY, charge.id, unit.now + unit.settings.late_poll_interval
        )
