"""What a stay in a zone costs, and what an early stop gives back.

The billing rule, precisely:

1. The paid stretches of [start, end) (see `tariffs.paid_intervals`) are added up, to
   the second: a stay that runs into the free night, over a lunch break or across a
   holiday counts only the paid time it covers.
2. That sum is rounded up ONCE to the zone's billing step: `paid_minutes`. In a
   60-minute zone paid 08:00–20:00, 19:30 + 13 h covers 30 + 30 paid minutes and is
   charged one hour, not two (each stretch rounded by itself would make two).
3. amount = ceil(paid_minutes × price_per_hour.minor / 60), rounded up to the minor unit,
   or to whole currency units in a zone with `round_to_whole`.

A session is always priced as a whole: an extension costs the price of the extended
session minus what was already paid (`extension_price`), and an early stop keeps the
price of [start, stop) and returns the rest (`refund_for_stop`). So the money a session
took is exactly the price of the time it ran, rounded once, and a refund can never be
negative (the price never shrinks as the end moves later).

Durations are absolute (elapsed) time: H hours bought at `start` end at start + H·3600 s
whatever the wall clock does at a DST change in between.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from smsgw.domain.money import Money, minor_unit_digits
from smsgw.domain.tariffs import MINUTES_PER_HOUR, Zone, as_utc, paid_intervals


@dataclass(frozen=True, slots=True)
class Quote:
    """The price of [start, end) in one zone; times are in the zone's local time."""

    zone: str
    start: datetime
    end: datetime
    paid_minutes: int
    amount: Money

    @property
    def is_free(self) -> bool:
        return self.paid_minutes == 0


@dataclass(frozen=True, slots=True)
class Refund:
    """An early stop: money used up to `billed_until`, the rest goes back to the account."""

    billed_until: datetime
    used: Money
    refund: Money


def price(zone: Zone, start: datetime, end: datetime) -> Quote:
    start_utc, end_utc = as_utc(start), as_utc(end)
    if end_utc < start_utc:
        raise ValueError(f"end {end.isoformat()} is before start {start.isoformat()}")
    paid_minutes = charged_steps(zone, start_utc, end_utc) * zone.step_minutes
    return Quote(
        zone=zone.number,
        start=start_utc.astimezone(zone.tz),
        end=end_utc.astimezone(zone.tz),
        paid_minutes=paid_minutes,
        amount=amount_for_minutes(zone, paid_minutes),
    )


def paid_time(zone: Zone, start: datetime, end: datetime) -> timedelta:
    """The paid time [start, end) covers, summed over its paid stretches."""
    return sum((high - low for low, high in paid_intervals(zone, as_utc(start), end)), timedelta())


def charged_steps(zone: Zone, start: datetime, end: datetime) -> int:
    """The paid time of [start, end), summed, in billing steps rounded up once."""
    return _ceil_div(paid_time(zone, start, end), zone.step)


def amount_for_minutes(zone: Zone, paid_minutes: int) -> Money:
    price_minor = zone.price_per_hour.minor
    minor = _ceil_int(paid_minutes * price_minor, MINUTES_PER_HOUR)
    if zone.round_to_whole:
        unit = 10 ** minor_unit_digits(zone.currency)
        minor = _ceil_int(minor, unit) * unit
    return Money(minor, zone.currency)


def end_for(zone: Zone, start: datetime, hours: int) -> datetime:
    """The end of a session bought for `hours` at `start`: elapsed time, zone-local."""
    if isinstance(hours, bool) or not isinstance(hours, int) or hours < 0:
        raise ValueError(f"hours must be a whole number ≥ 0, got {hours!r}")
    return (as_utc(start) + timedelta(hours=hours)).astimezone(zone.tz)


def extension_price(
    zone: Zone, start: datetime, old_end: datetime, new_end: datetime, paid: Money | None = None
) -> Money:
    """What moving a session's end from old_end to new_end costs: the extended session's
    price minus what was already paid (by default, the price of [start, old_end))."""
    already = price(zone, start, old_end).amount if paid is None else paid
    added = price(zone, start, new_end).amount - already
    return added if not added.is_negative else Money.zero(zone.currency)


def billed_until(zone: Zone, start: datetime, end: datetime, stop: datetime) -> datetime:
    """Where an early stop's billing ends: the stop itself, within [start, end]. The
    used time's paid minutes are rounded up to the step once, by `price`."""
    start_utc, end_utc, stop_utc = as_utc(start), as_utc(end), as_utc(stop)
    return min(max(stop_utc, start_utc), end_utc).astimezone(zone.tz)


def refund_for_stop(
    zone: Zone, start: datetime, end: datetime, stop: datetime, prepaid: Money
) -> Refund:
    """Unused money = prepaid − price(start, stop), 0 ≤ it ≤ prepaid."""
    if prepaid.is_negative:
        raise ValueError("prepaid must not be negative")
    until = billed_until(zone, start, end, stop)
    used = min(price(zone, start, until).amount, prepaid)
    return Refund(billed_until=until, used=used, refund=prepaid - used)


def _ceil_div(duration: timedelta, step: timedelta) -> int:
    return -(-duration // step)


def _ceil_int(numerator: int, denominator: int) -> int:
    return -(-numerator // denominator)
