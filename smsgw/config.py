"""config.toml → typed settings. Every setting has a safe default; a bad one raises
`ConfigError` whose message starts with the key (`http.port: must be …`), and
`smsgw check-config` / `smsgw serve` print it and stop.

Zones come from `[[zones]]` (smsgw.domain.tariffs), operators from `operators/*.toml`
(smsgw.domain.operators); this module reads the rest and the files. The settings types
are in smsgw.config_settings, the unknown-key check in smsgw.config_strict, the
production-secret check in smsgw.config_secrets.
"""

from __future__ import annotations

import ipaddress
import re
import tomllib
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from smsgw.config_readers import read_bool, read_int, read_str, read_table
from smsgw.config_settings import (
    AppConfig,
    BindModeName,
    ChargingSettings,
    DriverSettings,
    GatewaySettings,
    HttpSettings,
    LinkKind,
    LinkSettings,
    LoggingSettings,
    RetentionSettings,
)
from smsgw.config_strict import OPERATORS_DIR_KEY, reject_unknown_settings
from smsgw.domain.errors import ConfigError
from smsgw.domain.operators import OperatorPolicy, load_operators
from smsgw.domain.tariffs import zones_from_config
from smsgw.language import Language

# the settings types are used through this module, the loader's front door
__all__ = [
    "AppConfig",
    "BindModeName",
    "ChargingSettings",
    "DriverSettings",
    "GatewaySettings",
    "HttpSettings",
    "LinkKind",
    "LinkSettings",
    "LoggingSettings",
    "RetentionSettings",
    "config_from_mapping",
    "load_config",
    "operators_directory",
    "read_operator_files",
    "require_charging_for_links",
    "storage_dsn",
]

DEFAULT_OPERATORS_DIR = "operators"
DEFAULT_DSN = "sqlite:///var/smsgw.sqlite3"
_URL_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*:")  # mysql:, sqlite:, postgresql:


def load_config(path: Path, operators_dir: Path | None = None) -> AppConfig:
    """Read config.toml and the operator files (`operators_dir`, by default `operators/`
    beside the config file)."""
    try:
        raw = tomllib.loads(path.read_text("utf-8"))
    except OSError as error:
        raise ConfigError(str(path), f"cannot be read ({error.strerror})") from error
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(str(path), f"is not valid TOML ({error})") from error
    reject_unknown_settings(raw)
    directory = operators_dir or operators_directory(raw, path)
    return config_from_mapping(raw, read_operator_files(directory))


def operators_directory(raw: Mapping[str, Any], config_path: Path) -> Path:
    """`operators_dir` from the config, relative to the config file's directory."""
    setting = raw.get(OPERATORS_DIR_KEY, DEFAULT_OPERATORS_DIR)
    if not isinstance(setting, str) or not setting:
        raise ConfigError(OPERATORS_DIR_KEY, f"must name a directory, got {setting!r}")
    return config_path.resolve().parent / Path(setting).expanduser()


def read_operator_files(directory: Path) -> dict[str, Mapping[str, Any]]:
    files = sorted(directory.glob("*.toml"))
    if not files:
        raise ConfigError(
            OPERATORS_DIR_KEY,
            f"{directory} has no operator files (<operator>.toml); set {OPERATORS_DIR_KEY} "
            "in config.toml to the directory that holds them (relative to config.toml)",
        )
    result: dict[str, Mapping[str, Any]] = {}
    for file in files:
        try:
            result[file.stem] = tomllib.loads(file.read_text("utf-8"))
        except tomllib.TOMLDecodeError as error:
            raise ConfigError(f"operators/{file.name}", f"is not valid TOML ({error})") from error
    return result


def config_from_mapping(
    raw: Mapping[str, Any], operator_files: Mapping[str, Mapping[str, Any]]
) -> AppConfig:
    reject_unknown_settings(raw)
    operators = load_operators(operator_files)
    links = _links(raw.get("links", []), operators)
    charging = _charging(read_table(raw, "charging"), operators)
    require_charging_for_links(links, charging, operators)
    return AppConfig(
        gateway=_gateway(read_table(raw, "gateway")),
        storage_dsn=storage_dsn(read_table(raw, "storage")),
        http=_http(read_table(raw, "http")),
        logging=_logging(read_table(raw, "logging")),
        links=links,
        charging=charging,
        zones=zones_from_config(raw),
        operators=operators,
        raw=raw,
        retention=_retention(read_table(raw, "retention")),
        driver=_driver(read_table(raw, "driver")),
    )


