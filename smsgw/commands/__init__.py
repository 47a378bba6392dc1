"""The SMS command language: text in, typed command (or typed ParseError) out.

    parse_command("1001*а123вс77*2")  ->  Pay(zone="1001", plate="A123BC77", hours=2)

Pure: no I/O beyond reading grammar/commands.lark once, no clock.
"""

from __future__ import annotations

from smsgw.commands.errors import (
    PARSE_ERRORS,
    PARSE_REPLY_KEYS,
    BadHoursError,
    BadZoneError,
    CommandTooLongError,
    EmptyCommandError,
    ExtendFormatError,
    ParseError,
    PayFormatError,
    PlateFormatError,
    PlateLetterError,
    SeparatorMissingError,
    StopFormatError,
    UnknownCommandError,
    UnknownLanguageError,
)
from smsgw.commands.examples import pay_example
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
from smsgw.commands.parser import MAX_COMMAND_CHARS, parse_command, parse_with
from smsgw.commands.plates import PlateRules, fold_plate, plate_rules
from smsgw.commands.settings import DEFAULT_MAX_HOURS, ParseSettings, ZoneExample
from smsgw.commands.text import format_command

__all__ = [
    "DEFAULT_MAX_HOURS",
    "MAX_COMMAND_CHARS",
    "PARSE_ERRORS",
    "PARSE_REPLY_KEYS",
    "BadHoursError",
    "BadZoneError",
    "Command",
    "CommandTooLongError",
    "Confirm",
    "Decline",
    "EmptyCommandError",
    "Extend",
    "ExtendFormatError",
    "Help",
    "ParseError",
    "ParseSettings",
    "Pay",
    "PayFormatError",
    "PlateFormatError",
    "PlateLetterError",
    "PlateRules",
    "SeparatorMissingError",
    "SetLanguage",
    "Status",
    "Stop",
    "StopFormatError",
    "UnknownCommandError",
    "UnknownLanguageError",
    "ZoneExample",
    "fold_plate",
    "format_command",
    "parse_command",
    "parse_with",
    "pay_example",
    "plate_rules",
]
