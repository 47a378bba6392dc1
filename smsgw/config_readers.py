"""Typed readers of one config.toml value: the right type and range, or a `ConfigError`
whose key is `where.name`, so every message starts with the key to fix."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from smsgw.domain.errors import ConfigError


def read_table(parent: Mapping[str, Any], name: str) -> Mapping[str, Any]:
    value = parent.get(name, {})
    if not isinstance(value, Mapping):
        raise ConfigError(name, "must be a table")
    return value


def read_str(table: Mapping[str, Any], name: str, where: str, default: str | None) -> str:
    value = table.get(name, default)
    if value is None:
        raise ConfigError(f"{where}.{name}", "is required")
    if not isinstance(value, str):
        raise ConfigError(f"{where}.{name}", f"must be a string, got {value!r}")
    return value


def read_int(
    table: Mapping[str, Any], name: str, where: str, default: int, low: int, high: int
) -> int:
    value = table.get(name, default)
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
        raise ConfigError(
            f"{where}.{name}", f"must be a whole number from {low} to {high}, got {value!r}"
        )
    return value


def read_bool(table: Mapping[str, Any], name: str, where: str, default: bool) -> bool:
    value = table.get(name, default)
    if not isinstance(value, bool):
        raise ConfigError(f"{where}.{name}", f"must be true or false, got {value!r}")
    return value
