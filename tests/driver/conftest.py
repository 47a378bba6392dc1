"""The driver API's tests: on the in-process rig (tests/e2e/rig.py) with `[driver]` set by
the test (`driver_rig(**settings)` starts the rig with the channel on, or with
`enabled=False` off, leaving the rig's other defaults alone), and the actions over the
service harness (a real SQLite store, scripted operators, a settable clock)."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path
from typing import Any

import aiohttp
import orjson
import pytest

from smsgw.config import AppConfig, DriverSettings
from smsgw.service.driver_actions import DriverActions
from tests.e2e import rig as rig_module
from tests.e2e.rig import Rig, running_rig
from tests.service.harness import Harness, make_deployment
from tests.storage.conftest import backend, postgres_place, store  # noqa: F401  (fixtures)

DRIVER_SECRET = "driver-e2e-secret-0123456789"
CODE = re.compile(r"\b(\d{6})\b")

DriverRig = Callable[..., AbstractAsyncContextManager[Rig]]


@pytest.fixture
def driver_rig(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> DriverRig:
    @asynccontextmanager
    async def start(**settings: Any) -> AsyncIterator[Rig]:
        base = rig_module.gateway_config
        driver = DriverSettings(**{"enabled": True, "secret": DRIVER_SECRET, **settings})

        def with_driver(*args: Any, **kwargs: Any) -> AppConfig:
            return dataclasses.replace(base(*args, **kwargs), driver=driver)

        monkeypatch.setattr(rig_module, "gateway_config", with_driver)
        async with running_rig(tmp_path) as rig:
            yield rig

    return start


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    # no cookie jar: each test passes the cookie it means to send
    async with aiohttp.ClientSession(cookie_jar=aiohttp.DummyCookieJar()) as session:
        yield session


async def call(
    http: aiohttp.ClientSession,
    method: str,
    url: str,
    body: object = None,
    headers: dict[str, str] | None = None,
    raw: bytes | None = None,
) -> tuple[int, Any, aiohttp.ClientResponse]:
    """One request; the status, the JSON body (None when empty) and the response."""
    data = raw if raw is not None else (None if body is None else orjson.dumps(body))
    sent = {"Content-Type": "application/json", **(headers or {})}
    async with http.request(method, url, data=data, headers=sent) as response:
        text = await response.read()
        return response.status, (orjson.loads(text) if text else None), response


async def texted_code(rig: Rig, msisdn: str, count: int) -> str:
    """The code in the `count`-th text the phone received."""
    texts = await rig.replies(msisdn, count)
    found = CODE.search(texts[count - 1])
    assert found is not None, texts[count - 1]
    return found.group(1)


@pytest.fixture
async def harness(tmp_path: Path) -> AsyncIterator[Harness]:
    opened = await Harness(tmp_path / "smsgw.sqlite3", make_deployment()).open()
    try:
        yield opened
    finally:
        await opened.close()


@pytest.fixture
def actions(harness: Harness) -> DriverActions:
    return make_actions(harness)


def make_actions(harness: Harness) -> DriverActions:
    service = harness.svc
    return DriverActions(service.runner, harness.deployment, service.messages.flow.can_charge)
