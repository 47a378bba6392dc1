"""Commands written back as SMS text: the examples replies show, and round-trip tests."""

from __future__ import annotations

from smsgw.commands import model

SEPARATOR = "*"


def format_command(command: model.Command) -> str:
    """The canonical text of `command`; parsing it gives `command` back."""
    match command:
        case model.Pay(zone=zone, plate=plate, hours=hours):
            return _joined(zone, plate, str(hours))
        case model.Extend(hours=hours, plate=plate):
            return _joined("X", str(hours), plate)
        case model.Stop(plate=plate):
            return _joined("S", plate)
        case model.Status():
            return "I"
        case model.Confirm():
            return "1"
        case model.Decline():
            return "0"
        case model.SetLanguage(language=language):
            return _joined("LANG", language.value.upper())
        case model.Help():
            return "?"


def _joined(*fields: str | None) -> str:
    return SEPARATOR.join(field for field in fields if field is not None)
