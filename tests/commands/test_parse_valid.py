"""Every form of docs/commands.md, in Latin and Cyrillic, as old phones send them."""

from __future__ import annotations

import pytest

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
    parse_command,
)
from smsgw.language import Language

VALID: list[tuple[str, Command]] = [
    # pay: ZONE*PLATE*HOURS and ZONE*PLATE (one hour)
    ("1001*A123BC77*2", Pay("1001", "A123BC77", 2)),
    ("1001*A123BC77", Pay("1001", "A123BC77", 1)),
    ("1001*a123bc77*24", Pay("1001", "A123BC77", 24)),
    ("1001*а123вс77*2", Pay("1001", "A123BC77", 2)),  # Cyrillic plate
    ("3601*А000АА36*2", Pay("3601", "A000AA36", 2)),  # Voronezh plate
    ("1001*А111ААА*1", Pay("1001", "A111AAA", 1)),  # Almaty, old KZ format
    ("1001*123ААА02*1", Pay("1001", "123AAA02", 1)),  # Almaty, new KZ format
    ("1001*A123BC777*3", Pay("1001", "A123BC777", 3)),  # 3-digit region
    ("1001*AB12345", Pay("1001", "AB12345", 1)),  # taxi
    ("1001*AB123456", Pay("1001", "AB123456", 1)),  # trailer
    ("1001*1234AB77", Pay("1001", "1234AB77", 1)),  # motorcycle
    ("1001*123AB02*2", Pay("1001", "123AB02", 2)),
    ("1001*A123BC", Pay("1001", "A123BC", 1)),  # old KZ L999LL
    ("1001#A123BC77#2", Pay("1001", "A123BC77", 2)),
    ("1001 * A123BC77 * 2", Pay("1001", "A123BC77", 2)),
    ("1001*A 123 BC 77*2", Pay("1001", "A123BC77", 2)),  # spaces inside the plate
    ("1001*A-123-BC-77*2", Pay("1001", "A123BC77", 2)),
    ("1001*A123BC77*02", Pay("1001", "A123BC77", 2)),
    ("1*A123BC77*2", Pay("1", "A123BC77", 2)),  # zone 1 is not confirm
    ("0*A123BC77", Pay("0", "A123BC77", 1)),
    # what phones add around a command
    ("1001*A123BC77*2\n", Pay("1001", "A123BC77", 2)),
    ("  1001*A123BC77*2  \r\n", Pay("1001", "A123BC77", 2)),
    ("1001＊A123BC77＊2", Pay("1001", "A123BC77", 2)),  # full-width asterisk
    ("1001∗A123BC77∗2", Pay("1001", "A123BC77", 2)),  # asterisk operator
    ("1001✱A123BC77✱2", Pay("1001", "A123BC77", 2)),
    ("１００１*A123BC77*２", Pay("1001", "A123BC77", 2)),  # full-width digits
    ("1001\u00a0*\u00a0A123BC77*2", Pay("1001", "A123BC77", 2)),  # no-break spaces
    ("\ufeff1001*A123BC77*2\u200b", Pay("1001", "A123BC77", 2)),  # BOM, zero-width
    ("1001*A123BC77*2\x00\x00", Pay("1001", "A123BC77", 2)),  # NUL padding
    ("«1001*A123BC77*2»", Pay("1001", "A123BC77", 2)),
    ('"1001*A123BC77*2".', Pay("1001", "A123BC77", 2)),
    ("+1001*A123BC77*2", Pay("1001", "A123BC77", 2)),
    # extend: X*HOURS, X*HOURS*PLATE, XHOURS
    ("X*2", Extend(2)),
    ("x*2", Extend(2)),
    ("х*3", Extend(3)),  # Cyrillic, as in Voronezh
    ("Х*2", Extend(2)),  # Cyrillic capital, as in Almaty
    ("х*3*А000АА36", Extend(3, "A000AA36")),  # Voronezh plate
    ("X*3*a000aa36", Extend(3, "A000AA36")),
    ("X3", Extend(3)),
    ("x3", Extend(3)),
    ("Х3", Extend(3)),
    ("х12", Extend(12)),
    ("X 3", Extend(3)),
    ("X3*A123BC77", Extend(3, "A123BC77")),
    ("X#2#A123BC77", Extend(2, "A123BC77")),
    # stop: S, S*PLATE, C, C*PLATE
    ("S", Stop()),
    ("s", Stop()),
    ("C", Stop()),
    ("c", Stop()),
    ("с", Stop()),  # Cyrillic, as in Voronezh
    ("С", Stop()),
    ("с*А000АА36", Stop("A000AA36")),  # Voronezh plate
    ("S*A123BC77", Stop("A123BC77")),
    ("C*a123bc77", Stop("A123BC77")),
    ("S.", Stop()),
    # status, confirm, decline
    ("I", Status()),
    ("i", Status()),
    ("Й", Status()),
    ("й", Status()),
    ("І", Status()),  # Kazakh І
    ("1", Confirm()),
    ("1\n", Confirm()),
    ("0", Decline()),
    (" 0 ", Decline()),
    # language
    ("LANG*RU", SetLanguage(Language.RU)),
    ("lang*kk", SetLanguage(Language.KK)),
    ("Lang*En", SetLanguage(Language.EN)),
    ("LANG#EN", SetLanguage(Language.EN)),
    ("LANG EN", SetLanguage(Language.EN)),
    ("LANG*KZ", SetLanguage(Language.KK)),
    ("ЯЗЫК*РУ", SetLanguage(Language.RU)),
    ("тіл*қаз", SetLanguage(Language.KK)),
    ("LANG*ENG", SetLanguage(Language.EN)),
    # help
    ("?", Help()),
    ("HELP", Help()),
    ("help", Help()),
    ("ПОМОЩЬ", Help()),
    ("помощь", Help()),
    ("КӨМЕК", Help()),
    ("көмек", Help()),
]


@pytest.mark.parametrize(("text", "expected"), VALID)
def test_valid_text_parses_to_its_command(text: str, expected: Command) -> None:
    assert parse_command(text) == expected


def test_plate_formats_can_be_limited_to_one_country() -> None:
    assert parse_command("1001*123ABC02", plate_formats=["kz"]) == Pay("1001", "123ABC02", 1)
    assert parse_command("1001*A123BC77", plate_formats="ru") == Pay("1001", "A123BC77", 1)
    assert not isinstance(parse_command("1001*123ABC02", plate_formats=["ru"]), Pay)
    assert not isinstance(parse_command("1001*A123BC77", plate_formats=["kz"]), Pay)


def test_max_hours_is_configurable() -> None:
    assert parse_command("1001*A123BC77*48", max_hours=48) == Pay("1001", "A123BC77", 48)
    assert not isinstance(parse_command("1001*A123BC77*13", max_hours=12), Pay)


def test_invalid_settings_raise_value_error() -> None:
    with pytest.raises(ValueError, match="max_hours"):
        parse_command("1", max_hours=0)
    with pytest.raises(ValueError, match="fr"):
        parse_command("1", plate_formats=["fr"])
