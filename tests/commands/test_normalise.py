"""The clean-up before the grammar."""

from __future__ import annotations

import pytest

from smsgw.commands.normalise import normalise_text


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("1001*A1", "1001*A1"),
        ("1001＊A1", "1001*A1"),
        ("1001﹡A1", "1001*A1"),
        ("1001⁎A1", "1001*A1"),
        ("1001٭A1", "1001*A1"),
        ("1001＃A1", "1001#A1"),
        ("1001♯A1", "1001#A1"),
        ("X*3\r\n", "X*3"),
        ("\ufeffX*3", "X*3"),
        ("X*\u200b3", "X*3"),
        ("X*3\x00\x00\x00", "X*3"),
        ("“X*3”", "X*3"),
        ("'S'.", "S"),
        ("+1001*A1", "1001*A1"),
        ("?", "?"),
        ("  ", ""),
    ],
)
def test_normalise_text(raw: str, clean: str) -> None:
    assert normalise_text(raw) == clean


def test_inner_spaces_are_kept_for_the_grammar() -> None:
    assert normalise_text("1001 * A 1") == "1001 * A 1"
