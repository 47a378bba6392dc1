"""What one bench load is: phones, pace, duration, mix; bounded whatever is asked."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Final

from simulator.bench.texts import DEFAULT_MIX, Mix
from smsgw.language import Language

DEFAULT_OPERATORS: Final = ("mts", "megafon", "beeline", "t2")
MAX_PHONES: Final = 1_000_000
MAX_SECONDS: Final = 3600.0
MAX_RATE: Final = 100_000.0


@dataclass(frozen=True, slots=True)
class LoadSettings:
    phones: int = 1000
    rate: float | None = None  # texts per second; None: as fast as the gateway answers
    duration: float = 10.0  # seconds measured
    warmup: float = 1.0  # seconds of load before measuring starts
    grace: float = 10.0  # seconds to wait for the last answers
    in_flight: int = 200  # open conversations at most (without `rate`)
    smsc_window: int = 100  # outstanding deliver_sm per operator
    mix: Mix = field(default_factory=lambda: Mix.parse(DEFAULT_MIX))
    zone: str = "1001"
    max_hours: int = 24
    max_sessions_per_phone: int = 3
    operators: tuple[str, ...] = DEFAULT_OPERATORS
    language: Language = Language.RU
    phone_balance_minor: int = 1_000_000_00
    seed: int = 1

    def __post_init__(self) -> None:
        # a bench is bounded in count and time, whatever it is asked
        _check_range("phones", self.phones, 1, MAX_PHONES)
        _check_range("in_flight", self.in_flight, 1, 10_000)
        _check_range("smsc_window", self.smsc_window, 1, 1000)
        _check_range("duration", self.duration, 0.1, MAX_SECONDS)
        _check_range("warmup", self.warmup, 0, MAX_SECONDS)
        _check_range("grace", self.grace, 0, MAX_SECONDS)
        if self.rate is not None:
            _check_range("rate", self.rate, 0.1, MAX_RATE)
        if not self.operators:
            raise ValueError("operators: at least one")


def _check_range(name: str, value: float, low: float, high: float) -> None:
    if not low <= value <= high:
        raise ValueError(f"{name}: must be from {_number(low)} to {_number(high)}, got {value}")


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)
