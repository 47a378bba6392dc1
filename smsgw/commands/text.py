"""Commands written back as SMS text: the examples replies show, and round-trip tests."""

from __future__ import annotations

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

SEPARATOR = "*"


def format_command(command: Command) -> str:
    """The canonical text of `command`; parsing it gives `command` back."""
    match command:
        case Pay(zone=zone, plate=plate, hours=hours):
            return _joined(zone, plate, str(hours))
        case Extend(hours=hours, plate=plate):
            return _joined("X", str(hours), plate)
        case Stop(plate=plate):
            return _joined("S", plate)
        case Status():
            return "I"
        case Confirm():
            return "1"
        case Decline():
            return "0"
        case SetLanguage(language=language):
            return _joined("LANG", language.value.upper())
        case Help():
            return "?"


def _joined(*fields: str | None) -> str:
    return SEPARATOR.join(field for field in fields if field is not None)
