"""The web phone shows the simulated time of `smsgw demo --clock … --speed …`, in the
deployment's time zone, and runs it on at the simulated speed."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping

import pytest
from playwright.async_api import Browser, expect

from simulator.control import create_control_app
from simulator.webphone import add_webphone_routes
from tests.browser.conftest import serve, simulated_world

# one Chromium at a time across the parallel test processes (pyproject's addopts): two
# browsers and two demos on a 2-core machine slow each page past its waits
pytestmark = pytest.mark.xdist_group("chromium")

SIMULATED: Mapping[str, object] = {
    "now": "2026-12-01T07:00:00+00:00",  # 10:00 in Moscow
    "speed": 60.0,
    "time_zone": "Europe/Moscow",
}


@pytest.fixture
async def page_url() -> AsyncIterator[str]:
    world = simulated_world()
    await world.start()
    app = create_control_app(world)
    add_webphone_routes(app, clock=lambda: SIMULATED)
    runner, base_url = await serve(app)
    try:
        yield base_url + "/"
    finally:
        await runner.cleanup()
        await world.close()


async def test_the_page_shows_the_simulated_time_and_its_speed(
    browser: Browser, page_url: str
) -> None:
    page = await browser.new_page()
    await page.goto(page_url)
    shown = page.locator("#sim-clock-time")
    # 10:00 read once, then a simulated minute per real second
    await expect(shown).to_contain_text("1 Dec", timeout=8_000)
    await expect(shown).to_contain_text("10:0", timeout=8_000)
    await expect(page.locator("#sim-clock-zone")).to_have_text("Europe/Moscow · ×60")
