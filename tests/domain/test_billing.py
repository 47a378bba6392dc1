from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from smsgw.domain.billing import (
    billed_until,
    end_for,
    extension_price,
    price,
    refund_for_stop,
)
from smsgw.domain.money import Money
from smsgw.domain.tariffs import PaidWindow, Zone

MOSCOW = ZoneInfo("Europe/Moscow")
ALMATY = ZoneInfo("Asia/Almaty")
BERLIN = ZoneInfo("Europe/Berlin")


def windows(days: range, start_hour: int, end_hour: int) -> tuple[PaidWindow, ...]:
    return tuple(PaidWindow(day, start_hour * 60, end_hour * 60) for day in days)


MOSCOW_ZONE = Zone(
    "1001", "Tverskaya", "Europe/Moscow", Money(6000, "RUB"), windows(range(7), 8, 20)
)
VORONEZH_ZONE = Zone(
    "3601",
    "Plekhanovskaya",
    "Europe/Moscow",
    Money(4000, "RUB"),
    windows(range(6), 8, 19),
    holidays=frozenset({date(2026, 6, 12)}),
)
ALMATY_ZONE = Zone("7001", "Zenkov", "Asia/Almaty", Money(10000, "KZT"), windows(range(6), 9, 19))
ASTANA_ZONE = Zone(
    "8001", "Central", "Asia/Almaty", Money(15000, "KZT"), windows(range(6), 8, 20), step_minutes=60
)
BERLIN_ZONE = Zone(
    "9001", "DST test", "Europe/Berlin", Money(6000, "RUB"), windows(range(7), 0, 24)
)
BERLIN_DAYTIME = Zone(
    "9002", "DST day", "Europe/Berlin", Money(6000, "RUB"), windows(range(7), 8, 20)
)


def at(tz: ZoneInfo, text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=tz)


@pytest.mark.parametrize(
    ("zone", "start", "hours", "paid_minutes", "amount_minor"),
    [
        # plain paid daytime (Sunday is paid in this zone)
        (MOSCOW_ZONE, "2026-11-22T10:00", 2, 120, 12000),
        # into the free night: only 19:00-20:00 is paid
        (MOSCOW_ZONE, "2026-11-20T19:00", 3, 60, 6000),
        # through the whole night: 19:30-20:00 and 08:00-08:30
        (MOSCOW_ZONE, "2026-11-20T19:30", 13, 60, 6000),
        # wholly in the night
        (MOSCOW_ZONE, "2026-11-20T21:00", 2, 0, 0),
        # Voronezh: Sunday is free, Saturday evening paid until 19:00
        (VORONEZH_ZONE, "2026-11-22T10:00", 2, 0, 0),
        (VORONEZH_ZONE, "2026-11-21T18:00", 3, 60, 4000),
        # a holiday (Russia Day, a Friday) is free
        (VORONEZH_ZONE, "2026-06-12T10:00", 2, 0, 0),
        (VORONEZH_ZONE, "2026-06-11T10:00", 2, 120, 8000),
        # minute step vs hour step on the same half-paid hour 18:30-19:30 (paid until 19/20)
        (ALMATY_ZONE, "2026-11-20T18:30", 1, 30, 5000),
        (ASTANA_ZONE, "2026-11-20T19:30", 1, 60, 15000),
        # hour step through the night: 30 + 30 paid minutes, summed, are one hour
        (ASTANA_ZONE, "2026-11-20T19:30", 13, 60, 15000),
        # DST: Berlin springs forward 02:00->03:00 on 2026-03-29; 3 h bought are 3 real hours
        (BERLIN_ZONE, "2026-03-29T01:00", 3, 180, 18000),
        # Berlin falls back on 2026-10-25: 00:00 + 10 h ends 09:00 local, 08:00-09:00 paid
        (BERLIN_DAYTIME, "2026-10-25T00:00", 10, 60, 6000),
    ],
)
def test_price_table(
    zone: Zone, start: str, hours: int, paid_minutes: int, amount_minor: int
) -> None:
    begin = at(zone.tz, start)
    quote = price(zone, begin, end_for(zone, begin, hours))
    assert quote.paid_minutes == paid_minutes
    assert quote.amount == Money(amount_minor, zone.currency)
    assert quote.zone == zone.number
    assert quote.is_free == (paid_minutes == 0)


