"""The whole demo on one loop for the browser: the gateway (`start_gateway`), the
simulated world (SMSC, operators' charging APIs, phones) and the control app with the
web phone's routes, every server on a port the OS picks.

The clock is the real one: the simulated operators sign their callbacks with it and the
gateway checks them with its own, so both must agree. Zone 1001 is made paid around
the clock here so the flow does not depend on when the test runs.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from playwright.async_api import Browser, async_playwright

from simulator.config import SmscAccount, SmscSettings
from simulator.control import create_control_app
from simulator.webphone import add_webphone_routes
from simulator.world import OperatorEndpoint, SimulatedWorld
from smsgw.bootstrap import RunningGateway, start_gateway
from smsgw.config import AppConfig, config_from_mapping, read_operator_files
from tests.transport.fast_timer import FastLinkTimer

REPO = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
SHORT_NUMBER = "7757"
ZONE = "1001"
CHARGING_OPERATORS = ("mts", "beeline")
LINK_OPERATORS = ("mts", "beeline")


@dataclass
class Demo:
    gateway: RunningGateway
    world: SimulatedWorld
    base_url: str  # the control app with the web phone


def secret_for(operator: str) -> str:
    return f"{operator}-browser-secret-0123456789"


def chromium_path() -> str:
    """/usr/bin/chromium; under CI its absence is a failure, elsewhere a skip."""
    if CHROMIUM.is_file():
        return str(CHROMIUM)
    reason = f"{CHROMIUM} is missing (scripts/install-system-packages.sh installs it)"
    if os.environ.get("CI") == "true":
        pytest.fail(reason)
    pytest.skip(reason)


def gateway_config(tmp_path: Path, world: SimulatedWorld) -> AppConfig:
    raw: dict[str, Any] = tomllib.loads((REPO / "config.toml").read_text("utf-8"))
    raw.pop("simulator", None)
    raw["storage"] = {"dsn": f"sqlite:///{tmp_path / 'gateway.sqlite3'}"}
    raw["http"] = {"host": "127.0.0.1", "port": 0, "api_token": "browser-token"}
    raw["logging"] = {"level": "warning", "json": True}
    raw["links"] = [
        {
            "id": f"{operator}-1",
            "operator": operator,
            "type": "smpp",
            "port": world.smsc.port,
            "system_id": f"gw-{operator}",
            "password": "pw",
            "enquire_link_seconds": 30,
        }
        for operator in LINK_OPERATORS
    ]
    raw["charging"] = {
        operator: {"url": world.operators[operator].base_url, "secret": secret_for(operator)}
        for operator in CHARGING_OPERATORS
    }
    for zone in raw["zones"]:
        if zone["number"] == ZONE:
            zone["paid"] = [{"days": "Mon-Sun", "from": "00:00", "to": "24:00"}]
            zone.pop("holiday_calendar", None)
            zone.pop("holidays", None)
    return config_from_mapping(raw, read_operator_files(REPO / "operators"))


def simulated_world() -> SimulatedWorld:
    accounts = tuple(SmscAccount(f"gw-{op}", "pw", op) for op in LINK_OPERATORS)
    endpoints = [OperatorEndpoint(op, "127.0.0.1", 0, secret_for(op)) for op in CHARGING_OPERATORS]
    return SimulatedWorld(
        SmscSettings("127.0.0.1", 0, accounts), endpoints, short_number=SHORT_NUMBER
    )


async def serve(app: web.Application) -> tuple[web.AppRunner, str]:
    runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port: int = runner.addresses[0][1]
    return runner, f"http://127.0.0.1:{port}"


LINK_SPEED = 10.0


@pytest.fixture
async def demo(tmp_path: Path) -> AsyncIterator[Demo]:
    world = simulated_world()
    await world.start()
    # a dropped link rebinds after a tenth of its real back-off: the page shows that it
    # does, not how long it waits
    link_timer = FastLinkTimer(LINK_SPEED)
    gateway = await start_gateway(gateway_config(tmp_path, world), link_timer=link_timer)
    app = create_control_app(world)
    add_webphone_routes(app)
    runner, base_url = await serve(app)
    try:
        await gateway.wait_links_bound()
        yield Demo(gateway, world, base_url)
    finally:
        await runner.cleanup()
        await gateway.stop()
        await world.close()


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    """Chromium through Playwright, one per test (skipped or failed as `chromium_path`)."""
    executable = chromium_path()
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=executable, args=["--no-sandbox"]
        )
        try:
            yield browser
        finally:
            await browser.close()
