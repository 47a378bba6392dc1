"""One handler per command. A handler runs inside the MO's unit of work, queues its
replies through the `Unit` and returns a short outcome word for logs and metrics; a
refusal is raised as a `DomainError`, which rolls the unit back and is answered with
its reply key in a unit of its own."""

from __future__ import annotations

from smsgw import commands
from smsgw.service.handlers.confirm import handle_confirm, handle_decline
from smsgw.service.handlers.extend import handle_extend
from smsgw.service.handlers.help import handle_help
from smsgw.service.handlers.language import handle_language
from smsgw.service.handlers.pay import handle_pay
from smsgw.service.handlers.status import handle_status
from smsgw.service.handlers.stop import handle_stop
from smsgw.service.unit import Unit


async def handle(unit: Unit, command: commands.Command) -> str:
    match command:
        case commands.Pay():
            return await handle_pay(unit, command)
        case commands.Extend():
            return await handle_extend(unit, command)
        case commands.Stop():
            return await handle_stop(unit, command)
        case commands.Status():
            return await handle_status(unit, command)
        case commands.Confirm():
            return await handle_confirm(unit, command)
        case commands.Decline():
            return await handle_decline(unit, command)
        case commands.SetLanguage():
            return await handle_language(unit, command)
        case commands.Help():
            return await handle_help(unit, command)
