"""`I`: the phone's running sessions with their local end times, and its balance."""

from __future__ import annotations

from smsgw.commands import Status
from smsgw.domain.parking import running_sessions
from smsgw.service.session_flow import phone_balance
from smsgw.service.unit import Unit, local_time


async def handle_status(unit: Unit, command: Status) -> str:
    running = running_sessions(await unit.tx.running_sessions(unit.msisdn), unit.now)
    currency = unit.deployment.currency_for(unit.operator_id)
    if running:
        zones = unit.deployment.zones
        currency = zones[running[0].zone].currency if running[0].zone in zones else currency
    balance = await phone_balance(unit, currency)
    if not running:
        await unit.reply("status.none", balance=balance)
        return "none"
    lines = [
        (
            session.plate,
            session.zone,
            local_time(session.end, unit.deployment.zones.get(session.zone)),
        )
        for session in running
    ]
    await unit.reply("status.sessions", sessions=lines, balance=balance)
    return "sessions"
