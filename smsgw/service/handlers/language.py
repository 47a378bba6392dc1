"""`LANG*KK`: the phone's reply language from now on; the answer is in the new one."""

from __future__ import annotations

from smsgw.commands import SetLanguage
from smsgw.service.unit import Unit


async def handle_language(unit: Unit, command: SetLanguage) -> str:
    await unit.tx.set_language(unit.msisdn, command.language)
    unit.language = command.language
    await unit.reply("language.set", language=command.language)
    return "set"
