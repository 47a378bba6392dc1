"""`?`: a short usage text."""

from __future__ import annotations

from smsgw.commands import Help
from smsgw.service.unit import Unit


async def handle_help(unit: Unit, command: Help) -> str:
    await unit.reply("help.text", short_number=unit.settings.short_number)
    return "shown"
