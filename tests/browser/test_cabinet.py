"""The driver's cabinet (GET /cabinet/): its files as served, and the page in a real
browser (Chromium through Playwright) at a phone's size.

Three layers:
- the page's routes on a real aiohttp app and socket: files, types, headers, nothing
  outside the folder, nothing at all when the channel is off; the files themselves name
  no external resource and carry every element id the contract lists;
- the page against `FakeDriverApi`, an in-memory stand-in for the driver API written
  from its contract (docs/driver-api.md): the page's own logic (sign-in, the CSRF
  header on every state change, map, pay, extend, stop, top-up, vehicles, errors shown);
- `cabinet_flow`: the whole run against the real gateway, driver API and simulator
  (tests/e2e/rig.py), sign-in with the code read from the simulated phone's inbox →
  top-up → pay → stop, the SMS channel seeing the same session.
"""

from __future__ import annotations

import itertools
import re
import secrets
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from playwright.async_api import Browser, Page, ViewportSize, expect

from smsgw.config import AppConfig, config_from_mapping
from smsgw.domain.money import Money
from smsgw.replies.formatting import format_money
from smsgw.transport.cabinet_page import CABINET_ROOT, CabinetPage
from smsgw.transport.ops_page import CONTENT_SECURITY_POLICY
from tests.browser.conftest import serve
from tests.browser.test_webphone import PageWatch
from tests.e2e import rig as rig_module

DRIVER = "79161234567"
PLATE = "A123BC77"
ZONE = "1001"
CODE = "246810"
STEP_TIMEOUT_MS = 8_000
PHONE_SCREEN = ViewportSize(width=360, height=640)
expect.set_options(timeout=STEP_TIMEOUT_MS)

# the element ids the browser tests use (the contract's "The cabinet")
CONTRACT_IDS = (
    "phone", "send-code", "code", "sign-in", "balance", "sessions", "history", "map",
    "pay-zone", "pay-plate", "pay-hours", "pay", "topup-amount", "topup", "message",
    "sign-out", "lang",
)  # fmt: skip
# an XML namespace is a name, never fetched: the only URL the files may hold
SVG_NAMESPACE = "http://www.w3.org/2000/svg"


# --- the page's files and routes -------------------------------------------------------


@dataclass
class CabinetServer:
    base_url: str
    api: FakeDriverApi


@pytest.fixture
async def cabinet() -> AsyncIterator[CabinetServer]:
    """The cabinet's routes and the fake driver API on one real socket."""
    app = web.Application()
    CabinetPage(enabled=True).add_routes(app)
    api = FakeDriverApi()
    api.add_routes(app)
    runner, base_url = await serve(app)
    try:
        yield CabinetServer(base_url, api)
    finally:
        await runner.cleanup()


async def get(url: str) -> tuple[int, dict[str, str], bytes]:
    async with (
        aiohttp.ClientSession() as session,
        session.get(url, allow_redirects=False) as response,
    ):
        return response.status, dict(response.headers), await response.read()


async def test_the_page_and_its_files_are_served_with_their_types_and_policy(
    cabinet: CabinetServer,
) -> None:
    expected = {
        "/cabinet/": ("text/html; charset=utf-8", "index.html"),
        "/cabinet/cabinet.js": ("text/javascript; charset=utf-8", "cabinet.js"),
        "/cabinet/cabinet.css": ("text/css; charset=utf-8", "cabinet.css"),
        "/cabinet/favicon.svg": ("image/svg+xml", "favicon.svg"),
    }
    for path, (content_type, name) in expected.items():
        status, headers, body = await get(cabinet.base_url + path)
        assert status == 200, path
        assert headers["Content-Type"] == content_type
        assert headers["Content-Security-Policy"] == CONTENT_SECURITY_POLICY
        assert headers["X-Content-Type-Options"] == "nosniff"
        assert body == (CABINET_ROOT / name).read_bytes()

    status, headers, _body = await get(cabinet.base_url + "/cabinet")
    assert (status, headers["Location"]) == (302, "/cabinet/")


@pytest.mark.parametrize(
    "path",
    [
        "/cabinet/missing.js",
        "/cabinet/.hidden.js",
        "/cabinet/..%2Fcabinet_page.py",
        "/cabinet/%2e%2e%2fops_page.py",
        "/cabinet/..%5Cops_page.py",
        "/cabinet/cabinet.js/x",
        "/cabinet/index.html.bak",
    ],
)
async def test_nothing_outside_the_page_folder_is_served(cabinet: CabinetServer, path: str) -> None:
    status, _headers, body = await get(cabinet.base_url + path)
    assert status == 404
    assert b"import" not in body


