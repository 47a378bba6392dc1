"""config.toml → typed settings. Every setting has a safe default; a bad one raises
`ConfigError` whose message starts with the key (`http.port: must be …`), and
`smsgw check-config` / `smsgw serve` print it and stop.

Zones come from `[[zones]]` (smsgw.domain.tariffs), operators from `operators/*.toml`
(smsgw.domain.operators); this module reads the rest and the files.
"""

from __future__ import annotations

import dataclasses
import difflib
import ipaddress
import re
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, get_type_hints

from smsgw.domain.errors import ConfigError
from smsgw.domain.language import Language
from smsgw.domain.operators import OperatorPolicy, load_operators
from smsgw.domain.tariffs import WINDOW_KEYS, ZONE_KEYS, Zone, zones_from_config

LinkKind = Literal["smpp", "kannel"]
BindModeName = Literal["transceiver", "transmitter_receiver"]


@dataclass(frozen=True, slots=True)
class GatewaySettings:
    short_number: str = "7757"
    default_language: Language = Language.RU
    node_id: str = ""  # empty: hostname and pid
    reminder_minutes: int = 10
    confirmation_timeout_minutes: int = 15
    plate_formats: tuple[str, ...] = ("ru", "kz")
    max_hours: int = 24
    drain_seconds: int = 10  # how long a stop waits for work in flight before leaving it
    # more numbers the deployment answers on (SMPP MO to any other number are refused)
    short_numbers: tuple[str, ...] = ()
    # a long MO whose parts have not all come this long after the first is dropped and
    # its sender told so
    mo_parts_timeout_seconds: int = 300

    @property
    def all_short_numbers(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys((self.short_number, *self.short_numbers)))


@dataclass(frozen=True, slots=True)
class HttpSettings:
    host: str = "127.0.0.1"
    port: int = 8080
    api_token: str = ""  # empty: the operations API refuses everything but /health
    public_url: str = ""  # base of the callback URLs given to operators
    max_body_bytes: int = 64 * 1024
    read_timeout_seconds: float = 30.0  # for a request's headers and body
    max_connections: int = 1000  # open at once; more are closed on accept


@dataclass(frozen=True, slots=True)
class LoggingSettings:
    level: str = "info"
    json: bool = True
    log_message_text: bool = False


@dataclass(frozen=True, slots=True)
class LinkSettings:
    """One way in and out for one operator: an SMPP bind or a Kannel box."""

    id: str
    operator: str
    kind: LinkKind
    host: str = "127.0.0.1"
    port: int = 2775
    system_id: str = ""
    password: str = ""
    system_type: str = ""
    bind_mode: BindModeName = "transceiver"
    window: int = 10
    segments_per_second: float = 50.0
    enquire_link_seconds: float = 30.0
    sendsms_url: str = ""
    username: str = ""
    smsc: str = ""
    # kannel links: the credential every MO and delivery report must carry (?secret= in
    # Kannel's get-url and dlr-url, or basic auth), and the networks they may come from
    secret: str = ""
    allowed_networks: tuple[str, ...] = ()
    # deliver_sm handled at once on this link; beyond it the link stops reading
    mo_in_flight: int = 64


@dataclass(frozen=True, slots=True)
class ChargingSettings:
    operator: str
    url: str
    secret: str
    timeout_seconds: float = 10.0
    service_number: str = ""  # the number the operator's own confirmation SMS comes from


@dataclass(frozen=True, slots=True)
class RetentionSettings:
    """How long stored rows are kept; rows still needed are kept whatever their age."""

    inbound_days: int = 90  # MO texts
    outbox_days: int = 90  # replies sent (or given up)
    charges_days: int = 365  # finished operator charges (the ledger itself is kept)
    batch_rows: int = 500  # rows deleted per transaction
    interval_minutes: int = 60  # how often the prune job runs


@dataclass(frozen=True, slots=True)
class AppConfig:
    gateway: GatewaySettings
    storage_dsn: str
    http: HttpSettings
    logging: LoggingSettings
    links: tuple[LinkSettings, ...]
    charging: Mapping[str, ChargingSettings]
    zones: Mapping[str, Zone]
    operators: Mapping[str, OperatorPolicy]
    raw: Mapping[str, Any] = field(repr=False, default_factory=dict)
    retention: RetentionSettings = field(default_factory=RetentionSettings)


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
    charging = _charging(_table(raw, "charging"), operators)
    require_charging_for_links(links, charging, operators)
    return AppConfig(
        gateway=_gateway(_table(raw, "gateway")),
        storage_dsn=storage_dsn(_table(raw, "storage")),
        http=_http(_table(raw, "http")),
        logging=_logging(_table(raw, "logging")),
        links=links,
        charging=charging,
        zones=zones_from_config(raw),
        operators=operators,
        raw=raw,
        retention=_retention(_table(raw, "retention")),
    )


