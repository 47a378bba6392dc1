"""Parking zones: tariff, weekly paid schedule, holidays, and where paid time falls.

A zone's paid schedule is a set of weekly windows in the zone's local time (Mon–Sat
08:00–20:00, several windows a day, all-day 00:00–24:00 allowed); a holiday makes the
whole local date free. `paid_intervals` turns the schedule into the paid stretches of
an absolute interval: windows are evaluated in local time and compared in UTC, so a
day with a DST change has its true length. A window edge that falls in a DST gap is
the moment of the change (the clock passes it there), an ambiguous one its first
occurrence (zoneinfo's fold=0).

`zones_from_config` builds zones from the parsed config.toml; see the `[[zones]]`
section there for the format. Any bad value raises `ConfigError` naming its key, with
array positions counted from 0 (`zones[1].price_per_hour`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from smsgw.domain.errors import ConfigError, UnknownZoneError
from smsgw.domain.money import MINOR_UNIT_DIGITS, Money, minor_unit_digits

MINUTES_PER_DAY = 24 * 60
MINUTES_PER_HOUR = 60
DEFAULT_MAX_HOURS = 24
DEFAULT_STEP_MINUTES = 1
WEEKDAY_NAMES: tuple[str, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
# how far ahead `next_paid_start` looks: long holiday runs plus weekends fit in it
NEXT_PAID_HORIZON = timedelta(days=31)


@dataclass(frozen=True, slots=True)
class PaidWindow:
    """Paid time on one weekday (0 = Monday), in minutes from local midnight; end ≤ 1440."""

    weekday: int
    start_minute: int
    end_minute: int

    def __post_init__(self) -> None:
        if not 0 <= self.weekday <= len(WEEKDAY_NAMES) - 1:
            raise ValueError(f"weekday must be 0..6, got {self.weekday}")
        if not 0 <= self.start_minute < self.end_minute <= MINUTES_PER_DAY:
            raise ValueError(f"bad window minutes {self.start_minute}..{self.end_minute}")


@dataclass(frozen=True, slots=True)
class ZoneLocation:
    """Where a zone is on the map: a point (where its sign or meter stands) and the outline
    of its streets, each as (longitude, latitude) in degrees, GeoJSON's order."""

    point: tuple[float, float]
    outline: tuple[tuple[float, float], ...] = ()


@dataclass(frozen=True, slots=True)
class Zone:
    number: str
    name: str
    time_zone: str
    price_per_hour: Money
    paid_windows: tuple[PaidWindow, ...]
    holidays: frozenset[date] = frozenset()
    step_minutes: int = DEFAULT_STEP_MINUTES
    max_hours: int = DEFAULT_MAX_HOURS
    # prices rounded up to whole currency units (tenge have no coins for tiyn)
    round_to_whole: bool = False
    city: str = ""  # named in replies that send a driver elsewhere; default: the name
    location: ZoneLocation | None = None  # for maps (the driver API's zones); optional

    def __post_init__(self) -> None:
        if self.step_minutes < 1 or MINUTES_PER_HOUR % self.step_minutes:
            raise ValueError(f"step_minutes must divide 60, got {self.step_minutes}")
        if self.max_hours < 1:
            raise ValueError(f"max_hours must be at least 1, got {self.max_hours}")
        if self.price_per_hour.is_negative:
            raise ValueError("price_per_hour must not be negative")
        ZoneInfo(self.time_zone)  # fails early on an unknown time zone name

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.time_zone)  # zoneinfo caches instances by key

    @property
    def currency(self) -> str:
        return self.price_per_hour.currency

    @property
    def city_name(self) -> str:
        return self.city or self.name

    @property
    def step(self) -> timedelta:
        return timedelta(minutes=self.step_minutes)

    def windows_on(self, day: date) -> Iterable[PaidWindow]:
        if day in self.holidays:
            return ()
        weekday = day.weekday()
        return (window for window in self.paid_windows if window.weekday == weekday)


