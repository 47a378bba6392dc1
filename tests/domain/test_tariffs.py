from __future__ import annotations

import copy
import tomllib
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from smsgw.domain.errors import ConfigError, UnknownZoneError
from smsgw.domain.money import Money
from smsgw.domain.tariffs import (
    PaidWindow,
    Zone,
    find_zone,
    next_paid_start,
    paid_intervals,
    zones_from_config,
)

CONFIG_TOML = Path(__file__).resolve().parents[2] / "config.toml"
MOSCOW = ZoneInfo("Europe/Moscow")
BERLIN = ZoneInfo("Europe/Berlin")


def base_config() -> dict[str, Any]:
    return {
        "holiday_calendars": {"ru": [date(2026, 1, 1), "2026-06-12"]},
        "zones": [
            {
                "number": "3601",
                "name": "Plekhanovskaya",
                "time_zone": "Europe/Moscow",
                "currency": "RUB",
                "price_per_hour": "40.50",
                "billing_step_minutes": 15,
                "max_hours": 12,
                "paid": [
                    {"days": "Mon-Fri", "from": "08:00", "to": "12:00"},
                    {"days": ["Mon-Fri", "Sat"], "from": "13:00", "to": "19:00"},
                ],
                "holiday_calendar": "ru",
                "holidays": ["2026-05-11"],
            },
            {
                "number": "8001",
                "name": "Astana",
                "time_zone": "Asia/Almaty",
                "currency": "KZT",
                "price_per_hour": 150,
                "billing_step_minutes": 60,
                "paid": [{"days": "Sat,Sun", "from": "00:00", "to": "24:00"}],
            },
        ],
    }


def test_zones_are_built_from_the_config_mapping() -> None:
    zones = zones_from_config(base_config())
    voronezh, astana = zones["3601"], zones["8001"]
    assert voronezh.price_per_hour == Money(4050, "RUB")
    assert voronezh.step_minutes == 15 and voronezh.max_hours == 12
    assert voronezh.holidays == {date(2026, 1, 1), date(2026, 6, 12), date(2026, 5, 11)}
    assert PaidWindow(0, 8 * 60, 12 * 60) in voronezh.paid_windows
    assert PaidWindow(5, 13 * 60, 19 * 60) in voronezh.paid_windows
    assert PaidWindow(5, 8 * 60, 12 * 60) not in voronezh.paid_windows
    assert astana.price_per_hour == Money(15000, "KZT")
    assert astana.max_hours == 24  # the default
    assert {window.weekday for window in astana.paid_windows} == {5, 6}
    assert astana.paid_windows[0].end_minute == 24 * 60


def test_the_shipped_config_has_the_expected_zones() -> None:
    with CONFIG_TOML.open("rb") as config_file:
        zones = zones_from_config(tomllib.load(config_file))
    assert {"1001", "3601", "3602", "7001", "8001"} <= set(zones)
    assert zones["1001"].time_zone == "Europe/Moscow" and zones["1001"].currency == "RUB"
    assert zones["8001"].step_minutes == 60 and zones["8001"].time_zone == "Asia/Almaty"
    assert zones["7001"].currency == "KZT" and zones["7001"].step_minutes == 1
    sundays = {window.weekday for window in zones["3601"].paid_windows}
    assert 6 not in sundays and len(sundays) == 6
    # tenge are charged whole; kopecks are kept
    assert zones["7001"].round_to_whole and zones["8001"].round_to_whole
    assert not zones["1001"].round_to_whole
    assert zones["7001"].city_name == "Almaty" and zones["8001"].city_name == "Astana"


def test_clock_times_may_have_one_hour_digit() -> None:
    config = _set("zones.0.paid", [{"days": "Mon", "from": "8:30", "to": "9:05"}])
    (window,) = zones_from_config(config)["3601"].paid_windows
    assert (window.start_minute, window.end_minute) == (8 * 60 + 30, 9 * 60 + 5)


def test_no_zones_configured_is_an_empty_mapping() -> None:
    assert zones_from_config({}) == {}


def _set(path: str, value: object) -> dict[str, Any]:
    config = copy.deepcopy(base_config())
    target: Any = config
    *parents, last = path.split(".")
    for part in parents:
        target = target[int(part)] if part.isdigit() else target[part]
    if value is _DELETE:
        del target[last]
    else:
        target[int(last) if last.isdigit() else last] = value
    return config


