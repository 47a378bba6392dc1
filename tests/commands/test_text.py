"""Commands written back as text."""

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
    format_command,
)
from smsgw.language import Language


@pytest.mark.parametrize(
    ("command", "text"),
    [
        (Pay("1001", "A123BC77", 2), "1001*A123BC77*2"),
        (Extend(3), "X*3"),
        (Extend(3, "A123BC77"), "X*3*A123BC77"),
        (Stop(), "S"),
        (Stop("A123BC77"), "S*A123BC77"),
        (Status(), "I"),
        (Confirm(), "1"),
        (Decline(), "0"),
        (SetLanguage(Language.KK), "LANG*KK"),
        (Help(), "?"),
    ],
)
def test_format_command(command: Command, text: str) -> None:
    assert format_command(command) == text


def test_command_names_are_the_cli_words() -> None:
    names = [Pay.name, Extend.name, Stop.name, Status.name, Confirm.name, Decline.name]
    names += [SetLanguage.name, Help.name]
    assert names == ["pay", "extend", "stop", "status", "confirm", "decline", "language", "help"]