def find_zone(zones: Mapping[str, Zone], number: str) -> Zone:
    zone = zones.get(number)
    if zone is None:
        raise UnknownZoneError(zone=number)
    return zone


def as_utc(moment: datetime) -> datetime:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"a timezone-aware datetime is required, got {moment!r}")
    return moment.astimezone(UTC)


def paid_intervals(zone: Zone, start: datetime, end: datetime) -> list[tuple[datetime, datetime]]:
    """The paid stretches of [start, end) in UTC, sorted, disjoint and not touching."""
    start_utc, end_utc = as_utc(start), as_utc(end)
    if end_utc <= start_utc:
        return []
    tz = zone.tz
    # a window never crosses local midnight, so the day before start is only a margin
    day = start_utc.astimezone(tz).date() - timedelta(days=1)
    last_day = end_utc.astimezone(tz).date()
    stretches: list[tuple[datetime, datetime]] = []
    while day <= last_day:
        for window in zone.windows_on(day):
            low = max(_local_minute_in_utc(day, window.start_minute, tz), start_utc)
            high = min(_local_minute_in_utc(day, window.end_minute, tz), end_utc)
            if low < high:
                stretches.append((low, high))
        day += timedelta(days=1)
    return _merged(stretches)


def next_paid_start(zone: Zone, after: datetime) -> datetime | None:
    """When paid time next begins at or after `after` (zone-local), None if not soon."""
    stretches = paid_intervals(zone, after, as_utc(after) + NEXT_PAID_HORIZON)
    return stretches[0][0].astimezone(zone.tz) if stretches else None


def _local_minute_in_utc(day: date, minute: int, tz: ZoneInfo) -> datetime:
    whole_days, minute_of_day = divmod(minute, MINUTES_PER_DAY)
    local_day = day + timedelta(days=whole_days)
    wall = time(minute_of_day // MINUTES_PER_HOUR, minute_of_day % MINUTES_PER_HOUR)
    return _wall_time_in_utc(datetime.combine(local_day, wall, tzinfo=tz))


def _wall_time_in_utc(local: datetime) -> datetime:
    """The instant a wall clock in `local`'s zone first shows `local`.

    In a DST gap (New York 02:30 on spring-forward day) the clock never shows that time:
    it jumps from 02:00 to 03:00, and that jump is when it passes 02:30, so a paid window
    edge inside the gap falls on the change itself. In a fold (01:30 twice in autumn) the
    clock shows the time first at its first occurrence (fold=0).
    """
    first = local.replace(fold=0).astimezone(UTC)
    if first.astimezone(local.tzinfo).replace(tzinfo=None) == local.replace(tzinfo=None):
        return first
    # a gap: read with the offsets before and after the change the time falls on either
    # side of the change, which is found between them to the second
    low, high = sorted((first, local.replace(fold=1).astimezone(UTC)))
    offset_after = high.astimezone(local.tzinfo).utcoffset()
    while high - low > timedelta(seconds=1):
        middle = low + (high - low) / 2
        if middle.astimezone(local.tzinfo).utcoffset() == offset_after:
            high = middle
        else:
            low = middle
    return high.replace(microsecond=0)


def _merged(stretches: list[tuple[datetime, datetime]]) -> list[tuple[datetime, datetime]]:
    merged: list[tuple[datetime, datetime]] = []
    for low, high in sorted(stretches):
        if merged and low <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], high))
        else:
            merged.append((low, high))
    return merged


# --- building zones from config.toml -------------------------------------------------

ZONE_KEYS = frozenset(
    {
        "number",
        "name",
        "time_zone",
        "currency",
        "price_per_hour",
        "billing_step_minutes",
        "max_hours",
        "holidays",
        "holiday_calendar",
        "paid",
        "round_to_whole",
        "city",
        "location",
    }
)
LOCATION_KEYS = frozenset({"point", "outline"})
WINDOW_KEYS = frozenset({"days", "from", "to"})
ZONE_NUMBER = re.compile(r"[0-9]{1,8}")
CLOCK_TIME = re.compile(r"([0-9]{1,2}):([0-9]{2})")


