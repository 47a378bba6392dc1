"""The typed settings config.toml turns into: one frozen dataclass per table.

Their fields are also the list of keys each table accepts (smsgw.config_strict reads
them), so a field added here is a known key at once. Reading and checking the values
is smsgw.config's work.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from smsgw.domain.operators import OperatorPolicy
from smsgw.domain.tariffs import Zone
from smsgw.language import Language

LinkKind = Literal["smpp", "kannel"]
BindModeName = Literal["transceiver", "transmitter_receiver"]


@dataclass(frozen=True, slots=True)
class GatewaySettings:
    short_number: str = "7757"
    default_language: Language = Language.RU
    node_id: str = ""  # empty: the host name (bootstrap.node_id)
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
class DriverSettings:
    """The driver API and cabinet (docs/driver-api.md): off unless `enabled`."""

    enabled: bool = False
    secret: str = ""  # signs sign-in codes, tokens and CSRF values; 16+ bytes
    code_ttl_seconds: int = 300  # a sign-in code is good this long
    token_ttl_hours: int = 720  # a sign-in lasts this long (30 days)
    code_resend_seconds: int = 60  # at most one code per phone this often
    codes_per_phone_per_hour: int = 5
    codes_per_source_per_hour: int = 20  # per client address
    code_attempts: int = 5  # wrong tries that kill a code
    max_vehicles: int = 10  # plates saved per phone


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
    driver: DriverSettings = field(default_factory=DriverSettings)
