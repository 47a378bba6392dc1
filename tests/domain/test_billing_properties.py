from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from smsgw.domain.billing import (
    billed_until,
    end_for,
    extension_price,
    price,
    refund_for_stop,
)
from smsgw.domain.money import Money
from smsgw.domain.tariffs import PaidWindow, Zone, paid_intervals

TIME_ZONES = ("Europe/Moscow", "Asia/Almaty", "Europe/Berlin", "America/New_York")
STEPS = (1, 2, 5, 15, 30, 60)
PROPERTY_SETTINGS = settings(max_examples=200, deadline=None)


@st.composite
def windows(draw: st.DrawFn) -> PaidWindow:
    start = draw(st.integers(0, 24 * 60 - 1))
    end = draw(st.integers(start + 1, 24 * 60))
    return PaidWindow(draw(st.integers(0, 6)), start, end)


@st.composite
def zones(draw: st.DrawFn) -> Zone:
    return Zone(
        number="1",
        name="property",
        time_zone=draw(st.sampled_from(TIME_ZONES)),
        price_per_hour=Money(draw(st.integers(0, 50_000)), "RUB"),
        paid_windows=tuple(draw(st.lists(windows(), max_size=6))),
        holidays=frozenset(draw(st.lists(st.dates(date(2026, 3, 1), date(2026, 11, 30))))),
        step_minutes=draw(st.sampled_from(STEPS)),
    )


@st.composite
def moments(draw: st.DrawFn, zone: Zone) -> datetime:
    # around both 2026 DST changes of the zones that have them, and ordinary days
    day = draw(st.sampled_from((date(2026, 3, 8), date(2026, 3, 28), date(2026, 10, 24))))
    seconds = draw(st.integers(0, 3 * 24 * 3600))
    # elapsed time is added in UTC: wall-clock arithmetic in the zone would produce local
    # times inside a DST gap (02:59:59 in New York on 2026-03-08), which no clock shows
    midnight = datetime.combine(day, datetime.min.time(), tzinfo=zone.tz).astimezone(UTC)
    return (midnight + timedelta(seconds=seconds)).astimezone(zone.tz)


def later(moment: datetime, elapsed: timedelta) -> datetime:
    """`moment` plus real elapsed time, in the same zone."""
    return (moment.astimezone(UTC) + elapsed).astimezone(moment.tzinfo)


durations = st.integers(0, 30 * 3600).map(lambda seconds: timedelta(seconds=seconds))