def zones_from_config(config: Mapping[str, object]) -> dict[str, Zone]:
    """Zones keyed by number from the whole parsed config (`zones`, `holiday_calendars`)."""
    calendars = _holiday_calendars(config.get("holiday_calendars", {}))
    entries = config.get("zones", [])
    if not isinstance(entries, list):
        raise ConfigError("zones", "must be an array of tables ([[zones]])")
    zones: dict[str, Zone] = {}
    for index, entry in enumerate(entries):
        key = f"zones[{index}]"
        zone = _zone_from_entry(key, _table(key, entry), calendars)
        if zone.number in zones:
            raise ConfigError(f"{key}.number", f"zone {zone.number} is defined twice")
        zones[zone.number] = zone
    return zones


def _zone_from_entry(
    key: str, entry: Mapping[str, object], calendars: Mapping[str, frozenset[date]]
) -> Zone:
    _reject_unknown_keys(key, entry, ZONE_KEYS)
    number = _required_str(key, entry, "number")
    if not ZONE_NUMBER.fullmatch(number):
        raise ConfigError(f"{key}.number", f"must be 1 to 8 digits, got {number!r}")
    time_zone = _required_str(key, entry, "time_zone")
    try:
        ZoneInfo(time_zone)
    except (ZoneInfoNotFoundError, ValueError) as error:
        raise ConfigError(f"{key}.time_zone", f"unknown time zone {time_zone!r}") from error
    currency = _required_str(key, entry, "currency")
    if currency not in MINOR_UNIT_DIGITS:
        known = ", ".join(sorted(MINOR_UNIT_DIGITS))
        raise ConfigError(f"{key}.currency", f"must be one of {known}, got {currency!r}")
    step = _int_setting(key, entry, "billing_step_minutes", DEFAULT_STEP_MINUTES)
    if step < 1 or MINUTES_PER_HOUR % step:
        raise ConfigError(f"{key}.billing_step_minutes", f"must divide 60, got {step}")
    max_hours = _int_setting(key, entry, "max_hours", DEFAULT_MAX_HOURS)
    if max_hours < 1:
        raise ConfigError(f"{key}.max_hours", f"must be at least 1, got {max_hours}")
    return Zone(
        number=number,
        name=_required_str(key, entry, "name"),
        time_zone=time_zone,
        price_per_hour=_price(f"{key}.price_per_hour", entry.get("price_per_hour"), currency),
        paid_windows=_windows(f"{key}.paid", entry.get("paid")),
        holidays=_zone_holidays(key, entry, calendars),
        step_minutes=step,
        max_hours=max_hours,
        round_to_whole=_bool_setting(key, entry, "round_to_whole", default=False),
        city=_optional_str(key, entry, "city"),
        location=_location(f"{key}.location", entry.get("location")),
    )


# an outline is a small polygon around a few streets; more corners than this is a mistake
MAX_OUTLINE_POINTS = 200
MIN_OUTLINE_POINTS = 3
COORDINATE_PARTS = 2  # longitude, latitude


def _location(key: str, value: object) -> ZoneLocation | None:
    """`location = { point = [lon, lat], outline = [[lon, lat], ...] }`; outline optional."""
    if value is None:
        return None
    entry = _table(key, value)
    _reject_unknown_keys(key, entry, LOCATION_KEYS)
    if "point" not in entry:
        raise ConfigError(f"{key}.point", "is required: [longitude, latitude]")
    point = _coordinate(f"{key}.point", entry["point"])
    raw_outline = entry.get("outline", [])
    if not isinstance(raw_outline, list) or not (
        raw_outline == [] or MIN_OUTLINE_POINTS <= len(raw_outline) <= MAX_OUTLINE_POINTS
    ):
        raise ConfigError(
            f"{key}.outline",
            f"must be {MIN_OUTLINE_POINTS} to {MAX_OUTLINE_POINTS} [longitude, latitude] points",
        )
    outline = tuple(
        _coordinate(f"{key}.outline[{index}]", item) for index, item in enumerate(raw_outline)
    )
    return ZoneLocation(point=point, outline=outline)


