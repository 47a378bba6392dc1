"""What a stay in a zone costs, and what an early stop gives back.

The billing rule, precisely:

1. The interval [start, end) is cut into billing steps counted from `start`
   (start, start + step, start + 2·step, …; the last step may be cut short by `end`).
2. A step that holds any paid time (see `tariffs.paid_intervals`) is charged as a whole
   step; a step wholly in free time (night, Sunday, holiday) costs nothing.
   `paid_minutes` = charged steps × step minutes.
3. amount = ceil(paid_minutes × price_per_hour.minor / 60), rounded up to the minor unit
   once, over the whole interval.

Why steps counted from the start: charged minutes are then exactly additive over
adjacent intervals split at start + k·step (an extension adds whole hours to a session,
so it always splits there), whereas rounding per paid stretch or over the whole
interval is not. The amount's single rounding keeps it within one minor unit of the
sum of the parts; extensions are therefore priced as the difference of whole-session
prices (`extension_price`), so a session's prepaid money is always exactly
price(start, end) and a refund can never go negative.

Durations are absolute (elapsed) time: H hours bought at `start` end at start + H·3600 s
whatever the wall clock does at a DST change in between.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from smsgw.domain.money import Money
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


def charged_steps(zone: Zone, start: datetime, end: datetime) -> int:
    """How many billing steps of [start, end), counted from start, hold paid time."""
    start_utc = as_utc(start)
    step = zone.step
    count = 0
    next_uncounted = 0  # paid stretches are sorted, so step indices only grow
    for low, high in paid_intervals(zone, start_utc, end):
        first = max((low - start_utc) // step, next_uncounted)
        past_last = _ceil_div(high - start_utc, step)
        if past_last > first:
            count += past_last - first
            next_uncounted = past_last
    return count


def amount_for_minutes(zone: Zone, paid_minutes: int) -> Money:
    price_minor = zone.price_per_hour.minor
    return Money(_ceil_int(paid_minutes * price_minor, MINUTES_PER_HOUR), zone.currency)


def end_for(zone: Zone, start: datetime, hours: int) -> datetime:
    """The end of a session bought for `hours` at `start`: elapsed time, zone-local."""
    if isinstance(hours, bool) or not isinstance(hours, int) or hours < 0:
        raise ValueError(f"hours must be a whole number ≥ 0, got {hours!r}")
    return (as_utc(start) + timedelta(hours=hours)).astimezone(zone.tz)


def extension_price(zone: Zone, start: datetime, old_end: datetime, new_end: datetime) -> Money:
    """What moving a session's end from old_end to new_end costs (whole-session difference)."""
    added = price(zone, start, new_end).amount - price(zone, start, old_end).amount
    return added if not added.is_negative else Money.zero(zone.currency)


def billed_until(zone: Zone, start: datetime, end: datetime, stop: datetime) -> datetime:
    """The stop time rounded up to the billing step from start, within [start, end]."""
    start_utc, end_utc, stop_utc = as_utc(start), as_utc(end), as_utc(stop)
    if stop_utc <= start_utc:
        return start_utc.astimezone(zone.tz)
    rounded = start_utc + zone.step * _ceil_div(stop_utc - start_utc, zone.step)
    return min(rounded, end_utc).astimezone(zone.tz)


def refund_for_stop(
    zone: Zone, start: datetime, end: datetime, stop: datetime, prepaid: Money
) -> Refund:
    """Unused money = prepaid − price(start, stop rounded up to the step), 0 ≤ it ≤ prepaid."""
    if prepaid.is_negative:
        raise ValueError("prepaid must not be negative")
    until = billed_until(zone, start, end, stop)
    used = min(price(zone, start, until).amount, prepaid)
    return Refund(billed_until=until, used=used, refund=prepaid - used)


def _ceil_div(duration: timedelta, step: timedelta) -> int:
    return -(-duration // step)


def _ceil_int(numerator: int, denominator: int) -> int:
    return -(-numerator // denominator)
