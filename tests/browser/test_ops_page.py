"""The gateway's support page in a real browser (Chromium through Playwright) against the
real gateway and simulator: it asks for the API token, then looks up a phone (sessions,
parking account, history) and a plate (paid where, until when). Without the token it
shows nothing, because the data endpoints refuse."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.async_api import Browser, Page, expect

from smsgw.replies.texts.ru import TEXTS as RU
from tests.browser.conftest import ZONE, Demo
from tests.browser.test_webphone import PageWatch

# one Chromium at a time across the parallel test processes (pyproject's addopts): two
# browsers and two demos on a 2-core machine slow each page past its waits
pytestmark = pytest.mark.xdist_group("chromium")

DRIVER = "79161234567"
PLATE = "A123BC77"
TOKEN = "browser-token"  # conftest's http.api_token
STEP_TIMEOUT_MS = 8_000
expect.set_options(timeout=STEP_TIMEOUT_MS)


async def paid_session(demo: Demo) -> None:
    """DRIVER pays two hours for PLATE in ZONE and the gateway confirms it."""
    demo.world.phone(DRIVER, "mts")
    await demo.world.text(DRIVER, f"{ZONE}*{PLATE}*2", wait=5)
    started = str(RU["pay.started"]).split("{end}")[0].format(zone=ZONE, plate=PLATE)
    assert await demo.world.wait_until(
        lambda: any(started in entry.text for entry in demo.world.inbox(DRIVER)), timeout=8
    )


async def open_ops_page(browser: Browser, demo: Demo) -> tuple[Page, PageWatch]:
    page = await browser.new_page(viewport={"width": 1280, "height": 900})
    page.set_default_timeout(STEP_TIMEOUT_MS)
    watch = PageWatch(demo.gateway.base_url)
    watch.attach(page)
    await page.goto(demo.gateway.base_url + "/ops/")
    await expect(page.locator("#token-state")).to_have_text("no token")
    return page, watch


async def use_token(page: Page, token: str) -> None:
    await page.get_by_label("API token").fill(token)
    await page.get_by_role("button", name="Use token").click()


async def test_support_looks_up_a_phone_and_a_plate_with_the_token(
    browser: Browser, demo: Demo, tmp_path: Path
) -> None:
    await paid_session(demo)
    page, watch = await open_ops_page(browser, demo)

    await use_token(page, TOKEN)
    await expect(page.locator("#token-state")).to_have_text("token set for this tab")
    await page.get_by_label("Phone number", exact=True).fill(f"+{DRIVER}")
    await page.get_by_role("button", name="Look up").click()

    await expect(page.locator("#phone-summary")).to_contain_text(f"{DRIVER}: operator mts")
    await expect(page.locator("#sessions tbody tr")).to_have_count(1)
    await expect(page.locator("#sessions tbody")).to_contain_text(PLATE)
    await expect(page.locator("#balances")).to_contain_text("RUB")
    history = page.locator("#history tbody")
    await expect(history.locator('tr[data-type="charge"]')).to_contain_text("applied")
    await expect(history.locator('tr[data-type="top_up"]')).to_contain_text("120.00 RUB")
    await expect(history.locator('tr[data-type="payment"]')).to_contain_text("-120.00 RUB")
    await expect(history.locator('tr[data-type="session"]')).to_contain_text("active")
    await expect(history.locator('tr[data-type="reply"]').first).to_be_visible()

    await page.get_by_label("Plate number", exact=True).fill("а123вс77")
    await page.get_by_role("button", name="Check").click()
    verdict = page.locator("#plate-verdict")
    await expect(verdict).to_contain_text(f"{PLATE} is paid in zone {ZONE} until")
    await expect(page.locator("#plate-zones tbody tr.paid")).to_have_count(1)
    await page.get_by_label("Plate number", exact=True).fill("B456CE77")
    await page.get_by_role("button", name="Check").click()
    await expect(verdict).to_have_text("B456CE77 is not paid in any zone now")

    await page.screenshot(path=str(tmp_path / "ops-page.png"), full_page=True)
    assert watch.foreign_requests == []
    assert watch.errors == []
    # the token lives in this tab's sessionStorage only, never in localStorage
    assert await page.evaluate("sessionStorage.getItem('smsgw.ops.token')") == TOKEN
    assert await page.evaluate("localStorage.length") == 0


async def test_without_the_right_token_the_page_shows_no_data(browser: Browser, demo: Demo) -> None:
    await paid_session(demo)
    page, watch = await open_ops_page(browser, demo)
    error = page.locator("#error")

    await page.get_by_label("Phone number", exact=True).fill(DRIVER)
    await page.get_by_role("button", name="Look up").click()
    await expect(error).to_have_text("Enter the API token first.")

    await use_token(page, "not-the-token")
    await page.get_by_role("button", name="Look up").click()
    await expect(error).to_contain_text("The token was refused (401)")
    await expect(page.locator("#phone-result")).to_be_hidden()
    await page.get_by_label("Plate number", exact=True).fill(PLATE)
    await page.get_by_role("button", name="Check").click()
    await expect(error).to_contain_text("The token was refused (401)")
    await expect(page.locator("#plate-result")).to_be_hidden()

    await page.get_by_role("button", name="Forget token").click()
    await expect(page.locator("#token-state")).to_have_text("no token")
    assert watch.foreign_requests == []
    # the refused requests are the only errors the page met
    assert all("401" in error_text for error_text in watch.errors)
