"""The web phone's routes without a browser: the page, its files, and nothing else."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from hypothesis import given, settings
from hypothesis import strategies as st

from simulator.webphone import STATIC_TYPES, WEB_ROOT, add_webphone_routes, static_path

PAGE_FILES = ("index.html", "phone.js", "phone.css")


@pytest.fixture
async def client() -> AsyncIterator[TestClient[web.Request, web.Application]]:
    app = web.Application()
    add_webphone_routes(app)
    async with TestClient(TestServer(app, port=0)) as client:
        yield client


async def test_the_page_is_served_at_the_root_as_utf8_html(
    client: TestClient[web.Request, web.Application],
) -> None:
    response = await client.get("/")
    assert response.status == 200
    assert response.headers["Content-Type"] == "text/html; charset=utf-8"
    body = await response.text()
    assert body == (WEB_ROOT / "index.html").read_text("utf-8")


async def test_the_page_may_load_nothing_from_elsewhere(
    client: TestClient[web.Request, web.Application],
) -> None:
    policy = (await client.get("/")).headers["Content-Security-Policy"]
    directives = dict(part.strip().split(" ", 1) for part in policy.split(";"))
    assert directives["default-src"] == "'self'"
    assert directives["script-src"] == "'self'"
    assert directives["connect-src"] == "'self'"


@pytest.mark.parametrize("name", ["phone.js", "phone.css"])
async def test_each_static_file_comes_with_its_type_and_charset(
    client: TestClient[web.Request, web.Application], name: str
) -> None:
    response = await client.get(f"/static/{name}")
    assert response.status == 200
    assert response.headers["Content-Type"] == STATIC_TYPES[Path(name).suffix]
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert await response.read() == (WEB_ROOT / name).read_bytes()


@pytest.mark.parametrize(
    "path",
    [
        "/static/missing.js",
        "/static/..%2Fwebphone.py",
        "/static/%2E%2E%2Fwebphone.py",
        "/static/.hidden.css",
        "/static/index.txt",
        "/static/",
    ],
)
async def test_anything_else_under_static_is_not_found(
    client: TestClient[web.Request, web.Application], path: str
) -> None:
    response = await client.get(path)
    assert response.status == 404


def test_the_page_refers_only_to_files_that_exist_here() -> None:
    html = (WEB_ROOT / "index.html").read_text("utf-8")
    references = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert references, "the page loads its script and style"
    for reference in references:
        assert reference.startswith("/static/"), f"{reference} is not served by the web phone"
        assert static_path(reference.removeprefix("/static/")) is not None


@pytest.mark.parametrize("name", PAGE_FILES)
def test_page_files_carry_no_address_off_this_origin(name: str) -> None:
    text = (WEB_ROOT / name).read_text("utf-8")
    assert not re.search(r"(?:https?:)?//[a-z0-9.-]+\.[a-z]{2,}", text, re.IGNORECASE), name
    assert "@import" not in text and "url(" not in text


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=40))
def test_a_static_name_never_leads_out_of_the_web_folder(name: str) -> None:
    path = static_path(name)
    if path is not None:
        assert path.parent == WEB_ROOT
        assert path.is_file() and path.suffix in STATIC_TYPES


@pytest.mark.parametrize("name", PAGE_FILES)
def test_each_page_file_is_found_by_its_name(name: str) -> None:
    assert static_path(name) == WEB_ROOT / name


async def test_the_clock_route_says_the_wall_time_without_a_simulated_clock(
    client: TestClient[web.Request, web.Application],
) -> None:
    response = await client.get("/clock")
    assert response.status == 200
    body = await response.json()
    assert body["speed"] == 1.0
    assert body["time_zone"] == "UTC"
    assert datetime.fromisoformat(body["now"]).tzinfo is not None


async def test_the_clock_route_says_the_simulated_time_it_is_given() -> None:
    app = web.Application()
    simulated = {"now": "2026-12-01T07:00:00+00:00", "speed": 60.0, "time_zone": "Europe/Moscow"}
    add_webphone_routes(app, clock=lambda: simulated)
    async with TestClient(TestServer(app, port=0)) as client:
        response = await client.get("/clock")
        assert await response.json() == simulated
