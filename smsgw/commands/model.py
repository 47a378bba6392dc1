"""The commands a driver can send, as typed values.

Each command class carries `name`, the stable word used in logs, metrics and the
`smsgw parse` output. Plates are canonical (see smsgw.commands.plates); `None` for a
plate means "the phone's only running session".
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from smsgw.language import Language


@dataclass(frozen=True, slots=True)
class Pay:
    name: ClassVar[str] = "pay"

    zone: str
    plate: str
    hours: int


@dataclass(frozen=True, slots=True)
class Extend:
    name: ClassVar[str] = "extend"

    hours: int
    plate: str | None = None


@dataclass(frozen=True, slots=True)
class Stop:
    name: ClassVar[str] = "stop"

    plate: str | None = None


@dataclass(frozen=True, slots=True)
class Status:
    name: ClassVar[str] = "status"


@dataclass(frozen=True, slots=True)
class Confirm:
    name: ClassVar[str] = "confirm"


@dataclass(frozen=True, slots=True)
class Decline:
    name: ClassVar[str] = "decline"


@dataclass(frozen=True, slots=True)
class SetLanguage:
    name: ClassVar[str] = "language"

    language: Language


@dataclass(frozen=True, slots=True)
class Help:
    name: ClassVar[str] = "help"


Command = Pay | Extend | Stop | Status | Confirm | Decline | SetLanguage | Help
