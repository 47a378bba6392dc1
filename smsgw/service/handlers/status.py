"""`I`: the phone's running sessions with their local end times, a payment waiting for
the subscriber's confirmation (and where to give it), and the parking-account balance."""

from __future__ import annotations

from smsgw.commands import Status
from smsgw.domain.money import Money
from smsgw.domain.parking import running_sessions
from smsgw.service.payments import ChargePurpose, answer_number
from smsgw.service.ports import StoredCharge
from smsgw.service.session_flow import phone_balance
from smsgw.service.unit import Unit, local_time


async def handle_status(unit: Unit, command: Status) -> str:
    running = running_sessions(await unit.tx.running_sessions(unit.msisdn), unit.now)
    pending = await unit.tx.pending_charge(unit.msisdn)
    currency = unit.deployment.currency_for(unit.operator_id)
    zones = unit.deployment.zones
    if running:
        currency = zones[running[0].zone].currency if running[0].zone in zones else currency
    elif pending is not None:
        currency = pending.charge.amount.currency
    balance = await phone_balance(unit, currency)
    if pending is not None:
        await _show_pending(unit, pending, balance)
    if not running:
        if pending is None:
            await unit.reply("status.none", balance=balance)
        return "none" if pending is None else "pending"
    lines = [
        (session.plate, session.zone, local_time(session.end, zones.get(session.zone)))
        for session in running
    ]
    await unit.reply("status.sessions", sessions=lines, balance=balance)
    return "sessions"


async def _show_pending(unit: Unit, stored: StoredCharge, balance: Money) -> None:
    purpose = ChargePurpose.from_details(stored.details, stored.charge.amount.currency)
    if purpose.is_top_up:
        await unit.reply(
            "status.pending_top_up",
            amount=stored.charge.amount,
            operator_number=answer_number(unit, stored.charge.operator_id, purpose),
            balance=balance,
        )
        return
    await unit.reply(
        "status.pending",
        zone=purpose.zone,
        plate=purpose.plate,
        amount=stored.charge.amount,
        operator_number=answer_number(unit, stored.charge.operator_id, purpose),
        balance=balance,
    )
