"""Rules that hold for every input."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from smsgw.commands import (
    Command,
    ParseError,
    fold_plate,
    format_command,
    parse_command,
    plate_rules,
)
from smsgw.commands.normalise import normalise_text
from smsgw.language import Language
from smsgw.replies import render

from .strategies import canonical_plates, commands, retyped, typed_plates

EXAMPLES = settings(max_examples=200, deadline=None)

any_characters = st.text(st.characters(exclude_categories=()), max_size=80)
command_like = st.text(
    alphabet="0123456789*# #XxХхSsCcСсIiЙйІ?LANGRUKKEN АВЕКМНОРСТУХЖҚабв.,-+\n＊«»\x00",
    max_size=40,
)


def _decoded(data: bytes, codec: str) -> str:
    """Bytes as an SMSC or HTTP front end might hand them over, lone surrogates and all."""
    if codec == "utf-16-be":
        return (data + b"\0" * (len(data) % 2)).decode(codec, errors="surrogatepass")
    return data.decode(codec, errors="surrogateescape")


decoded_bytes = st.builds(
    _decoded, st.binary(max_size=120), st.sampled_from(["utf-8", "utf-16-be", "latin-1", "cp1251"])
)


def _check_outcome(text: str) -> None:
    result = parse_command(text)
    assert isinstance(result, Command | ParseError)
    if isinstance(result, ParseError):
        # the reply to it renders in every language, and its example is a command
        for language in Language:
            assert render(result.reply_key, language, **result.facts)
        assert not isinstance(parse_command(result.example), ParseError)


@EXAMPLES
@given(any_characters)
def test_parse_never_raises_on_any_text(text: str) -> None:
    _check_outcome(text)


@EXAMPLES
@given(command_like)
def test_parse_never_raises_on_near_commands(text: str) -> None:
    _check_outcome(text)


@EXAMPLES
@given(decoded_bytes)
def test_parse_never_raises_on_decoded_junk(text: str) -> None:
    _check_outcome(text)


@EXAMPLES
@given(any_characters | command_like)
def test_normalising_is_idempotent(text: str) -> None:
    once = normalise_text(text)
    assert normalise_text(once) == once


@EXAMPLES
@given(any_characters | command_like)
def test_folding_plates_is_idempotent(text: str) -> None:
    once = fold_plate(text)
    assert fold_plate(once) == once


@EXAMPLES
@given(canonical_plates().flatmap(lambda plate: st.tuples(st.just(plate), typed_plates(plate))))
def test_typed_plates_fold_to_their_canonical_form(pair: tuple[str, str]) -> None:
    plate, typed = pair
    rules = plate_rules()
    assert rules.check(typed) == plate
    assert rules.check(plate) == plate


@EXAMPLES
@given(commands())
def test_commands_round_trip_through_their_text(command: Command) -> None:
    assert parse_command(format_command(command)) == command


@EXAMPLES
@given(
    commands().flatmap(
        lambda command: st.tuples(st.just(command), retyped(format_command(command)))
    )
)
def test_commands_survive_case_script_and_separator_changes(pair: tuple[Command, str]) -> None:
    command, text = pair
    assert parse_command(text) == command