def _gateway(table: Mapping[str, Any]) -> GatewaySettings:
    where = "gateway"
    language = _str(table, "default_language", where, "ru")
    try:
        default_language = Language(language.lower())
    except ValueError:
        raise ConfigError(f"{where}.default_language", "must be ru, kk or en") from None
    short_number = _str(table, "short_number", where, "7757")
    if not short_number.isdigit():
        raise ConfigError(f"{where}.short_number", "must be digits")
    formats = table.get("plate_formats", ["ru", "kz"])
    if not isinstance(formats, list) or not formats or not all(f in ("ru", "kz") for f in formats):
        raise ConfigError(f"{where}.plate_formats", 'must be a non-empty list of "ru", "kz"')
    return GatewaySettings(
        short_number=short_number,
        default_language=default_language,
        node_id=_str(table, "node_id", where, ""),
        reminder_minutes=_int(table, "reminder_minutes", where, 10, 0, 24 * 60),
        confirmation_timeout_minutes=_int(
            table, "confirmation_timeout_minutes", where, 15, 1, 24 * 60
        ),
        plate_formats=tuple(formats),
        max_hours=_int(table, "max_hours", where, 24, 1, 24 * 31),
        drain_seconds=_int(table, "drain_seconds", where, 10, 0, 600),
        short_numbers=_short_numbers(table, where),
        mo_parts_timeout_seconds=_int(table, "mo_parts_timeout_seconds", where, 300, 10, 86400),
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
        host=_str(table, "host", where, "127.0.0.1"),
        port=_int(table, "port", where, 8080, 0, 65535),
        api_token=_str(table, "api_token", where, ""),
        public_url=_str(table, "public_url", where, "").rstrip("/"),
        max_body_bytes=_int(table, "max_body_bytes", where, 64 * 1024, 1024, 16 * 1024 * 1024),
        read_timeout_seconds=float(_int(table, "read_timeout_seconds", where, 30, 1, 600)),
        max_connections=_int(table, "max_connections", where, 1000, 1, 100_000),
    )


def _retention(table: Mapping[str, Any]) -> RetentionSettings:
    where = "retention"
    return RetentionSettings(
        inbound_days=_int(table, "inbound_days", where, 90, 1, 36500),
        outbox_days=_int(table, "outbox_days", where, 90, 1, 36500),
        charges_days=_int(table, "charges_days", where, 365, 1, 36500),
        batch_rows=_int(table, "batch_rows", where, 500, 1, 100_000),
        interval_minutes=_int(table, "interval_minutes", where, 60, 1, 24 * 60),
    )


