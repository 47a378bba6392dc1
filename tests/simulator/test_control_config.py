"""`[simulator.control]` in config.toml: where the control API listens."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any

import pytest

from simulator.config import (
    ControlSettings,
    SimulatorConfigError,
    control_settings_from_config,
)

REPO = Path(__file__).resolve().parents[2]


def test_defaults_without_the_table() -> None:
    assert control_settings_from_config({}) == ControlSettings("127.0.0.1", 8090)


def test_values_are_read() -> None:
    config = {"simulator": {"control": {"host": "0.0.0.0", "port": 0}}}
    assert control_settings_from_config(config) == ControlSettings("0.0.0.0", 0)


def test_the_bundled_config_is_valid() -> None:
    raw = tomllib.loads((REPO / "config.toml").read_text("utf-8"))
    settings = control_settings_from_config(raw)
    assert 0 <= settings.port <= 65535 and settings.host


@pytest.mark.parametrize(
    ("control", "key"),
    [
        ({"port": 70000}, "simulator.control.port"),
        ({"port": "8090"}, "simulator.control.port"),
        ({"port": True}, "simulator.control.port"),
        ({"host": 127}, "simulator.control.host"),
        ({"host": ""}, "simulator.control.host"),
    ],
)
def test_bad_values_name_their_key(control: dict[str, Any], key: str) -> None:
    with pytest.raises(SimulatorConfigError, match=f"^{re.escape(key)}:"):
        control_settings_from_config({"simulator": {"control": control}})


def test_a_control_that_is_not_a_table_names_its_key() -> None:
    with pytest.raises(SimulatorConfigError, match=r"^simulator\.control:"):
        control_settings_from_config({"simulator": {"control": 8090}})
