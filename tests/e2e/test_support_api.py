"""Support's questions answered over real HTTP on the in-process rig (real SQLite, SMPP
links, the simulator's SMSC and operators): "was I charged twice?" (a phone's history),
"is this car paid anywhere here?" (a plate without a zone), money and sessions on
/metrics, and a pending charge's deadline in local time."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import aiohttp
import orjson
import pytest
from prometheus_client.parser import text_string_to_metric_families

from simulator.phones import ConfirmationPolicy
from tests.e2e.rig import TOKEN, Rig

DRIVER = "79161234567"
PLATE = "A123BC77"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
PAY = f"1001*{PLATE}*2"
TWO_HOURS_IN_1001 = 12_000  # 60.00 RUB an hour, in kopecks
MOSCOW_OFFSET = "+03:00"


async def get_json(
    http: aiohttp.ClientSession, url: str, headers: dict[str, str] | None = None
) -> tuple[int, Any]:
    async with http.get(url, headers=headers) as response:
        return response.status, orjson.loads(await response.read())


async def pay_then_stop_after_30_minutes(rig: Rig) -> None:
    rig.phone(DRIVER)
    await rig.text(DRIVER, PAY)
    await rig.settle()
    await rig.replies(DRIVER, 2)  # the operator's confirmation request, then "started"
    rig.clock.advance(timedelta(minutes=30))
    await rig.converse(DRIVER, "S")


async def history_pages(rig: Rig, http: aiohttp.ClientSession, limit: int) -> list[Any]:
    items: list[Any] = []
    before: str | None = None
    while True:
        query = f"limit={limit}" + ("" if before is None else f"&before={before}")
        url = f"{rig.gateway.base_url}/v1/phones/{DRIVER}/history?{query}"
        status, page = await get_json(http, url, AUTH)
        assert status == 200, page
        assert len(page["items"]) <= limit
        items.extend(page["items"])
        before = page["next_before"]
        if before is None:
            return items


async def test_history_after_pay_and_stop_shows_charge_payment_refund_and_replies(
    rig: Rig, http: aiohttp.ClientSession
) -> None:
    await pay_then_stop_after_30_minutes(rig)

    items = await history_pages(rig, http, 200)

    by_type: dict[str, list[Any]] = {}
    for item in items:
        by_type.setdefault(item["type"], []).append(item)
    (charge,) = by_type["charge"]
    assert (charge["operator"], charge["state"]) == ("mts", "applied")
    assert charge["amount"] == {"minor": TWO_HOURS_IN_1001, "currency": "RUB"}
    (top_up,) = by_type["top_up"]
    assert top_up["amount"] == {"minor": TWO_HOURS_IN_1001, "currency": "RUB"}
    assert top_up["reference"] == charge["id"]
    (payment,) = by_type["payment"]
    assert payment["amount"] == {"minor": -TWO_HOURS_IN_1001, "currency": "RUB"}
    (refund,) = by_type["refund"]
    assert refund["amount"] == {"minor": TWO_HOURS_IN_1001 * 3 // 4, "currency": "RUB"}
    assert refund["zone"] == "1001"
    (session,) = by_type["session"]
    assert (session["plate"], session["state"]) == (PLATE, "stopped")
    replies = by_type["reply"]
    # written with the state changes that caused them: "confirm with your operator",
    # "started" (with the applied charge), "stopped" (with the refund)
    assert len(replies) == 3
    assert all(r["state"] in {"pending", "sent", "delivered", "failed"} for r in replies)
    assert all(PLATE in r["text"] for r in replies[:2])
    # newest first, every time in Moscow's local time with its offset
    moments = [datetime.fromisoformat(item["at"]) for item in items]
    assert moments == sorted(moments, reverse=True)
    assert all(item["at"].endswith(MOSCOW_OFFSET) for item in items)


async def test_history_pages_add_up_to_the_whole(rig: Rig, http: aiohttp.ClientSession) -> None:
    await pay_then_stop_after_30_minutes(rig)

    whole = await history_pages(rig, http, 200)
    paged = await history_pages(rig, http, 2)
    one_by_one = await history_pages(rig, http, 1)

    assert len(whole) >= 7
    # a reply's delivery state may move on (its receipt) between the reads: compare what
    # identifies each item and its place
    assert identities(paged) == identities(whole)
    assert identities(one_by_one) == identities(whole)


def identities(items: list[Any]) -> list[tuple[str, str, str]]:
    return [(item["type"], item["id"], item["at"]) for item in items]


@pytest.mark.parametrize(
    "query", ["limit=0", "limit=201", "limit=ten", "before=not-a-cursor", "before=Zm9v"]
)
async def test_a_bad_history_query_is_a_400_naming_the_field(
    rig: Rig, http: aiohttp.ClientSession, query: str
) -> None:
    url = f"{rig.gateway.base_url}/v1/phones/{DRIVER}/history?{query}"
    status, body = await get_json(http, url, AUTH)
    assert status == 400
    assert body["error"] == "invalid_field"
    assert query.split("=")[0] in body["message"]


async def test_an_unknown_phone_has_an_empty_history(rig: Rig, http: aiohttp.ClientSession) -> None:
    url = f"{rig.gateway.base_url}/v1/phones/79990001122/history"
    assert await get_json(http, url, AUTH) == (
        200,
        {"msisdn": "79990001122", "items": [], "next_before": None},
    )


async def test_a_plate_without_a_zone_is_answered_for_every_zone(
    rig: Rig, http: aiohttp.ClientSession
) -> None:
    rig.phone(DRIVER)
    await rig.text(DRIVER, PAY)
    await rig.settle()
    await rig.replies(DRIVER, 2)
    base = rig.gateway.base_url

    status, paid = await get_json(http, f"{base}/v1/plates/а123вс77", AUTH)
    _, unpaid = await get_json(http, f"{base}/v1/plates/B456CE77", AUTH)
    _, in_zone = await get_json(http, f"{base}/v1/plates/{PLATE}?zone=1001", AUTH)

    assert status == 200
    assert (paid["plate"], paid["paid"], paid["zone"]) == (PLATE, True, "1001")
    assert paid["until"] == "2026-03-10T11:00:00+03:00"
    zones = {entry["zone"]: entry for entry in paid["zones"]}
    assert set(zones) == set(rig.gateway.config.zones)
    assert [number for number, entry in zones.items() if entry["paid"]] == ["1001"]
    assert zones["1001"]["name"] == "Tverskaya"
    assert (unpaid["paid"], unpaid["zone"], unpaid["until"]) == (False, None, None)
    assert not any(entry["paid"] for entry in unpaid["zones"])
    # with a zone it answers as it always did
    assert in_zone == {"plate": PLATE, "zone": "1001", "paid": True, "until": paid["until"]}


def metric_samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


async def scrape(rig: Rig, http: aiohttp.ClientSession) -> dict[Any, float]:
    async with http.get(f"{rig.gateway.base_url}/metrics", headers=AUTH) as response:
        assert response.status == 200
        return metric_samples(await response.text())


async def test_metrics_show_money_charged_refunded_and_active_sessions(
    rig: Rig, http: aiohttp.ClientSession
) -> None:
    charged = ("money_charged_minor", (("currency", "RUB"), ("operator", "mts")))
    refunded = ("money_refunded_minor", (("currency", "RUB"), ("zone", "1001")))
    active = ("active_sessions", (("zone", "1001"),))
    before = await scrape(rig, http)
    rig.phone(DRIVER)
    await rig.text(DRIVER, PAY)
    await rig.settle()
    await rig.replies(DRIVER, 2)

    while_parked = await scrape(rig, http)
    rig.clock.advance(timedelta(minutes=30))
    await rig.converse(DRIVER, "S")
    after_stop = await scrape(rig, http)

    assert charged not in before and active not in before
    assert while_parked[charged] == TWO_HOURS_IN_1001
    assert while_parked[active] == 1
    assert refunded not in while_parked
    assert after_stop[charged] == TWO_HOURS_IN_1001
    assert after_stop[refunded] == TWO_HOURS_IN_1001 * 3 // 4
    assert active not in after_stop


async def test_a_pending_charges_deadline_is_in_local_time(
    rig: Rig, http: aiohttp.ClientSession
) -> None:
    rig.phone(DRIVER, policy=ConfirmationPolicy.IGNORE)
    await rig.text(DRIVER, PAY)
    await rig.settle()
    await rig.replies(DRIVER, 1)  # the operator's request, left unanswered

    status, overview = await get_json(http, f"{rig.gateway.base_url}/v1/phones/{DRIVER}", AUTH)

    assert status == 200
    deadline = overview["pending_charge"]["deadline"]
    assert deadline.endswith(MOSCOW_OFFSET)
    assert datetime.fromisoformat(deadline) == rig.clock.now() + timedelta(minutes=15)
