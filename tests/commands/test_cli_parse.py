"""`smsgw parse TEXT`: one JSON object, exit status 1 for a text that is not a command."""

from __future__ import annotations

import argparse
import json

import pytest

from smsgw import cli_parse


def _output(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str]:
    parser = argparse.ArgumentParser(prog="smsgw")
    cli_parse.register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(["parse", *argv])
    status: int = args.handler(args)
    output = capsys.readouterr().out
    assert output.count("\n") == 1
    return status, output


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, dict[str, object]]:
    status, output = _output(capsys, *argv)
    document: dict[str, object] = json.loads(output)
    return status, document


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1001*а123вс77*2", {"command": "pay", "zone": "1001", "plate": "A123BC77", "hours": 2}),
        ("1001*A123BC77", {"command": "pay", "zone": "1001", "plate": "A123BC77", "hours": 1}),
        ("х3", {"command": "extend", "hours": 3}),
        ("X*2*A123BC77", {"command": "extend", "hours": 2, "plate": "A123BC77"}),
        ("с", {"command": "stop"}),
        ("S*A123BC77", {"command": "stop", "plate": "A123BC77"}),
        ("Й", {"command": "status"}),
        ("1", {"command": "confirm"}),
        ("0", {"command": "decline"}),
        ("LANG*KK", {"command": "language", "language": "kk"}),
        ("?", {"command": "help"}),
    ],
)
def test_commands_print_their_fields(
    capsys: pytest.CaptureFixture[str], text: str, expected: dict[str, object]
) -> None:
    assert _run(capsys, text) == (0, expected)


def test_bad_text_prints_key_and_reply_and_exits_1(capsys: pytest.CaptureFixture[str]) -> None:
    status, document = _run(capsys, "1001*A123BC77*99", "--lang", "en")
    assert status == 1
    assert document == {
        "error": "parse.bad_hours",
        "reply": "Hours: a whole number from 1 to 24. Example: 1001*A123BC77*2",
    }


def test_reply_is_printed_unescaped(capsys: pytest.CaptureFixture[str]) -> None:
    assert "Команда танылмады" in _output(capsys, "стоп", "--lang", "kk")[1]


def test_plates_option_limits_the_formats(capsys: pytest.CaptureFixture[str]) -> None:
    assert _run(capsys, "1001*123ABC02", "--plates", "kz")[0] == 0
    status, document = _run(capsys, "1001*123ABC02", "--plates", "ru")
    assert (status, document["error"]) == (1, "parse.bad_plate")


def test_unknown_plate_country_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        _run(capsys, "1", "--plates", "ru,xx")
    assert exit_info.value.code == 2
    assert "xx" in capsys.readouterr().err


def test_undecodable_argv_bytes_do_not_crash(capsys: pytest.CaptureFixture[str]) -> None:
    # the shell hands Python undecodable bytes as lone surrogates
    status, document = _run(capsys, "\udcff\udcfe")
    assert (status, document["error"]) == (1, "parse.unknown")
