"""What happens to a session inside a unit of work: it starts, is extended, stops or ends,
with its ledger movement and its scheduled reminder and end notice.

Ledger transactions are named after what they pay for (`session_paid:<session id>`…),
so posting one again in a replayed unit returns the one already posted.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import NoReturn

from smsgw.domain import ledger
from smsgw.domain.charges import Charge
from smsgw.domain.errors import PlateAlreadyActiveError, UnknownZoneError
from smsgw.domain.ledger import Account
from smsgw.domain.money import Money
from smsgw.domain.parking import (
    ExtensionPlan,
    ParkingSession,
    SessionState,
    StopPlan,
    activation_transaction,
    end_due_at,
    expire,
    extend,
    extend_example,
    extension_transaction,
    plan_stop,
    refund_transaction,
    reminder_due_at,
    stop,
)
from smsgw.domain.tariffs import Zone, as_utc
from smsgw.service.ports import Job, JobKind
from smsgw.service.store_port import ActivePlateConflictError
from smsgw.service.unit import Unit


def job_reply_id(job: Job, moment: datetime) -> str:
    """A job's reply is named after the job and the moment it is about (the session's
    end): a job run twice sends once, a moved job (extension) sends for the new end."""
    return f"job:{job.id}@{int(as_utc(moment).timestamp())}"


def zone_of(unit: Unit, session: ParkingSession) -> Zone:
    zone = unit.deployment.zones.get(session.zone)
    if zone is None:
        raise UnknownZoneError(zone=session.zone)
    return zone


async def phone_balance(unit: Unit, currency: str) -> Money:
    return await unit.tx.balance(Account.phone(unit.msisdn, currency))


async def schedule_session_jobs(unit: Unit, session: ParkingSession) -> None:
    """(Re)schedule the reminder and the end notice for the session's current end."""
    minutes = unit.settings.reminder_minutes
    if minutes > 0:
        reminder_at = as_utc(reminder_due_at(session, minutes))
        if reminder_at > unit.now:
            await unit.schedule(JobKind.REMINDER, session.id, reminder_at)
    await unit.schedule(JobKind.SESSION_END, session.id, as_utc(end_due_at(session)))


async def start_session(unit: Unit, session: ParkingSession, *, is_new: bool) -> None:
    """An ACTIVE session's price goes from the parking account to the zone's revenue."""
    try:
        if is_new:
            await unit.tx.insert_session(session)
        else:
            await unit.tx.update_session(session)
    except ActivePlateConflictError as conflict:
        await refuse_active_plate(unit, conflict.plate)
    await _post(unit, activation_transaction(session, unit.now))
    await schedule_session_jobs(unit, session)


async def extend_session(
    unit: Unit, session: ParkingSession, plan: ExtensionPlan, *, extension_id: str
) -> ParkingSession:
    extended = extend(session, plan, unit.now)
    await unit.tx.update_session(extended)
    await _post(unit, extension_transaction(session, plan, extension_id=extension_id, at=unit.now))
    await schedule_session_jobs(unit, extended)
    return extended


async def stop_session(unit: Unit, session: ParkingSession, plan: StopPlan) -> ParkingSession:
    stopped = stop(session, plan)
    await unit.tx.update_session(stopped)
    await _post(unit, refund_transaction(session, plan))
    await unit.tx.cancel_jobs(session.id)
    return stopped


@dataclass(frozen=True, slots=True)
class MovedOut:
    """A plate's session stopped because it was paid for in another zone."""

    zone: str
    refund: Money  # went to the old session's payer's parking account


async def move_out(unit: Unit, session: ParkingSession) -> MovedOut | None:
    """Stop the plate's running session in another zone, as `S` would: the unused money
    goes to the parking account of the phone that paid it (maybe not this one).

    Another phone's session is stopped under that phone's lock, which its own `S` or
    reminder takes too (on PostgreSQL a row lock: two nodes could otherwise stop it
    twice); it is read again once the lock is held, and None means it stopped meanwhile."""
    if session.phone != unit.msisdn:
        await unit.tx.lock_phone(session.phone, None)
        fresh = await unit.tx.get_session(session.id)
        if fresh is None or fresh.state is not SessionState.ACTIVE:
            return None
        session = fresh
    zone = zone_of(unit, session)
    plan = plan_stop(session, zone, unit.now)
    await stop_session(unit, session, plan)
    if session.phone != unit.msisdn:  # its payer learns why the parking stopped
        await unit.notify(
            session.phone,
            f"moved:{session.id}",
            "session.moved_away",
            zone=session.zone,
            plate=session.plate,
            end=as_utc(plan.stopped_at).astimezone(zone.tz),
            refund=plan.refund,
            balance=await unit.tx.balance(Account.phone(session.phone, zone.currency)),
        )
    return MovedOut(zone=session.zone, refund=plan.refund)


async def close_if_ended(unit: Unit, session: ParkingSession) -> ParkingSession:
    """An ACTIVE session past its end that the scheduler has not closed yet: close it now
    (its SESSION_END job still sends the notice). Anything else is returned as it is."""
    if session.state is not SessionState.ACTIVE or unit.now < as_utc(session.end):
        return session
    expired = expire(session, unit.now)
    await unit.tx.update_session(expired)
    return expired


async def credit_charge(unit: Unit, charge: Charge) -> None:
    """The operator took the money from the phone: it lands on the parking account."""
    await unit.tx.post(
        ledger.charge_confirmed(
            transaction_id=f"charge_confirmed:{charge.id}",
            charge_id=charge.id,
            phone=charge.phone,
            operator_id=charge.operator_id,
            amount=charge.amount,
            at=unit.now,
        )
    )


async def _post(unit: Unit, transaction: ledger.Transaction | None) -> None:
    if transaction is not None:
        await unit.tx.post(transaction)


async def refuse_active_plate(unit: Unit, plate: str) -> NoReturn:
    """The store found the plate ACTIVE in another session: refuse, naming its end."""
    active = await unit.tx.active_session_for_plate(plate)
    raise PlateAlreadyActiveError(
        plate=plate,
        end=None if active is None else active.end,
        example=extend_example(plate),
    )
