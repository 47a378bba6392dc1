"""The simulator's control API over real HTTP, on the whole in-process stack (gateway,
SMSC, operators, phones) built from the bundled config.toml."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from simulator.config import SmscAccount, SmscSettings
from simulator.control import create_control_app
from simulator.scenario import Stack, in_process_stack, read_gateway_config
from simulator.world import SimulatedWorld

REPO = Path(__file__).resolve().parents[2]
DRIVER = "79161234567"


@dataclass
class Api:
    base: str
    http: aiohttp.ClientSession

    async def call(self, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        data = None if body is None else json.dumps(body)
        async with self.http.request(method, self.base + path, data=data) as response:
            assert response.content_type == "application/json"
            return response.status, await response.json()

    async def ok(self, method: str, path: str, body: Any = None) -> Any:
        status, payload = await self.call(method, path, body)
        assert status in (200, 201), payload
        return payload


@dataclass
class Served:
    api: Api
    world: SimulatedWorld
    stack: Stack | None = None


async def serve(world: SimulatedWorld, keepalive: float = 15.0) -> tuple[web.AppRunner, str]:
    runner = web.AppRunner(create_control_app(world, keepalive=keepalive), access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    host, port = runner.addresses[0][:2]
    return runner, f"http://{host}:{port}"


@pytest.fixture
async def served() -> AsyncIterator[Served]:
    raw, operator_files = read_gateway_config(REPO / "config.toml")
    async with in_process_stack(raw, operator_files) as stack, aiohttp.ClientSession() as http:
        runner, base = await serve(stack.world, keepalive=0.2)
        try:
            yield Served(Api(base, http), stack.world, stack)
        finally:
            await runner.cleanup()


@pytest.fixture
async def alone() -> AsyncIterator[Served]:
    """A world with no gateway bound to it."""
    accounts = (SmscAccount("gw-mts", "pw", "mts"),)
    world = SimulatedWorld(SmscSettings("127.0.0.1", 0, accounts), [])
    await world.start()
    async with aiohttp.ClientSession() as http:
        runner, base = await serve(world)
        try:
            yield Served(Api(base, http), world)
        finally:
            await runner.cleanup()
            await world.close()


async def test_state_shows_links_phones_and_faults(served: Served) -> None:
    await served.api.ok("POST", "/api/phones", {"msisdn": DRIVER, "operator": "beeline"})
    state = await served.api.ok("GET", "/api/state")
    assert state["short_number"] == "7757"
    assert state["operators"] == ["beeline", "kcell", "megafon", "mts", "t2", "yota"]
    assert {link["system_id"] for link in state["links"]} == {
        f"gw-{op}" for op in state["operators"]
    }
    assert {link["bind"] for link in state["links"]} == {"transceiver"}
    assert state["phones"] == [
        {
            "msisdn": DRIVER,
            "operator": "beeline",
            "balance_minor": 1000_00,
            "currency": "RUB",
            "policy": "confirm",
            "answer_delay": 0.0,
        }
    ]
    assert state["faults"]["throttle_count"] == 0


async def test_creating_phones(served: Served) -> None:
    api = served.api
    body = {"msisdn": "77011234567", "operator": "kcell", "balance_minor": 500_00}
    status, phone = await api.call("POST", "/api/phones", {**body, "policy": "ignore"})
    assert status == 201
    assert (phone["currency"], phone["balance_minor"], phone["policy"]) == ("KZT", 500_00, "ignore")
    status, again = await api.call("POST", "/api/phones", {"msisdn": "77011234567"})
    assert (status, again) == (200, phone)
    status, error = await api.call(
        "POST", "/api/phones", {"msisdn": "77011234567", "operator": "mts"}
    )
    assert (status, error["error"]) == (409, "phone_exists")
    for bad in (
        {"msisdn": "+7 916"},
        {"msisdn": DRIVER, "operator": "nokia"},
        {"msisdn": DRIVER, "policy": "maybe"},
        {"msisdn": DRIVER, "balance_minor": -1},
    ):
        status, error = await api.call("POST", "/api/phones", bad)
        assert status == 400 and error["error"] == "bad_request" and error["message"], bad


async def test_text_inbox_and_charges(served: Served) -> None:
    api = served.api
    await api.ok("POST", "/api/phones", {"msisdn": DRIVER, "operator": "mts"})
    answer = await api.ok("POST", f"/api/phones/{DRIVER}/texts", {"text": "1001*A123BC77*2"})
    assert answer == {"status": 0, "status_name": "ESME_ROK"}
    assert await served.world.wait_until(lambda: len(served.world.inbox(DRIVER)) >= 3, 5)
    inbox = await api.ok("GET", f"/api/phones/{DRIVER}/inbox")
    assert {entry["sender"] for entry in inbox} == {"7757", "7701"}
    assert "A123BC77" in inbox[-1]["text"] and inbox[-1]["sender"] == "7757"
    assert inbox[-1]["at"].startswith("2026-03-10T06:00")  # the stack's settable clock
    (charge,) = await api.ok("GET", "/api/charges")
    assert charge["msisdn"] == DRIVER and charge["operator"] == "mts"
    assert (charge["amount_minor"], charge["currency"], charge["status"]) == (
        120_00,
        "RUB",
        "confirmed",
    )
    phone = await api.ok("GET", f"/api/phones/{DRIVER}")
    assert phone["balance_minor"] == 1000_00 - 120_00


async def test_answer_by_hand_for_an_ignoring_phone(served: Served) -> None:
    api = served.api
    await api.ok("POST", "/api/phones", {"msisdn": DRIVER, "operator": "t2"})
    status, error = await api.call("POST", f"/api/phones/{DRIVER}/answer", {"reply": "1"})
    assert (status, error["error"]) == (409, "no_pending_confirmation")
    policy = await api.ok("PUT", f"/api/phones/{DRIVER}/policy", {"policy": "ignore", "delay": 2})
    assert (policy["policy"], policy["answer_delay"]) == ("ignore", 2.0)
    await api.ok("POST", f"/api/phones/{DRIVER}/texts", {"text": "1001*A123BC77*1"})
    operator = served.world.operators["t2"]
    assert await served.world.wait_until(lambda: bool(operator.pending_for(DRIVER)), 5)
    charge = await api.ok("POST", f"/api/phones/{DRIVER}/answer", {"reply": "1"})
    assert charge["status"] == "confirmed"
    assert await served.world.wait_until(
        lambda: any("10:00" in e.text for e in served.world.inbox(DRIVER)), 5
    )
    status, error = await api.call("POST", f"/api/phones/{DRIVER}/answer", {"reply": "yes"})
    assert status == 400


async def test_faults_put_patch_delete(served: Served) -> None:
    api = served.api
    faults = await api.ok("PUT", "/api/faults", {"throttle_count": 2, "nack_status": 8})
    assert (faults["throttle_count"], faults["nack_status"]) == (2, "ESME_RSYSERR")
    faults = await api.ok("PATCH", "/api/faults", {"mo_duplicates": 1})
    assert (faults["throttle_count"], faults["mo_duplicates"]) == (2, 1)
    faults = await api.ok("PUT", "/api/faults", {"receipts": True})
    assert (faults["throttle_count"], faults["receipts"]) == (0, True)
    assert served.world.smsc.faults.receipts is True
    status, error = await api.call("PUT", "/api/faults", {"throttle_count": "many"})
    assert status == 400 and error["message"].startswith("faults.throttle_count:")
    assert (await api.ok("DELETE", "/api/faults")) == await api.ok("GET", "/api/faults")
    assert served.world.smsc.faults.receipts is False


async def test_drop_links_and_errors_in_json(served: Served) -> None:
    api = served.api
    assert await api.ok("POST", "/api/links/drop", {"operator": "mts"}) == {"dropped": 1}
    for method, path, code in [
        ("GET", "/api/nothing", "not_found"),
        ("GET", "/api/phones/70000000000", "unknown_phone"),
        ("GET", "/api/phones/70000000000/inbox", "unknown_phone"),
        ("DELETE", "/api/state", "method_not_allowed"),
    ]:
        status, error = await api.call(method, path)
        assert 400 <= status < 500 and error["error"] == code, (path, error)
    async with api.http.post(api.base + "/api/phones", data=b"{not json") as response:
        assert response.status == 400
        assert (await response.json())["message"] == "the body is not valid JSON"


async def test_text_with_no_gateway_bound_is_a_conflict(alone: Served) -> None:
    await alone.api.ok("POST", "/api/phones", {"msisdn": DRIVER})
    status, error = await alone.api.call("POST", f"/api/phones/{DRIVER}/texts", {"text": "?"})
    assert (status, error["error"]) == (409, "no_gateway_bound")


async def read_events(response: aiohttp.ClientResponse, wanted: int) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = []
    async with asyncio.timeout(5):
        while len(events) < wanted:
            line = (await response.content.readline()).decode("utf-8")
            if line.startswith("data: "):
                events.append(json.loads(line[len("data: ") :]))
    return events


async def test_events_stream(served: Served) -> None:
    api = served.api
    async with api.http.get(api.base + "/api/events") as response:
        assert response.headers["Content-Type"].startswith("text/event-stream")
        await api.ok("POST", "/api/phones", {"msisdn": DRIVER, "operator": "mts"})
        await api.ok("PATCH", "/api/faults", {"operator": "yota", "throttle_share": 0.5})
        await api.ok("POST", f"/api/phones/{DRIVER}/texts", {"text": "1001*A123BC77*1"})
        events = await read_events(response, 8)
        types = [event["type"] for event in events]
        assert types[:3] == ["phone", "faults", "mo"]
        assert events[1]["faults"]["throttle_share"] == 0.5
        assert events[2] == {**events[2], "msisdn": DRIVER, "text": "1001*A123BC77*1", "status": 0}
        sms = [event for event in events if event["type"] == "sms"]
        assert {event["sender"] for event in sms} >= {"7701"}
        charges = [event["status"] for event in events if event["type"] == "charge"]
        assert charges[:2] == ["pending", "confirmed"]
        await api.ok("POST", "/api/links/drop", {"operator": "beeline"})
        (link,) = await read_events(response, 1)
        assert link == {**link, "type": "link", "system_id": "gw-beeline", "state": "unbound"}


async def test_idle_stream_gets_keep_alives_until_the_client_leaves(served: Served) -> None:
    api = served.api
    async with api.http.get(api.base + "/api/events") as response:
        assert await response.content.readline() == b"retry: 1000\n"
        async with asyncio.timeout(5):
            while (await response.content.readline()) != b": keep-alive\n":
                pass
        assert served.world.events.subscriber_count == 1
    # the server sees the client gone at its next keep-alive
    assert await served.world.wait_until(lambda: served.world.events.subscriber_count == 0, 5)


async def test_shutdown_ends_open_streams(alone: Served) -> None:
    runner, base = await serve(alone.world)
    async with alone.api.http.get(base + "/api/events") as response:
        assert await response.content.readline() == b"retry: 1000\n"
        await asyncio.wait_for(runner.cleanup(), 5)
        async with asyncio.timeout(5):
            assert await response.content.read() == b": connected\n\n"
    assert alone.world.events.subscriber_count == 0