_DELETE = object()


@pytest.mark.parametrize(
    ("path", "value", "key"),
    [
        ("zones.0.price_per_hour", 40.5, "zones[0].price_per_hour"),
        ("zones.0.price_per_hour", "40.505", "zones[0].price_per_hour"),
        ("zones.0.price_per_hour", "-5", "zones[0].price_per_hour"),
        ("zones.0.price_per_hour", -5, "zones[0].price_per_hour"),
        ("zones.0.billing_step_minutes", 7, "zones[0].billing_step_minutes"),
        ("zones.0.billing_step_minutes", "15", "zones[0].billing_step_minutes"),
        ("zones.0.max_hours", 0, "zones[0].max_hours"),
        ("zones.0.time_zone", "Mars/Olympus", "zones[0].time_zone"),
        ("zones.0.currency", "USD", "zones[0].currency"),
        ("zones.0.number", "10a", "zones[0].number"),
        ("zones.0.name", _DELETE, "zones[0].name"),
        ("zones.0.price_per_hr", "1.00", "zones[0].price_per_hr"),
        ("zones.0.paid.0.days", "Mon-Funday", "zones[0].paid[0].days"),
        ("zones.0.paid.0.days", "Sat-Mon", "zones[0].paid[0].days"),
        ("zones.0.paid.0.from", "25:00", "zones[0].paid[0].from"),
        ("zones.0.paid.0.from", "8:60", "zones[0].paid[0].from"),
        ("zones.0.paid.0.from", "8h", "zones[0].paid[0].from"),
        ("zones.0.paid.0.to", "07:00", "zones[0].paid[0].to"),
        ("zones.0.paid.0.to", "24:01", "zones[0].paid[0].to"),
        ("zones.0.paid.1.hours", "all", "zones[0].paid[1].hours"),
        ("zones.0.holiday_calendar", "kz", "zones[0].holiday_calendar"),
        ("zones.0.holidays", ["2026-02-30"], "zones[0].holidays[0]"),
        ("zones.1.number", "3601", "zones[1].number"),
        ("zones.1", "not a table", "zones[1]"),
        ("holiday_calendars.ru", ["soon"], "holiday_calendars.ru[0]"),
        ("zones", {"number": "1"}, "zones"),
        ("zones.0.round_to_whole", "yes", "zones[0].round_to_whole"),
        ("zones.0.city", 7, "zones[0].city"),
    ],
)
def test_a_bad_setting_names_its_key(path: str, value: object, key: str) -> None:
    with pytest.raises(ConfigError) as raised:
        zones_from_config(_set(path, value))
    assert raised.value.key == key
    assert str(raised.value).startswith(f"{key}: ")


def zone(**changes: Any) -> Zone:
    settings: dict[str, Any] = {
        "number": "1001",
        "name": "Test",
        "time_zone": "Europe/Moscow",
        "price_per_hour": Money(6000, "RUB"),
        "paid_windows": tuple(PaidWindow(day, 8 * 60, 20 * 60) for day in range(6)),
    }
    settings.update(changes)
    return Zone(**settings)


def test_paid_intervals_follow_the_local_schedule() -> None:
    friday = datetime(2026, 11, 20, 18, 0, tzinfo=MOSCOW)
    stretches = paid_intervals(zone(), friday, friday + timedelta(days=3))
    # Fri 18-20, Sat 08-20, Sunday free, Mon 08:00-18:00 (interval end)
    assert stretches == [
        (datetime(2026, 11, 20, 15, tzinfo=UTC), datetime(2026, 11, 20, 17, tzinfo=UTC)),
        (datetime(2026, 11, 21, 5, tzinfo=UTC), datetime(2026, 11, 21, 17, tzinfo=UTC)),
        (datetime(2026, 11, 23, 5, tzinfo=UTC), datetime(2026, 11, 23, 15, tzinfo=UTC)),
    ]


def test_a_holiday_is_free_all_day() -> None:
    holiday = zone(holidays=frozenset({date(2026, 11, 4)}))
    start = datetime(2026, 11, 4, 0, 0, tzinfo=MOSCOW)
    assert paid_intervals(holiday, start, start + timedelta(days=1)) == []
    assert paid_intervals(zone(), start, start + timedelta(days=1)) != []


