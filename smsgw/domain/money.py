"""Money as an integer count of minor units (kopecks, tiyn) in one currency.

Never a float: every amount in smsgw is a `Money`. Arithmetic and ordering are
defined only between amounts of the same currency; mixing currencies is a bug in
the caller, so it raises `ValueError` rather than guessing a rate. Equality is the
plain dataclass equality (different currencies are simply unequal) so that
`Money` stays hashable and usable in sets and dict keys. Formatting for people
lives in smsgw.replies, not here.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

CURRENCY_CODE_LENGTH = 3
# ISO 4217 minor-unit exponents of the currencies the gateway bills in
MINOR_UNIT_DIGITS: Mapping[str, int] = MappingProxyType({"RUB": 2, "KZT": 2})


@dataclass(frozen=True, slots=True)
class Money:
    minor: int
    currency: str

    def __post_init__(self) -> None:
        # bool is an int subclass; True kopecks is always a bug upstream
        if isinstance(self.minor, bool) or not isinstance(self.minor, int):
            raise TypeError(f"Money.minor must be an int, got {type(self.minor).__name__}")
        if not _is_currency_code(self.currency):
            raise ValueError(f"Money.currency must be an ISO 4217 code, got {self.currency!r}")

    @classmethod
    def zero(cls, currency: str) -> Money:
        return cls(0, currency)

    def _same_currency(self, other: Money) -> Money:
        if not isinstance(other, Money):
            raise TypeError(f"expected Money, got {type(other).__name__}")
        if other.currency != self.currency:
            raise ValueError(f"currency mismatch: {self.currency} and {other.currency}")
        return other

    def __add__(self, other: Money) -> Money:
        return Money(self.minor + self._same_currency(other).minor, self.currency)

    def __sub__(self, other: Money) -> Money:
        return Money(self.minor - self._same_currency(other).minor, self.currency)

    def __neg__(self) -> Money:
        return Money(-self.minor, self.currency)

    def __mul__(self, factor: int) -> Money:
        if isinstance(factor, bool) or not isinstance(factor, int):
            return NotImplemented
        return Money(self.minor * factor, self.currency)

    __rmul__ = __mul__

    def __lt__(self, other: Money) -> bool:
        return self.minor < self._same_currency(other).minor

    def __le__(self, other: Money) -> bool:
        return self.minor <= self._same_currency(other).minor

    def __gt__(self, other: Money) -> bool:
        return self.minor > self._same_currency(other).minor

    def __ge__(self, other: Money) -> bool:
        return self.minor >= self._same_currency(other).minor

    @property
    def is_zero(self) -> bool:
        return self.minor == 0

    @property
    def is_negative(self) -> bool:
        return self.minor < 0

    @property
    def is_positive(self) -> bool:
        return self.minor > 0


def minor_unit_digits(currency: str) -> int:
    """How many decimal digits the currency's minor unit has (2 for kopecks, tiyn)."""
    try:
        return MINOR_UNIT_DIGITS[currency]
    except KeyError:
        raise ValueError(f"unsupported currency {currency!r}") from None


def _is_currency_code(code: object) -> bool:
    return (
        isinstance(code, str)
        and len(code) == CURRENCY_CODE_LENGTH
        and code.isascii()
        and code.isalpha()
        and code.isupper()
    )