def _coordinate(key: str, value: object) -> tuple[float, float]:
    """[longitude, latitude] in degrees; TOML numbers, integers or decimals."""
    numbers = value if isinstance(value, list) and len(value) == COORDINATE_PARTS else None
    if numbers is None or not all(
        isinstance(n, int | float) and not isinstance(n, bool) for n in numbers
    ):
        raise ConfigError(key, f"must be [longitude, latitude] in degrees, got {value!r}")
    longitude, latitude = float(numbers[0]), float(numbers[1])
    if not (-180.0 <= longitude <= 180.0 and -90.0 <= latitude <= 90.0):
        raise ConfigError(key, f"longitude must be -180..180 and latitude -90..90, got {value!r}")
    return longitude, latitude


def _optional_str(key: str, entry: Mapping[str, object], name: str) -> str:
    value = entry.get(name, "")
    if not isinstance(value, str):
        raise ConfigError(f"{key}.{name}", f"must be a string, got {value!r}")
    return value.strip()


def _bool_setting(key: str, entry: Mapping[str, object], name: str, *, default: bool) -> bool:
    value = entry.get(name, default)
    if not isinstance(value, bool):
        raise ConfigError(f"{key}.{name}", f"must be true or false, got {value!r}")
    return value


def _table(key: str, value: object) -> Mapping[str, object]:
    if not isinstance(value, Mapping):
        raise ConfigError(key, "must be a table")
    return value


def _reject_unknown_keys(key: str, entry: Mapping[str, object], known: frozenset[str]) -> None:
    for name in entry:
        if name not in known:
            allowed = ", ".join(sorted(known))
            raise ConfigError(f"{key}.{name}", f"unknown setting (allowed: {allowed})")


def _required_str(key: str, entry: Mapping[str, object], name: str) -> str:
    value = entry.get(name)
    if not isinstance(value, str) or not value.strip():
        raise ConfigError(f"{key}.{name}", "is required and must be a non-empty string")
    return value.strip()


def _int_setting(key: str, entry: Mapping[str, object], name: str, default: int) -> int:
    value = entry.get(name, default)
    if isinstance(value, bool) or not isinstance(value, int):
        raise ConfigError(f"{key}.{name}", f"must be a whole number, got {value!r}")
    return value


def _price(key: str, value: object, currency: str) -> Money:
    """A price as a decimal string ("60.00") or whole major units (60); never a float."""
    digits = minor_unit_digits(currency)
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return Money(value * 10**digits, currency)
    pattern = rf"([0-9]{{1,9}})(?:\.([0-9]{{1,{digits}}}))?" if digits else r"([0-9]{1,9})()"
    match = re.fullmatch(pattern, value) if isinstance(value, str) else None
    if match is None:
        raise ConfigError(
            key, f'must be a decimal string like "60.00" (up to {digits} decimals), got {value!r}'
        )
    whole, fraction = match.group(1), (match.group(2) or "")
    return Money(int(whole) * 10**digits + int(fraction.ljust(digits, "0") or "0"), currency)


