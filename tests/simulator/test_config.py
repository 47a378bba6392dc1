from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

import pytest

from simulator.config import SimulatorConfigError, SmscAccount, smsc_settings_from_config

REPO = Path(__file__).resolve().parents[2]


def test_repository_config_has_a_usable_smsc() -> None:
    config = tomllib.loads((REPO / "config.toml").read_text("utf-8"))
    settings = smsc_settings_from_config(config)
    assert settings.host == "127.0.0.1"
    assert settings.port == 2775
    assert settings.accounts, "the demo needs at least one bind credential"


def test_missing_section_gives_safe_defaults() -> None:
    settings = smsc_settings_from_config({})
    assert (settings.host, settings.port, settings.accounts) == ("127.0.0.1", 2775, ())


def test_accounts_are_read() -> None:
    config = {
        "simulator": {
            "smsc": {"accounts": [{"system_id": "gw", "password": "pw", "operator": "beeline"}]}
        }
    }
    settings = smsc_settings_from_config(config)
    assert settings.accounts == (SmscAccount("gw", "pw", "beeline"),)


@pytest.mark.parametrize(
    ("smsc", "key"),
    [
        ({"port": "2775"}, "simulator.smsc.port"),
        ({"port": 70000}, "simulator.smsc.port"),
        ({"host": 5}, "simulator.smsc.host"),
        ({"accounts": {"system_id": "x"}}, "simulator.smsc.accounts"),
        (
            {"accounts": [{"password": "p", "operator": "mts"}]},
            "simulator.smsc.accounts[0].system_id",
        ),
        (
            {"accounts": [{"system_id": "x" * 16, "password": "p", "operator": "mts"}]},
            "simulator.smsc.accounts[0].system_id",
        ),
        (
            {"accounts": [{"system_id": "x", "password": "123456789", "operator": "mts"}]},
            "simulator.smsc.accounts[0].password",
        ),
        (
            {"accounts": [{"system_id": "x", "password": "p"}]},
            "simulator.smsc.accounts[0].operator",
        ),
        (
            {
                "accounts": [
                    {"system_id": "x", "password": "p", "operator": "mts"},
                    {"system_id": "x", "password": "q", "operator": "t2"},
                ]
            },
            "simulator.smsc.accounts[1].system_id",
        ),
    ],
)
def test_bad_settings_name_their_key(smsc: dict[str, Any], key: str) -> None:
    with pytest.raises(SimulatorConfigError) as caught:
        smsc_settings_from_config({"simulator": {"smsc": smsc}})
    assert str(caught.value).startswith(key + ":")
