"""From a draft the grammar accepted to a command, checking its values."""

from __future__ import annotations

import dataclasses

from smsgw.commands.errors import BadHoursError, ParseError
from smsgw.commands.examples import extend_example, pay_example, stop_example
from smsgw.commands.grammar import Draft
from smsgw.commands.model import (
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
from smsgw.commands.settings import ParseSettings

_NO_FIELDS: dict[str, Command] = {
    "status": Status(),
    "confirm": Confirm(),
    "decline": Decline(),
    "help": Help(),
}


def finish(draft: Draft, settings: ParseSettings) -> Command | ParseError:
    if draft.kind in _NO_FIELDS:
        return _NO_FIELDS[draft.kind]
    if draft.kind == "pay":
        return _finish_pay(draft, settings)
    if draft.kind == "extend":
        return _finish_extend(draft, settings)
    if draft.kind == "stop":
        return _finish_stop(draft, settings)
    if draft.kind == "language" and draft.language is not None:
        return SetLanguage(draft.language)
    raise ValueError(f"the grammar produced an unknown draft: {draft!r}")


def hours_value(text: str | None, settings: ParseSettings) -> int | None:
    """Whole hours from 1 to the gateway's maximum, or None."""
    if text is None or not (text.isascii() and text.isdigit()):
        return None
    hours = int(text)
    return hours if 1 <= hours <= settings.max_hours else None


def plate_value(text: str | None, settings: ParseSettings) -> str | None:
    """The canonical plate, or None."""
    if text is None:
        return None
    checked = settings.plates.check(text)
    return checked if isinstance(checked, str) else None


def _finish_pay(draft: Draft, settings: ParseSettings) -> Pay | ParseError:
    zone = draft.zone or ""
    plate = settings.plates.check(draft.plate or "")
    hours = 1 if draft.hours is None else hours_value(draft.hours, settings)
    if not isinstance(plate, str):
        return dataclasses.replace(plate, example=pay_example(settings, zone, None, hours))
    if hours is None:
        return BadHoursError(
            example=pay_example(settings, zone, plate), max_hours=settings.max_hours
        )
    return Pay(zone=zone, plate=plate, hours=hours)


def _finish_extend(draft: Draft, settings: ParseSettings) -> Extend | ParseError:
    hours = hours_value(draft.hours, settings)
    plate = None if draft.plate is None else settings.plates.check(draft.plate)
    if plate is not None and not isinstance(plate, str):
        example = extend_example(hours, settings.plates.example)
        return dataclasses.replace(plate, example=example)
    if hours is None:
        return BadHoursError(example=extend_example(None, plate), max_hours=settings.max_hours)
    return Extend(hours=hours, plate=plate)


def _finish_stop(draft: Draft, settings: ParseSettings) -> Stop | ParseError:
    if draft.plate is None:
        return Stop()
    plate = settings.plates.check(draft.plate)
    if not isinstance(plate, str):
        return dataclasses.replace(plate, example=stop_example(settings.plates.example))
    return Stop(plate=plate)
