"""`ZONE*PLATE*HOURS`: start a session, paid from the parking account first and the
phone for the shortfall.

A plate has one running session in all zones together. Paying again in the same zone is
refused: the phone that paid is told the extend command, any other phone only that the
plate is paid until then. Paying in another zone moves the car: the old session stops
(its unused money to its payer's parking account, as for `S`) when the new one starts,
and the reply says both (`pay.moved`).
"""

from __future__ import annotations

from smsgw.commands import Pay, pay_example
from smsgw.domain.errors import (
    PlateAlreadyActiveError,
    PlateAlreadyPaidError,
    TooManyHoursError,
    UnknownZoneError,
)
from smsgw.domain.parking import (
    ParkingSession,
    activate,
    extend_example,
    new_session,
    plan_payment,
)
from smsgw.domain.tariffs import Zone
from smsgw.service.payments import (
    ACTION_PAY,
    ensure_chargeable,
    ensure_currency,
    operator_minimum,
    refuse_if_charge_pending,
    request_session_charge,
    supported_policy,
)
from smsgw.service.session_flow import (
    close_if_ended,
    move_out,
    phone_balance,
    refuse_active_plate,
    start_session,
)
from smsgw.service.store_port import ActivePlateConflictError
from smsgw.service.unit import Unit, local_time


async def handle_pay(unit: Unit, command: Pay) -> str:
    zone = zone_for(unit, command)
    policy = supported_policy(unit)
    ensure_currency(policy, zone)
    plate_session = await unit.tx.active_session_for_plate(command.plate)
    if plate_session is not None and plate_session.is_running(unit.now):
        if plate_session.zone == zone.number:
            _refuse_same_zone(unit, plate_session, command)
    elif plate_session is not None:
        await close_if_ended(unit, plate_session)  # ended, but its end job has not run yet
        plate_session = None
    await refuse_if_charge_pending(unit)
    plan = plan_payment(
        zone=zone,
        plate=command.plate,
        hours=command.hours,
        now=unit.now,
        balance=await phone_balance(unit, zone.currency),
        plate_session=None,
        operator_minimum=operator_minimum(policy, zone),
    )
    session = new_session(plan, session_id=unit.new_id("ses"), phone=unit.msisdn)
    if not plan.needs_charge:
        moved = await move_out(unit, plate_session) if plate_session is not None else None
        await start_session(unit, activate(session), is_new=True)
        facts: dict[str, object] = {
            "zone": zone.number,
            "plate": command.plate,
            "end": local_time(session.end, zone),
            "amount": plan.price,
            "balance": await phone_balance(unit, zone.currency),
        }
        if moved is None:
            await unit.reply("pay.started", **facts)
        else:
            await unit.reply("pay.moved", old_zone=moved.zone, refund=moved.refund, **facts)
        return "started" if moved is None else "moved"
    await ensure_chargeable(unit, policy, zone, plan.to_charge)
    try:
        await unit.tx.insert_session(session)
    except ActivePlateConflictError as conflict:
        await refuse_active_plate(unit, conflict.plate)
    return await request_session_charge(
        unit, policy, ACTION_PAY, session, hours=command.hours, funding=plan
    )


def zone_for(unit: Unit, command: Pay) -> Zone:
    """The command's zone, refusing an unknown one or too many hours with an example
    that works here (an existing zone, its plate format, its maximum)."""
    parse = unit.settings.parse
    zone = unit.deployment.zones.get(command.zone)
    if zone is None:
        example = pay_example(parse, command.zone, command.plate, command.hours)
        raise UnknownZoneError(zone=command.zone, example=example)
    if command.hours > zone.max_hours:
        raise TooManyHoursError(
            max_hours=zone.max_hours,
            example=pay_example(parse, zone.number, command.plate, zone.max_hours),
        )
    return zone


def _refuse_same_zone(unit: Unit, running: ParkingSession, command: Pay) -> None:
    end = local_time(running.end, unit.deployment.zones.get(running.zone))
    if running.phone == unit.msisdn:
        raise PlateAlreadyActiveError(
            zone=running.zone,
            plate=command.plate,
            end=end,
            example=extend_example(command.plate, command.hours),
        )
    # another phone paid it: extending is not theirs to do (and would not find it)
    raise PlateAlreadyPaidError(zone=running.zone, plate=command.plate, end=end)
