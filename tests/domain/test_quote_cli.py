from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from smsgw import cli_quote
from smsgw.cli import main

REPO_CONFIG = Path(__file__).resolve().parents[2] / "config.toml"

ZONES_TOML = """
[[zones]]
number = "1001"
name = "Tverskaya"
time_zone = "Europe/Moscow"
currency = "RUB"
price_per_hour = "60.00"
paid = [{ days = "Mon-Sun", from = "08:00", to = "20:00" }]

[[zones]]
number = "8001"
name = "Astana"
time_zone = "Asia/Almaty"
currency = "KZT"
price_per_hour = "150.00"
billing_step_minutes = 60
max_hours = 12
paid = [{ days = "Mon-Sat", from = "08:00", to = "20:00" }]
"""


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(ZONES_TOML, encoding="utf-8")
    return path


def quote(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, dict[str, Any]]:
    code = main(["quote", *args])
    out, err = capsys.readouterr()
    text = out if code == 0 else err
    assert (out if code else err) == ""
    return code, json.loads(text)


def test_the_spec_example(capsys: pytest.CaptureFixture[str], config: Path) -> None:
    code, answer = quote(
        capsys,
        "--zone",
        "1001",
        "--start",
        "2026-11-22T10:00",
        "--hours",
        "2",
        "--config",
        str(config),
    )
    assert code == 0
    assert answer == {
        "zone": "1001",
        "start": "2026-11-22T10:00:00+03:00",
        "end": "2026-11-22T12:00:00+03:00",
        "paid_minutes": 120,
        "amount_minor": 12000,
        "currency": "RUB",
        "amount": "120.00",
    }


def test_the_shipped_config_prices_zone_1001(capsys: pytest.CaptureFixture[str]) -> None:
    code, answer = quote(
        capsys,
        "--zone",
        "1001",
        "--start",
        "2026-11-22T10:00",
        "--hours",
        "2",
        "--config",
        str(REPO_CONFIG),
    )
    assert code == 0
    assert answer["end"] == "2026-11-22T12:00:00+03:00"
    assert (answer["paid_minutes"], answer["currency"]) == (120, "RUB")


def test_hour_step_through_the_free_night(capsys: pytest.CaptureFixture[str], config: Path) -> None:
    code, answer = quote(
        capsys,
        "--zone",
        "8001",
        "--start",
        "2026-11-20T19:30",
        "--hours",
        "12",
        "--config",
        str(config),
    )
    assert code == 0
    assert answer["end"] == "2026-11-21T07:30:00+05:00"
    assert answer["paid_minutes"] == 60
    assert (answer["amount_minor"], answer["amount"], answer["currency"]) == (
        15000,
        "150.00",
        "KZT",
    )


def test_a_start_with_an_offset_is_shown_in_zone_time(
    capsys: pytest.CaptureFixture[str], config: Path
) -> None:
    code, answer = quote(
        capsys,
        "--zone",
        "1001",
        "--start",
        "2026-11-22T07:00:00+00:00",
        "--hours",
        "1",
        "--config",
        str(config),
    )
    assert code == 0
    assert answer["start"] == "2026-11-22T10:00:00+03:00"
    assert answer["amount"] == "60.00"


@pytest.mark.parametrize(
    ("args", "option"),
    [
        (["--zone", "9999", "--start", "2026-11-22T10:00", "--hours", "2"], "--zone"),
        (["--start", "2026-11-22T10:00", "--hours", "2"], "--zone"),
        (["--zone", "1001", "--start", "2026-11-22T10:00", "--hours", "0"], "--hours"),
        (["--zone", "8001", "--start", "2026-11-22T10:00", "--hours", "13"], "--hours"),
        (["--zone", "1001", "--start", "2026-11-22T10:00", "--hours", "two"], "--hours"),
        (["--zone", "1001", "--start", "2026-11-22T10:00", "--hours", "٣"], "--hours"),
        (["--zone", "1001", "--start", "2026-11-22T10:00"], "--hours"),
        (["--zone", "1001", "--start", "22.11.2026 10:00", "--hours", "2"], "--start"),
        (["--zone", "1001", "--start", " ", "--hours", "2"], "--start"),
    ],
)
def test_a_bad_option_is_named(
    capsys: pytest.CaptureFixture[str], config: Path, args: list[str], option: str
) -> None:
    code, answer = quote(capsys, *args, "--config", str(config))
    assert code == 2
    assert answer["option"] == option
    assert answer["error"].startswith(f"{option}: ")


def test_a_missing_config_file(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    missing = tmp_path / "nowhere.toml"
    code, answer = quote(
        capsys,
        "--zone",
        "1001",
        "--start",
        "2026-11-22T10:00",
        "--hours",
        "2",
        "--config",
        str(missing),
    )
    assert code == 1
    assert answer["option"] == "--config" and "nowhere.toml" in answer["error"]


@pytest.mark.parametrize(
    ("text", "named"),
    [
        (ZONES_TOML.replace('"60.00"', "60.5"), "zones[0].price_per_hour"),
        (ZONES_TOML.replace("billing_step_minutes = 60", "billing_step_minutes = 7"), "zones[1]"),
        ("[[zones]\n", "not valid TOML"),
    ],
)
def test_a_bad_config_is_named(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, text: str, named: str
) -> None:
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    code, answer = quote(
        capsys,
        "--zone",
        "1001",
        "--start",
        "2026-11-22T10:00",
        "--hours",
        "2",
        "--config",
        str(path),
    )
    assert code == 1
    assert named in answer["error"]


def test_without_start_the_session_starts_now_in_the_zones_time(
    capsys: pytest.CaptureFixture[str], config: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # 05:30 UTC is 08:30 in Moscow and 10:30 in Astana (Asia/Almaty, UTC+5)
    monkeypatch.setattr(cli_quote, "utc_now", lambda: datetime(2026, 11, 24, 5, 30, tzinfo=UTC))

    code, moscow = quote(capsys, "--zone", "1001", "--hours", "2", "--config", str(config))
    _, astana = quote(capsys, "--zone", "8001", "--hours", "1", "--config", str(config))

    assert code == 0
    assert moscow["start"] == "2026-11-24T08:30:00+03:00"
    assert moscow["end"] == "2026-11-24T10:30:00+03:00"
    assert moscow["amount"] == "120.00"
    assert astana["start"] == "2026-11-24T10:30:00+05:00"


def test_help_says_what_is_required_and_what_start_defaults_to(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(SystemExit) as exit_status:
        main(["quote", "--help"])
    text = " ".join(capsys.readouterr().out.split())

    assert exit_status.value.code == 0
    assert "zone number, e.g. 1001 (required)" in text
    assert "1 to the zone's maximum (required)" in text
    assert "(default: now in the zone's time zone)" in text
