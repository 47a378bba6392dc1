"""What the bench phones text (the command mix, plates spelled as drivers type them,
padding that keeps a repeat from looking like a redelivery) and how the gateway's
replies are recognised (by its own reply templates, so by key in any language)."""

from __future__ import annotations

import itertools
import random
import re
import string
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Final

from smsgw.commands.errors import PARSE_REPLY_KEYS
from smsgw.language import Language
from smsgw.replies.catalogue import SHARED_REPLY_FACTS
from smsgw.replies.render import template_texts

COMMANDS: Final = ("pay", "extend", "stop", "status", "bad")
DEFAULT_MIX: Final = "pay=30,extend=10,stop=15,status=30,bad=15"


# notices sent before the answer proper: the payment waits for the subscriber's "1"
INTERMEDIATE_KEYS: Final = frozenset({"pay.charge_requested", "pay.confirm_request"})
# texts the gateway sends on its own, answering no text
UNSOLICITED_KEYS: Final = frozenset({"session.reminder", "session.ended"})
STARTED_KEYS: Final = frozenset({"pay.started", "pay.started_min_charge"})
EXTENDED_KEYS: Final = frozenset({"extend.done", "extend.done_min_charge"})
STOPPED_KEY: Final = "stop.done"
UNRECOGNISED: Final = "unrecognised"

# Letters a Russian plate may hold, with the Cyrillic letter each one looks like.
PLATE_LETTERS: Final = "ABEKMHOPCTYX"
CYRILLIC_OF: Final = dict(zip(PLATE_LETTERS, "АВЕКМНОРСТУХ", strict=True))
PLATE_REGIONS: Final = ("77", "97", "99", "177", "197", "777", "36", "136", "50", "750")


class MixError(ValueError):
    """`--mix` cannot be read; the message says which part and why."""


# --- the mix of commands -------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Mix:
    """Relative weights of the commands the phones send."""

    weights: tuple[tuple[str, float], ...]

    @classmethod
    def parse(cls, text: str) -> Mix:
        """`pay=30,status=50,bad=20`: commands not named get weight 0."""
        weights: dict[str, float] = {}
        for part in filter(None, (piece.strip() for piece in text.split(","))):
            name, sep, value = part.partition("=")
            name = name.strip().lower()
            if not sep or name not in COMMANDS:
                raise MixError(f"{part!r}: expected COMMAND=WEIGHT, COMMAND one of {COMMANDS}")
            if name in weights:
                raise MixError(f"{name}: named twice")
            try:
                weight = float(value)
            except ValueError:
                raise MixError(f"{name}: weight {value.strip()!r} is not a number") from None
            if not weight >= 0 or weight == float("inf"):
                raise MixError(f"{name}: weight must be a finite number >= 0")
            weights[name] = weight
        if sum(weights.values()) <= 0:
            raise MixError("at least one command needs a weight above 0")
        return cls(tuple((name, weights.get(name, 0.0)) for name in COMMANDS))

    def as_dict(self) -> dict[str, float]:
        total = sum(weight for _, weight in self.weights)
        return {name: round(weight / total, 4) for name, weight in self.weights if weight}

    def choose(self, allowed: frozenset[str], rng: random.Random) -> str | None:
        """A command drawn by weight among `allowed`; None when none of them has weight."""
        names = [name for name, weight in self.weights if weight > 0 and name in allowed]
        if not names:
            return None
        weights = [weight for name, weight in self.weights if weight > 0 and name in allowed]
        return rng.choices(names, weights)[0]


# --- recognising replies -------------------------------------------------------------------


class ReplyClassifier:
    """The reply key of a text, by the gateway's templates in one language."""

    def __init__(self, language: Language) -> None:
        keys = sorted(set(SHARED_REPLY_FACTS) | PARSE_REPLY_KEYS)
        alternatives: list[tuple[int, str, str]] = []
        for key in keys:
            for text in template_texts(key, language):
                pattern, literal = _template_pattern(text)
                alternatives.append((literal, key, pattern))
        # the most specific template first: `fullmatch` takes the first that fits
        alternatives.sort(key=lambda item: -item[0])
        self._keys = [key for _, key, _ in alternatives]
        joined = "|".join(f"(?P<k{i}>{pattern})" for i, (_, _, pattern) in enumerate(alternatives))
        self._pattern = re.compile(joined, re.DOTALL)

    def key_of(self, text: str) -> str:
        match = self._pattern.fullmatch(text)
        if match is None or match.lastgroup is None:
            return UNRECOGNISED
        return self._keys[int(match.lastgroup[1:])]


