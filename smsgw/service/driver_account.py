"""What a signed-in driver reads and keeps (docs/driver-api.md): the parking account and
its history as the SMS channel and support see them, saved plates, and the zones as
GeoJSON for a map.

The account and the history are the operations API's answers (smsgw/service/ops.py)
shaped for the driver: money with its text as the SMS replies write it, in the
request's language. Plates are checked by the SMS plate rules (smsgw/commands/plates.py).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from smsgw.clock import Clock
from smsgw.commands.plates import PlateRules
from smsgw.domain.money import Money
from smsgw.domain.tariffs import WEEKDAY_NAMES, PaidWindow, Zone, paid_intervals
from smsgw.language import Language
from smsgw.replies import format_money, render
from smsgw.service import ops
from smsgw.service.settings import Deployment
from smsgw.service.store_port import Store, Tx
from smsgw.service.unit import local_time

JsonObject = dict[str, object]
# history items whose texts are SMS replies (sign-in codes among them): not the driver
# API's to show; it lists money, charges and sessions
_HIDDEN_HISTORY_TYPES = frozenset({"reply"})
_MONEY_FIELDS = ("amount", "prepaid")


def money_json(amount: Money, language: Language) -> JsonObject:
    """Money as the driver API writes it: minor units, currency, and the SMS replies' text."""
    return {
        "minor": amount.minor,
        "currency": amount.currency,
        "text": format_money(amount, language),
    }


def _money_of(value: object, language: Language) -> object:
    """A {"minor", "currency"} of the ops answers, with its text added."""
    if isinstance(value, Mapping) and {"minor", "currency"} <= value.keys():
        return money_json(Money(int(value["minor"]), str(value["currency"])), language)
    return value


@dataclass(frozen=True, slots=True)
class VehicleRefused:
    """A plate not saved: `reason` is "bad_plate" or "too_many_vehicles"."""

    reason: str
    message: str


class DriverAccount:
    def __init__(
        self,
        store: Store,
        deployment: Deployment,
        clock: Clock,
        plates: PlateRules,
        *,
        max_vehicles: int = 10,
    ) -> None:
        self._store = store
        self._deployment = deployment
        self._clock = clock
        self._plates = plates
        self._max_vehicles = max_vehicles

    # --- who and what -----------------------------------------------------------------

    async def profile(self, msisdn: str) -> tuple[str | None, Language]:
        """The phone's operator (the one it last texted through, else the one its number
        belongs to, as for the sign-in code; None when neither is known) and its reply
        language."""
        phone = await self._store.transact(lambda tx: tx.get_phone(msisdn))
        operator_id = self._deployment.operator_for(msisdn, phone.operator_id if phone else None)
        language = self._deployment.language_for(None if phone is None else phone.language)
        return operator_id, language

    async def account(self, msisdn: str, language: Language) -> JsonObject:
        """What `I` by SMS reports: balances, running sessions, the pending charge."""
        overview = await ops.phone_overview(
            self._store, self._deployment, msisdn, self._clock.now()
        )
        balances = overview.get("balances")
        sessions = overview.get("sessions")
        pending = overview.get("pending_charge")
        return {
            "balances": [_money_of(b, language) for b in _listed(balances)],
            "sessions": [self._session(s, language) for s in _listed(sessions)],
            "pending_charge": None
            if not isinstance(pending, Mapping)
            else {k: _money_of(v, language) for k, v in pending.items()},
        }

    def _session(self, session: object, language: Language) -> JsonObject:
        fields = dict(session) if isinstance(session, Mapping) else {}
        return {
            "id": fields.get("id"),
            "zone": fields.get("zone"),
            "plate": fields.get("plate"),
            "start": fields.get("start"),
            "end": fields.get("end"),
            "paid": _money_of(fields.get("prepaid"), language),
            "state": "active",
        }

    async def history(
        self, msisdn: str, language: Language, limit: int, before: str | None
    ) -> JsonObject:
        """One page of the phone's history, newest first, as support sees it without the
        SMS texts; a page may hold fewer than `limit` items: follow `next` until null.
        Raises ValueError for a limit or cursor it does not accept."""
        page = await ops.phone_history(
            self._store, self._deployment, msisdn, limit=limit, before=before
        )
        items = [
            {key: (_money_of(v, language) if key in _MONEY_FIELDS else v) for key, v in i.items()}
            for i in _listed(page.get("items"))
            if isinstance(i, Mapping) and i.get("type") not in _HIDDEN_HISTORY_TYPES
        ]
        return {"items": items, "next": page.get("next_before")}

    # --- vehicles ---------------------------------------------------------------------

    async def vehicles(self, msisdn: str) -> list[str]:
        return list(await self._store.transact(lambda tx: tx.driver_vehicles(msisdn)))

    async def add_vehicle(self, msisdn: str, raw: str, language: Language) -> str | VehicleRefused:
        """The canonical plate once saved (saving it again changes nothing), or why not."""
        checked = self._plates.check(raw)
        if not isinstance(checked, str):
            return VehicleRefused("bad_plate", render(checked.reply_key, language, **checked.facts))
        plate = checked
        now = self._clock.now()

        async def save(tx: Tx) -> bool:
            saved = await tx.driver_vehicles(msisdn)
            if plate in saved:
                return True
            if len(saved) >= self._max_vehicles:
                return False
            return await tx.add_driver_vehicle(msisdn, plate, now)

        if await self._store.transact(save):
            return plate
        return VehicleRefused("too_many_vehicles", str(self._max_vehicles))

    async def remove_vehicle(self, msisdn: str, raw: str) -> bool:
        """False when the plate (canonical or as typed) was not saved."""
        checked = self._plates.check(raw)
        plate = checked if isinstance(checked, str) else raw
        return await self._store.transact(lambda tx: tx.remove_driver_vehicle(msisdn, plate))

    # --- zones ------------------------------------------------------------------------

    def zones(self, language: Language) -> JsonObject:
        """Every zone as a GeoJSON Feature; a zone without a location has no geometry."""
        now = self._clock.now()
        return {
            "type": "FeatureCollection",
            "features": [
                zone_feature(zone, now, language) for zone in self._deployment.zones.values()
            ],
        }


