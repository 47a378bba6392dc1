"""The simulator's settings, read from the `[simulator]` table of config.toml.

Every setting has a safe default; a bad value raises `SimulatorConfigError` whose message
names the key, so `smsgw demo` stops with an answer the operator can act on.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 2775
DEFAULT_CONTROL_PORT = 8090
# SMPP 3.4 caps system_id at 15 octets and password at 8 (plus the NUL).
SYSTEM_ID_MAX = 15
PASSWORD_MAX = 8


class SimulatorConfigError(ValueError):
    """A setting under [simulator] is wrong; the message starts with its key."""


@dataclass(frozen=True, slots=True)
class SmscAccount:
    system_id: str
    password: str
    operator: str


@dataclass(frozen=True, slots=True)
class SmscSettings:
    host: str = DEFAULT_HOST
    port: int = DEFAULT_PORT
    accounts: tuple[SmscAccount, ...] = field(default_factory=tuple)


@dataclass(frozen=True, slots=True)
class ControlSettings:
    """Where the simulator's HTTP control API (and the web phone) listens."""

    host: str = DEFAULT_HOST
    port: int = DEFAULT_CONTROL_PORT


def control_settings_from_config(config: Mapping[str, Any]) -> ControlSettings:
    simulator = _table(config, "simulator", "simulator")
    control = _table(simulator, "control", "simulator.control")
    host = _string(control, "host", "simulator.control.host", DEFAULT_HOST)
    if not host:
        raise SimulatorConfigError("simulator.control.host: must not be empty")
    port = _port(control, "simulator.control.port", DEFAULT_CONTROL_PORT)
    return ControlSettings(host=host, port=port)


def smsc_settings_from_config(config: Mapping[str, Any]) -> SmscSettings:
    simulator = _table(config, "simulator", "simulator")
    smsc = _table(simulator, "smsc", "simulator.smsc")
    host = _string(smsc, "host", "simulator.smsc.host", DEFAULT_HOST)
    port = _port(smsc, "simulator.smsc.port", DEFAULT_PORT)
    raw_accounts = smsc.get("accounts", [])
    if not isinstance(raw_accounts, list):
        raise SimulatorConfigError("simulator.smsc.accounts: must be an array of tables")
    accounts = tuple(_account(item, index) for index, item in enumerate(raw_accounts))
    _reject_duplicate_system_ids(accounts)
    return SmscSettings(host=host, port=port, accounts=accounts)


def _account(item: object, index: int) -> SmscAccount:
    key = f"simulator.smsc.accounts[{index}]"
    if not isinstance(item, Mapping):
        raise SimulatorConfigError(f"{key}: must be a table")
    system_id = _string(item, "system_id", f"{key}.system_id", None)
    password = _string(item, "password", f"{key}.password", None)
    operator = _string(item, "operator", f"{key}.operator", None)
    if not 0 < len(system_id) <= SYSTEM_ID_MAX or not system_id.isascii():
        raise SimulatorConfigError(f"{key}.system_id: must be 1..{SYSTEM_ID_MAX} ASCII characters")
    if len(password) > PASSWORD_MAX or not password.isascii():
        raise SimulatorConfigError(
            f"{key}.password: must be at most {PASSWORD_MAX} ASCII characters"
        )
    return SmscAccount(system_id=system_id, password=password, operator=operator)


def _reject_duplicate_system_ids(accounts: tuple[SmscAccount, ...]) -> None:
    seen: set[str] = set()
    for index, account in enumerate(accounts):
        if account.system_id in seen:
            raise SimulatorConfigError(
                f"simulator.smsc.accounts[{index}].system_id: {account.system_id!r} is used twice"
            )
        seen.add(account.system_id)


def _port(table: Mapping[str, Any], key: str, default: int) -> int:
    port = table.get("port", default)
    if not isinstance(port, int) or isinstance(port, bool) or not 0 <= port <= 65535:
        raise SimulatorConfigError(f"{key}: must be a whole number 0..65535, got {port!r}")
    return port


def _table(parent: Mapping[str, Any], name: str, key: str) -> Mapping[str, Any]:
    value = parent.get(name, {})
    if not isinstance(value, Mapping):
        raise SimulatorConfigError(f"{key}: must be a table")
    return value


def _string(table: Mapping[str, Any], name: str, key: str, default: str | None) -> str:
    value = table.get(name, default)
    if value is None:
        raise SimulatorConfigError(f"{key}: is required")
    if not isinstance(value, str):
        raise SimulatorConfigError(f"{key}: must be a string, got {value!r}")
    return value