def _gateway(table: Mapping[str, Any]) -> GatewaySettings:
    where = "gateway"
    language = read_str(table, "default_language", where, "ru")
    try:
        default_language = Language(language.lower())
    except ValueError:
        raise ConfigError(f"{where}.default_language", "must be ru, kk or en") from None
    short_number = read_str(table, "short_number", where, "7757")
    if not short_number.isdigit():
        raise ConfigError(f"{where}.short_number", "must be digits")
    formats = table.get("plate_formats", ["ru", "kz"])
    if not isinstance(formats, list) or not formats or not all(f in ("ru", "kz") for f in formats):
        raise ConfigError(f"{where}.plate_formats", 'must be a non-empty list of "ru", "kz"')
    return GatewaySettings(
        short_number=short_number,
        default_language=default_language,
        node_id=read_str(table, "node_id", where, ""),
        reminder_minutes=read_int(table, "reminder_minutes", where, 10, 0, 24 * 60),
        confirmation_timeout_minutes=read_int(
            table, "confirmation_timeout_minutes", where, 15, 1, 24 * 60
        ),
        plate_formats=tuple(formats),
        max_hours=read_int(table, "max_hours", where, 24, 1, 24 * 31),
        drain_seconds=read_int(table, "drain_seconds", where, 10, 0, 600),
        short_numbers=_short_numbers(table, where),
        mo_parts_timeout_seconds=read_int(table, "mo_parts_timeout_seconds", where, 300, 10, 86400),
    )


def _short_numbers(table: Mapping[str, Any], where: str) -> tuple[str, ...]:
    numbers = table.get("short_numbers", [])
    if not isinstance(numbers, list) or not all(
        isinstance(number, str) and number.isdigit() for number in numbers
    ):
        raise ConfigError(f"{where}.short_numbers", "must be a list of numbers written as digits")
    return tuple(numbers)


def _http(table: Mapping[str, Any]) -> HttpSettings:
    where = "http"
    return HttpSettings(
        host=read_str(table, "host", where, "127.0.0.1"),
        port=read_int(table, "port", where, 8080, 0, 65535),
        api_token=read_str(table, "api_token", where, ""),
        public_url=read_str(table, "public_url", where, "").rstrip("/"),
        max_body_bytes=read_int(table, "max_body_bytes", where, 64 * 1024, 1024, 16 * 1024 * 1024),
        read_timeout_seconds=float(read_int(table, "read_timeout_seconds", where, 30, 1, 600)),
        max_connections=read_int(table, "max_connections", where, 1000, 1, 100_000),
    )


def _retention(table: Mapping[str, Any]) -> RetentionSettings:
    where = "retention"
    return RetentionSettings(
        inbound_days=read_int(table, "inbound_days", where, 90, 1, 36500),
        outbox_days=read_int(table, "outbox_days", where, 90, 1, 36500),
        charges_days=read_int(table, "charges_days", where, 365, 1, 36500),
        batch_rows=read_int(table, "batch_rows", where, 500, 1, 100_000),
        interval_minutes=read_int(table, "interval_minutes", where, 60, 1, 24 * 60),
    )


def _driver(table: Mapping[str, Any]) -> DriverSettings:
    where = "driver"
    settings = DriverSettings(
        enabled=read_bool(table, "enabled", where, False),
        secret=read_str(table, "secret", where, ""),
        code_ttl_seconds=read_int(table, "code_ttl_seconds", where, 300, 30, 3600),
        token_ttl_hours=read_int(table, "token_ttl_hours", where, 720, 1, 24 * 366),
        code_resend_seconds=read_int(table, "code_resend_seconds", where, 60, 0, 3600),
        codes_per_phone_per_hour=read_int(table, "codes_per_phone_per_hour", where, 5, 1, 100),
        codes_per_source_per_hour=read_int(
            table, "codes_per_source_per_hour", where, 20, 1, 100_000
        ),
        code_attempts=read_int(table, "code_attempts", where, 5, 1, 10),
        max_vehicles=read_int(table, "max_vehicles", where, 10, 1, 100),
    )
    if settings.enabled and not settings.secret:
        raise ConfigError(f"{where}.secret", "is required when driver.enabled = true")
    return settings


def _logging(table: Mapping[str, Any]) -> LoggingSettings:
    where = "logging"
    level = read_str(table, "level", where, "info").lower()
    if level not in ("debug", "info", "warning", "error"):
        raise ConfigError(f"{where}.level", "must be debug, info, warning or error")
    return LoggingSettings(
        level=level,
        json=read_bool(table, "json", where, True),
        log_message_text=read_bool(table, "log_message_text", where, False),
    )


def _links(items: object, operators: Mapping[str, OperatorPolicy]) -> tuple[LinkSettings, ...]:
    if not isinstance(items, list):
        raise ConfigError("links", "must be an array of tables ([[links]])")
    links = tuple(_link(item, f"links[{index}]", operators) for index, item in enumerate(items))
    seen: set[str] = set()
    for index, link in enumerate(links):
        if link.id in seen:
            raise ConfigError(f"links[{index}].id", f"{link.id!r} is used twice")
        seen.add(link.id)
    return links