async def test_with_the_channel_off_every_cabinet_path_is_404() -> None:
    app = web.Application()
    CabinetPage(enabled=False).add_routes(app)
    runner, base_url = await serve(app)
    try:
        for path in ("/cabinet", "/cabinet/", "/cabinet/cabinet.js", "/cabinet/index.html"):
            status, _headers, _body = await get(base_url + path)
            assert status == 404, path
    finally:
        await runner.cleanup()


def test_the_files_name_no_external_resource() -> None:
    files = sorted(CABINET_ROOT.iterdir())
    assert {path.name for path in files} == {
        "index.html", "cabinet.js", "cabinet.css", "favicon.svg",
    }  # fmt: skip
    for path in files:
        text = path.read_text("utf-8").replace(SVG_NAMESPACE, "")
        assert "://" not in text, path.name
        assert not re.search(r"(?<![\w:/])//[\w.-]+\.[a-z]{2,}", text, re.IGNORECASE), path.name
        assert "@import" not in text, path.name
        assert "url(" not in text.replace(" ", ""), path.name
        assert not re.search(r"\b(?:XMLHttpRequest|WebSocket|EventSource|importScripts)\b", text)


class _PageParts(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.ids: dict[str, str] = {}
        self.references: list[str] = []
        self.inline: list[str] = []
        self.lang_options: list[str] = []
        self._in_lang = False
        self._in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        named = dict(attrs)
        if named.get("id"):
            self.ids[str(named["id"])] = tag
        self.references += [str(v) for k, v in attrs if k in ("src", "href", "action") and v]
        self.inline += [k for k, _v in attrs if k == "style" or k.startswith("on")]
        if tag == "select":
            self._in_lang = named.get("id") == "lang"
        self._in_script = tag == "script"
        if tag == "option" and self._in_lang:
            self.lang_options.append(str(named.get("value")))

    def handle_endtag(self, tag: str) -> None:
        if tag == "select":
            self._in_lang = False
        if tag == "script":
            self._in_script = False

    def handle_data(self, data: str) -> None:
        if self._in_script and data.strip():
            self.inline.append("script")


def test_the_page_has_the_contract_ids_and_only_same_origin_references() -> None:
    parts = _PageParts()
    parts.feed((CABINET_ROOT / "index.html").read_text("utf-8"))
    assert [name for name in CONTRACT_IDS if name not in parts.ids] == []
    assert parts.ids["map"] == "svg"
    assert parts.ids["lang"] == "select"
    assert parts.lang_options == ["ru", "kk", "en"]
    assert parts.references and all(ref.startswith("/cabinet/") for ref in parts.references)
    # the Content-Security-Policy forbids inline script and style: the page needs neither
    assert parts.inline == []


# --- the page in Chromium against the fake driver API -----------------------------------


async def open_cabinet(browser: Browser, base_url: str) -> tuple[Page, PageWatch]:
    context = await browser.new_context(viewport=PHONE_SCREEN)
    page = await context.new_page()
    page.set_default_timeout(STEP_TIMEOUT_MS)
    watch = PageWatch(base_url)
    watch.attach(page)
    await page.goto(base_url + "/cabinet/")
    await expect(page.locator("body")).to_have_attribute("data-ready", "true")
    return page, watch


async def test_the_page_loads_at_phone_size_with_the_sign_in_form_and_no_errors(
    browser: Browser, cabinet: CabinetServer, tmp_path: Path
) -> None:
    page, watch = await open_cabinet(browser, cabinet.base_url)

    for visible in ("#phone", "#send-code", "#lang", "#map"):
        await expect(page.locator(visible)).to_be_visible()
    for hidden in ("#code", "#account", "#pay-section", "#topup-section", "#sign-out"):
        await expect(page.locator(hidden)).to_be_hidden()
    await expect(page.locator("html")).to_have_attribute("lang", "ru")
    await expect(page.locator("#send-code")).to_have_text("Получить код")
    # nothing wider than the phone: no sideways scrolling
    assert await page.evaluate("document.documentElement.scrollWidth") <= PHONE_SCREEN["width"]
    await page.screenshot(path=str(tmp_path / "cabinet-signin.png"), full_page=True)
    assert watch.errors == []
    assert watch.foreign_requests == []
    # a fresh visitor's page asks for nothing that needs a session
    assert cabinet.api.calls == ["GET /v1/driver/zones"]


async def test_the_language_switch_changes_the_texts_and_is_remembered(
    browser: Browser, cabinet: CabinetServer
) -> None:
    page, watch = await open_cabinet(browser, cabinet.base_url)
    expected = {
        "kk": ("Код алу", "Телефон нөмірі"),
        "en": ("Get a code", "Phone number"),
        "ru": ("Получить код", "Номер телефона"),
    }
    for lang, (button, label) in expected.items():
        await page.select_option("#lang", lang)
        await expect(page.locator("html")).to_have_attribute("lang", lang)
        await expect(page.locator("#send-code")).to_have_text(button)
        await expect(page.locator("label[for=phone]")).to_have_text(label)
    await page.select_option("#lang", "en")
    await expect(page.locator("#send-code")).to_have_text("Get a code")

    await page.reload()
    await expect(page.locator("body")).to_have_attribute("data-ready", "true")
    await expect(page.locator("#send-code")).to_have_text("Get a code")
    await expect(page.locator("#lang")).to_have_value("en")
    # the API is asked in the page's language: its texts (money, replies) follow it
    assert cabinet.api.languages[-1] == "en"
    assert watch.errors == []


async def test_the_map_draws_each_city_from_the_zones_geojson_and_a_click_picks_the_zone(
    browser: Browser, cabinet: CabinetServer
) -> None:
    page, watch = await open_cabinet(browser, cabinet.base_url)
    zone = page.locator(f'#map path.zone[data-zone="{ZONE}"]')

    await expect(page.locator("#map path.zone")).to_have_count(2)  # 1002 has no outline
    await expect(page.locator("#map-city")).to_have_value("Moscow")
    await expect(zone).to_be_visible()
    await expect(page.locator('#map path.zone[data-zone="8001"]')).to_be_hidden()
    box = await zone.bounding_box()
    assert box is not None and box["width"] > 20 and box["height"] > 20
    await zone.click()
    await expect(page.locator("#pay-zone")).to_have_value(ZONE)
    await expect(zone).to_have_class(re.compile(r"\bselected\b"))
    await expect(page.locator("#zone-info")).to_contain_text("1001 Tverskaya")
    await expect(page.locator("#zone-info")).to_contain_text("60 ₽")
    await expect(page.locator("#zone-info")).to_contain_text("Пн-Пт 08:00–20:00")

    # a zone without a location is still listed, and picked from the list
    await page.locator(f'#zone-list button[data-zone="{FREE_ZONE}"]').click()
    await expect(page.locator("#pay-zone")).to_have_value(FREE_ZONE)
    # what the API sends is shown as text, never run as markup
    await page.locator(f'#zone-list button[data-zone="{MARKUP_ZONE}"]').click()
    await expect(page.locator("#zone-info")).to_contain_text(MARKUP_NAME)
    await expect(page.locator("[data-injected], b")).to_have_count(0)

    # and from the keyboard: a zone on the map is a button
    await zone.focus()
    await page.keyboard.press("Enter")
    await expect(page.locator("#pay-zone")).to_have_value(ZONE)

    await page.select_option("#map-city", "Astana")
    await expect(page.locator('#map path.zone[data-zone="8001"]')).to_be_visible()
    await expect(zone).to_be_hidden()
    await page.locator('#map path.zone[data-zone="8001"]').click()
    await expect(page.locator("#pay-zone")).to_have_value("8001")
    assert watch.errors == []


async def sign_in(page: Page, code: str = CODE) -> None:
    await page.fill("#phone", "+7 916 123-45-67")
    await page.click("#send-code")
    await expect(page.locator("#code")).to_be_visible()
    await page.fill("#code", code)
    await page.click("#sign-in")


async def test_the_page_signs_in_pays_extends_stops_tops_up_and_signs_out(
    browser: Browser, cabinet: CabinetServer, tmp_path: Path
) -> None:
    api = cabinet.api
    page, watch = await open_cabinet(browser, cabinet.base_url)
    message = page.locator("#message")

    await sign_in(page, code="000000")
    await expect(message).to_have_text(BAD_CODE_TEXT)  # the API's message, shown as is
    await expect(page.locator("#account")).to_be_hidden()
    await sign_in(page)
    await expect(page.locator("#account")).to_be_visible()
    await expect(page.locator("#balance")).to_have_text("0 ₽")
    await expect(page.locator("#signin")).to_be_hidden()
    await expect(page.locator("#topup-options")).to_contain_text("100 ₽")
    assert api.phone_asked == DRIVER  # spaces, "+" and dashes left out

    await page.fill("#pay-plate", PLATE)
    await page.locator(f'#zone-list button[data-zone="{FREE_ZONE}"]').click()
    await page.fill("#pay-hours", "2")
    await page.click("#pay")
    await expect(message).to_have_text(REFUSED_TEXT)  # a 409 refusal's reply text
    await expect(message).to_have_class(re.compile(r"\berror\b"))
    await page.locator(f'#map path.zone[data-zone="{ZONE}"]').click()

    await page.fill("#topup-amount", "500")
    await page.click("#topup")
    await expect(message).to_have_text("Пополнение подтверждено: 500 ₽.")
    await expect(page.locator("#balance")).to_have_text("500 ₽")

    await page.click("#quote")
    await expect(page.locator("#quote-result")).to_contain_text("Цена 120 ₽")
    await page.click("#pay")
    await expect(message).to_have_text(f"Parking {ZONE} {PLATE} started")
    sessions = page.locator("#sessions .session")
    await expect(sessions).to_have_count(1)
    await expect(sessions).to_contain_text(f"Зона {ZONE}, {PLATE}: до 10.03 11:00")
    await expect(page.locator("#balance")).to_have_text("380 ₽")
    await expect(page.locator('#history li[data-type="payment"]')).to_contain_text("-120 ₽")

    await sessions.locator(".extend").click()
    await expect(message).to_have_text(f"Parking {ZONE} {PLATE} extended")
    await expect(sessions).to_contain_text("до 10.03 12:00")
    await expect(page.locator("#balance")).to_have_text("320 ₽")

    await page.screenshot(path=str(tmp_path / "cabinet-session.png"), full_page=True)
    await sessions.locator(".stop").click()
    await expect(message).to_have_text(f"Parking {ZONE} {PLATE} stopped, 180 ₽ returned")
    await expect(sessions).to_have_count(0)
    await expect(page.locator("#balance")).to_have_text("500 ₽")

    # 9 hours cost 540 ₽, more than the account holds: the operator is asked for the rest,
    # and the page watches the account until the subscriber's `1` settles it
    await page.fill("#pay-hours", "9")
    await page.click("#pay")
    await expect(message).to_have_text(AWAITING_TEXT)
    await expect(page.locator("#pending")).to_have_text("Ожидает подтверждения: 40 ₽")
    await expect(page.locator("#pending")).to_be_hidden()  # settled on a later look
    await expect(sessions).to_contain_text("до 10.03 18:00")
    await expect(page.locator("#balance")).to_have_text("0 ₽")

    await page.fill("#vehicle-plate", "а123вс77")
    await page.click("#vehicle-add")
    await expect(page.locator("#vehicles .vehicle-use")).to_have_text([PLATE])
    await page.fill("#vehicle-plate", "nope")
    await page.click("#vehicle-add")
    await expect(message).to_have_text(BAD_PLATE_TEXT)
    await page.locator("#vehicles .vehicle-remove").click()
    await expect(page.locator("#vehicles .vehicle")).to_have_count(0)

    await page.click("#sign-out")
    await expect(page.locator("#phone")).to_be_visible()
    await expect(page.locator("#account")).to_be_hidden()
    assert api.token is None  # the page ended the session on the server
    # nothing of this driver's is left in the page for whoever signs in next
    await expect(page.locator("#pay-plate")).to_have_value("")
    await expect(page.locator("#balance")).to_have_text("")
    await expect(page.locator("#sessions .session")).to_have_count(0)
    await expect(page.locator("#history li")).to_have_count(0)

    # every state change carried the CSRF value the sign-in handed out, and the page
    # kept nothing secret where a script could read it later
    assert api.state_changes and all(api.state_changes)
    assert await page.evaluate("document.cookie") == ""
    assert await page.evaluate("sessionStorage.length") == 0
    stored = await page.evaluate("JSON.stringify(localStorage)")
    assert api.issued_csrf not in stored and api.issued_token not in stored
    assert watch.foreign_requests == []
    # the refused calls are the only errors the page met
    assert all(re.search(r"\b(401|409|422)\b", error) for error in watch.errors)


async def test_a_reload_resumes_the_session_and_a_dead_one_asks_to_sign_in(
    browser: Browser, cabinet: CabinetServer
) -> None:
    page, watch = await open_cabinet(browser, cabinet.base_url)
    await sign_in(page)
    await expect(page.locator("#account")).to_be_visible()
    assert await the_session_cookie(page) == cabinet.api.issued_token
    forged = await page.request.post(
        cabinet.base_url + "/v1/driver/top-ups", data={"amount": {"minor": 1, "currency": "RUB"}}
    )
    assert forged.status == 403  # the cookie without the CSRF value
    assert watch.errors == []  # (a request from the test, not from the page)

    await page.reload()
    await expect(page.locator("body")).to_have_attribute("data-ready", "true")
    await expect(page.locator("#account")).to_be_visible()  # the cookie and GET /me
    await page.fill("#topup-amount", "200")
    await page.click("#topup")  # the CSRF value came back from GET /me
    await expect(page.locator("#balance")).to_have_text("200 ₽")

    cabinet.api.token = None  # the session revoked on the server
    await page.click("#topup")
    await expect(page.locator("#message")).to_have_text(UNAUTHORIZED_TEXT)
    await expect(page.locator("#phone")).to_be_visible()
    await expect(page.locator("#account")).to_be_hidden()


# --- the fake driver API ----------------------------------------------------------------

BAD_CODE_TEXT = "Код неверный или устарел"
FREE_ZONE = "1002"
REFUSED_TEXT = f"Сейчас парковка в зоне {FREE_ZONE} бесплатна"
AWAITING_TEXT = "Подтвердите оплату ответом 1 на SMS оператора"
# a name from the API that a careless page would turn into markup and run
MARKUP_ZONE = "1003"
MARKUP_NAME = '<img src="/x" data-injected="1"><b>Old town</b>'
BAD_PLATE_TEXT = "Госномер как A123BC77"
UNAUTHORIZED_TEXT = "Войдите снова"
PRICE_PER_HOUR = 6_000
SESSION_START_HOUR = 9
LATIN = str.maketrans("АВЕКМНОРСТУХ", "ABEKMHOPCTYX")


def money(minor: int) -> dict[str, Any]:
    return {"minor": minor, "currency": "RUB", "text": format_money(Money(minor, "RUB"), "ru")}


def refusal(status: int, code: str, message: str) -> web.Response:
    return web.json_response({"error": code, "message": message}, status=status)


def square(lon: float, lat: float) -> list[list[list[float]]]:
    side = 0.002
    corners = [(0, 0), (side, 0), (side, side), (0, side), (0, 0)]
    return [[[lon + dx, lat + dy] for dx, dy in corners]]


def zone_feature(number: str, name: str, city: str, outline: list[Any] | None) -> dict[str, Any]:
    point = None if outline is None else [outline[0][0][0] + 0.001, outline[0][0][1] + 0.001]
    return {
        "type": "Feature",
        "geometry": None if outline is None else {"type": "Polygon", "coordinates": outline},
        "properties": {
            "number": number,
            "name": name,
            "city": city,
            "currency": "RUB",
            "price_per_hour": money(PRICE_PER_HOUR),
            "time_zone": "Europe/Moscow",
            "paid_now": True,
            "schedule": [{"days": "Mon-Fri", "from": "08:00", "to": "20:00"}],
            "point": point,
        },
    }


ZONES = {
    "type": "FeatureCollection",
    "features": [
        zone_feature(ZONE, "Tverskaya", "Moscow", square(37.6, 55.76)),
        zone_feature(FREE_ZONE, "Arbat", "Moscow", None),
        zone_feature(MARKUP_ZONE, MARKUP_NAME, "Moscow", None),
        zone_feature("8001", "Astana, Central", "Astana", square(71.43, 51.13)),
    ],
}

Handler = Callable[[web.Request], Any]


@dataclass
class FakeDriverApi:
    """The driver API's contract for one phone, in memory: enough for the page's logic.

    The code is fixed (CODE); a top-up is confirmed the first time the page asks after
    it, and a shortfall's charge the second time the page looks at the account; a session
    starts at 09:00 and the clock never moves, so a stop returns every prepaid hour. Zone
    FREE_ZONE refuses payment as a zone outside its paid hours does."""

    token: str | None = None
    issued_token: str = ""
    issued_csrf: str = ""
    phone_asked: str = ""
    balance: int = 0
    sessions: dict[str, dict[str, Any]] = field(default_factory=dict)
    vehicles: list[str] = field(default_factory=list)
    history: list[dict[str, Any]] = field(default_factory=list)
    top_ups: dict[str, int] = field(default_factory=dict)
    confirmed: set[str] = field(default_factory=set)
    pending: dict[str, Any] | None = None
    calls: list[str] = field(default_factory=list)
    languages: list[str] = field(default_factory=list)
    state_changes: list[bool] = field(default_factory=list)  # CSRF header right?
    ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    def add_routes(self, app: web.Application) -> None:
        routes: list[tuple[str, str, Handler]] = [
            ("GET", "/zones", self.zones),
            ("POST", "/codes", self.codes),
            ("POST", "/sessions", self.sign_in),
            ("DELETE", "/sessions/current", self.sign_out),
            ("GET", "/me", self.me),
            ("GET", "/account", self.account),
            ("GET", "/history", self.history_page),
            ("GET", "/vehicles", self.vehicle_list),
            ("POST", "/vehicles", self.vehicle_add),
            ("DELETE", "/vehicles/{plate}", self.vehicle_remove),
            ("POST", "/quotes", self.quote),
            ("POST", "/parkings", self.park),
            ("POST", "/parkings/{id}/extensions", self.extend),
            ("DELETE", "/parkings/{id}", self.stop),
            ("GET", "/top-ups/options", self.top_up_options),
            ("POST", "/top-ups", self.top_up),
            ("GET", "/top-ups/{id}", self.top_up_state),
        ]
        for method, path, handler in routes:
            app.router.add_route(method, "/v1/driver" + path, self._logged(handler))

    def _logged(self, handler: Handler) -> Handler:
        async def logged(request: web.Request) -> web.StreamResponse:
            self.calls.append(f"{request.method} {request.path}")
            self.languages.append(request.headers.get("Accept-Language", ""))
            needs_session = handler not in (self.zones, self.codes, self.sign_in)
            if needs_session and (refused := self._refusal(request)) is not None:
                return refused
            answer: web.StreamResponse = await handler(request)
            return answer

        return logged

    def _refusal(self, request: web.Request) -> web.Response | None:
        cookie = request.cookies.get("smsgw_driver", "")
        if self.token is None or not secrets.compare_digest(cookie, self.token):
            return refusal(401, "unauthorized", UNAUTHORIZED_TEXT)
        if request.method in ("POST", "PUT", "DELETE"):
            good = secrets.compare_digest(request.headers.get("X-CSRF-Token", ""), self.issued_csrf)
            self.state_changes.append(good)
            if not good:
                return refusal(403, "csrf", "CSRF")
        return None

    async def zones(self, _request: web.Request) -> web.Response:
        return web.json_response(ZONES)

    async def codes(self, request: web.Request) -> web.Response:
        self.phone_asked = (await request.json())["phone"]
        return web.json_response({"sent": True, "expires_in": 300, "resend_in": 1}, status=202)

    async def sign_in(self, request: web.Request) -> web.Response:
        body = await request.json()
        if body != {"phone": DRIVER, "code": CODE}:
            return refusal(401, "bad_code", BAD_CODE_TEXT)
        self.token = self.issued_token = secrets.token_urlsafe(24)
        self.issued_csrf = secrets.token_urlsafe(16)
        answer = {
            "token": self.token,
            "expires_at": "2026-04-09T09:00:00+03:00",
            "phone": "7916***4567",
            "csrf": self.issued_csrf,
        }
        response = web.json_response(answer, status=201)
        response.set_cookie("smsgw_driver", self.token, httponly=True, samesite="Strict")
        return response

    async def sign_out(self, _request: web.Request) -> web.Response:
        self.token = None
        response = web.Response(status=204)
        response.del_cookie("smsgw_driver")
        return response

    async def me(self, _request: web.Request) -> web.Response:
        return web.json_response(
            {"phone": "7916***4567", "operator": "mts", "language": "ru", "csrf": self.issued_csrf}
        )

    async def account(self, _request: web.Request) -> web.Response:
        pending = self._pending_after_a_look()
        return web.json_response(
            {
                "balances": [money(self.balance)],
                "sessions": [
                    self._session(key) for key, s in self.sessions.items() if s["state"] == "active"
                ],
                "pending_charge": pending,
            }
        )

    def _pending_after_a_look(self) -> dict[str, Any] | None:
        """The shortfall's charge: shown once, confirmed by the time the page looks again."""
        if self.pending is None:
            return None
        self.pending["looks"] += 1
        if self.pending["looks"] == 1:
            return {"amount": money(self.pending["amount"]), "state": "awaiting_confirmation"}
        self._start(self.pending["parking"])
        self.pending = None
        return None

    def _session(self, key: str) -> dict[str, Any]:
        session = self.sessions[key]
        end = f"2026-03-10T{SESSION_START_HOUR + session['hours']:02d}:00:00+03:00"
        return {
            "id": key,
            "zone": session["zone"],
            "plate": session["plate"],
            "start": f"2026-03-10T{SESSION_START_HOUR:02d}:00:00+03:00",
            "end": end,
            "paid": money(session["hours"] * PRICE_PER_HOUR),
            "state": session["state"],
        }

    def _moved(self, kind: str, minor: int) -> None:
        at = f"2026-03-10T09:{len(self.history):02d}:00+03:00"
        item = {"type": kind, "at": at, "amount": money(minor), "zone": ZONE}
        self.history.insert(0, item)

    async def history_page(self, _request: web.Request) -> web.Response:
        return web.json_response({"items": self.history, "next": None})

    async def vehicle_list(self, _request: web.Request) -> web.Response:
        return web.json_response({"vehicles": [{"plate": plate} for plate in self.vehicles]})

    async def vehicle_add(self, request: web.Request) -> web.Response:
        plate = str((await request.json())["plate"]).upper().translate(LATIN)
        if not re.fullmatch(r"[A-Z]\d{3}[A-Z]{2}\d{2,3}", plate):
            return refusal(422, "bad_plate", BAD_PLATE_TEXT)
        self.vehicles.append(plate)
        return web.json_response({"plate": plate}, status=201)

    async def vehicle_remove(self, request: web.Request) -> web.Response:
        self.vehicles.remove(request.match_info["plate"])
        return web.Response(status=204)

    async def quote(self, request: web.Request) -> web.Response:
        body = await request.json()
        price = body["hours"] * PRICE_PER_HOUR
        return web.json_response(
            {
                "price": money(price),
                "end": f"2026-03-10T{SESSION_START_HOUR + body['hours']:02d}:00:00+03:00",
                "balance": money(self.balance),
                "to_charge": money(max(0, price - self.balance)),
            }
        )

    async def park(self, request: web.Request) -> web.Response:
        body = await request.json()
        price = body["hours"] * PRICE_PER_HOUR
        if body["zone"] == FREE_ZONE:
            answer = {"error": "refused", "reply_key": "pay.zone_free", "message": REFUSED_TEXT}
            return web.json_response(answer, status=409)
        if price > self.balance:
            self.pending = {"parking": body, "amount": price - self.balance, "looks": 0}
            return web.json_response(
                {
                    "outcome": "awaiting_confirmation",
                    "session": None,
                    "message": AWAITING_TEXT,
                    "balance": money(self.balance),
                },
                status=201,
            )
        key = self._start(body)
        started: dict[str, Any] = {
            "outcome": "started",
            "session": self._session(key),
            "message": f"Parking {body['zone']} {body['plate']} started",
            "balance": money(self.balance),
        }
        return web.json_response(started, status=201)

    def _start(self, parking: dict[str, Any]) -> str:
        """A session paid from the account (a shortfall was charged to the mobile first)."""
        key = str(next(self.ids))
        self.sessions[key] = {**parking, "state": "active"}
        price = parking["hours"] * PRICE_PER_HOUR
        if price > self.balance:
            self._moved("top_up", price - self.balance)
        self.balance = max(0, self.balance - price)
        self._moved("payment", -price)
        return key

    def _own_session(self, request: web.Request) -> dict[str, Any] | None:
        session = self.sessions.get(request.match_info["id"])
        return session if session and session["state"] == "active" else None

    async def extend(self, request: web.Request) -> web.Response:
        session = self._own_session(request)
        if session is None:
            return refusal(404, "not_found", "not found")
        hours = (await request.json())["hours"]
        session["hours"] += hours
        self.balance -= hours * PRICE_PER_HOUR
        self._moved("payment", -hours * PRICE_PER_HOUR)
        message = f"Parking {session['zone']} {session['plate']} extended"
        return web.json_response({"outcome": "extended", "message": message}, status=201)

    async def stop(self, request: web.Request) -> web.Response:
        session = self._own_session(request)
        if session is None:
            return refusal(404, "not_found", "not found")
        session["state"] = "closed"
        refund = session["hours"] * PRICE_PER_HOUR
        self.balance += refund
        self._moved("refund", refund)
        message = (
            f"Parking {session['zone']} {session['plate']} stopped, "
            f"{money(refund)['text']} returned"
        )
        return web.json_response(
            {"refund": money(refund), "balance": money(self.balance), "message": message}
        )

    async def top_up_options(self, _request: web.Request) -> web.Response:
        method = {
            "kind": "mobile",
            "operator": "mts",
            "min": money(10_000),
            "max": money(1_500_000),
        }
        return web.json_response({"methods": [method]})

    async def top_up(self, request: web.Request) -> web.Response:
        amount = (await request.json())["amount"]
        assert amount["currency"] == "RUB"
        key = f"c{next(self.ids)}"
        self.top_ups[key] = int(amount["minor"])
        message = "Подтвердите списание ответом 1 на SMS оператора"
        return web.json_response(
            {"charge_id": key, "state": "awaiting_confirmation", "message": message}, status=202
        )

    async def top_up_state(self, request: web.Request) -> web.Response:
        charge_id = request.match_info["id"]
        minor = self.top_ups[charge_id]
        if charge_id not in self.confirmed:
            self.confirmed.add(charge_id)
            self.balance += minor
            self._moved("top_up", minor)
        return web.json_response({"state": "confirmed", "amount": money(minor)})


# --- the whole run against the real driver API (after the merge) ------------------------

DRIVER_SECRET = "cabinet-browser-driver-secret-0123456789"
CODE_PATTERN = re.compile(r"(?<!\d)(\d{6})(?!\d)")


def enable_the_driver_channel(monkeypatch: pytest.MonkeyPatch) -> None:
    """The rig's gateway with `[driver] enabled` (the rig's own default left alone)."""

    def with_driver(
        raw: Mapping[str, Any], operator_files: Mapping[str, Mapping[str, Any]]
    ) -> AppConfig:
        driver = {**raw.get("driver", {}), "enabled": True, "secret": DRIVER_SECRET}
        return config_from_mapping({**raw, "driver": driver}, operator_files)

    monkeypatch.setattr("tests.e2e.rig.config_from_mapping", with_driver)


async def texted_code(rig: rig_module.Rig, msisdn: str) -> str:
    def code() -> str | None:
        for message in rig.smsc.inbox[msisdn]:
            found = CODE_PATTERN.search(message.text)
            if found:
                return found.group(1)
        return None

    await rig.smsc.wait_until(lambda: code() is not None, timeout=STEP_TIMEOUT_MS / 1000)
    found = code()
    assert found is not None
    return found


async def the_session_cookie(page: Page) -> str:
    """The token the API set, as the browser keeps it: out of the page script's reach."""
    (cookie,) = [c for c in await page.context.cookies() if c.get("name") == "smsgw_driver"]
    assert cookie.get("httpOnly") is True
    assert cookie.get("sameSite") == "Strict"
    assert await page.evaluate("document.cookie") == ""
    return str(cookie.get("value"))


async def sms_mentioning(rig: rig_module.Rig, msisdn: str, text: str, after: int) -> str:
    def matching() -> list[str]:
        return [m.text for m in rig.smsc.inbox[msisdn][after:] if text in m.text]

    await rig.smsc.wait_until(lambda: bool(matching()), timeout=STEP_TIMEOUT_MS / 1000)
    return matching()[0]


@pytest.mark.cabinet_flow
async def test_a_driver_signs_in_tops_up_pays_and_stops_in_the_cabinet_against_the_gateway(
    browser: Browser, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    enable_the_driver_channel(monkeypatch)
    async with rig_module.running_rig(tmp_path) as rig:
        rig.phone(DRIVER, "mts", rubles=1000)
        page, watch = await open_cabinet(browser, rig.gateway.base_url)
        balance = page.locator("#balance")

        async def agrees_with_the_ledger() -> None:
            ledger = await rig.balance(DRIVER)
            await expect(balance).to_have_text(format_money(ledger, "ru"))

        await page.fill("#phone", DRIVER)
        await page.click("#send-code")
        await page.fill("#code", await texted_code(rig, DRIVER))
        await page.click("#sign-in")
        await expect(page.locator("#account")).to_be_visible()
        token = await the_session_cookie(page)
        # the browser's cookie alone changes nothing: a forged form or script elsewhere
        # has no CSRF value (page.request shares the page's cookies)
        forged = await page.request.post(
            rig.gateway.base_url + "/v1/driver/top-ups",
            data={"amount": {"minor": 50_000, "currency": "RUB"}},
        )
        assert forged.status == 403 and (await forged.json())["error"] == "csrf"

        await page.fill("#topup-amount", "500")
        await page.click("#topup")
        await expect(page.locator("#message")).not_to_be_empty()
        await rig.settle()  # the operator's SMS, the subscriber's 1, the signed callback
        await expect(balance).to_have_text("500 ₽")
        assert await rig.balance(DRIVER) == Money(50_000, "RUB")

        await page.locator(f'#map path.zone[data-zone="{ZONE}"]').click()
        await expect(page.locator("#pay-zone")).to_have_value(ZONE)
        await page.fill("#pay-plate", PLATE)
        await page.fill("#pay-hours", "2")
        await page.click("#pay")
        sessions = page.locator("#sessions .session")
        await expect(sessions).to_have_count(1)
        await expect(sessions).to_contain_text(PLATE)
        await expect(balance).to_have_text("380 ₽")
        await agrees_with_the_ledger()

        # one account, one truth: `I` by SMS reports the session paid on the web
        before = len(rig.smsc.inbox[DRIVER])
        await rig.text(DRIVER, "I")
        await sms_mentioning(rig, DRIVER, PLATE, before)

        await page.screenshot(path=str(tmp_path / "cabinet-flow.png"), full_page=True)
        paid_text = await page.locator("#message").text_content()
        await sessions.locator(".stop").click()
        await expect(sessions).to_have_count(0)
        await expect(page.locator("#message")).not_to_have_text(paid_text or "")
        await agrees_with_the_ledger()
        await expect(page.locator('#history li[data-type="refund"]')).to_have_count(1)

        await page.click("#sign-out")
        await expect(page.locator("#phone")).to_be_visible()
        await page.reload()
        await expect(page.locator("body")).to_have_attribute("data-ready", "true")
        await expect(page.locator("#account")).to_be_hidden()
        assert watch.foreign_requests == []
        assert watch.errors == []
        # signed out means dead on the server, not just forgotten by the page
        replayed = await page.request.get(
            rig.gateway.base_url + "/v1/driver/me", headers={"Authorization": f"Bearer {token}"}
        )
        assert replayed.status == 401
