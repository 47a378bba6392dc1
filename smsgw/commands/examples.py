"""Correct commands to show a driver, keeping the parts of their text that were right."""

from __future__ import annotations

from smsgw.commands.model import Extend, Pay, Stop
from smsgw.commands.settings import ParseSettings
from smsgw.commands.text import format_command

EXAMPLE_ZONE = "1001"
EXAMPLE_HOURS = 2
EXAMPLE_EXTEND_HOURS = 1
EXAMPLE_LANGUAGE = "LANG*EN"
EXAMPLE_HELP = "?"


def pay_example(
    settings: ParseSettings,
    zone: str | None = None,
    plate: str | None = None,
    hours: int | None = None,
) -> str:
    return format_command(
        Pay(
            zone=zone or EXAMPLE_ZONE,
            plate=plate or settings.plates.example,
            hours=hours or min(EXAMPLE_HOURS, settings.max_hours),
        )
    )


def extend_example(hours: int | None = None, plate: str | None = None) -> str:
    return format_command(Extend(hours=hours or EXAMPLE_EXTEND_HOURS, plate=plate))


def stop_example(plate: str | None = None) -> str:
    return format_command(Stop(plate=plate))
