"""Correct commands to show a driver, keeping the parts of their text that were right.

An example must work in this deployment: a zone that exists (for a zone that does not,
another one), a plate in that zone's national format, hours within that zone's maximum.
`ParseSettings.zones` says which zones exist; without it (a bare parser) the example
zone is EXAMPLE_ZONE.
"""

from __future__ import annotations

from dataclasses import dataclass

from smsgw.commands.model import Extend, Pay, Stop
from smsgw.commands.plates import COUNTRIES, plate_rules
from smsgw.commands.settings import ParseSettings, ZoneExample
from smsgw.commands.text import format_command

EXAMPLE_ZONE = "1001"
EXAMPLE_HOURS = 2
EXAMPLE_EXTEND_HOURS = 1
EXAMPLE_LANGUAGE = "LANG*EN"
EXAMPLE_HELP = "?"

__all__ = ["ZoneExample", "extend_example", "pay_example", "stop_example"]


@dataclass(frozen=True, slots=True)
class _Choice:
    zone: str
    plate: str
    max_hours: int


def pay_example(
    settings: ParseSettings,
    zone: str | None = None,
    plate: str | None = None,
    hours: int | None = None,
) -> str:
    choice = _choose(settings, zone, plate)
    wanted = hours or EXAMPLE_HOURS
    return format_command(
        Pay(zone=choice.zone, plate=choice.plate, hours=max(1, min(wanted, choice.max_hours)))
    )


def _choose(settings: ParseSettings, zone: str | None, plate: str | None) -> _Choice:
    if not settings.zones:  # no zone list: keep what the driver wrote
        return _Choice(zone or EXAMPLE_ZONE, plate or settings.plates.example, settings.max_hours)
    known = {example.number: example for example in settings.zones}
    chosen = known.get(zone or "")
    if chosen is None:
        # an unknown zone is never shown: the first zone where the driver's plate fits
        chosen = next(
            (example for example in settings.zones if _fits(plate, example)), settings.zones[0]
        )
    shown_plate = plate if plate is not None and _fits(plate, chosen) else _plate_for(chosen)
    return _Choice(chosen.number, shown_plate, chosen.max_hours)


def _fits(plate: str | None, zone: ZoneExample) -> bool:
    return (
        plate is not None
        and zone.country in COUNTRIES
        and plate_rules([zone.country]).is_valid(plate)
    )


def _plate_for(zone: ZoneExample) -> str:
    country = COUNTRIES.get(zone.country)
    return country.example if country is not None else COUNTRIES["ru"].example


def extend_example(hours: int | None = None, plate: str | None = None) -> str:
    return format_command(Extend(hours=hours or EXAMPLE_EXTEND_HOURS, plate=plate))


def stop_example(plate: str | None = None) -> str:
    return format_command(Stop(plate=plate))
