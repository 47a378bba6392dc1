"""Canonical plates and the national formats of docs/commands.md."""

from __future__ import annotations

import pytest

from smsgw.commands import PlateFormatError, PlateLetterError, fold_plate, plate_rules
from smsgw.commands.plates import COUNTRIES, CYRILLIC_LOOKALIKES, LATIN_LOOKALIKES

RU = plate_rules(["ru"])
KZ = plate_rules(["kz"])
BOTH = plate_rules(["ru", "kz"])


@pytest.mark.parametrize(
    ("raw", "canonical"),
    [
        ("а123вс77", "A123BC77"),
        ("А123ВС77", "A123BC77"),
        ("a123bc77", "A123BC77"),
        ("A 123 BC 77", "A123BC77"),
        ("A-123-BC-77", "A123BC77"),
        ("А–123–ВС–77", "A123BC77"),  # en dashes
        ("Ａ１２３ＢＣ７７", "A123BC77"),  # full width
        ("екмнорстух", "EKMHOPCTYX"),
    ],
)
def test_fold_plate(raw: str, canonical: str) -> None:
    assert fold_plate(raw) == canonical


def test_every_cyrillic_lookalike_folds_to_its_latin_letter() -> None:
    for cyrillic, latin in zip(CYRILLIC_LOOKALIKES, LATIN_LOOKALIKES, strict=True):
        assert fold_plate(cyrillic) == latin
        assert fold_plate(cyrillic.lower()) == latin


@pytest.mark.parametrize(
    "plate",
    ["A123BC77", "A123BC777", "AB12345", "AB123456", "1234AB77", "X999YT199", "M001OP50"],
)
def test_russian_formats(plate: str) -> None:
    assert RU.check(plate) == plate
    assert RU.is_valid(plate)


@pytest.mark.parametrize("plate", ["123ABC02", "123AB02", "A123BCD", "A123BC", "777QWZ01"])
def test_kazakh_formats(plate: str) -> None:
    assert KZ.check(plate) == plate


@pytest.mark.parametrize(
    "plate",
    [
        "D123BC77",  # D is not one of the 12 letters Russian plates use
        "A123BQ77",
        "A12BC77",
        "A1234BC77",
        "A123BC7",
        "123ABC02",  # Kazakh
        "AB1234",
        "",
    ],
)
def test_not_russian(plate: str) -> None:
    assert isinstance(RU.check(plate), PlateFormatError)
    assert not RU.is_valid(plate)


@pytest.mark.parametrize("plate", ["A123BC77", "AB12345", "1234AB77", "12ABC02", "A12BC"])
def test_not_kazakh(plate: str) -> None:
    assert isinstance(KZ.check(plate), PlateFormatError)


def test_both_countries_accept_either() -> None:
    assert BOTH.check("A123BC77") == "A123BC77"
    assert BOTH.check("123ABC02") == "123ABC02"


@pytest.mark.parametrize(("raw", "letter"), [("Ж123BC77", "Ж"), ("A123ӘC77", "Ә"), ("A1€3", "€")])
def test_a_letter_without_latin_lookalike_is_named(raw: str, letter: str) -> None:
    refusal = BOTH.check(raw)
    assert isinstance(refusal, PlateLetterError)
    assert refusal.letter == letter
    assert refusal.reply_key == "parse.plate_letter"


def test_unprintable_characters_are_not_quoted_back() -> None:
    refusal = BOTH.check("A1\udcff3")
    assert isinstance(refusal, PlateLetterError)
    assert refusal.letter == "?"


def test_canonical_raises_the_refusal() -> None:
    assert RU.canonical("а123вс77") == "A123BC77"
    with pytest.raises(PlateFormatError):
        RU.canonical("123ABC02")


def test_example_plate_is_valid_for_its_rules() -> None:
    for code in COUNTRIES:
        rules = plate_rules([code])
        assert rules.check(rules.example) == rules.example


def test_rules_are_built_once_per_set_of_countries() -> None:
    assert plate_rules(["ru", "kz"]) is plate_rules(("RU", " kz "))


def test_unknown_country_is_a_value_error() -> None:
    with pytest.raises(ValueError, match="'de'"):
        plate_rules(["ru", "de"])
    with pytest.raises(ValueError, match="at least one"):
        plate_rules([])