@pytest.mark.parametrize(
    ("price_minor", "minutes", "amount_minor"),
    [
        (100, 1, 2),  # 1.00 per hour: a minute is 1.67 kopecks, charged 2
        (6001, 3, 301),  # 300.05 kopecks up to 301
        (5050, 7, 590),  # 589.17 up to 590
        (6000, 7, 700),  # exact, no rounding
        (1, 59, 1),
        (0, 120, 0),  # a free tariff
    ],
)
def test_amount_rounds_up_to_the_minor_unit(
    price_minor: int, minutes: int, amount_minor: int
) -> None:
    zone = Zone("1", "t", "Europe/Moscow", Money(price_minor, "RUB"), windows(range(7), 0, 24))
    start = at(MOSCOW, "2026-11-20T10:00")
    assert price(zone, start, start + timedelta(minutes=minutes)).amount.minor == amount_minor


def test_steps_are_counted_from_the_start_to_the_second() -> None:
    start = at(MOSCOW, "2026-11-20T10:00:30")
    # 4 whole minutes from 10:00:30 plus a part-minute to 10:05:00: five steps
    assert price(MOSCOW_ZONE, start, at(MOSCOW, "2026-11-20T10:05:00")).paid_minutes == 5
    # a step ending 20:00:30 holds 30 paid seconds: charged as a whole minute
    evening = at(MOSCOW, "2026-11-20T19:58:30")
    assert price(MOSCOW_ZONE, evening, evening + timedelta(hours=1)).paid_minutes == 2


def test_quote_times_are_zone_local() -> None:
    start = at(ZoneInfo("UTC"), "2026-11-22T07:00")
    quote = price(MOSCOW_ZONE, start, end_for(MOSCOW_ZONE, start, 2))
    assert quote.start.isoformat() == "2026-11-22T10:00:00+03:00"
    assert quote.end.isoformat() == "2026-11-22T12:00:00+03:00"


def test_end_for_counts_elapsed_hours_across_dst() -> None:
    end = end_for(BERLIN_ZONE, at(BERLIN, "2026-03-29T01:30"), 2)
    assert end.isoformat() == "2026-03-29T04:30:00+02:00"
    end = end_for(BERLIN_ZONE, at(BERLIN, "2026-10-25T01:30"), 2)
    assert end.isoformat() == "2026-10-25T02:30:00+01:00"


@pytest.mark.parametrize("hours", [-1, True, 1.5])
def test_end_for_refuses_bad_hours(hours: object) -> None:
    with pytest.raises(ValueError, match="hours"):
        end_for(MOSCOW_ZONE, at(MOSCOW, "2026-11-20T10:00"), hours)  # type: ignore[arg-type]


def test_price_refuses_reversed_and_naive_intervals() -> None:
    start = at(MOSCOW, "2026-11-20T10:00")
    with pytest.raises(ValueError, match="before start"):
        price(MOSCOW_ZONE, start, start - timedelta(minutes=1))
    with pytest.raises(ValueError, match="timezone-aware"):
        price(MOSCOW_ZONE, datetime(2026, 11, 20, 10), start)


@pytest.mark.parametrize(
    ("zone", "stop", "billed", "used_minor", "refund_minor"),
    [
        # hour step: 70 minutes used are billed as 2 hours of the 3 prepaid
        (ASTANA_ZONE, "2026-11-20T11:10", "2026-11-20T11:10", 30000, 15000),
        (ASTANA_ZONE, "2026-11-20T10:00", "2026-11-20T10:00", 0, 45000),
        (ASTANA_ZONE, "2026-11-20T10:00:01", "2026-11-20T10:00:01", 15000, 30000),
        # minute step: 30 min 10 s used are billed as 31 minutes
        (ALMATY_ZONE, "2026-11-20T10:30:10", "2026-11-20T10:30:10", 5167, 24833),
        # a stop at or after the end refunds nothing
        (ALMATY_ZONE, "2026-11-20T14:00", "2026-11-20T13:00", 30000, 0),
    ],
)
def test_refund_table(
    zone: Zone, stop: str, billed: str, used_minor: int, refund_minor: int
) -> None:
    start = at(zone.tz, "2026-11-20T10:00")
    end = end_for(zone, start, 3)
    prepaid = price(zone, start, end).amount
    refund = refund_for_stop(zone, start, end, at(zone.tz, stop), prepaid)
    assert refund.billed_until == at(zone.tz, billed)
    assert refund.used == Money(used_minor, zone.currency)
    assert refund.refund == Money(refund_minor, zone.currency)