@PROPERTY_SETTINGS
@given(st.data(), zones(), durations, st.booleans())
def test_a_session_costs_its_paid_time_rounded_up_once_to_the_step(
    data: st.DataObject, zone: Zone, duration: timedelta, whole_units: bool
) -> None:
    zone = replace(zone, round_to_whole=whole_units)
    start = data.draw(moments(zone))
    end = (start.astimezone(UTC) + duration).astimezone(zone.tz)
    paid = sum((high - low for low, high in paid_intervals(zone, start, end)), timedelta())
    steps = -(-paid // zone.step)
    rounded_once = -(-(steps * zone.step_minutes * zone.price_per_hour.minor) // 60)
    if whole_units:
        rounded_once = -(-rounded_once // 100) * 100
    quote = price(zone, start, end)
    assert quote.paid_minutes == steps * zone.step_minutes
    assert quote.amount.minor <= rounded_once


@PROPERTY_SETTINGS
@given(st.data(), zones(), st.integers(1, 23), st.integers(1, 23))
def test_a_session_extended_costs_what_it_would_cost_bought_whole(
    data: st.DataObject, zone: Zone, hours: int, more: int
) -> None:
    start = data.draw(moments(zone))
    old_end = end_for(zone, start, hours)
    new_end = end_for(zone, start, hours + more)
    paid = price(zone, start, old_end).amount
    added = extension_price(zone, start, old_end, new_end, paid)
    assert paid + added == price(zone, start, new_end).amount


@PROPERTY_SETTINGS
@given(st.data(), zones(), st.integers(1, 23))
def test_the_price_grows_with_the_hours_bought(data: st.DataObject, zone: Zone, hours: int) -> None:
    start = data.draw(moments(zone))
    shorter = price(zone, start, end_for(zone, start, hours)).amount
    longer = price(zone, start, end_for(zone, start, hours + 1)).amount
    assert shorter <= longer


@PROPERTY_SETTINGS
@given(st.data(), zones(), durations, durations)
def test_price_is_never_negative_and_grows_with_the_end(
    data: st.DataObject, zone: Zone, first: timedelta, more: timedelta
) -> None:
    start = data.draw(moments(zone))
    shorter, longer = (
        price(zone, start, later(start, first)),
        price(zone, start, later(start, first + more)),
    )
    assert not shorter.amount.is_negative
    assert shorter.paid_minutes <= longer.paid_minutes
    assert shorter.amount <= longer.amount


@PROPERTY_SETTINGS
@given(st.data(), zones(), durations)
def test_charged_minutes_cover_the_paid_time_and_no_more_than_the_steps(
    data: st.DataObject, zone: Zone, duration: timedelta
) -> None:
    start = data.draw(moments(zone))
    end = later(start, duration)
    paid_seconds = sum(
        (high - low).total_seconds() for low, high in paid_intervals(zone, start, end)
    )
    quote = price(zone, start, end)
    assert quote.paid_minutes * 60 >= paid_seconds
    steps_in_interval = -(-duration // zone.step)
    assert quote.paid_minutes <= steps_in_interval * zone.step_minutes
    assert (quote.paid_minutes == 0) == (paid_seconds == 0)


@PROPERTY_SETTINGS
@given(st.data(), zones(), durations)
def test_a_wholly_free_interval_costs_nothing(
    data: st.DataObject, zone: Zone, duration: timedelta
) -> None:
    start = data.draw(moments(zone))
    free_zone = Zone("2", "free", zone.time_zone, zone.price_per_hour, ())
    assert price(free_zone, start, later(start, duration)).amount.is_zero
    day = start.astimezone(zone.tz).date()
    holiday_zone = Zone(
        "3", "holiday", zone.time_zone, zone.price_per_hour, zone.paid_windows, frozenset({day})
    )
    midnight = datetime.combine(day, datetime.min.time(), tzinfo=zone.tz)
    assert price(holiday_zone, midnight, midnight + timedelta(hours=23)).amount.is_zero


@PROPERTY_SETTINGS
@given(st.data(), zones(), st.integers(1, 24), st.integers(0, 25 * 3600))
def test_used_plus_refund_is_prepaid_and_refund_is_never_negative(
    data: st.DataObject, zone: Zone, hours: int, stop_after_seconds: int
) -> None:
    start = data.draw(moments(zone))
    end = end_for(zone, start, hours)
    prepaid = price(zone, start, end).amount
    stop = later(start, timedelta(seconds=stop_after_seconds))
    refund = refund_for_stop(zone, start, end, stop, prepaid)
    assert refund.used + refund.refund == prepaid
    assert Money.zero("RUB") <= refund.refund <= prepaid
    # the used part is exactly the price up to the rounded stop: never clipped by prepaid
    assert refund.used == price(zone, start, billed_until(zone, start, end, stop)).amount


@PROPERTY_SETTINGS
@given(
    st.sampled_from(TIME_ZONES), st.sampled_from(STEPS), st.integers(0, 366 * 24 * 60), durations
)
def test_an_always_paid_zone_charges_every_started_step(
    time_zone: str, step: int, minute_of_year: int, duration: timedelta
) -> None:
    zone = Zone(
        "4",
        "always",
        time_zone,
        Money(6000, "RUB"),
        tuple(PaidWindow(day, 0, 24 * 60) for day in range(7)),
        step_minutes=step,
    )
    start = datetime(2026, 1, 1, tzinfo=ZoneInfo(time_zone)) + timedelta(minutes=minute_of_year)
    # elapsed time is added in UTC: `aware + timedelta` in one tzinfo is wall-clock
    # arithmetic, which is an hour off across a DST change
    end = (start.astimezone(UTC) + duration).astimezone(start.tzinfo)
    steps = -(-duration // zone.step)
    assert price(zone, start, end).paid_minutes == steps * step
