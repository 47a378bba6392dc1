"""The account, history, vehicles and zones over real HTTP on the rig: what the web
shows is what the SMS channel wrote (one ledger), and one phone never sees another's."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import aiohttp

from tests.driver.conftest import DriverRig, call
from tests.driver.test_sign_in import OTHER, PHONE, bearer, sign_in
from tests.e2e.rig import TOKEN, Rig

PLATE = "A123BC77"
TWO_HOURS_IN_1001 = 12_000  # 60.00 RUB an hour, in kopecks


async def pay_by_sms(rig: Rig) -> None:
    rig.phone(PHONE)
    await rig.text(PHONE, f"1001*{PLATE}*2")
    await rig.settle()
    await rig.replies(PHONE, 2)  # the operator's confirmation request, then "started"


async def test_the_account_is_what_sms_and_support_see(
    driver_rig: DriverRig, http: aiohttp.ClientSession
) -> None:
    async with driver_rig() as rig:
        base = rig.gateway.base_url
        await pay_by_sms(rig)
        received = len(rig.smsc.inbox[PHONE])
        signed = await sign_in(rig, http)
        await rig.replies(PHONE, received + 1)
        auth = bearer(signed["token"])

        status, account, _ = await call(
            http, "GET", f"{base}/v1/driver/account", None, {**auth, "Accept-Language": "en"}
        )
        assert status == 200, account
        (session,) = account["sessions"]
        assert (session["zone"], session["plate"], session["state"]) == ("1001", PLATE, "active")
        assert session["paid"] == {"minor": TWO_HOURS_IN_1001, "currency": "RUB", "text": "120 RUB"}
        assert session["start"].endswith("+03:00")  # Moscow time, with the offset
        assert account["balances"][0] == {"minor": 0, "currency": "RUB", "text": "0 RUB"}
        assert account["pending_charge"] is None

        status, support, _ = await call(
            http, "GET", f"{base}/v1/phones/{PHONE}", None, bearer(TOKEN)
        )
        assert status == 200
        assert [s["id"] for s in support["sessions"]] == [session["id"]]
        assert (support["sessions"][0]["end"], support["balances"][0]["minor"]) == (
            session["end"],
            0,
        )

        # the SMS channel stops it; the web sees the refund at once
        rig.clock.advance(timedelta(minutes=30))
        await rig.converse(PHONE, f"S*{PLATE}")
        status, account, _ = await call(http, "GET", f"{base}/v1/driver/account", None, auth)
        assert account["sessions"] == []
        assert account["balances"][0]["minor"] == TWO_HOURS_IN_1001 * 3 // 4
        assert account["balances"][0]["text"] == "90 ₽"  # no Accept-Language: Russian


async def test_history_lists_money_and_sessions_without_the_texts(
    driver_rig: DriverRig, http: aiohttp.ClientSession
) -> None:
    async with driver_rig() as rig:
        base = rig.gateway.base_url
        await pay_by_sms(rig)
        rig.clock.advance(timedelta(minutes=30))
        await rig.converse(PHONE, "S")
        auth = bearer((await sign_in(rig, http))["token"])

        items: list[Any] = []
        before = ""
        for _ in range(20):
            url = f"{base}/v1/driver/history?limit=2" + (f"&before={before}" if before else "")
            status, page, _ = await call(http, "GET", url, None, auth)
            assert status == 200, page
            assert len(page["items"]) <= 2
            items.extend(page["items"])
            if page["next"] is None:
                break
            before = page["next"]
        types = sorted(item["type"] for item in items)
        assert types == ["charge", "payment", "refund", "session", "top_up"]
        refund = next(item for item in items if item["type"] == "refund")
        assert refund["amount"]["text"] == "90 ₽"
        assert not any(item["type"] == "reply" for item in items)  # SMS texts stay out

        status, body, _ = await call(http, "GET", f"{base}/v1/driver/history?limit=0", None, auth)
        assert (status, body["error"]) == (400, "invalid_field")
        url = f"{base}/v1/driver/history?before=not-a-cursor"
        status, body, _ = await call(http, "GET", url, None, auth)
        assert (status, body["error"]) == (400, "invalid_field")


async def test_vehicles_are_checked_as_sms_plates_and_kept_per_phone(
    driver_rig: DriverRig, http: aiohttp.ClientSession
) -> None:
    async with driver_rig(max_vehicles=2) as rig:
        url = f"{rig.gateway.base_url}/v1/driver/vehicles"
        mine = bearer((await sign_in(rig, http))["token"])
        theirs = bearer((await sign_in(rig, http, OTHER))["token"])

        status, body, _ = await call(http, "POST", url, {"plate": "а123вс77"}, mine)
        assert (status, body) == (201, {"plate": PLATE})  # Cyrillic folded, as by SMS
        status, body, _ = await call(http, "POST", url, {"plate": "a 123 bc-77"}, mine)
        assert (status, body) == (201, {"plate": PLATE})  # the same plate again: no change
        status, body, _ = await call(
            http, "POST", url, {"plate": "ZZZ"}, {**mine, "Accept-Language": "en"}
        )
        assert (status, body["error"]) == (422, "bad_plate")
        assert body["message"] == "Plate ZZZ not recognised. Example: A123BC77"
        status, body, _ = await call(http, "POST", url, {"plate": "Ж123ВС77"}, mine)
        assert (status, body["error"]) == (422, "bad_plate")
        assert "Ж" in body["message"]
        assert (await call(http, "POST", url, {"plate": "B456CE777"}, mine))[0] == 201
        status, body, _ = await call(http, "POST", url, {"plate": "123ABC02"}, mine)
        assert (status, body["error"]) == (422, "too_many_vehicles")

        status, body, _ = await call(http, "GET", url, None, mine)
        assert body == {"vehicles": [{"plate": PLATE}, {"plate": "B456CE777"}]}
        status, body, _ = await call(http, "GET", url, None, theirs)
        assert body == {"vehicles": []}
        # someone else's plate: not theirs to delete
        status, body, _ = await call(http, "DELETE", f"{url}/{PLATE}", None, theirs)
        assert (status, body["error"]) == (404, "not_found")
        assert (await call(http, "DELETE", f"{url}/{PLATE}", None, mine))[0] == 204
        assert (await call(http, "DELETE", f"{url}/{PLATE}", None, mine))[0] == 404
        status, body, _ = await call(http, "GET", url, None, mine)
        assert body == {"vehicles": [{"plate": "B456CE777"}]}


async def test_zones_are_geojson_for_everyone(
    driver_rig: DriverRig, http: aiohttp.ClientSession
) -> None:
    async with driver_rig() as rig:
        status, body, response = await call(
            http, "GET", f"{rig.gateway.base_url}/v1/driver/zones", None, {"Accept-Language": "en"}
        )
        assert status == 200
        assert response.headers["Content-Type"] == "application/json; charset=utf-8"
        assert body["type"] == "FeatureCollection"
        zones = {feature["properties"]["number"]: feature for feature in body["features"]}
        assert {"1001", "3601", "3602", "7001", "8001", "9001", "9002"} == set(zones)
        tverskaya = zones["1001"]
        assert tverskaya["geometry"]["type"] == "Polygon"
        (ring,) = tverskaya["geometry"]["coordinates"]
        assert ring[0] == ring[-1] and len(ring) == 5  # four corners, closed
        assert all(37 < lon < 38 and 55 < lat < 56 for lon, lat in ring)  # Moscow
        properties = tverskaya["properties"]
        assert properties["price_per_hour"] == {"minor": 6000, "currency": "RUB", "text": "60 RUB"}
        assert properties["schedule"] == [{"days": "Mon-Sun", "from": "08:00", "to": "20:00"}]
        assert (properties["city"], properties["time_zone"]) == ("Moscow", "Europe/Moscow")
        assert properties["paid_now"] is True  # 09:00 on a Tuesday in Moscow
        assert properties["point"] == [37.6062, 55.7617]
        astana = zones["8001"]["properties"]
        assert astana["price_per_hour"]["text"] == "150 KZT"
        assert astana["schedule"] == [{"days": "Mon-Sat", "from": "08:00", "to": "20:00"}]
        assert zones["9001"]["geometry"] is None  # a zone with no location is still listed
        assert zones["9001"]["properties"]["point"] is None
