"""/ready of a real gateway: 200 only while the store answers and every operator with links
has one up (an HTTP link counts as up); the body names each link's state."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager, closing
from pathlib import Path
from typing import Any

import aiohttp

from simulator.config import SmscAccount, SmscSettings
from simulator.smsc import SimulatedSmsc
from smsgw.bootstrap import RunningGateway, start_gateway
from smsgw.config import config_from_mapping, read_operator_files

REPO = Path(__file__).resolve().parents[2]
TOKEN = "ready-token-0123456789"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
PASSWORD = "pw"
GUARD_SECONDS = 20.0


def unused_port() -> int:
    with closing(socket.socket()) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def smpp_link(operator: str, port: int) -> dict[str, Any]:
    return {
        "id": f"{operator}-1",
        "operator": operator,
        "type": "smpp",
        "port": port,
        "system_id": f"gw-{operator}",
        "password": PASSWORD,
    }


def raw_config(tmp_path: Path, links: Sequence[dict[str, Any]]) -> dict[str, Any]:
    operators = {link["operator"] for link in links}
    return {
        "storage": {"dsn": f"sqlite:///{tmp_path / 'gw.sqlite3'}"},
        "http": {"host": "127.0.0.1", "port": 0, "api_token": TOKEN},
        "links": list(links),
        "charging": {
            operator: {"url": f"http://127.0.0.1:{unused_port()}", "secret": "s" * 16}
            for operator in operators
        },
    }


@asynccontextmanager
async def gateway_with(
    tmp_path: Path, links: Sequence[dict[str, Any]]
) -> AsyncIterator[RunningGateway]:
    config = config_from_mapping(
        raw_config(tmp_path, links), read_operator_files(REPO / "operators")
    )
    gateway = await start_gateway(config)
    try:
        yield gateway
    finally:
        await gateway.stop(drain_seconds=2)


@asynccontextmanager
async def smsc_for(*operators: str) -> AsyncIterator[SimulatedSmsc]:
    accounts = tuple(SmscAccount(f"gw-{op}", PASSWORD, op) for op in operators)
    server = SimulatedSmsc(SmscSettings("127.0.0.1", 0, accounts))
    await server.start()
    try:
        yield server
    finally:
        await server.close()


async def ready(gateway: RunningGateway) -> tuple[int, dict[str, Any]]:
    async with (
        aiohttp.ClientSession() as session,
        session.get(f"{gateway.base_url}/ready", headers=AUTH) as response,
    ):
        body: dict[str, Any] = await response.json()
        return response.status, body


async def test_every_link_down_is_not_ready(tmp_path: Path) -> None:
    dead = unused_port()
    async with gateway_with(tmp_path, [smpp_link("mts", dead), smpp_link("beeline", dead)]) as gw:
        status, body = await ready(gw)
    assert status == 503
    assert body["ready"] is False
    assert body["links"] == {"mts-1": "down", "beeline-1": "down"}
    assert body["store"] == "ok"
    assert "beeline, mts" in body["message"]


async def test_one_operator_without_a_bound_link_is_not_ready(tmp_path: Path) -> None:
    async with (
        smsc_for("mts") as smsc,
        gateway_with(
            tmp_path, [smpp_link("mts", smsc.port), smpp_link("beeline", unused_port())]
        ) as gw,
    ):
        await asyncio.wait_for(gw.links["mts-1"].wait_bound(), GUARD_SECONDS)
        status, body = await ready(gw)
    assert status == 503
    assert body["links"] == {"mts-1": "up", "beeline-1": "down"}
    assert body["message"] == "no link up for beeline"


async def test_ready_while_bound_and_not_once_the_smsc_is_gone(tmp_path: Path) -> None:
    kannel = {
        "id": "t2-kannel",
        "operator": "t2",
        "type": "kannel",
        "sendsms_url": f"http://127.0.0.1:{unused_port()}/cgi-bin/sendsms",
        "secret": "t2-kannel-secret-0123",
    }
    async with (
        smsc_for("mts") as smsc,
        gateway_with(tmp_path, [smpp_link("mts", smsc.port), kannel]) as gw,
    ):
        await asyncio.wait_for(gw.wait_links_bound(), GUARD_SECONDS)
        status, body = await ready(gw)
        assert (status, body) == (
            200,
            {"ready": True, "links": {"mts-1": "up", "t2-kannel": "up"}, "store": "ok"},
        )
        await smsc.close()
        async with asyncio.timeout(GUARD_SECONDS):
            while (await ready(gw))[0] != 503:
                await asyncio.sleep(0.05)  # /ready is polled, as a balancer would
        _, body = await ready(gw)
        assert body["links"]["mts-1"] == "down"
