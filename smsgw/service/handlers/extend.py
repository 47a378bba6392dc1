"""`X*HOURS[*PLATE]`: more time for a running session, before its end, paid like a new
payment (parking account first, the phone for the shortfall)."""

from __future__ import annotations

from smsgw.commands import Extend
from smsgw.domain.parking import plan_extension, session_to_extend
from smsgw.service.payments import (
    ACTION_EXTEND,
    ensure_chargeable,
    operator_minimum,
    refuse_if_charge_pending,
    request_session_charge,
    supported_policy,
)
from smsgw.service.session_flow import extend_session, phone_balance, zone_of
from smsgw.service.unit import Unit, local_time


async def handle_extend(unit: Unit, command: Extend) -> str:
    policy = supported_policy(unit)
    sessions = await unit.tx.running_sessions(unit.msisdn)
    session = session_to_extend(sessions, command.plate, command.hours, unit.now)
    await refuse_if_charge_pending(unit)
    zone = zone_of(unit, session)
    plan = plan_extension(
        session=session,
        zone=zone,
        hours=command.hours,
        now=unit.now,
        balance=await phone_balance(unit, zone.currency),
        operator_minimum=operator_minimum(policy, zone),
    )
    if not plan.needs_charge:
        extended = await extend_session(unit, session, plan, extension_id=unit.new_id("ext"))
        await unit.reply(
            "extend.done",
            zone=zone.number,
            plate=session.plate,
            end=local_time(extended.end, zone),
            amount=plan.price,
            balance=plan.balance_after,
        )
        return "extended"
    await ensure_chargeable(unit, policy, zone, plan.to_charge)
    return await request_session_charge(
        unit, policy, ACTION_EXTEND, session, hours=command.hours, funding=plan
    )