def _logging(table: Mapping[str, Any]) -> LoggingSettings:
    where = "logging"
    level = _str(table, "level", where, "info").lower()
    if level not in ("debug", "info", "warning", "error"):
        raise ConfigError(f"{where}.level", "must be debug, info, warning or error")
    return LoggingSettings(
        level=level,
        json=_bool(table, "json", where, True),
        log_message_text=_bool(table, "log_message_text", where, False),
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
    operator = _str(item, "operator", where, None)
    if operator not in operators:
        raise ConfigError(
            f"{where}.operator",
            f"unknown operator {operator!r}: no {operator}.toml among the operator files "
            f"({', '.join(sorted(operators)) or 'none'})",
        )
    kind = _str(item, "type", where, "smpp")
    if kind not in ("smpp", "kannel"):
        raise ConfigError(f"{where}.type", 'must be "smpp" or "kannel"')
    bind_mode = _str(item, "bind_mode", where, "transceiver")
    if bind_mode not in ("transceiver", "transmitter_receiver"):
        raise ConfigError(f"{where}.bind_mode", 'must be "transceiver" or "transmitter_receiver"')
    link = LinkSettings(
        id=_str(item, "id", where, None),
        operator=operator,
        kind=kind,  # type: ignore[arg-type]  # checked just above
        host=_str(item, "host", where, "127.0.0.1"),
        port=_int(item, "port", where, 2775, 1, 65535),
        system_id=_str(item, "system_id", where, ""),
        password=_str(item, "password", where, ""),
        system_type=_str(item, "system_type", where, ""),
        bind_mode=bind_mode,  # type: ignore[arg-type]  # checked just above
        window=_int(item, "window", where, 10, 1, 1000),
        segments_per_second=float(_int(item, "segments_per_second", where, 50, 1, 100_000)),
        enquire_link_seconds=float(_int(item, "enquire_link_seconds", where, 30, 1, 3600)),
        sendsms_url=_str(item, "sendsms_url", where, ""),
        username=_str(item, "username", where, ""),
        smsc=_str(item, "smsc", where, ""),
        secret=_str(item, "secret", where, ""),
        allowed_networks=_networks(item, where),
        mo_in_flight=_int(item, "mo_in_flight", where, 64, 1, 10_000),
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
        url = _str(item, "url", where, None)
        if not url.startswith(("http://", "https://")):
            raise ConfigError(f"{where}.url", "must be an http(s) URL")
        secret = _str(item, "secret", where, None)
        if len(secret) < 16:
            raise ConfigError(f"{where}.secret", "must be at least 16 characters")
        timeout = _int(item, "timeout_seconds", where, 10, 1, 300)
        service_number = _str(item, "service_number", where, "")
        if service_number and not service_number.isdigit():
            raise ConfigError(f"{where}.service_number", "must be digits")
        result[operator] = ChargingSettings(
            operator, url.rstrip("/"), secret, float(timeout), service_number
        )
    return result


# --- secrets fit for production ------------------------------------------------------------

# Secrets of the published demo configuration (config.toml): anyone can read them.
DEMO_SECRETS = frozenset(
    {
        "demo-token-change-me",
        *(f"{op}-demo-secret-change-me" for op in ("mts", "megafon", "beeline", "t2", "kcell")),
    }
)
DEMO_MARKER = "change-me"
MIN_SECRET_BYTES = 16


def production_secret_problems(config: AppConfig) -> list[str]:
    """What makes `config` unfit to serve real traffic: each problem names its key.

    `smsgw serve` and `smsgw check-config` refuse a configuration with any; only
    `smsgw demo` runs on the published demo secrets.
    """
    # an empty api_token is no token: the operations API then refuses everything
    secrets: list[tuple[str, str]] = (
        [("http.api_token", config.http.api_token)] if config.http.api_token else []
    )
    secrets += [(f"charging.{op}.secret", s.secret) for op, s in config.charging.items()]
    secrets += [
        (f"links[{index}].secret", link.secret)
        for index, link in enumerate(config.links)
        if link.kind == "kannel"
    ]
    return [f"{key}: {reason}" for key, value in secrets if (reason := _weakness(value))]


def _weakness(secret: str) -> str | None:
    if secret in DEMO_SECRETS or DEMO_MARKER in secret.lower():
        return "is the published demo value; set a secret of your own"
    if len(secret.encode("utf-8")) < MIN_SECRET_BYTES:
        return f"must be at least {MIN_SECRET_BYTES} bytes"
    return None


# --- strictness: a key the loader does not read is a mistake, not a no-op -------------------

OPERATORS_DIR_KEY = "operators_dir"
DEFAULT_OPERATORS_DIR = "operators"
DEFAULT_DSN = "sqlite:///var/smsgw.sqlite3"
STORAGE_KEYS = frozenset({"dsn"})
_URL_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*:")  # mysql:, sqlite:, postgresql:
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
        reject_unknown_keys(_table(raw, name), keys, name)
    reject_unknown_keys(_table(raw, "storage"), STORAGE_KEYS, "storage")
    links = raw.get("links", [])
    link_keys = _field_keys(LinkSettings)
    for index, link in enumerate(links if isinstance(links, list) else []):
        if isinstance(link, Mapping):
            reject_unknown_keys(link, link_keys, f"links[{index}]")
    charging_keys = _field_keys(ChargingSettings) - {"operator"}
    for operator, table in _table(raw, "charging").items():
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


def storage_dsn(table: Mapping[str, Any]) -> str:
    """`storage.dsn`: sqlite:///path, postgresql:// (or postgres://), or a bare file path
    (a SQLite file); any other scheme stops the start."""
    dsn = _str(table, "dsn", "storage", DEFAULT_DSN)
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


# --- typed readers -----------------------------------------------------------------------


def _table(parent: Mapping[str, Any], name: str) -> Mapping[str, Any]:
    value = parent.get(name, {})
    if not isinstance(value, Mapping):
        raise ConfigError(name, "must be a table")
    return value


def _str(table: Mapping[str, Any], name: str, where: str, default: str | None) -> str:
    value = table.get(name, default)
    if value is None:
        raise ConfigError(f"{where}.{name}", "is required")
    if not isinstance(value, str):
        raise ConfigError(f"{where}.{name}", f"must be a string, got {value!r}")
    return value


def _int(table: Mapping[str, Any], name: str, where: str, default: int, low: int, high: int) -> int:
    value = table.get(name, default)
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
        raise ConfigError(
            f"{where}.{name}", f"must be a whole number from {low} to {high}, got {value!r}"
        )
    return value


def _bool(table: Mapping[str, Any], name: str, where: str, default: bool) -> bool:
    value = table.get(name, default)
    if not isinstance(value, bool):
        raise ConfigError(f"{where}.{name}", f"must be true or false, got {value!r}")
    return value