def test_touching_windows_merge_into_one_stretch() -> None:
    split = zone(paid_windows=(PaidWindow(0, 8 * 60, 12 * 60), PaidWindow(0, 12 * 60, 20 * 60)))
    monday = datetime(2026, 11, 23, 0, 0, tzinfo=MOSCOW)
    assert len(paid_intervals(split, monday, monday + timedelta(days=1))) == 1


def test_all_day_windows_follow_dst_day_length() -> None:
    all_day = zone(
        time_zone="Europe/Berlin",
        paid_windows=tuple(PaidWindow(day, 0, 24 * 60) for day in range(7)),
    )
    for day, hours in ((date(2026, 3, 29), 23), (date(2026, 10, 25), 25), (date(2026, 6, 1), 24)):
        start = datetime(day.year, day.month, day.day, tzinfo=BERLIN)
        end = datetime.combine(day + timedelta(days=1), datetime.min.time(), tzinfo=BERLIN)
        ((low, high),) = paid_intervals(all_day, start, end)
        assert high - low == timedelta(hours=hours)


def test_next_paid_start_skips_the_night_and_the_weekend() -> None:
    saturday_night = datetime(2026, 11, 21, 21, 0, tzinfo=MOSCOW)
    assert next_paid_start(zone(), saturday_night) == datetime(2026, 11, 23, 8, 0, tzinfo=MOSCOW)
    assert next_paid_start(zone(paid_windows=()), saturday_night) is None


def test_naive_times_are_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        paid_intervals(zone(), datetime(2026, 1, 1), datetime(2026, 1, 2))


def test_find_zone_names_the_unknown_zone() -> None:
    with pytest.raises(UnknownZoneError) as raised:
        find_zone({"1001": zone()}, "9999")
    assert raised.value.reply_key == "zone.unknown"
    assert raised.value.facts == {"zone": "9999"}


@pytest.mark.parametrize(
    "changes",
    [
        {"step_minutes": 7},
        {"max_hours": 0},
        {"price_per_hour": Money(-1, "RUB")},
        {"time_zone": "Nowhere/Town"},
    ],
)
def test_zone_refuses_impossible_values(changes: dict[str, Any]) -> None:
    with pytest.raises(Exception):  # noqa: B017 - ValueError or ZoneInfoNotFoundError
        zone(**changes)


# --- window edges on DST-change days ----------------------------------------------------

NEW_YORK = ZoneInfo("America/New_York")


def _sunday_zone(start_minute: int, end_minute: int) -> Zone:
    return Zone(
        "1",
        "ny",
        "America/New_York",
        Money(6000, "RUB"),
        (PaidWindow(6, start_minute, end_minute),),
    )


def test_a_window_starting_inside_the_spring_gap_starts_at_the_change() -> None:
    # 2026-03-08 in New York the clock jumps 02:00 EST → 03:00 EDT (07:00 UTC); a driver
    # parked there sees paid time start when the clock passes 02:30, i.e. at 03:00 EDT
    zone = _sunday_zone(2 * 60 + 30, 12 * 60)
    day = datetime(2026, 3, 8, tzinfo=NEW_YORK)
    stretches = paid_intervals(zone, day, day + timedelta(days=1))
    assert stretches[0][0] == datetime(2026, 3, 8, 7, 0, tzinfo=UTC)


def test_a_window_ending_inside_the_spring_gap_ends_at_the_change() -> None:
    zone = _sunday_zone(60, 2 * 60 + 30)
    day = datetime(2026, 3, 8, tzinfo=NEW_YORK)
    stretches = paid_intervals(zone, day, day + timedelta(days=1))
    # 01:00 EST to the change: one real hour, not two
    assert stretches == [
        (datetime(2026, 3, 8, 6, 0, tzinfo=UTC), datetime(2026, 3, 8, 7, 0, tzinfo=UTC))
    ]


def test_a_window_edge_in_the_autumn_fold_is_its_first_occurrence() -> None:
    # 2026-11-01 01:30 happens twice (EDT, then EST): paid time starts at the first
    zone = _sunday_zone(60 + 30, 3 * 60)
    day = datetime(2026, 11, 1, tzinfo=NEW_YORK)
    stretches = paid_intervals(zone, day, day + timedelta(days=1))
    assert stretches[0][0] == datetime(2026, 11, 1, 5, 30, tzinfo=UTC)
