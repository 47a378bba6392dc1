"""The settings, states and counters of an ESME link, checked before any connection."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum

from smsgw.smpp.codec import encode
from smsgw.smpp.errors import SmppError
from smsgw.smpp.events import BindRequest
from smsgw.smpp.pacing import PacingConfig
from smsgw.smpp.pdu import BindTransceiver
from smsgw.smpp.session import SessionConfig


class BindMode(Enum):
    TRANSCEIVER = "transceiver"
    TRANSMITTER_RECEIVER = "transmitter+receiver"


class LinkState(Enum):
    CONNECTING = "connecting"
    BOUND = "bound"
    BACKING_OFF = "backing_off"
    CLOSED = "closed"


@dataclass(frozen=True, slots=True)
class EsmeLinkConfig:
    host: str
    port: int
    system_id: str
    password: str
    system_type: str = ""
    address_range: str = ""
    bind_mode: BindMode = BindMode.TRANSCEIVER
    session: SessionConfig = field(default_factory=SessionConfig)
    connect_timeout: float = 10.0
    # The operator's cap, in segments (SMS parts) per second, and the burst allowed.
    segments_per_second: float = 50.0
    segment_burst: int = 10
    reconnect_initial_delay: float = 1.0
    reconnect_max_delay: float = 60.0
    reconnect_jitter: float = 0.2
    throttle_initial_pause: float = 1.0
    throttle_max_pause: float = 30.0
    # After this many ESME_RTHROTTLED answers in a row the throttled answer is returned.
    throttle_max_resends: int = 20
    # deliver_sm / data_sm being handled at once per bind; beyond it the bind stops
    # reading its socket until one is answered (TCP then holds the SMSC back)
    mo_in_flight: int = 64


@dataclass(slots=True)
class LinkStats:
    """Counters for metrics."""

    connects: int = 0
    bind_failures: int = 0
    segments_submitted: int = 0
    throttled: int = 0
    received: int = 0
    mo_in_flight_peak: int = 0  # the most deliver_sm ever handled at once on one bind
    receiver_binds: int = 0  # binds made that receive deliver_sm (transceiver, receiver)
    reading_paused: int = 0  # how often a bind stopped reading for back-pressure


def bind_request(config: EsmeLinkConfig, bind_class: type[BindRequest]) -> BindRequest:
    return bind_class(
        system_id=config.system_id,
        password=config.password,
        system_type=config.system_type,
        address_range=config.address_range,
    )


def check_config(config: EsmeLinkConfig) -> None:
    """Raise ValueError naming the setting that cannot work, before any connection."""
    try:
        encode(bind_request(config, BindTransceiver))
    except SmppError as error:
        raise ValueError(f"SMPP bind settings: {error}") from None
    positive = {
        "segments_per_second": config.segments_per_second,
        "connect_timeout": config.connect_timeout,
        "reconnect_max_delay": config.reconnect_max_delay,
        "throttle_max_pause": config.throttle_max_pause,
    }
    for name, value in positive.items():
        if value <= 0:
            raise ValueError(f"{name} must be positive, not {value}")
    if config.mo_in_flight < 1:
        raise ValueError(f"mo_in_flight must be at least 1, not {config.mo_in_flight}")
    if config.segment_burst < 1:
        raise ValueError(f"segment_burst must be at least 1, not {config.segment_burst}")
    if not 0.0 <= config.reconnect_jitter <= 1.0:
        raise ValueError(f"reconnect_jitter must be within 0..1, not {config.reconnect_jitter}")


def pacing_config(config: EsmeLinkConfig) -> PacingConfig:
    """The link's timing settings, for its `LinkPacing` policy."""
    return PacingConfig(
        segments_per_second=config.segments_per_second,
        segment_burst=config.segment_burst,
        reconnect_initial_delay=config.reconnect_initial_delay,
        reconnect_max_delay=config.reconnect_max_delay,
        jitter=config.reconnect_jitter,
        throttle_initial_pause=config.throttle_initial_pause,
        throttle_max_pause=config.throttle_max_pause,
    )