def _template_pattern(text: str) -> tuple[str, int]:
    """A template as a regular expression (each fact: any text), and its literal length."""
    parts: list[str] = []
    literal = 0
    for before, name, _, _ in string.Formatter().parse(text):
        parts.append(re.escape(before))
        literal += len(before)
        if name is not None:
            parts.append(".*?")
    return "".join(parts), literal


# --- what the phones text ------------------------------------------------------------------


class PlateMaker:
    """Fresh Russian plates, never the same twice (a plate has one session at a time)."""

    def __init__(self, rng: random.Random, *, first: int = 0) -> None:
        self._rng = rng
        self._numbers = itertools.count(first)

    def next(self) -> str:
        n = next(self._numbers)
        letters = len(PLATE_LETTERS)
        first = PLATE_LETTERS[n % letters]
        digits = (n // letters) % 999 + 1
        rest = n // (letters * 999)
        pair = PLATE_LETTERS[rest % letters] + PLATE_LETTERS[(rest // letters) % letters]
        region = PLATE_REGIONS[(rest // letters**2) % len(PLATE_REGIONS)]
        if rest // (letters**2 * len(PLATE_REGIONS)):
            raise RuntimeError("the plate numbers ran out")
        return f"{first}{digits:03d}{pair}{region}"

    def spelled(self, plate: str) -> str:
        """As a driver types it: Latin or Cyrillic, upper or lower case."""
        if self._rng.random() < 0.3:
            plate = "".join(CYRILLIC_OF.get(char, char) for char in plate)
        return plate.lower() if self._rng.random() < 0.2 else plate


class TextMaker:
    """The texts of each command, spelled the many ways drivers type them."""

    def __init__(self, zone: str, max_hours: int, rng: random.Random, plates: PlateMaker) -> None:
        self.zone = zone
        self.max_hours = max_hours
        self._rng = rng
        self._plates = plates
        self._bad_count = 0

    def pay(self, plate: str, hours: int) -> str:
        spelled = self._plates.spelled(plate)
        separator = "#" if self._rng.random() < 0.1 else "*"
        if hours == 1 and self._rng.random() < 0.3:
            return f"{self.zone}{separator}{spelled}"
        return f"{self.zone}{separator}{spelled}{separator}{hours}"

    def extend(self, plate: str, hours: int) -> str:
        letter = self._rng.choice(("X", "x", "Х", "х"))
        return f"{letter}*{hours}*{self._plates.spelled(plate)}"

    def stop(self, plate: str) -> str:
        letter = self._rng.choice(("S", "s", "С", "с", "C", "c"))
        return f"{letter}*{self._plates.spelled(plate)}"

    def status(self) -> str:
        return self._rng.choice(("I", "i", "Й", "й"))

    def bad(self) -> str:
        """A mistake drivers make; each kind gets its own reply."""
        self._bad_count += 1
        n = self._bad_count
        plate = self._plates.next()
        kinds = (
            f"{self.zone}*A{n % 100:02d}*2",  # a plate too short
            f"{self.zone}*{plate}*{self.max_hours + 1 + n % 50}",  # too many hours
            f"{self.zone} {plate} 2",  # no separators
            f"{9000 + n % 999}*{plate}*1",  # no such zone
            f"{self.zone}*Z{n % 1000:03d}ZZ77*1",  # letters no plate has
            f"привет {n}",  # not a command at all
            f"LANG*F{PLATE_LETTERS[n % 12]}",  # no such language
        )
        return kinds[n % len(kinds)]


def padded_variants(text: str) -> Iterator[str]:
    """The text, then with ever more spaces around it."""
    total = 0
    while True:
        for left in range(total + 1):
            yield " " * left + text + " " * (total - left)
        total += 1
