"""Texts that are not commands: the typed reason, its reply key and a correct example."""

from __future__ import annotations

import pytest

from smsgw.commands import (
    MAX_COMMAND_CHARS,
    BadHoursError,
    BadZoneError,
    CommandTooLongError,
    EmptyCommandError,
    ExtendFormatError,
    ParseError,
    Pay,
    PayFormatError,
    PlateFormatError,
    PlateLetterError,
    SeparatorMissingError,
    StopFormatError,
    UnknownCommandError,
    UnknownLanguageError,
    parse_command,
)

ERRORS: list[tuple[str, ParseError]] = [
    ("", EmptyCommandError(example="1001*A123BC77*2")),
    (" \r\n\t", EmptyCommandError(example="1001*A123BC77*2")),
    ("\u200b\x00", EmptyCommandError(example="1001*A123BC77*2")),
    ("hello", UnknownCommandError(example="1001*A123BC77*2")),
    ("Привет, как оплатить?", UnknownCommandError(example="1001*A123BC77*2")),
    ("стоп", UnknownCommandError(example="S")),
    ("STOP", UnknownCommandError(example="S")),
    ("да", UnknownCommandError(example="1")),
    ("нет", UnknownCommandError(example="0")),
    ("продлить", UnknownCommandError(example="X*1")),
    ("I*2", UnknownCommandError(example="I")),
    # the right fields with the wrong separator: the example is their own command
    ("1001 A123BC77 2", SeparatorMissingError(example="1001*A123BC77*2")),
    ("1001,а123вс77,2", SeparatorMissingError(example="1001*A123BC77*2")),
    ("1001.A123BC77.2", SeparatorMissingError(example="1001*A123BC77*2")),
    ("1001 A 123 BC 77 2", SeparatorMissingError(example="1001*A123BC77*2")),
    ("1001 A123BC77", SeparatorMissingError(example="1001*A123BC77*1")),
    ("х 3 А000АА36", SeparatorMissingError(example="X*3*A000AA36")),
    ("с А000АА36", SeparatorMissingError(example="S*A000AA36")),
    # payments
    ("1001", PayFormatError(example="1001*A123BC77*2")),
    ("1001*", PayFormatError(example="1001*A123BC77*2")),
    ("1001**2", PayFormatError(example="1001*A123BC77*2")),
    ("1001*A123BC77*2*5", PayFormatError(example="1001*A123BC77*2")),
    ("1001*A123BC77*", PayFormatError(example="1001*A123BC77*2")),
    ("1OO1*A123BC77*2", BadZoneError(example="1001*A123BC77*2")),
    ("zone*a123bc77*3", BadZoneError(example="1001*A123BC77*3")),
    ("1001*A123BC77*0", BadHoursError(example="1001*A123BC77*2", max_hours=24)),
    ("1001*A123BC77*25", BadHoursError(example="1001*A123BC77*2", max_hours=24)),
    ("1001*A123BC77*1.5", BadHoursError(example="1001*A123BC77*2", max_hours=24)),
    ("1001*A123BC77*2ч", BadHoursError(example="1001*A123BC77*2", max_hours=24)),
    ("1001*A123BC77*два", BadHoursError(example="1001*A123BC77*2", max_hours=24)),
    ("1001*A123BЖ77*2", PlateLetterError(example="1001*A123BC77*2", letter="Ж")),
    ("1001*Қ123BC77*2", PlateLetterError(example="1001*A123BC77*2", letter="Қ")),
    ("1001*A123BC77!*2", PlateLetterError(example="1001*A123BC77*2", letter="!")),
    ("1001*D123BC77*2", PlateFormatError(example="1001*A123BC77*2", plate="D123BC77")),
    ("1001*A12BC77*3", PlateFormatError(example="1001*A123BC77*3", plate="A12BC77")),
    ("1001*ABCDEFGHIJKLMNOP", PlateFormatError(example="1001*A123BC77*1", plate="ABCDEFGHIJK…")),
    # extending
    ("X", ExtendFormatError(example="X*1")),
    ("X*", ExtendFormatError(example="X*1")),
    ("X*A123BC77", ExtendFormatError(example="X*1*A123BC77")),
    ("х*А000АА36*3", ExtendFormatError(example="X*3*A000AA36")),  # fields swapped
    ("X*2*", ExtendFormatError(example="X*2")),
    ("X*0", BadHoursError(example="X*1", max_hours=24)),
    ("X*25*A123BC77", BadHoursError(example="X*1*A123BC77", max_hours=24)),
    ("X*два", BadHoursError(example="X*1", max_hours=24)),
    ("X*2*Ж123", PlateLetterError(example="X*2*A123BC77", letter="Ж")),
    # stopping
    ("S*", StopFormatError(example="S")),
    ("S*A123BC77*2", StopFormatError(example="S*A123BC77")),
    ("с*Ж000АА36", PlateLetterError(example="S*A123BC77", letter="Ж")),
    # language
    ("LANG*FR", UnknownLanguageError(example="LANG*EN")),
    ("LANG", UnknownLanguageError(example="LANG*EN")),
]


@pytest.mark.parametrize(("text", "expected"), ERRORS)
def test_bad_text_gets_its_reason_and_example(text: str, expected: ParseError) -> None:
    assert parse_command(text) == expected


@pytest.mark.parametrize(("text", "expected"), ERRORS)
def test_every_example_is_a_valid_command(text: str, expected: ParseError) -> None:
    example = parse_command(expected.example)
    assert not isinstance(example, ParseError), (text, expected.example, example)


def test_kazakh_only_deployment_shows_a_kazakh_plate_in_examples() -> None:
    assert parse_command("1001", plate_formats=["kz"]) == PayFormatError(example="1001*123ABC02*2")


def test_example_hours_never_exceed_the_maximum() -> None:
    error = parse_command("1001", max_hours=1)
    assert error == PayFormatError(example="1001*A123BC77*1")


def test_too_long_text_is_refused_before_parsing() -> None:
    long_text = "1001*A123BC77*2" + " " * 10_000_000 + "x"
    assert parse_command(long_text) == CommandTooLongError(
        example="1001*A123BC77*2", max_chars=MAX_COMMAND_CHARS
    )


def test_text_just_over_the_command_limit_is_too_long() -> None:
    text = "1001*A123BC77*" + "1" * MAX_COMMAND_CHARS
    assert isinstance(parse_command(text), CommandTooLongError)


def test_padding_does_not_count_towards_the_command_limit() -> None:
    assert parse_command("1001*A123BC77*2" + " " * 100) == Pay("1001", "A123BC77", 2)


def test_parse_error_carries_reply_key_and_facts() -> None:
    error = parse_command("1001*A123BC77*99")
    assert isinstance(error, BadHoursError)
    assert error.reply_key == "parse.bad_hours"
    assert error.facts == {"example": "1001*A123BC77*2", "max_hours": 24}
    assert "parse.bad_hours" in str(error)


def test_parse_error_can_be_raised() -> None:
    error = parse_command("hello")
    assert isinstance(error, ParseError)
    with pytest.raises(UnknownCommandError):
        raise error
