"""The lark LALR parser for grammar/commands.lark, built once per process.

The parser runs with an inline transformer, so no parse tree is built: each grammar
rule turns straight into a `Draft`, a command whose values are still the driver's
raw text. Checking those values (plate formats, hour limits) depends on the
deployment, so it happens afterwards in smsgw.commands.finish.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache, lru_cache
from pathlib import Path
from typing import cast

from lark import Lark, Token, Transformer
from lark.exceptions import LarkError

from smsgw.language import Language

GRAMMAR_PATH = Path(__file__).resolve().parents[2] / "grammar" / "commands.lark"

_LANGUAGE_TOKENS = {"LANG_RU": Language.RU, "LANG_KK": Language.KK, "LANG_EN": Language.EN}


@dataclass(frozen=True, slots=True)
class Draft:
    """A command as the grammar saw it: the rule's name and its raw fields."""

    kind: str
    zone: str | None = None
    plate: str | None = None
    hours: str | None = None
    language: Language | None = None


class _DraftBuilder(Transformer[Token, Draft]):
    """One method per grammar rule; lark calls them while parsing."""

    def start(self, children: list[Draft]) -> Draft:
        return children[0]

    def zone(self, children: list[Token]) -> str:
        return str(children[0])

    def pay(self, children: list[str]) -> Draft:
        zone, plate, *hours = children
        return Draft("pay", zone=str(zone), plate=str(plate), hours=_first(hours))

    def extend(self, children: list[Token]) -> Draft:
        hours, *plate = children
        return Draft("extend", hours=str(hours), plate=_first(plate))

    def stop(self, children: list[Token]) -> Draft:
        return Draft("stop", plate=_first(children))

    def status(self, children: list[Token]) -> Draft:
        return Draft("status")

    def confirm(self, children: list[Token]) -> Draft:
        return Draft("confirm")

    def decline(self, children: list[Token]) -> Draft:
        return Draft("decline")

    def language(self, children: list[Token]) -> Draft:
        return Draft("language", language=_LANGUAGE_TOKENS[children[0].type])

    def help(self, children: list[Token]) -> Draft:
        return Draft("help")


def _first(tokens: list[Token] | list[str]) -> str | None:
    return str(tokens[0]) if tokens else None


def grammar_text() -> str:
    return GRAMMAR_PATH.read_text(encoding="utf-8")


@cache
def draft_parser() -> Lark:
    """The one parser of the process (building it takes tens of milliseconds)."""
    return Lark(grammar_text(), parser="lalr", transformer=_DraftBuilder())


# Drivers send the same few texts again and again (`I`, `S`, `1`, their own plate's
# payment): the drafts of the most recent ones are kept, which saves the parser's run,
# the largest single cost of processing a status text (bench/README.md). Bounded, so
# memory stays flat; a Draft is immutable, so sharing one is safe.
PARSE_CACHE_SIZE = 4096


@lru_cache(maxsize=PARSE_CACHE_SIZE)
def parse_draft(text: str) -> Draft | None:
    """The draft command in `text`, or None when the grammar rejects it."""
    try:
        # every rule's callback returns a Draft, so the "tree" lark returns is one
        return cast(Draft, draft_parser().parse(text))
    except LarkError:
        return None
