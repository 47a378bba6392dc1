"""What the service is configured with, and the two things injected everywhere: a clock
and an id factory.

The domain never reads a clock; the service reads one only through `Clock`, so tests
drive time by hand and a unit of work stays a pure function of its inputs (it is given
`now` and a fresh id seed before it starts, and may be run again with the same ones).
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import timedelta
from typing import Protocol

from smsgw.commands import ParseSettings, ZoneExample
from smsgw.domain.operators import OperatorPolicy, operator_by_number
from smsgw.domain.tariffs import Zone
from smsgw.language import Language


class IdFactory(Protocol):
    def __call__(self) -> str:
        """A fresh id, unique across nodes and restarts (charge ids reach operators)."""


def random_id() -> str:
    return uuid.uuid4().hex


@dataclass(frozen=True, slots=True)
class Backoff:
    """Delays that grow with the number of attempts (or the age of the work), capped."""

    first: timedelta
    cap: timedelta
    factor: int = 2

    def delay(self, attempts: int) -> timedelta:
        exponent = max(0, min(attempts - 1, 30))
        grown = self.first * int(self.factor**exponent)
        return min(grown, self.cap)

    def delay_for_age(self, age: timedelta) -> timedelta:
        """When no attempt count is stored: wait about as long as the work is old."""
        return min(max(self.first, age), self.cap)


@dataclass(frozen=True, slots=True)
class ServiceSettings:
    default_language: Language = Language.RU
    short_number: str = "7757"
    reminder_minutes: int = 10
    confirmation_timeout: timedelta = timedelta(minutes=15)
    parse: ParseSettings = field(default_factory=ParseSettings)
    # the gateway's public URL: charge callbacks come to {base}/charging/{operator}/callback
    callback_base_url: str = ""
    node_id: str = "node"
    lease_seconds: float = 60.0
    batch_size: int = 100
    # the number the operator's own confirmation SMS comes from (pay.charge_requested)
    operator_numbers: Mapping[str, str] = field(default_factory=dict)
    # shared secrets that sign each operator's charge callbacks
    charging_secrets: Mapping[str, str | bytes] = field(default_factory=dict)
    outbox_backoff: Backoff = Backoff(timedelta(seconds=5), timedelta(minutes=10))
    outbox_max_attempts: int = 12
    outbox_concurrency: int = 32
    # a charge request without a usable answer is asked again with this back-off
    charge_backoff: Backoff = Backoff(timedelta(seconds=15), timedelta(minutes=2))
    # once the operator took a request, its status is polled this often: the fallback
    # for a callback that never comes
    charge_poll_interval: timedelta = timedelta(minutes=1)
    # after our own timeout a charge is still polled for a while: if the operator took
    # the money late, it must reach the parking account
    late_poll_window: timedelta = timedelta(hours=24)
    late_poll_interval: timedelta = timedelta(minutes=10)
    # background loops: how often they look for work nobody woke them for
    inbound_sweep_seconds: float = 5.0
    outbox_sweep_seconds: float = 5.0
    scheduler_tick_seconds: float = 1.0
    # a delivery receipt whose submit_sm_resp has not come is held this long, then
    # logged and counted as unmatched (a resp comes within seconds or not at all)
    receipt_hold_seconds: float = 600.0

    def __post_init__(self) -> None:
        if self.reminder_minutes < 0:
            raise ValueError("reminder_minutes must not be negative")
        if self.confirmation_timeout <= timedelta(0):
            raise ValueError("confirmation_timeout must be positive")
        if self.lease_seconds <= 0 or self.batch_size < 1 or self.outbox_concurrency < 1:
            raise ValueError("lease_seconds, batch_size and outbox_concurrency must be positive")

    def callback_url(self, operator_id: str) -> str:
        return f"{self.callback_base_url.rstrip('/')}/charging/{operator_id}/callback"


@dataclass(frozen=True, slots=True)
class Deployment:
    """Everything about a city the service needs: zones, operators and settings."""

    zones: Mapping[str, Zone]
    operators: Mapping[str, OperatorPolicy]
    settings: ServiceSettings = field(default_factory=ServiceSettings)

    def __post_init__(self) -> None:
        # the examples in replies name this deployment's zones (commands/examples.py)
        parse = self.settings.parse
        if not parse.zones and self.zones:
            examples = tuple(zone_example(zone) for zone in self.zones.values())
            settings = replace(self.settings, parse=replace(parse, zones=examples))
            object.__setattr__(self, "settings", settings)

    def policy(self, operator_id: str | None) -> OperatorPolicy | None:
        if operator_id is None:
            return None
        return self.operators.get(operator_id)

    def currency_for(self, operator_id: str | None) -> str:
        """The currency a phone's parking account is shown in: its operator's, else the
        first zone's (a deployment bills in one currency in practice)."""
        policy = self.policy(operator_id)
        if policy is not None:
            return policy.currency
        for zone in self.zones.values():
            return zone.currency
        return "RUB"

    def language_for(self, chosen: Language | None) -> Language:
        return chosen or self.settings.default_language

    def operator_for(self, msisdn: str, last_seen: str | None) -> str | None:
        """The phone's operator: the one it last texted through, else the one its number
        range belongs to (numbers are ported, so the range is only a fallback); None when
        neither is known."""
        if last_seen:
            return last_seen
        guessed = operator_by_number(self.operators, msisdn)
        return None if guessed is None else guessed.id


# whose plates park in a zone, told by the money it is paid in
PLATE_COUNTRY_OF_CURRENCY: Mapping[str, str] = {"RUB": "ru", "KZT": "kz"}


def zone_example(zone: Zone) -> ZoneExample:
    return ZoneExample(
        number=zone.number,
        country=PLATE_COUNTRY_OF_CURRENCY.get(zone.currency, "ru"),
        max_hours=zone.max_hours,
    )
