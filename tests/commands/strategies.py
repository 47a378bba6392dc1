"""Hypothesis strategies for plates and commands."""

from __future__ import annotations

from hypothesis import strategies as st

from smsgw.commands import (
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
from smsgw.commands.plates import COUNTRIES, CYRILLIC_LOOKALIKES, LATIN_LOOKALIKES
from smsgw.language import Language

_TO_CYRILLIC = str.maketrans(LATIN_LOOKALIKES, CYRILLIC_LOOKALIKES)


@st.composite
def canonical_plates(draw: st.DrawFn, countries: tuple[str, ...] = ("ru", "kz")) -> str:
    country = COUNTRIES[draw(st.sampled_from(countries))]
    form = draw(st.sampled_from(country.formats))
    letters = st.sampled_from(country.letters)
    digits = st.sampled_from("0123456789")
    return "".join(draw(letters if symbol == "L" else digits) for symbol in form)


@st.composite
def typed_plates(draw: st.DrawFn, plate: str) -> str:
    """`plate` as a driver might type it: Cyrillic look-alikes, lower case, spaces, dashes."""
    typed = []
    for character in plate:
        if draw(st.booleans()):
            character = character.translate(_TO_CYRILLIC)
        if draw(st.booleans()):
            character = character.lower()
        typed.append(character + draw(st.sampled_from(["", "", "", " ", "-"])))
    return "".join(typed).strip(" -")


hours = st.integers(min_value=1, max_value=24)
zones = st.from_regex(r"[0-9]{1,6}", fullmatch=True)


def commands() -> st.SearchStrategy[Command]:
    plates = canonical_plates()
    optional_plates = st.none() | plates
    return st.one_of(
        st.builds(Pay, zone=zones, plate=plates, hours=hours),
        st.builds(Extend, hours=hours, plate=optional_plates),
        st.builds(Stop, plate=optional_plates),
        st.just(Status()),
        st.just(Confirm()),
        st.just(Decline()),
        st.builds(SetLanguage, st.sampled_from(list(Language))),
        st.just(Help()),
    )


@st.composite
def retyped(draw: st.DrawFn, text: str) -> str:
    """A command's canonical text as a phone might send it: case, script, separators."""
    separator = st.sampled_from(["*", "#", " * ", "＊", "∗"])
    fields = text.split("*")
    # keywords are typed in one script: LANG*RU, never a Cyrillic А inside LANG
    may_change_script = fields[0] != "LANG"
    out = []
    for field in fields:
        if draw(st.booleans()):
            field = field.lower()
        if may_change_script and draw(st.booleans()):
            field = field.translate(_TO_CYRILLIC)
        out.append(field)
    joined = out[0]
    for field in out[1:]:
        joined += draw(separator) + field
    return draw(st.sampled_from(["", " ", "\n"])) + joined + draw(st.sampled_from(["", "\r\n"]))
