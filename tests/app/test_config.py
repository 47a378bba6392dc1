from __future__ import annotations

import copy
import tomllib
from pathlib import Path
from typing import Any

import pytest

from smsgw.config import config_from_mapping, load_config, read_operator_files
from smsgw.domain.errors import ConfigError
from smsgw.language import Language

REPO = Path(__file__).resolve().parents[2]
OPERATORS = read_operator_files(REPO / "operators")
BASE: dict[str, Any] = tomllib.loads((REPO / "config.toml").read_text("utf-8"))


def test_repository_config_loads() -> None:
    config = load_config(REPO / "config.toml")
    assert "1001" in config.zones
    assert {"mts", "megafon", "beeline", "t2", "kcell", "yota"} <= set(config.operators)
    assert config.gateway.default_language is Language.RU
    assert config.storage_dsn.startswith("sqlite:///")


def test_empty_config_has_safe_defaults() -> None:
    config = config_from_mapping({}, OPERATORS)
    assert config.http.host == "127.0.0.1"
    assert config.http.api_token == ""
    assert config.logging.log_message_text is False
    assert config.gateway.reminder_minutes == 10
    assert config.gateway.confirmation_timeout_minutes == 15


def _with(path: str, value: object) -> dict[str, Any]:
    raw = copy.deepcopy(BASE)
    *tables, key = path.split(".")
    node: Any = raw
    for table in tables:
        node = node[int(table)] if table.isdigit() else node.setdefault(table, {})
    node[key] = value
    return raw


GOOD_LINK = {"id": "l1", "operator": "mts", "type": "smpp", "system_id": "gw", "password": "pw"}


@pytest.mark.parametrize(
    ("raw", "key"),
    [
        (_with("gateway.default_language", "de"), "gateway.default_language"),
        (_with("gateway.short_number", "77a7"), "gateway.short_number"),
        (_with("gateway.reminder_minutes", -1), "gateway.reminder_minutes"),
        (_with("gateway.plate_formats", ["us"]), "gateway.plate_formats"),
        (_with("http.port", 99999), "http.port"),
        (_with("http.port", "8080"), "http.port"),
        (_with("logging.level", "loud"), "logging.level"),
        (_with("logging.json", "yes"), "logging.json"),
        (_with("storage.dsn", 5), "storage.dsn"),
        (_with("links", [{**GOOD_LINK, "operator": "vodafone"}]), "links[0].operator"),
        (_with("links", [{**GOOD_LINK, "type": "ucp"}]), "links[0].type"),
        (_with("links", [{**GOOD_LINK, "password": "123456789"}]), "links[0].password"),
        (_with("links", [{**GOOD_LINK, "system_id": ""}]), "links[0].system_id"),
        (_with("links", [GOOD_LINK, GOOD_LINK]), "links[1].id"),
        (_with("links", [{**GOOD_LINK, "type": "kannel"}]), "links[0].sendsms_url"),
        (_with("charging.mts", {"url": "ftp://x", "secret": "s" * 16}), "charging.mts.url"),
        (_with("charging.mts", {"url": "http://x", "secret": "short"}), "charging.mts.secret"),
        (_with("charging.acme", {"url": "http://x", "secret": "s" * 16}), "charging.acme"),
        (
            _with("charging.mts", {"url": "http://x", "secret": "s" * 16, "service_number": "x"}),
            "charging.mts.service_number",
        ),
    ],
)
def test_a_bad_setting_names_its_key(raw: dict[str, Any], key: str) -> None:
    with pytest.raises(ConfigError) as caught:
        config_from_mapping(raw, OPERATORS)
    assert str(caught.value).startswith(key + ":")


def test_unreadable_file_is_named(tmp_path: Path) -> None:
    bad = tmp_path / "config.toml"
    bad.write_text("[gateway\n", "utf-8")
    with pytest.raises(ConfigError) as caught:
        load_config(bad, REPO / "operators")
    assert str(bad) in str(caught.value)


@pytest.mark.parametrize(
    ("raw", "key"),
    [
        (_with("gateway.short_numbers", "7757"), "gateway.short_numbers"),
        (_with("gateway.short_numbers", ["77a7"]), "gateway.short_numbers"),
        (_with("gateway.mo_parts_timeout_seconds", 0), "gateway.mo_parts_timeout_seconds"),
        (_with("links", [{**GOOD_LINK, "mo_in_flight": 0}]), "links[0].mo_in_flight"),
    ],
)
def test_a_bad_mo_intake_setting_names_its_key(raw: dict[str, Any], key: str) -> None:
    with pytest.raises(ConfigError) as caught:
        config_from_mapping(raw, OPERATORS)
    assert str(caught.value).startswith(key + ":")


def test_mo_intake_defaults_and_short_numbers() -> None:
    config = config_from_mapping(
        _with("links", [GOOD_LINK]) | {"gateway": {"short_numbers": ["9878", "7757"]}}, OPERATORS
    )
    assert config.gateway.all_short_numbers == ("7757", "9878")
    assert config.gateway.mo_parts_timeout_seconds == 300
    assert config.links[0].mo_in_flight == 64
