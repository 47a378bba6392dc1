"""The one builder of a gateway's config.toml for a simulated world.

`GatewayConfig` says what differs between runs (where the SMSC and the operators'
charging APIs listen, the credentials, the storage, the window); `document()` is the
config as a mapping and `toml_text()` writes it. Both `smsgw bench` runs use it: the
whole simulated world (`world_gateway_config`) and the SMSC-side load generator of
`--against` (links only, no charging). `pointed_at_world` goes the other way: a
gateway's own config.toml rewired to a world built from it (`smsgw sim run`).
"""

from __future__ import annotations

import copy
import json
import re
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

from simulator.config import SmscAccount
from simulator.world import SimulatedWorld

BENCH_ZONE: Final = "1001"
BENCH_PRICE: Final = "30.00"
SHORT_NUMBER: Final = "7757"
# the operator's cap is not what is measured here
UNCAPPED_SEGMENTS_PER_SECOND: Final = 100_000
_BARE_KEY: Final = re.compile(r"[A-Za-z0-9_-]+")


@dataclass(frozen=True, slots=True)
class GatewayConfig:
    storage_dsn: str
    smsc_port: int
    # the SMSC accounts the gateway binds to, one link each
    links: Sequence[SmscAccount]
    # operator -> (charging API base URL, shared secret)
    charging: Mapping[str, tuple[str, str]] = field(default_factory=dict)
    window: int = 100
    node_id: str = "bench"
    api_token: str = field(default_factory=lambda: secrets.token_hex(16))
    log_level: str = "warning"

    def document(self) -> dict[str, Any]:
        return {
            "gateway": {
                "short_number": SHORT_NUMBER,
                "default_language": "ru",
                "node_id": self.node_id,
            },
            "storage": {"dsn": self.storage_dsn},
            "http": {"host": "127.0.0.1", "port": 0, "api_token": self.api_token},
            "logging": {"level": self.log_level, "json": True},
            "links": [
                {
                    "id": f"{link.operator}-1",
                    "operator": link.operator,
                    "type": "smpp",
                    "host": "127.0.0.1",
                    "port": self.smsc_port,
                    "system_id": link.system_id,
                    "password": link.password,
                    "window": self.window,
                    "segments_per_second": UNCAPPED_SEGMENTS_PER_SECOND,
                }
                for link in self.links
            ],
            "charging": {
                operator: {"url": url, "secret": secret}
                for operator, (url, secret) in self.charging.items()
            },
            "zones": [bench_zone()],
        }


def bench_zone() -> dict[str, Any]:
    """One zone paid around the clock, so the figures do not depend on the hour."""
    return {
        "number": BENCH_ZONE,
        "name": "Bench, paid around the clock",
        "time_zone": "Europe/Moscow",
        "currency": "RUB",
        "price_per_hour": BENCH_PRICE,
        "billing_step_minutes": 1,
        "max_hours": 24,
        "paid": [{"days": "Mon-Sun", "from": "00:00", "to": "24:00"}],
    }


def world_gateway_config(
    world: SimulatedWorld, secret_of: Mapping[str, str], dsn: str, window: int
) -> GatewayConfig:
    """The gateway wired to a started `world`: a bind per SMSC account, its charging."""
    return GatewayConfig(
        storage_dsn=dsn,
        smsc_port=world.smsc.port,
        links=world.smsc.settings.accounts,
        charging={
            operator: (simulator.base_url, secret_of[operator])
            for operator, simulator in world.operators.items()
        },
        window=window,
    )


def pointed_at_world(
    raw_config: Mapping[str, Any],
    world: SimulatedWorld,
    *,
    storage_dsn: str,
    log_level: str,
    zones: Sequence[Mapping[str, Any]] = (),
) -> dict[str, Any]:
    """A gateway's own config.toml (as read) rewired to a started `world`: its SMPP
    links to the world's SMSC, its charging to the world's operators, HTTP on a free
    loopback port, the storage and log level given, `zones` added to its own."""
    raw = copy.deepcopy(dict(raw_config))
    raw.pop("simulator", None)
    raw["storage"] = {"dsn": storage_dsn}
    token = dict(raw.get("http", {})).get("api_token", "scenario-token")
    raw["http"] = {"host": "127.0.0.1", "port": 0, "api_token": token}
    raw["logging"] = {"level": log_level, "json": True}
    for link in raw.get("links", []):
        if link.get("type", "smpp") == "smpp":
            link["host"], link["port"] = "127.0.0.1", world.smsc.port
    for operator, table in dict(raw.get("charging", {})).items():
        table["url"] = world.operators[operator].base_url
    raw["zones"] = [*raw.get("zones", []), *zones]
    return raw


# --- a TOML writer for the shapes a config has (the standard library only reads TOML) ------


def toml_text(document: Mapping[str, Any]) -> str:
    """Tables become [headers], lists of tables [[headers]]; anything deeper is inline."""
    lines: list[str] = []
    _emit_table(lines, (), document)
    return "\n".join(lines) + "\n"


def _emit_table(lines: list[str], path: tuple[str, ...], table: Mapping[str, Any]) -> None:
    if path:
        lines += ["", f"[{'.'.join(path)}]"]
    for key, value in table.items():
        if not isinstance(value, Mapping) and not _is_table_list(value):
            lines.append(f"{_key(key)} = {_value(value)}")
    for key, value in table.items():
        if isinstance(value, Mapping):
            _emit_table(lines, (*path, _key(key)), value)
        elif _is_table_list(value):
            for item in value:
                lines += ["", f"[[{'.'.join((*path, _key(key)))}]]"]
                lines.extend(f"{_key(k)} = {_value(v)}" for k, v in item.items())


def _is_table_list(value: object) -> bool:
    return isinstance(value, list) and bool(value) and all(isinstance(v, Mapping) for v in value)


def _key(key: str) -> str:
    if not _BARE_KEY.fullmatch(key):
        raise ValueError(f"not a bare TOML key: {key!r}")
    return key


def _value(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        # a JSON string is a TOML basic string, once DEL is escaped too (JSON leaves it
        # as it is, TOML does not allow it bare) and characters beyond the BMP are left
        # whole (JSON would write surrogate pairs, which TOML refuses)
        return json.dumps(value, ensure_ascii=False).replace("\x7f", "\\u007f")
    if isinstance(value, Mapping):
        return "{ " + ", ".join(f"{_key(k)} = {_value(v)}" for k, v in value.items()) + " }"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_value(v) for v in value) + "]"
    raise TypeError(f"no TOML form for {value!r}")
