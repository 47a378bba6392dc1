"""`smsgw check-config` refuses what the loader would silently ignore, naming the key."""

from __future__ import annotations

import copy
import dataclasses
import tomllib
from pathlib import Path
from typing import Any

import pytest

from simulator.bench.config import toml_text
from smsgw.cli import main
from smsgw.config import GatewaySettings, load_config
from smsgw.config_strict import settings_tables

REPO = Path(__file__).resolve().parents[2]
BASE: dict[str, Any] = tomllib.loads((REPO / "config.toml").read_text("utf-8"))
# the test's TOML writer has no dates; the zones accept them as ISO strings too
BASE["holiday_calendars"] = {
    name: [day.isoformat() for day in days] for name, days in BASE["holiday_calendars"].items()
}


def _write(directory: Path, raw: dict[str, Any], *, operators: bool = True) -> Path:
    if operators:
        (directory / "operators").symlink_to(REPO / "operators")
    path = directory / "config.toml"
    path.write_text(toml_text(raw), "utf-8")
    return path


def _check(path: Path, capsys: pytest.CaptureFixture[str], *, demo: bool = True) -> tuple[int, str]:
    # --demo: these tests are about the structure; config.toml holds the demo's secrets
    code = main(["check-config", "--config", str(path), *(["--demo"] if demo else [])])
    captured = capsys.readouterr()
    return code, captured.out + captured.err


def _edited(edit: Any) -> dict[str, Any]:
    raw = copy.deepcopy(BASE)
    edit(raw)
    return raw


def test_the_repository_config_passes(capsys: pytest.CaptureFixture[str]) -> None:
    code, output = _check(REPO / "config.toml", capsys)
    assert code == 0, output
    assert "storage sqlite" in output


def test_the_repository_config_is_refused_for_production_without_demo(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, output = _check(REPO / "config.toml", capsys, demo=False)
    assert code == 2
    assert "http.api_token: is the published demo value" in output


@pytest.mark.parametrize(
    ("edit", "named", "suggested"),
    [
        (
            lambda raw: raw["gateway"].update(reminder_minuts=5),
            "gateway.reminder_minuts",
            "reminder_minutes",
        ),
        (lambda raw: raw.update(gatewy={"short_number": "7757"}), "gatewy", "gateway"),
        (lambda raw: raw["http"].update(api_tokn="x"), "http.api_tokn", "api_token"),
        (lambda raw: raw["logging"].update(levle="info"), "logging.levle", "level"),
        (lambda raw: raw["storage"].update(dns="sqlite:///x"), "storage.dns", "dsn"),
        (lambda raw: raw["links"][1].update(sytem_id="x"), "links[1].sytem_id", "system_id"),
        (lambda raw: raw["charging"]["mts"].update(secrte="x"), "charging.mts.secrte", "secret"),
        (
            lambda raw: raw["zones"][0].update(prise_per_hour="1"),
            "zones[0].prise_per_hour",
            "price_per_hour",
        ),
        (
            lambda raw: raw["zones"][0]["paid"][0].update(form="08:00"),
            "zones[0].paid[0].form",
            "from",
        ),
    ],
)
def test_an_unknown_key_is_named_with_the_nearest_known_one(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], edit: Any, named: str, suggested: str
) -> None:
    code, output = _check(_write(tmp_path, _edited(edit)), capsys)
    assert code == 2
    assert f"{named}: unknown" in output
    assert f"did you mean {suggested!r}" in output


def test_an_unknown_table_far_from_any_is_named_with_the_known_ones(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, output = _check(_write(tmp_path, _edited(lambda raw: raw.update(zzz={"a": 1}))), capsys)
    assert code == 2
    assert "zzz: unknown table (known: " in output


@pytest.mark.parametrize("dsn", ["mysql://x", "mysql:x", "sqlite:relative.db"])
def test_an_unknown_storage_scheme_stops_the_check(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], dsn: str
) -> None:
    code, output = _check(
        _write(tmp_path, _edited(lambda raw: raw["storage"].update(dsn=dsn))), capsys
    )
    assert code == 2
    assert "storage.dsn:" in output
    assert dsn in output


def test_a_file_path_is_a_sqlite_dsn(tmp_path: Path) -> None:
    path = _write(tmp_path, _edited(lambda raw: raw["storage"].update(dsn="var/gw.sqlite3")))
    assert load_config(path).storage_dsn == "sqlite:///var/gw.sqlite3"


def test_a_link_of_a_paying_operator_needs_its_charging_section(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, output = _check(
        _write(tmp_path, _edited(lambda raw: raw["charging"].pop("kcell"))), capsys
    )
    assert code == 2
    assert "links[4].operator:" in output
    assert "[charging.kcell]" in output


def test_a_link_of_an_operator_that_takes_no_payments_needs_no_charging(tmp_path: Path) -> None:
    # yota is not supported: its subscribers are told to pay another way
    config = load_config(_write(tmp_path, copy.deepcopy(BASE)))
    assert "yota" not in config.charging
    assert any(link.operator == "yota" for link in config.links)


def test_a_link_of_an_operator_without_a_file_is_named(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, output = _check(
        _write(tmp_path, _edited(lambda raw: raw["links"][0].update(operator="vodafone"))), capsys
    )
    assert code == 2
    assert "links[0].operator: unknown operator 'vodafone'" in output


def test_a_config_elsewhere_names_the_operators_dir_setting(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, output = _check(_write(tmp_path, copy.deepcopy(BASE), operators=False), capsys)
    assert code == 2
    assert "operators_dir:" in output
    assert str(tmp_path / "operators") in output


def test_operators_dir_is_read_relative_to_the_config_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "etc").mkdir()
    (tmp_path / "ops").symlink_to(REPO / "operators")
    raw = {"operators_dir": "../ops", **copy.deepcopy(BASE)}
    path = tmp_path / "etc" / "config.toml"
    path.write_text(toml_text(raw), "utf-8")
    code, output = _check(path, capsys)
    assert code == 0, output


def test_every_settings_field_is_a_known_key() -> None:
    # derived from the dataclasses: a field added there is accepted in config.toml at once
    tables = settings_tables()
    assert tables["gateway"] == {f.name for f in dataclasses.fields(GatewaySettings)}
    assert {"http", "logging"} <= tables.keys()
    assert "drain_seconds" in tables["gateway"]
