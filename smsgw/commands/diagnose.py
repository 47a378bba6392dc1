"""What was wrong with a text the grammar rejected, and what to send instead.

Only the failure path runs this, so it may try a few readings of the text: the
fields split at `*`/`#`, or the whole text re-joined with `*` in case the driver
used spaces or commas. The first word says what the driver seemed to attempt; the
example keeps whatever parts of the text were right.
"""

from __future__ import annotations

import dataclasses
import re

from smsgw.commands.errors import (
    BadHoursError,
    BadZoneError,
    ExtendFormatError,
    ParseError,
    PayFormatError,
    SeparatorMissingError,
    StopFormatError,
    UnknownCommandError,
    UnknownLanguageError,
)
from smsgw.commands.examples import (
    EXAMPLE_HELP,
    EXAMPLE_LANGUAGE,
    extend_example,
    pay_example,
    stop_example,
)
from smsgw.commands.finish import finish, hours_value, plate_value
from smsgw.commands.grammar import parse_draft
from smsgw.commands.settings import ParseSettings
from smsgw.commands.text import format_command

_FIELD_SEPARATOR = re.compile(r"\s*[*#]\s*")
# what drivers put between fields when they do not use `*`
_LOOSE_SEPARATOR = re.compile(r"[\s,;/\\.]+")

_EXTEND_WORDS = frozenset({"X", "Х"})
_STOP_WORDS = frozenset({"S", "C", "С"})
_STATUS_WORDS = frozenset({"I", "Й", "І"})
_LANGUAGE_WORDS = frozenset({"LANG", "ЯЗЫК", "ТІЛ", "LANGUAGE"})
_HELP_WORDS = frozenset({"?", "HELP", "ПОМОЩЬ", "КӨМЕК"})

# words drivers send for a command, and the command they meant
_HINTS: dict[str, str] = {
    **dict.fromkeys(("STOP", "СТОП", "ТОҚТАТУ", "ТОКТАТУ", "КОНЕЦ", "END"), "S"),
    **dict.fromkeys(("STATUS", "СТАТУС", "INFO", "ИНФО", "БАЛАНС", "BALANCE"), "I"),
    **dict.fromkeys(("EXTEND", "ПРОДЛИТЬ", "ПРОДЛЕНИЕ", "ҰЗАРТУ", "УЗАРТУ"), "X*1"),
    **dict.fromkeys(("YES", "ДА", "ИӘ", "ИЯ", "OK", "ОК"), "1"),
    **dict.fromkeys(("NO", "НЕТ", "ЖОҚ", "ЖОК"), "0"),
    **dict.fromkeys(("СПРАВКА", "ИНСТРУКЦИЯ", "SOS", "АНЫҚТАМА"), EXAMPLE_HELP),
}


def diagnose(text: str, settings: ParseSettings) -> ParseError:
    """Why `text` (normalised, non-empty, rejected by the grammar) is not a command."""
    rejoined = _with_separators(text, settings)
    if rejoined is not None:
        return SeparatorMissingError(example=rejoined)
    head, *rest = _FIELD_SEPARATOR.split(text)
    word = head.upper()
    if word.isascii() and word.isdigit():
        return _pay_attempt(head, rest, settings)
    if word in _EXTEND_WORDS:
        return _extend_attempt(rest, settings)
    if word in _STOP_WORDS:
        return StopFormatError(example=stop_example(_plate_at(rest, 0, settings)))
    if word in _LANGUAGE_WORDS:
        return UnknownLanguageError(example=EXAMPLE_LANGUAGE)
    if word in _STATUS_WORDS:
        return UnknownCommandError(example="I")
    if word in _HELP_WORDS:
        return UnknownCommandError(example=EXAMPLE_HELP)
    if word in _HINTS:
        return UnknownCommandError(example=_HINTS[word])
    plate = _plate_at(rest, 0, settings)
    if plate is not None:  # a plate after the first field: a payment with a bad zone
        hours = _hours_at(rest, 1, settings)
        return BadZoneError(example=pay_example(settings, None, plate, hours))
    return UnknownCommandError(example=pay_example(settings))


def _with_separators(text: str, settings: ParseSettings) -> str | None:
    """The command `text` is once its spaces or commas become `*`, if it is one."""
    if "*" in text or "#" in text:
        return None
    parts = [part for part in _LOOSE_SEPARATOR.split(text) if part]
    if len(parts) < 2 or not _starts_a_command(parts[0]):
        return None
    readings = ["*".join(parts)]
    if len(parts) > 2:  # a plate written with spaces: A 123 BC 77
        readings.append("*".join((parts[0], "".join(parts[1:-1]), parts[-1])))
        readings.append("*".join((parts[0], "".join(parts[1:]))))
    for reading in readings:
        draft = parse_draft(reading)
        if draft is None:
            continue
        command = finish(draft, settings)
        if not isinstance(command, ParseError):
            return format_command(command)
    return None


def _starts_a_command(word: str) -> bool:
    """Whether `word` can begin a command with fields (a zone, X or S): only then is
    re-joining the text worth another parse."""
    upper = word.upper()
    return (upper.isascii() and upper.isdigit()) or upper in _EXTEND_WORDS | _STOP_WORDS


def _pay_attempt(zone: str, rest: list[str], settings: ParseSettings) -> ParseError:
    plate = _plate_at(rest, 0, settings)
    hours = _hours_at(rest, 1, settings)
    example = pay_example(settings, zone, plate, hours)
    if not rest or not rest[0]:
        return PayFormatError(example=example)
    checked = settings.plates.check(rest[0])
    if not isinstance(checked, str):
        return dataclasses.replace(checked, example=example)
    if len(rest) > 1 and rest[1] and hours is None:
        return BadHoursError(example=example, max_hours=settings.max_hours)
    return PayFormatError(example=example)


def _extend_attempt(rest: list[str], settings: ParseSettings) -> ParseError:
    plate_first = _plate_at(rest, 0, settings)
    if plate_first is not None:  # hours missing, or after the plate
        hours = _hours_at(rest, 1, settings)
        return ExtendFormatError(example=extend_example(hours, plate_first))
    hours = _hours_at(rest, 0, settings)
    example = extend_example(hours, _plate_at(rest, 1, settings))
    if rest and rest[0] and hours is None:
        return BadHoursError(example=example, max_hours=settings.max_hours)
    return ExtendFormatError(example=example)


def _plate_at(fields: list[str], index: int, settings: ParseSettings) -> str | None:
    return plate_value(fields[index], settings) if index < len(fields) else None


def _hours_at(fields: list[str], index: int, settings: ParseSettings) -> int | None:
    return hours_value(fields[index], settings) if index < len(fields) else None
