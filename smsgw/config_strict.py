"""Strictness: a key the loader does not read is a mistake, not a no-op.

A misspelt setting (`gateway.reminder_minuts`) would otherwise leave the default in
force with nothing said; here it stops the start, naming the key and the nearest known
name. The known keys come from the settings dataclasses' fields (smsgw.config_settings).
"""

from __future__ import annotations

import dataclasses
import difflib
from collections.abc import Iterable, Mapping
from typing import Any, get_type_hints

from smsgw.config_readers import read_table
from smsgw.config_settings import AppConfig, ChargingSettings, LinkSettings
from smsgw.domain.errors import ConfigError
from smsgw.domain.tariffs import WINDOW_KEYS, ZONE_KEYS

OPERATORS_DIR_KEY = "operators_dir"
STORAGE_KEYS = frozenset({"dsn"})
# config keys whose name differs from the settings field they fill
_RENAMED_FIELDS: Mapping[str, str] = {"kind": "type"}
# tables read elsewhere: holiday calendars are named freely, the simulator's tables are
# checked by `smsgw demo`, which runs it
_FREE_TABLES = frozenset({"holiday_calendars", "simulator"})


def reject_unknown_settings(raw: Mapping[str, Any]) -> None:
    """Refuse any key or table the loader would ignore, naming it (and the nearest known
    name when it looks like a typo: `gateway.reminder_minuts`)."""
    tables = settings_tables()
    top_level = {*tables, "storage", "links", "charging", "zones", OPERATORS_DIR_KEY}
    reject_unknown_keys(raw, top_level | _FREE_TABLES, "")
    for name, keys in tables.items():
        reject_unknown_keys(read_table(raw, name), keys, name)
    reject_unknown_keys(read_table(raw, "storage"), STORAGE_KEYS, "storage")
    links = raw.get("links", [])
    link_keys = _field_keys(LinkSettings)
    for index, link in enumerate(links if isinstance(links, list) else []):
        if isinstance(link, Mapping):
            reject_unknown_keys(link, link_keys, f"links[{index}]")
    charging_keys = _field_keys(ChargingSettings) - {"operator"}
    for operator, table in read_table(raw, "charging").items():
        if isinstance(table, Mapping):
            reject_unknown_keys(table, charging_keys, f"charging.{operator}")
    zones = raw.get("zones", [])
    for index, zone in enumerate(zones if isinstance(zones, list) else []):
        if isinstance(zone, Mapping):
            reject_unknown_keys(zone, ZONE_KEYS, f"zones[{index}]")
            paid = zone.get("paid", [])
            for number, window in enumerate(paid if isinstance(paid, list) else []):
                if isinstance(window, Mapping):
                    reject_unknown_keys(window, WINDOW_KEYS, f"zones[{index}].paid[{number}]")


def settings_tables() -> dict[str, frozenset[str]]:
    """Each plain `[table]` of config.toml and its keys, from `AppConfig`'s fields whose
    type is a settings dataclass: a field added to one is a known key at once."""
    hints = get_type_hints(AppConfig)
    return {
        name: _field_keys(hint)
        for name, hint in hints.items()
        if isinstance(hint, type) and dataclasses.is_dataclass(hint)
    }


def _field_keys(settings: type) -> frozenset[str]:
    return frozenset(_RENAMED_FIELDS.get(f.name, f.name) for f in dataclasses.fields(settings))


def reject_unknown_keys(table: Mapping[str, Any], known: Iterable[str], where: str) -> None:
    known_names = sorted(known)
    for name in table:
        if name in known_names:
            continue
        key = f"{where}.{name}" if where else name
        close = difflib.get_close_matches(name, known_names, n=1, cutoff=0.6)
        hint = f"; did you mean {close[0]!r}?" if close else f" (known: {', '.join(known_names)})"
        kind = "table" if isinstance(table[name], Mapping) else "setting"
        raise ConfigError(key, f"unknown {kind}{hint}")
