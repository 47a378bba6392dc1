"""`S[*PLATE]`: stop early; the unused money, by the zone's billing step, goes back to
the parking account (never to the phone)."""

from __future__ import annotations

from smsgw.commands import Stop
from smsgw.domain.parking import plan_stop, session_to_stop
from smsgw.service.session_flow import phone_balance, stop_session, zone_of
from smsgw.service.unit import Unit, local_time


async def handle_stop(unit: Unit, command: Stop) -> str:
    sessions = await unit.tx.running_sessions(unit.msisdn)
    session = session_to_stop(sessions, command.plate, unit.now)
    zone = zone_of(unit, session)
    plan = plan_stop(session, zone, unit.now)
    await stop_session(unit, session, plan)
    await unit.reply(
        "stop.done",
        zone=zone.number,
        plate=session.plate,
        end=local_time(plan.stopped_at, zone),
        refund=plan.refund,
        balance=await phone_balance(unit, zone.currency),
    )
    return "stopped"
