"""Why a text is not a command, each reason naming the reply that answers it.

A `ParseError` is returned (not raised) by `parse_command`, so a text can never crash
the pipeline; it is still an exception, for callers that prefer to raise it. Like
`smsgw.domain.errors.DomainError`, the class attribute `reply_key` picks the reply text
and the `facts` dict carries what the reply needs, so one call answers either:

    render(error.reply_key, language, **error.facts)

Here the facts are typed dataclass fields; `facts` collects them. Every reason carries
`example`: a correct command of the kind the driver seemed to attempt, built from the
parts of their text that were right.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import ClassVar


@dataclass
class ParseError(Exception):
    reply_key: ClassVar[str] = "parse.unknown"

    example: str

    @property
    def facts(self) -> dict[str, object]:
        return {field.name: getattr(self, field.name) for field in fields(self)}

    def __str__(self) -> str:
        shown = ", ".join(f"{name}={value!r}" for name, value in self.facts.items())
        return f"{self.reply_key}({shown})"


@dataclass
class EmptyCommandError(ParseError):
    reply_key = "parse.empty"


@dataclass
class CommandTooLongError(ParseError):
    reply_key = "parse.too_long"

    max_chars: int


@dataclass
class UnknownCommandError(ParseError):
    reply_key = "parse.unknown"


@dataclass
class SeparatorMissingError(ParseError):
    """The right fields, joined by spaces, commas or dots instead of `*`."""

    reply_key = "parse.separator"


@dataclass
class PayFormatError(ParseError):
    reply_key = "parse.pay_format"


@dataclass
class ExtendFormatError(ParseError):
    reply_key = "parse.extend_format"


@dataclass
class StopFormatError(ParseError):
    reply_key = "parse.stop_format"


@dataclass
class BadZoneError(ParseError):
    reply_key = "parse.bad_zone"


@dataclass
class BadHoursError(ParseError):
    """Hours that are not a whole number from 1 to the gateway's maximum."""

    reply_key = "parse.bad_hours"

    max_hours: int


@dataclass
class UnknownLanguageError(ParseError):
    reply_key = "parse.bad_language"


@dataclass
class PlateLetterError(ParseError):
    """A character no plate may hold, e.g. a Cyrillic letter with no Latin look-alike."""

    reply_key = "parse.plate_letter"

    letter: str


@dataclass
class PlateFormatError(ParseError):
    """Plate characters are fine but match none of the deployment's national formats."""

    reply_key = "parse.bad_plate"

    plate: str


PARSE_ERRORS: tuple[type[ParseError], ...] = (
    EmptyCommandError,
    CommandTooLongError,
    UnknownCommandError,
    SeparatorMissingError,
    PayFormatError,
    ExtendFormatError,
    StopFormatError,
    BadZoneError,
    BadHoursError,
    UnknownLanguageError,
    PlateLetterError,
    PlateFormatError,
)
PARSE_REPLY_KEYS: frozenset[str] = frozenset(error.reply_key for error in PARSE_ERRORS)