def test_refund_is_capped_by_what_was_prepaid() -> None:
    start = at(MOSCOW, "2026-11-20T10:00")
    end = end_for(MOSCOW_ZONE, start, 3)
    stop = at(MOSCOW, "2026-11-20T12:00")
    underpaid = refund_for_stop(MOSCOW_ZONE, start, end, stop, Money(100, "RUB"))
    assert underpaid.used == Money(100, "RUB") and underpaid.refund.is_zero
    with pytest.raises(ValueError, match="prepaid"):
        refund_for_stop(MOSCOW_ZONE, start, end, stop, Money(-1, "RUB"))


def test_billed_until_never_passes_the_end() -> None:
    start = at(ALMATY, "2026-11-20T10:00")
    end = at(ALMATY, "2026-11-20T10:30")
    assert billed_until(ASTANA_ZONE, start, end, end + timedelta(hours=1)) == end
    assert billed_until(ASTANA_ZONE, start, end, start - timedelta(hours=1)) == start


def test_extension_price_is_the_difference_of_whole_session_prices() -> None:
    start = at(MOSCOW, "2026-11-20T18:00")
    old_end, new_end = end_for(MOSCOW_ZONE, start, 1), end_for(MOSCOW_ZONE, start, 4)
    # 19:00-22:00 added, of which 19:00-20:00 is paid
    assert extension_price(MOSCOW_ZONE, start, old_end, new_end) == Money(6000, "RUB")
    night = at(MOSCOW, "2026-11-20T20:00")
    assert extension_price(MOSCOW_ZONE, start, night, at(MOSCOW, "2026-11-20T23:00")).is_zero


def test_extension_price_absorbs_rounding_of_the_parts() -> None:
    zone = Zone("1", "t", "Europe/Moscow", Money(100, "RUB"), windows(range(7), 0, 24))
    start = at(MOSCOW, "2026-11-20T10:00")
    one, two = end_for(zone, start, 1), end_for(zone, start, 2)
    total = price(zone, start, one).amount + extension_price(zone, start, one, two)
    assert total == price(zone, start, two).amount


def test_paid_stretches_are_summed_before_the_single_rounding() -> None:
    """Astana's hour step, 08:00-20:00 paid: 19:30 + 13 h covers 30 + 30 paid minutes,
    one hour (150 KZT), not two; same with a 15-minute step across a lunch break."""
    start = at(ALMATY, "2026-11-20T19:30")
    quote = price(ASTANA_ZONE, start, end_for(ASTANA_ZONE, start, 13))
    assert (quote.paid_minutes, quote.amount) == (60, Money(15000, "KZT"))
    lunch = Zone(
        "5",
        "lunch",
        "Asia/Almaty",
        Money(6000, "KZT"),
        (PaidWindow(4, 9 * 60, 13 * 60), PaidWindow(4, 14 * 60, 18 * 60)),
        step_minutes=15,
    )
    # 12:50-13:00 and 14:00-14:05: 15 paid minutes, one step
    quote = price(lunch, at(ALMATY, "2026-11-20T12:50"), at(ALMATY, "2026-11-20T14:05"))
    assert (quote.paid_minutes, quote.amount) == (15, Money(1500, "KZT"))


def test_a_zone_rounding_to_whole_units_rounds_the_amount_up() -> None:
    zone = Zone(
        "7",
        "t",
        "Asia/Almaty",
        Money(10000, "KZT"),
        windows(range(7), 0, 24),
        round_to_whole=True,
    )
    start = at(ALMATY, "2026-11-20T10:00")
    # 43 minutes at 100 KZT/h are 71.67 KZT: charged as 72
    assert price(zone, start, start + timedelta(minutes=43)).amount == Money(7200, "KZT")
