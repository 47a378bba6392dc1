"""One handler per command. A handler runs inside the MO's unit of work, queues its
replies through the `Unit` and returns a short outcome word for logs and metrics; a
refusal is raised as a `DomainError`, which rolls the unit back and is answered with
its reply key in a unit of its own."""

from __future__ import annotations

from smsgw.commands import (
    Command,
    Confirm,
    Decline,
    Extend,
    Help,
    Pay,
    SetLanguage,
    Status,
    Stop,
)
from smsgw.service.handlers.confirm import handle_confirm, handle_decline
from smsgw.service.handlers.extend import handle_extend
from smsgw.service.handlers.help import handle_help
from smsgw.service.handlers.language import handle_language
from smsgw.service.handlers.pay import handle_pay
from smsgw.service.handlers.status import handle_status
from smsgw.service.handlers.stop import handle_stop
from smsgw.service.unit import Unit


async def handle(unit: Unit, command: Command) -> str:
    match command:
        case Pay():
            return await handle_pay(unit, command)
        case Extend():
            return await handle_extend(unit, command)
        case Stop():
            return await handle_stop(unit, command)
        case Status():
            return await handle_status(unit, command)
        case Confirm():
            return await handle_confirm(unit, command)
        case Decline():
            return await handle_decline(unit, command)
        case SetLanguage():
            return await handle_language(unit, command)
        case Help():
            return await handle_help(unit, command)
