"""The web phone in a real browser (Chromium through Playwright) against the real gateway
and simulator: pick a phone, text the short number, watch the operator's confirmation
request and the gateway's replies arrive live."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from playwright.async_api import Browser, Page, Request, Response, expect

from simulator.faults import Faults
from simulator.operator import CONFIRMATION_PROMPT, DEFAULT_SERVICE_NUMBER
from simulator.phones import ConfirmationPolicy
from smsgw.replies.texts.ru import TEXTS as RU
from tests.browser.conftest import SHORT_NUMBER, ZONE, Demo

# one Chromium at a time across the parallel test processes (pyproject's addopts): two
# browsers and two demos on a 2-core machine slow each page past its waits
pytestmark = pytest.mark.xdist_group("chromium")

DRIVER = "79161234567"
WAITER = "79035550011"  # answers the operator by hand (policy "ignore")
NEWCOMER = "79057770022"  # created from the page
PLATE = "A123BC77"
COMMAND = f"{ZONE}*{PLATE}*2"
# a browser step may wait on the gateway and the operator round trip, never for long
STEP_TIMEOUT_MS = 8_000
expect.set_options(timeout=STEP_TIMEOUT_MS)


def started_prefix() -> str:
    """How the Russian "parking started" reply begins for this zone and plate."""
    template = RU["pay.started"]
    assert isinstance(template, str)
    return template.split("{end}")[0].format(zone=ZONE, plate=PLATE)


@dataclass
class PageWatch:
    """What the page did besides what the test asked: requests elsewhere, errors."""

    origin: str
    foreign_requests: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def attach(self, page: Page) -> None:
        page.on("request", self._on_request)
        page.on("response", self._on_response)
        page.on("pageerror", lambda error: self.errors.append(str(error)))
        page.on(
            "console",
            lambda message: self.errors.append(message.text) if message.type == "error" else None,
        )

    def _on_response(self, response: Response) -> None:
        if response.status >= 400:
            self.errors.append(f"{response.status} {response.url}")

    def _on_request(self, request: Request) -> None:
        if not request.url.startswith(self.origin + "/"):
            self.foreign_requests.append(request.url)


async def open_page(browser: Browser, demo: Demo) -> tuple[Page, PageWatch]:
    page = await browser.new_page(viewport={"width": 1280, "height": 900})
    page.set_default_timeout(STEP_TIMEOUT_MS)
    watch = PageWatch(demo.base_url)
    watch.attach(page)
    await page.goto(demo.base_url + "/")
    await expect(page.locator("body")).to_have_attribute("data-ready", "true")
    await expect(page.locator("#connection")).to_have_text("live")
    return page, watch


async def text_the_gateway(page: Page, text: str) -> None:
    await page.get_by_label(f"Text to {SHORT_NUMBER}").fill(text)
    await page.get_by_role("button", name="Send", exact=True).click()


async def test_a_phone_pays_and_sees_the_confirmation_and_the_reply_live(
    browser: Browser, demo: Demo, tmp_path: Path
) -> None:
    demo.world.phone(DRIVER, "mts")
    page, watch = await open_page(browser, demo)

    await page.get_by_label("Phone number").select_option(DRIVER)
    await text_the_gateway(page, COMMAND)

    screen = page.locator("#screen")
    await expect(screen.locator(".message.outgoing .text")).to_have_text([COMMAND])
    request = screen.locator(".message.operator")
    await expect(request).to_contain_text(DEFAULT_SERVICE_NUMBER)
    await expect(request).to_contain_text(CONFIRMATION_PROMPT)
    started = screen.locator(".message.gateway").filter(has_text=started_prefix())
    await expect(started).to_have_count(1)
    await expect(page.locator("#send-status")).to_contain_text("ESME_ROK")
    await expect(page.locator("#charges-body")).to_contain_text("confirmed")

    await page.screenshot(path=str(tmp_path / "webphone.png"), full_page=True)
    assert watch.foreign_requests == []
    assert watch.errors == []


async def test_a_phone_that_ignores_the_operator_is_answered_by_hand(
    browser: Browser, demo: Demo, tmp_path: Path
) -> None:
    demo.world.phone(WAITER, "beeline", policy=ConfirmationPolicy.IGNORE)
    page, watch = await open_page(browser, demo)

    await page.get_by_label("Phone number").select_option(WAITER)
    await text_the_gateway(page, COMMAND)

    screen = page.locator("#screen")
    await expect(screen.locator(".message.operator")).to_contain_text(CONFIRMATION_PROMPT)
    confirm = page.get_by_role("button", name="1 — confirm")
    await expect(confirm).to_be_visible()
    await expect(
        screen.locator(".message.gateway").filter(has_text=started_prefix())
    ).to_have_count(0)

    await page.screenshot(path=str(tmp_path / "webphone-answer.png"), full_page=True)
    # from the text field back over "0 — decline" to "1 — confirm", keyboard only
    await page.get_by_label(f"Text to {SHORT_NUMBER}").focus()
    await page.keyboard.press("Shift+Tab")
    await page.keyboard.press("Shift+Tab")
    await expect(confirm).to_be_focused()
    await page.keyboard.press("Enter")

    await expect(
        screen.locator(".message.gateway").filter(has_text=started_prefix())
    ).to_have_count(1)
    await expect(confirm).to_be_hidden()
    assert watch.errors == []


async def test_the_side_panel_drives_the_simulator(
    browser: Browser, demo: Demo, tmp_path: Path
) -> None:
    page, watch = await open_page(browser, demo)

    # a new number with the operator chosen on the page
    await page.get_by_label("Phone number").select_option(label="New number…")
    await page.get_by_label("Number (international digits)").fill(NEWCOMER)
    await page.get_by_label("Operator of the new number").select_option("beeline")
    await page.get_by_role("button", name="Add phone").click()
    await expect(page.locator("#device-number")).to_have_text(NEWCOMER)
    phone = demo.world.phones.require(NEWCOMER)
    assert phone.operator_id == "beeline"

    # a fault switched on, then everything cleared
    duplicates = page.get_by_label("Deliver every MO twice")
    await duplicates.check()
    await expect(page.locator("#faults-status")).to_have_text("Faults changed.")
    assert demo.world.faults.mo_duplicates == 1
    await page.get_by_role("button", name="Clear all faults").click()
    await expect(page.locator("#faults-status")).to_have_text("All faults cleared.")
    await expect(duplicates).not_to_be_checked()
    assert demo.world.faults == Faults()

    # a dropped link shows up live, and so does the gateway binding again
    await page.get_by_label("Drop the binds of").select_option("mts")
    await page.get_by_role("button", name="Drop links now").click()
    log = page.locator("#link-log")
    await expect(log.locator("li").filter(has_text=re.compile(r"^unbound gw-mts"))).to_have_count(1)
    await expect(log.locator("li").filter(has_text=re.compile(r"^bound gw-mts"))).to_have_count(1)
    await expect(page.locator("#links-body")).to_contain_text("gw-mts")
    await page.screenshot(path=str(tmp_path / "webphone-panel.png"), full_page=True)
    assert watch.foreign_requests == []
    assert watch.errors == []
