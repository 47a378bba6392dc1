"""`ZONE*PLATE*HOURS`: start a session, paid from the parking account first and the
phone for the shortfall (SPEC §2–§4)."""

from __future__ import annotations

from smsgw.commands import Pay
from smsgw.domain.errors import PlateAlreadyActiveError, TooManyHoursError
from smsgw.domain.parking import activate, extend_example, new_session, plan_payment
from smsgw.domain.tariffs import find_zone
from smsgw.service.payments import (
    ACTION_PAY,
    ensure_chargeable,
    open_charge,
    operator_minimum,
    purpose_for,
    refuse_if_charge_pending,
    supported_policy,
)
from smsgw.service.session_flow import close_if_ended, phone_balance, start_session
from smsgw.service.unit import Unit, local_time


async def handle_pay(unit: Unit, command: Pay) -> str:
    zone = find_zone(unit.deployment.zones, command.zone)
    if command.hours > zone.max_hours:
        raise TooManyHoursError(max_hours=zone.max_hours)
    policy = supported_policy(unit)
    plate_session = await unit.tx.active_session_for_plate(command.plate)
    if plate_session is not None and plate_session.is_running(unit.now):
        raise PlateAlreadyActiveError(
            plate=command.plate,
            end=local_time(plate_session.end, unit.deployment.zones.get(plate_session.zone)),
            example=extend_example(command.plate, command.hours),
        )
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
    if plate_session is not None:
        await close_if_ended(unit, plate_session)  # ended, but its end job has not run yet
    session = new_session(plan, session_id=unit.new_id("ses"), phone=unit.msisdn)
    if not plan.needs_charge:
        await start_session(unit, activate(session), is_new=True)
        await unit.reply(
            "pay.started",
            zone=zone.number,
            plate=command.plate,
            end=local_time(session.end, zone),
            amount=plan.price,
            balance=plan.balance_after,
        )
        return "started"
    await ensure_chargeable(unit, policy, zone, plan.to_charge)
    await unit.tx.insert_session(session)
    purpose = purpose_for(
        ACTION_PAY,
        session_id=session.id,
        zone=zone.number,
        plate=command.plate,
        hours=command.hours,
        funding=plan,
        policy=policy,
    )
    await open_charge(unit, policy, plan.to_charge, purpose)
    return "charge_requested"
