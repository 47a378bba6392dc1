"""`parse_command`: any text in, a command or the typed reason it is not one out."""

from __future__ import annotations

from collections.abc import Iterable
from functools import cache

from smsgw.commands.diagnose import diagnose
from smsgw.commands.errors import CommandTooLongError, EmptyCommandError, ParseError
from smsgw.commands.examples import pay_example
from smsgw.commands.finish import finish
from smsgw.commands.grammar import parse_draft
from smsgw.commands.model import Command
from smsgw.commands.normalise import normalise_text
from smsgw.commands.plates import PlateRules, plate_rules
from smsgw.commands.settings import DEFAULT_MAX_HOURS, ParseSettings

# The longest command is about 25 characters; a text over one SMS worth is refused
# before any work is done on it, and after clean-up anything over MAX_COMMAND_CHARS.
RAW_LIMIT = 160
MAX_COMMAND_CHARS = 64


def parse_command(
    text: str,
    *,
    plate_formats: PlateRules | Iterable[str] | None = None,
    max_hours: int = DEFAULT_MAX_HOURS,
) -> Command | ParseError:
    """The command in an SMS text, or the ParseError to answer it with. Never raises
    on any str (bad settings raise ValueError).

    `plate_formats` is a `plate_rules(...)` result or country codes such as
    `["ru", "kz"]` (the default); `max_hours` is the gateway-wide maximum.
    """
    settings = _settings(_rules(plate_formats), max_hours)
    return parse_with(text, settings)


def parse_with(text: str, settings: ParseSettings) -> Command | ParseError:
    """`parse_command` with prepared settings."""
    if len(text) > RAW_LIMIT:
        return CommandTooLongError(example=pay_example(settings), max_chars=MAX_COMMAND_CHARS)
    cleaned = normalise_text(text)
    if not cleaned:
        return EmptyCommandError(example=pay_example(settings))
    if len(cleaned) > MAX_COMMAND_CHARS:
        return CommandTooLongError(example=pay_example(settings), max_chars=MAX_COMMAND_CHARS)
    draft = parse_draft(cleaned)
    if draft is None:
        return diagnose(cleaned, settings)
    return finish(draft, settings)


def _rules(plate_formats: PlateRules | Iterable[str] | None) -> PlateRules:
    if plate_formats is None:
        return _default_rules()
    if isinstance(plate_formats, PlateRules):
        return plate_formats
    if isinstance(plate_formats, str):
        return plate_rules([plate_formats])
    return plate_rules(plate_formats)


@cache
def _default_rules() -> PlateRules:
    return plate_rules()


@cache
def _settings(rules: PlateRules, max_hours: int) -> ParseSettings:
    return ParseSettings(plates=rules, max_hours=max_hours)