def _link(item: object, where: str, operators: Mapping[str, OperatorPolicy]) -> LinkSettings:
    if not isinstance(item, Mapping):
        raise ConfigError(where, "must be a table")
    operator = read_str(item, "operator", where, None)
    if operator not in operators:
        raise ConfigError(
            f"{where}.operator",
            f"unknown operator {operator!r}: no {operator}.toml among the operator files "
            f"({', '.join(sorted(operators)) or 'none'})",
        )
    kind = read_str(item, "type", where, "smpp")
    if kind not in ("smpp", "kannel"):
        raise ConfigError(f"{where}.type", 'must be "smpp" or "kannel"')
    bind_mode = read_str(item, "bind_mode", where, "transceiver")
    if bind_mode not in ("transceiver", "transmitter_receiver"):
        raise ConfigError(f"{where}.bind_mode", 'must be "transceiver" or "transmitter_receiver"')
    link = LinkSettings(
        id=read_str(item, "id", where, None),
        operator=operator,
        kind=kind,  # type: ignore[arg-type]  # checked just above
        host=read_str(item, "host", where, "127.0.0.1"),
        port=read_int(item, "port", where, 2775, 1, 65535),
        system_id=read_str(item, "system_id", where, ""),
        password=read_str(item, "password", where, ""),
        system_type=read_str(item, "system_type", where, ""),
        bind_mode=bind_mode,  # type: ignore[arg-type]  # checked just above
        window=read_int(item, "window", where, 10, 1, 1000),
        segments_per_second=float(read_int(item, "segments_per_second", where, 50, 1, 100_000)),
        enquire_link_seconds=float(read_int(item, "enquire_link_seconds", where, 30, 1, 3600)),
        sendsms_url=read_str(item, "sendsms_url", where, ""),
        username=read_str(item, "username", where, ""),
        smsc=read_str(item, "smsc", where, ""),
        secret=read_str(item, "secret", where, ""),
        allowed_networks=_networks(item, where),
        mo_in_flight=read_int(item, "mo_in_flight", where, 64, 1, 10_000),
    )
    _check_link(link, where)
    return link


def _check_link(link: LinkSettings, where: str) -> None:
    if link.kind == "smpp":
        if not 0 < len(link.system_id) <= 15:
            raise ConfigError(f"{where}.system_id", "must be 1..15 characters for an SMPP link")
        if len(link.password) > 8:
            raise ConfigError(f"{where}.password", "must be at most 8 characters (SMPP 3.4)")
        if link.secret or link.allowed_networks:
            raise ConfigError(f"{where}.secret", "is for kannel links; an SMPP link takes no HTTP")
    elif not link.sendsms_url.startswith(("http://", "https://")):
        raise ConfigError(f"{where}.sendsms_url", "must be an http(s) URL for a Kannel link")
    elif not link.secret:
        raise ConfigError(
            f"{where}.secret", "is required for a kannel link (Kannel sends it with every MO)"
        )


def _networks(item: Mapping[str, Any], where: str) -> tuple[str, ...]:
    value = item.get("allowed_networks", [])
    key = f"{where}.allowed_networks"
    if not isinstance(value, list) or not all(isinstance(entry, str) for entry in value):
        raise ConfigError(key, 'must be a list of networks, e.g. ["10.0.0.0/8"]')
    for entry in value:
        try:
            ipaddress.ip_network(entry, strict=False)
        except ValueError:
            raise ConfigError(key, f"{entry!r} is not an IP network") from None
    return tuple(value)


def _charging(
    table: Mapping[str, Any], operators: Mapping[str, OperatorPolicy]
) -> dict[str, ChargingSettings]:
    result: dict[str, ChargingSettings] = {}
    for operator, item in table.items():
        where = f"charging.{operator}"
        if operator not in operators:
            raise ConfigError(where, f"unknown operator {operator!r}")
        if not isinstance(item, Mapping):
            raise ConfigError(where, "must be a table")
        url = read_str(item, "url", where, None)
        if not url.startswith(("http://", "https://")):
            raise ConfigError(f"{where}.url", "must be an http(s) URL")
        secret = read_str(item, "secret", where, None)
        if len(secret) < 16:
            raise ConfigError(f"{where}.secret", "must be at least 16 characters")
        timeout = read_int(item, "timeout_seconds", where, 10, 1, 300)
        service_number = read_str(item, "service_number", where, "")
        if service_number and not service_number.isdigit():
            raise ConfigError(f"{where}.service_number", "must be digits")
        result[operator] = ChargingSettings(
            operator, url.rstrip("/"), secret, float(timeout), service_number
        )
    return result


def storage_dsn(table: Mapping[str, Any]) -> str:
    """`storage.dsn`: sqlite:///path, postgresql:// (or postgres://), or a bare file path
    (a SQLite file); any other scheme stops the start."""
    dsn = read_str(table, "dsn", "storage", DEFAULT_DSN)
    if not _URL_SCHEME.match(dsn):
        dsn = "sqlite:///" + dsn  # a file path names the SQLite file
    # imported here: the storage package pulls in the database drivers' modules
    from smsgw.storage import parse_dsn

    parse_dsn(dsn)  # ConfigError naming storage.dsn for any other scheme
    return dsn


def require_charging_for_links(
    links: Iterable[LinkSettings],
    charging: Mapping[str, ChargingSettings],
    operators: Mapping[str, OperatorPolicy],
) -> None:
    """A link of an operator whose subscribers can pay needs that operator's charging API."""
    for index, link in enumerate(links):
        if operators[link.operator].supported and link.operator not in charging:
            raise ConfigError(
                f"links[{index}].operator",
                f"{link.operator!r} takes payments but has no [charging.{link.operator}] section",
            )