def _listed(value: object) -> list[object]:
    return list(value) if isinstance(value, Iterable) and not isinstance(value, str) else []


def zone_feature(zone: Zone, now: datetime, language: Language) -> JsonObject:
    location = zone.location
    geometry: JsonObject | None = None
    if location is not None and location.outline:
        ring = [list(point) for point in location.outline]
        if ring[0] != ring[-1]:
            ring.append(ring[0])  # GeoJSON closes a ring on its first point
        geometry = {"type": "Polygon", "coordinates": [ring]}
    elif location is not None:
        geometry = {"type": "Point", "coordinates": list(location.point)}
    return {
        "type": "Feature",
        "id": zone.number,
        "geometry": geometry,
        "properties": {
            "number": zone.number,
            "name": zone.name,
            "city": zone.city_name,
            "currency": zone.currency,
            "price_per_hour": money_json(zone.price_per_hour, language),
            "time_zone": zone.time_zone,
            "paid_now": bool(paid_intervals(zone, now, now + timedelta(seconds=1))),
            "local_time": local_time(now, zone),
            "schedule": schedule(zone.paid_windows),
            "point": None if location is None else list(location.point),
        },
    }


def schedule(windows: Iterable[PaidWindow]) -> list[JsonObject]:
    """Weekly paid windows grouped by hours: [{"days": "Mon-Sat", "from", "to"}]."""
    by_hours: dict[tuple[int, int], list[int]] = {}
    for window in windows:
        by_hours.setdefault((window.start_minute, window.end_minute), []).append(window.weekday)
    return [
        {"days": _day_ranges(sorted(set(days))), "from": _clock(start), "to": _clock(end)}
        for (start, end), days in sorted(by_hours.items(), key=lambda item: min(item[1]))
    ]


def _day_ranges(days: list[int]) -> str:
    """[0, 1, 2, 3, 4, 6] → "Mon-Fri,Sun"."""
    ranges: list[str] = []
    start = previous = days[0]
    for day in [*days[1:], None]:
        if day is not None and day == previous + 1:
            previous = day
            continue
        first, last = WEEKDAY_NAMES[start].title(), WEEKDAY_NAMES[previous].title()
        ranges.append(first if start == previous else f"{first}-{last}")
        if day is not None:
            start = previous = day
    return ",".join(ranges)


def _clock(minute: int) -> str:
    return f"{minute // 60:02d}:{minute % 60:02d}"
