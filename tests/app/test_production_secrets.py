"""`smsgw serve` and `smsgw check-config` refuse the published demo secrets and short
ones, naming each key; `smsgw demo` is what runs on them."""

from __future__ import annotations

import copy
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import pytest

from smsgw.cli import main
from smsgw.config import config_from_mapping, read_operator_files
from smsgw.config_secrets import production_secret_problems
from smsgw.domain.errors import ConfigError

REPO = Path(__file__).resolve().parents[2]
OPERATORS = read_operator_files(REPO / "operators")
DEMO: dict[str, Any] = tomllib.loads((REPO / "config.toml").read_text("utf-8"))
KANNEL_LINK = {
    "id": "kannel-mts",
    "operator": "mts",
    "type": "kannel",
    "sendsms_url": "http://127.0.0.1:13013",
    "secret": "kannel-mts-secret-0123",
}


def _strong() -> dict[str, Any]:
    """The demo configuration with secrets of its own: fit for production."""
    raw = copy.deepcopy(DEMO)
    raw["http"]["api_token"] = "a-real-token-0123456789"
    for operator, table in raw["charging"].items():
        table["secret"] = f"{operator}-real-secret-0123456789"
    raw["driver"]["secret"] = "driver-real-secret-0123456789"
    # a copy: tests change the link's secret, and another test in the same process (in
    # whatever order the parallel runner deals them) must see the strong one
    raw["links"] = [*raw["links"], dict(KANNEL_LINK)]
    return raw


def _problems(raw: dict[str, Any]) -> list[str]:
    return production_secret_problems(config_from_mapping(raw, OPERATORS))


def test_the_demo_configuration_is_refused_key_by_key() -> None:
    problems = _problems(DEMO)
    keys = [problem.split(":", 1)[0] for problem in problems]
    assert keys == [
        "http.api_token",
        *(f"charging.{op}.secret" for op in DEMO["charging"]),
        "driver.secret",  # the demo turns the driver API on
    ]
    assert all("demo" in problem for problem in problems)


def test_own_secrets_of_16_bytes_or_more_pass() -> None:
    assert _problems(_strong()) == []


@pytest.mark.parametrize(
    ("path", "value", "key"),
    [
        (("http", "api_token"), "short-token", "http.api_token"),
        (("http", "api_token"), "prod-token-change-me-please", "http.api_token"),
        (("charging", "mts", "secret"), "mts-demo-secret-change-me", "charging.mts.secret"),
        (("charging", "kcell", "secret"), "Ab1-CHANGE-ME-xxxxxxxx", "charging.kcell.secret"),
        (("links", 6, "secret"), "fifteen-bytes!!", "links[6].secret"),
    ],
)
def test_a_weak_secret_is_named(path: tuple[str | int, ...], value: str, key: str) -> None:
    raw = _strong()
    node: Any = raw
    for step in path[:-1]:
        node = node[step]
    node[path[-1]] = value
    assert [problem.split(":", 1)[0] for problem in _problems(raw)] == [key]


def test_length_is_counted_in_bytes() -> None:
    raw = _strong()
    raw["links"][6]["secret"] = "ключ-секрет"  # 11 characters, 20 bytes
    assert _problems(raw) == []


def test_an_empty_api_token_turns_the_operations_api_off_and_is_allowed() -> None:
    raw = _strong()
    raw["http"]["api_token"] = ""
    assert _problems(raw) == []


DEMO_TEXT = (REPO / "config.toml").read_text("utf-8")
# the demo file with secrets of its own and a kannel link, as an operator would edit it
STRONG_TEXT = (
    DEMO_TEXT.replace("demo-token-change-me", "a-real-token-0123456789").replace(
        "-demo-secret-change-me", "-real-secret-0123456789"
    )
    + """
[[links]]
id = "kannel-mts"
operator = "mts"
type = "kannel"
sendsms_url = "http://127.0.0.1:13013"
secret = "kannel-mts-secret-0123"
"""
)


def _write(tmp_path: Path, text: str) -> Path:
    (tmp_path / "operators").symlink_to(REPO / "operators")
    path = tmp_path / "config.toml"
    path.write_text(text, "utf-8")
    return path


def test_check_config_reports_the_demo_secrets_and_exits_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _write(tmp_path, DEMO_TEXT)
    assert main(["check-config", "--config", str(path)]) == 2
    err = capsys.readouterr().err
    assert "http.api_token: is the published demo value" in err
    assert "charging.mts.secret: is the published demo value" in err


def test_check_config_passes_own_secrets(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _write(tmp_path, STRONG_TEXT)
    assert main(["check-config", "--config", str(path)]) == 0
    assert "ok" in capsys.readouterr().out


def test_serve_refuses_to_start_on_the_demo_secrets(tmp_path: Path) -> None:
    # a real process: were the check missing, it would start serving and time out here
    path = _write(tmp_path, DEMO_TEXT)
    done = subprocess.run(
        [sys.executable, "-m", "smsgw.cli", "serve", "--config", str(path)],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
    )
    assert done.returncode == 2
    assert "smsgw serve: http.api_token:" in done.stderr
    assert "smsgw serve: charging.t2.secret:" in done.stderr
    assert not (tmp_path / "var").exists(), "nothing was opened"


@pytest.mark.parametrize(
    ("link", "key"),
    [
        ({**KANNEL_LINK, "secret": ""}, "links[0].secret"),
        ({**KANNEL_LINK, "allowed_networks": ["10.0.0.300/8"]}, "links[0].allowed_networks"),
        ({**KANNEL_LINK, "allowed_networks": "10.0.0.0/8"}, "links[0].allowed_networks"),
        (
            {"id": "s", "operator": "mts", "type": "smpp", "system_id": "gw", "secret": "x" * 20},
            "links[0].secret",
        ),
    ],
)
def test_link_credentials_are_checked_on_load(link: dict[str, Any], key: str) -> None:
    raw = copy.deepcopy(DEMO)
    raw["links"] = [link]
    with pytest.raises(ConfigError) as caught:
        config_from_mapping(raw, OPERATORS)
    assert str(caught.value).startswith(key + ":")


def test_http_limits_and_retention_are_read() -> None:
    raw = copy.deepcopy(DEMO)
    raw["http"].update(read_timeout_seconds=5, max_connections=50)
    raw["retention"] = {"inbound_days": 30, "outbox_days": 7, "charges_days": 400}
    config = config_from_mapping(raw, OPERATORS)
    assert (config.http.read_timeout_seconds, config.http.max_connections) == (5.0, 50)
    retention = config.retention
    assert (retention.inbound_days, retention.outbox_days, retention.charges_days) == (30, 7, 400)
    raw["retention"] = {"inbound_days": 0}
    with pytest.raises(ConfigError, match=r"^retention\.inbound_days:"):
        config_from_mapping(raw, OPERATORS)
