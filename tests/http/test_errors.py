from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import replace

import aiohttp
import orjson
import pytest

from smsgw.transport.http_app import RunningHttpServer
from tests.http.conftest import AUTH, OPTIONS, FakeServiceApi, StartServer
from tests.http.kannel import kannel_query


async def _error(response: aiohttp.ClientResponse) -> Mapping[str, object]:
    assert response.content_type == "application/json"
    body = orjson.loads(await response.read())
    assert set(body) == {"error", "message"}
    return body  # type: ignore[no-any-return]


@pytest.mark.parametrize("path", ["/", "/nope", "/mo/kannel", "/v1/plates", "/v2/phones/7903"])
async def test_unknown_path_is_404_json(
    server: RunningHttpServer, http: aiohttp.ClientSession, path: str
) -> None:
    async with http.get(f"{server.base_url}{path}") as response:
        assert response.status == 404
        assert (await _error(response))["error"] == "not_found"


@pytest.mark.parametrize(
    ("method", "path", "allowed"),
    [
        ("POST", "/health", "GET"),
        ("DELETE", "/v1/phones/79031234567", "GET"),
        ("GET", "/mo/json/mts-kannel", "POST"),
        ("PUT", "/mo/kannel/mts-kannel", "GET"),
        ("GET", "/charging/mts/callback", "POST"),
    ],
)
async def test_wrong_method_is_405_json(
    server: RunningHttpServer, http: aiohttp.ClientSession, method: str, path: str, allowed: str
) -> None:
    async with http.request(method, f"{server.base_url}{path}", headers=AUTH) as response:
        assert response.status == 405
        assert allowed in response.headers["Allow"]
        assert (await _error(response))["error"] == "method_not_allowed"


async def test_kannel_form_over_the_size_limit_is_413_json(
    start_server: StartServer, http: aiohttp.ClientSession, gateway: FakeServiceApi
) -> None:
    server = await start_server(replace(OPTIONS, max_body_bytes=1024))
    body = kannel_query(b"x" * 2000).encode()
    async with http.post(
        f"{server.base_url}/mo/kannel/mts-kannel",
        data=body,
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    ) as response:
        assert response.status == 413
        assert (await _error(response))["error"] == "payload_too_large"
    assert gateway.mos == []


async def test_an_unexpected_failure_is_500_json(
    server: RunningHttpServer,
    http: aiohttp.ClientSession,
    gateway: FakeServiceApi,
) -> None:
    gateway.overview = {"unserialisable": object()}
    async with http.get(f"{server.base_url}/v1/phones/79031234567", headers=AUTH) as response:
        assert response.status == 500
        body = await _error(response)
    assert body["error"] == "internal_error"
    assert "object" not in str(body["message"])  # no internals leak to the client


async def test_no_access_log_line_carries_the_message(
    server: RunningHttpServer, http: aiohttp.ClientSession, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    query = kannel_query(b"1001*A123BC77*2", sender="79031234567")
    async with http.get(f"{server.base_url}/mo/kannel/mts-kannel?{query}") as response:
        assert response.status == 200
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert "79031234567" not in logged
    assert "A123BC77" not in logged