def _windows(key: str, value: object) -> tuple[PaidWindow, ...]:
    if value is None:
        return ()  # a zone with no paid windows is free all the time
    if not isinstance(value, list):
        raise ConfigError(key, "must be an array of {days, from, to} tables")
    windows: list[PaidWindow] = []
    for index, item in enumerate(value):
        item_key = f"{key}[{index}]"
        entry = _table(item_key, item)
        _reject_unknown_keys(item_key, entry, WINDOW_KEYS)
        start = _clock_minute(f"{item_key}.from", entry.get("from"))
        end = _clock_minute(f"{item_key}.to", entry.get("to"))
        if end <= start:
            raise ConfigError(
                f"{item_key}.to", "must be after `from` (a window ends by 24:00; add another)"
            )
        for weekday in _weekdays(f"{item_key}.days", entry.get("days")):
            windows.append(PaidWindow(weekday, start, end))
    return tuple(windows)


def _clock_minute(key: str, value: object) -> int:
    match = CLOCK_TIME.fullmatch(value) if isinstance(value, str) else None
    if match is None:
        raise ConfigError(key, f'must be a time "HH:MM" (00:00 to 24:00), got {value!r}')
    hours, minutes = int(match.group(1)), int(match.group(2))
    minute = hours * MINUTES_PER_HOUR + minutes
    if minutes >= MINUTES_PER_HOUR or minute > MINUTES_PER_DAY:
        raise ConfigError(key, f'must be a time "HH:MM" (00:00 to 24:00), got {value!r}')
    return minute


def _weekdays(key: str, value: object) -> list[int]:
    """Days as "Mon-Sat", "Sat,Sun", "Mon-Fri,Sun" or a list of such items."""
    items: Sequence[object] = value.split(",") if isinstance(value, str) else ()
    if isinstance(value, list):
        items = value
    if not items:
        raise ConfigError(key, f'must name days like "Mon-Sat" or "Sat,Sun", got {value!r}')
    days: list[int] = []
    for item in items:
        days.extend(_day_range(key, item))
    return sorted(set(days))


def _day_range(key: str, item: object) -> list[int]:
    if not isinstance(item, str):
        raise ConfigError(key, f"day must be a name like Mon, got {item!r}")
    first, _, last = item.strip().lower().partition("-")
    low, high = _day_index(key, first), _day_index(key, last or first)
    if high < low:
        raise ConfigError(key, f"range {item.strip()!r} must run forward within Mon..Sun")
    return list(range(low, high + 1))


def _day_index(key: str, name: str) -> int:
    name = name.strip()
    if name not in WEEKDAY_NAMES:
        raise ConfigError(key, f"unknown day {name!r} (use Mon Tue Wed Thu Fri Sat Sun)")
    return WEEKDAY_NAMES.index(name)


def _holiday_calendars(value: object) -> dict[str, frozenset[date]]:
    calendars = _table("holiday_calendars", value)
    return {name: _dates(f"holiday_calendars.{name}", dates) for name, dates in calendars.items()}


def _zone_holidays(
    key: str, entry: Mapping[str, object], calendars: Mapping[str, frozenset[date]]
) -> frozenset[date]:
    own = _dates(f"{key}.holidays", entry.get("holidays", []))
    calendar_name = entry.get("holiday_calendar")
    if calendar_name is None:
        return own
    if not isinstance(calendar_name, str) or calendar_name not in calendars:
        known = ", ".join(sorted(calendars)) or "none defined"
        raise ConfigError(
            f"{key}.holiday_calendar",
            f"must name a [holiday_calendars] entry ({known}), got {calendar_name!r}",
        )
    return own | calendars[calendar_name]


def _dates(key: str, value: object) -> frozenset[date]:
    if not isinstance(value, list):
        raise ConfigError(key, "must be an array of dates like 2026-01-01")
    days: set[date] = set()
    for index, item in enumerate(value):
        days.add(_date(f"{key}[{index}]", item))
    return frozenset(days)


def _date(key: str, value: object) -> date:
    # tomllib gives a TOML date as `date`; a quoted ISO date is accepted too
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value)
        except ValueError:
            pass
    raise ConfigError(key, f"must be a date like 2026-01-01, got {value!r}")
