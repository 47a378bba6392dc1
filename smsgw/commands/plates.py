"""Vehicle plates: one canonical spelling, checked against the deployment's national formats.

A driver may type a plate in either script and any case, with spaces or dashes:
`а 123 вс-77` is `A123BC77`. Canonical plates are upper case, with each Cyrillic letter
that has a Latin look-alike folded to it, and nothing but Latin letters and digits. A
Cyrillic letter with no Latin look-alike (Ж, Қ, ...) cannot be on a plate the inspectors'
cameras read, so it is refused naming the letter rather than folded to something else.

Formats are written with `L` for a letter and `9` for a digit. Which countries' formats a
deployment accepts is configuration (`plate_formats(["ru", "kz"])`).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache

from smsgw.commands.errors import PlateFormatError, PlateLetterError

CYRILLIC_LOOKALIKES = "АВЕКМНОРСТУХ"
LATIN_LOOKALIKES = "ABEKMHOPCTYX"
# what a driver may put between the parts of a plate: spaces and the dashes phones offer
PLATE_FILLERS = " \t-‐‑‒–—"

_FOLD_TABLE = str.maketrans(CYRILLIC_LOOKALIKES, LATIN_LOOKALIKES, PLATE_FILLERS)
_ASCII_UPPER = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZ")
_DIGITS = frozenset("0123456789")


@dataclass(frozen=True, slots=True)
class Country:
    code: str
    letters: str  # the letters its plates may use
    formats: tuple[str, ...]  # L = letter, 9 = digit
    example: str  # a plausible plate, for replies that show a correct command


COUNTRIES: Mapping[str, Country] = {
    "ru": Country(
        code="ru",
        letters=LATIN_LOOKALIKES,  # Russian plates use only the 12 look-alike letters
        formats=("L999LL99", "L999LL999", "LL99999", "LL999999", "9999LL99"),
        example="A123BC77",
    ),
    "kz": Country(
        code="kz",
        letters="ABCDEFGHIJKLMNOPQRSTUVWXYZ",
        formats=("999LLL99", "999LL99", "L999LLL", "L999LL"),
        example="123ABC02",
    ),
}
DEFAULT_COUNTRIES: tuple[str, ...] = ("ru", "kz")
# a refused plate is quoted back in the reply; longer text is clearly not a plate
MAX_QUOTED_PLATE = 12


def fold_plate(raw: str) -> str:
    """Upper-case, fold Cyrillic look-alikes to Latin, drop spaces and dashes.

    Idempotent. Characters outside the plate alphabet are kept, for `PlateRules.check`
    to name them.
    """
    if raw.isascii():  # the usual case: NFKC changes nothing, upper() is final
        return raw.upper().translate(_FOLD_TABLE)
    folded = unicodedata.normalize("NFKC", raw).upper().translate(_FOLD_TABLE)
    # case mapping and NFKC can each undo the other's work on exotic input (a
    # ligature, a combining mark); a few rounds reach a fixed point, so folding twice
    # changes nothing. An ASCII result is already one.
    for _ in range(4):
        if folded.isascii():
            break
        step = unicodedata.normalize("NFKC", folded).upper().translate(_FOLD_TABLE)
        if step == folded:
            break
        folded = step
    return folded


# compared and hashed by identity: `plate_rules` returns one object per set of countries
@dataclass(frozen=True, slots=True, eq=False)
class PlateRules:
    """The national plate formats one deployment accepts."""

    countries: tuple[Country, ...]
    pattern: re.Pattern[str]

    @property
    def example(self) -> str:
        return self.countries[0].example

    def check(self, raw: str) -> str | PlateLetterError | PlateFormatError:
        """The canonical plate, or the typed reason it is refused. Never raises."""
        plate = fold_plate(raw)
        if self.pattern.fullmatch(plate):
            return plate
        stray = _first_stray_character(plate)
        if stray is not None:
            return PlateLetterError(letter=_shown(stray), example=self.example)
        return PlateFormatError(plate=_shown(plate), example=self.example)

    def canonical(self, raw: str) -> str:
        """The canonical plate; raises PlateLetterError or PlateFormatError."""
        checked = self.check(raw)
        if isinstance(checked, str):
            return checked
        raise checked

    def is_valid(self, plate: str) -> bool:
        return self.pattern.fullmatch(fold_plate(plate)) is not None


def plate_rules(countries: Iterable[str] = DEFAULT_COUNTRIES) -> PlateRules:
    """Rules for the given country codes, e.g. `["ru"]`; ValueError on an unknown code."""
    return _plate_rules(tuple(code.strip().lower() for code in countries))


@cache
def _plate_rules(codes: tuple[str, ...]) -> PlateRules:
    if not codes:
        raise ValueError("at least one plate country is needed, e.g. ['ru']")
    unknown = [code for code in codes if code not in COUNTRIES]
    if unknown:
        known = ", ".join(sorted(COUNTRIES))
        raise ValueError(f"unknown plate country {unknown[0]!r}; known: {known}")
    countries = tuple(COUNTRIES[code] for code in dict.fromkeys(codes))
    alternatives = [
        _format_regex(form, country.letters) for country in countries for form in country.formats
    ]
    return PlateRules(countries=countries, pattern=re.compile("|".join(alternatives)))


def _format_regex(form: str, letters: str) -> str:
    letter_class = f"[{re.escape(letters)}]"
    parts: list[str] = []
    for symbol in form:
        if symbol == "L":
            parts.append(letter_class)
        elif symbol == "9":
            parts.append("[0-9]")
        else:
            raise ValueError(f"plate format {form!r}: use L for a letter and 9 for a digit")
    return "(?:" + "".join(parts) + ")"


def _first_stray_character(plate: str) -> str | None:
    """The first character no plate may hold (a Cyrillic Ж, a symbol), or None."""
    for character in plate:
        if character not in _ASCII_UPPER and character not in _DIGITS:
            return character
    return None


def _shown(text: str) -> str:
    """`text` made safe to quote back in an SMS: printable and short."""
    if not text.isprintable():
        return "?"
    if len(text) > MAX_QUOTED_PLATE:
        return text[: MAX_QUOTED_PLATE - 1] + "…"
    return text
