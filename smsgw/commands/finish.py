"""From a draft the grammar accepted to a command, checking its values."""

from __future__ import annotations

import dataclasses

from smsgw.commands import model
from smsgw.commands.errors import BadHoursError, ParseError
from smsgw.commands.examples import extend_example, pay_example, stop_example
from smsgw.commands.grammar import Draft
from smsgw.commands.settings import ParseSettings

# The commands without fields, by the draft kind the grammar names them with.
_NO_FIELDS: dict[str, model.Command] = {
    command.name: command
    for command in (model.Status(), model.Confirm(), model.Decline(), model.Help())
}


def finish(draft: Draft, settings: ParseSettings) -> model.Command | ParseError:
    if draft.kind in _NO_FIELDS:
        return _NO_FIELDS[draft.kind]
    if draft.kind == "pay":
        return _finish_pay(draft, settings)
    if draft.kind == "extend":
        return _finish_extend(draft, settings)
    if draft.kind == "stop":
        return _finish_stop(draft, settings)
    if draft.kind == "language" and draft.language is not None:
        return model.SetLanguage(draft.language)
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


def _finish_pay(draft: Draft, settings: ParseSettings) -> model.Pay | ParseError:
    zone = draft.zone or ""
    plate = settings.plates.check(draft.plate or "")
    hours = 1 if draft.hours is None else hours_value(draft.hours, settings)
    if not isinstance(plate, str):
        return dataclasses.replace(plate, example=pay_example(settings, zone, None, hours))
    if hours is None:
        return BadHoursError(
            example=pay_example(settings, zone, plate), max_hours=settings.max_hours
        )
    return model.Pay(zone=zone, plate=plate, hours=hours)


def _finish_extend(draft: Draft, settings: ParseSettings) -> model.Extend | ParseError:
    hours = hours_value(draft.hours, settings)
    plate = None if draft.plate is None else settings.plates.check(draft.plate)
    if plate is not None and not isinstance(plate, str):
        example = extend_example(hours, settings.plates.example)
        return dataclasses.replace(plate, example=example)
    if hours is None:
        return BadHoursError(example=extend_example(None, plate), max_hours=settings.max_hours)
    return model.Extend(hours=hours, plate=plate)


def _finish_stop(draft: Draft, settings: ParseSettings) -> model.Stop | ParseError:
    if draft.plate is None:
        return model.Stop()
    plate = settings.plates.check(draft.plate)
    if not isinstance(plate, str):
        return dataclasses.replace(plate, example=stop_example(settings.plates.example))
    return model.Stop(plate=plate)
