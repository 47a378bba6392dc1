"""Scenario files: reading them (errors name the key), running them against the real
gateway in-process, every bundled scenario passing, and `smsgw sim run`."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import smsgw.cli_sim
from simulator.scenario import (
    BUNDLED,
    DEFAULT_START,
    ScenarioError,
    TextPattern,
    load_scenario,
    parse_duration,
    read_gateway_config,
    run_scenario,
    scenario_files,
    scenario_from_mapping,
)
from smsgw.cli import main

REPO = Path(__file__).resolve().parents[2]
PHONE = {"msisdn": "79161234567", "operator": "mts"}


def scenario(steps: list[dict[str, Any]], **extra: Any) -> dict[str, Any]:
    return {"name": "t", "phones": [PHONE], "steps": steps, **extra}


# --- reading -----------------------------------------------------------------------------


def test_a_scenario_is_read_with_its_defaults() -> None:
    read = scenario_from_mapping(
        scenario(
            [
                {"send": "?"},
                {"expect": "/11:00/", "from": "7757", "within": 2},
                {"advance": "1h30m"},
                {"fault": {"throttle_count": 1}},
                {"balance": "380.50"},
            ]
        )
    )
    assert read.start == DEFAULT_START
    send, expect, advance, fault, balance = read.steps
    assert (send.phone, send.value) == ("79161234567", "?")
    assert expect.value.regex is not None and (expect.sender, expect.within) == ("7757", 2.0)
    assert advance.value == timedelta(hours=1, minutes=30)
    assert fault.value.throttle_count == 1
    assert balance.value == Decimal("380.50")


def test_start_keeps_its_instant() -> None:
    start = datetime.fromisoformat("2026-03-14T12:00:00+05:00")
    read = scenario_from_mapping(scenario([{"send": "?"}], start=start))
    assert read.start == datetime(2026, 3, 14, 7, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("raw", "key"),
    [
        (scenario([{"send": "?"}], colour="red"), "colour"),
        (scenario([]), "steps"),
        (scenario([{"send": "?", "expect": "x"}]), "steps[0]"),
        (scenario([{"sned": "?"}]), "steps[0].sned"),
        (scenario([{"expect": "/(/"}]), "steps[0].expect"),
        (scenario([{"expect": ""}]), "steps[0].expect"),
        (scenario([{"send": "?", "phone": "70000000000"}]), "steps[0].phone"),
        (scenario([{"advance": "soon"}]), "steps[0].advance"),
        (scenario([{"advance": "50m", "phone": "79161234567"}]), "steps[0].phone"),
        (scenario([{"fault": {"throttle_cnt": 1}}]), "steps[0].fault"),
        (scenario([{"answer": "yes"}]), "steps[0].answer"),
        (scenario([{"send": "?", "within": -1}]), "steps[0].within"),
        (scenario([{"send": "?", "from": "7701"}]), "steps[0].from"),
        (scenario([{"balance": "lots"}]), "steps[0].balance"),
        (scenario([{"received": -1}]), "steps[0].received"),
        (scenario([{"send": "?"}], start="tomorrow"), "start"),
        ({"phones": [{"msisdn": "+7916"}], "steps": [{"send": "?"}]}, "phones[0].msisdn"),
        ({"phones": [{**PHONE, "policy": "maybe"}], "steps": [{"send": "?"}]}, "phones[0].policy"),
        ({"phones": [PHONE, PHONE], "steps": [{"send": "?"}]}, "phones"),
    ],
)
def test_mistakes_name_their_key(raw: dict[str, Any], key: str) -> None:
    with pytest.raises(ScenarioError, match=f"^{re.escape(key)}:"):
        scenario_from_mapping(raw)


def test_a_file_error_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "broken.toml"
    path.write_text('steps = [{ sned = "?" }]', "utf-8")
    with pytest.raises(ScenarioError, match=r"^broken\.toml: steps\[0\]\.sned:"):
        load_scenario(path)


@settings(max_examples=200)
@given(days=st.integers(0, 3), hours=st.integers(0, 48), minutes=st.integers(0, 600))
def test_durations_add_up(days: int, hours: int, minutes: int) -> None:
    expected = timedelta(days=days, hours=hours, minutes=minutes)
    text = "".join(f"{n}{unit}" for n, unit in ((days, "d"), (hours, "h"), (minutes, "m")) if n)
    if not text:
        with pytest.raises(ScenarioError):
            parse_duration("0m")
        return
    assert parse_duration(text) == expected


@settings(max_examples=200)
@given(text=st.text(max_size=40), needle=st.text(min_size=1, max_size=5))
def test_a_plain_pattern_is_a_substring_even_with_regex_characters(text: str, needle: str) -> None:
    if needle.startswith("/") and needle.endswith("/") and len(needle) >= 2:
        return  # that is the regex form
    assert TextPattern.parse(needle, "k").matches(text) == (needle in text)


def test_bundled_scenarios_cover_every_command() -> None:
    names = {path.stem for path in scenario_files([BUNDLED])}
    assert names >= {
        "pay",
        "pay_from_balance",
        "extend",
        "extend_ambiguity",
        "stop_refund",
        "status",
        "decline",
        "confirmation_timeout",
        "reminder_and_end",
        "language",
        "help",
        "bad_text",
        "limit_refusal",
        "yota",
    }


# --- running -----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def gateway_config() -> tuple[dict[str, Any], Any]:
    return read_gateway_config(REPO / "config.toml")


@pytest.mark.parametrize("path", scenario_files([BUNDLED]), ids=lambda path: path.stem)
async def test_every_bundled_scenario_passes(
    path: Path, gateway_config: tuple[dict[str, Any], Any]
) -> None:
    report = await run_scenario(load_scenario(path), *gateway_config)
    assert report.passed, report.format()
    assert len(report.results) == len(load_scenario(path).steps)


async def test_a_failing_step_fails_and_skips_the_rest(
    gateway_config: tuple[dict[str, Any], Any],
) -> None:
    read = scenario_from_mapping(
        scenario(
            [
                {"send": "?"},
                {"expect": "nothing like this", "within": 0.3},
                {"send": "I"},
            ]
        )
    )
    report = await run_scenario(read, *gateway_config)
    assert [result.outcome for result in report.results] == ["pass", "fail", "skip"]
    assert "1001*A123BC77*2" in report.results[1].detail  # what did arrive is shown
    assert "FAILED: 1 of 3 steps passed" in report.format()


async def test_answer_balance_and_received_checks_can_fail(
    gateway_config: tuple[dict[str, Any], Any],
) -> None:
    for step in ({"answer": "1", "within": 0.2}, {"balance": "1.00"}, {"received": 1}):
        report = await run_scenario(scenario_from_mapping(scenario([step])), *gateway_config)
        assert [result.outcome for result in report.results] == ["fail"], step


# --- the command line ----------------------------------------------------------------------


@pytest.fixture
def quiet(monkeypatch: pytest.MonkeyPatch) -> None:
    # the CLI sets up logging for the whole process; tests keep the default
    monkeypatch.setattr(smsgw.cli_sim, "_quiet_logs", lambda: None)


def test_sim_run_exit_status(
    quiet: None, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = ["--gateway-config", str(REPO / "config.toml")]
    assert main(["sim", "run", str(BUNDLED / "help.toml"), *config]) == 0
    assert "1 of 1 scenarios passed" in capsys.readouterr().out
    failing = tmp_path / "failing.toml"
    failing.write_text(
        'phones = [{ msisdn = "79161234567" }]\n'
        'steps = [{ send = "?" }, { expect = "never", within = 0.2 }]\n',
        "utf-8",
    )
    assert main(["sim", "run", str(failing), *config]) == 1
    out = capsys.readouterr().out
    assert "FAIL" in out and "0 of 1 scenarios passed" in out
    broken = tmp_path / "broken.toml"
    broken.write_text("steps = [", "utf-8")
    assert main(["sim", "run", str(broken), *config]) == 2
    assert "broken.toml" in capsys.readouterr().err


def test_sim_run_names_a_bad_gateway_config(
    quiet: None, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "config.toml"
    (tmp_path / "operators").symlink_to(REPO / "operators")
    bad.write_text('[gateway]\nshort_number = "seven"\n', "utf-8")
    assert main(["sim", "run", str(BUNDLED / "help.toml"), "--gateway-config", str(bad)]) == 2
    assert "gateway.short_number" in capsys.readouterr().err
