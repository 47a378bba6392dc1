from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import aiohttp
import orjson
import pytest
from prometheus_client.parser import text_string_to_metric_families

from smsgw.domain.money import Money
from smsgw.transport.http_app import RunningHttpServer
from smsgw.transport.http_ops import bearer_token_matches
from tests.http.conftest import AUTH, NOW, OPTIONS, TOKEN, FakeGateway, StartServer

PROTECTED = ["/ready", "/metrics", "/v1/plates/A123BC77?zone=1001", "/v1/phones/79031234567"]


async def _json(response: aiohttp.ClientResponse) -> dict[str, object]:
    assert response.content_type == "application/json"
    body = orjson.loads(await response.read())
    assert isinstance(body, dict)
    return body


async def test_health_is_open(server: RunningHttpServer, http: aiohttp.ClientSession) -> None:
    async with http.get(f"{server.base_url}/health") as response:
        assert response.status == 200
        assert await _json(response) == {"status": "ok"}


@pytest.mark.parametrize("path", PROTECTED)
@pytest.mark.parametrize(
    "authorization",
    [None, "", "Bearer", "Bearer wrong-token", f"Basic {TOKEN}", f"Bearer {TOKEN}x", TOKEN],
)
async def test_every_ops_endpoint_needs_the_token(
    server: RunningHttpServer,
    http: aiohttp.ClientSession,
    gateway: FakeGateway,
    path: str,
    authorization: str | None,
) -> None:
    headers = {} if authorization is None else {"Authorization": authorization}
    async with http.get(f"{server.base_url}{path}", headers=headers) as response:
        assert response.status == 401
        assert response.headers["WWW-Authenticate"].startswith("Bearer")
        assert (await _json(response))["error"] == "unauthorized"
    assert gateway.plate_queries == [] and gateway.phone_queries == []


@pytest.mark.parametrize("path", PROTECTED)
async def test_the_right_token_opens_every_ops_endpoint(
    server: RunningHttpServer, http: aiohttp.ClientSession, path: str
) -> None:
    async with http.get(
        f"{server.base_url}{path}", headers={"Authorization": f"bearer {TOKEN}"}
    ) as response:
        assert response.status == 200


@pytest.mark.parametrize("path", PROTECTED)
async def test_without_a_configured_token_everything_but_health_refuses(
    start_server: StartServer, http: aiohttp.ClientSession, path: str
) -> None:
    server = await start_server(replace(OPTIONS, api_token=""))
    async with http.get(
        f"{server.base_url}{path}", headers={"Authorization": "Bearer "}
    ) as response:
        assert response.status == 401
    async with http.get(f"{server.base_url}/health") as response:
        assert response.status == 200


def test_bearer_token_matching() -> None:
    assert bearer_token_matches("Bearer abc", "abc")
    assert bearer_token_matches("BEARER  abc ", "abc")
    assert not bearer_token_matches("Bearer abd", "abc")
    assert not bearer_token_matches("Bearer ", "")
    assert not bearer_token_matches(None, "abc")
    assert not bearer_token_matches("Bearer абв", "abc")


@pytest.mark.parametrize(
    ("answer", "status", "body"),
    [
        (True, 200, {"ready": True, "store": "ok"}),
        (False, 503, {"ready": False, "store": "down", "error": "not_ready"}),
        (None, 503, {"ready": False, "store": "down", "error": "not_ready"}),
    ],
    ids=["ready", "not-ready", "check-raises"],
)
async def test_readiness(
    server: RunningHttpServer,
    http: aiohttp.ClientSession,
    gateway: FakeGateway,
    answer: bool | None,
    status: int,
    body: dict[str, object],
) -> None:
    gateway.ready_answer = answer
    async with http.get(f"{server.base_url}/ready", headers=AUTH) as response:
        assert response.status == status
        assert body.items() <= (await _json(response)).items()


async def test_metrics_render_prometheus_text_with_request_counts(
    server: RunningHttpServer, http: aiohttp.ClientSession
) -> None:
    for _ in range(3):
        async with http.get(f"{server.base_url}/health") as response:
            assert response.status == 200
    async with http.get(f"{server.base_url}/nowhere") as response:
        assert response.status == 404
    async with http.get(f"{server.base_url}/metrics", headers=AUTH) as response:
        assert response.status == 200
        assert response.content_type == "text/plain"
        text = await response.text()
    samples = {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }
    health = (("method", "GET"), ("route", "/health"), ("status", "200"))
    unmatched = (("method", "GET"), ("route", "unmatched"), ("status", "404"))
    assert samples[("http_requests_total", health)] == 3
    assert samples[("http_requests_total", unmatched)] == 1
    assert samples[("http_request_seconds_count", (("route", "/health"),))] == 3


async def test_paid_plate_lookup_canonicalises_the_plate(
    server: RunningHttpServer, http: aiohttp.ClientSession, gateway: FakeGateway
) -> None:
    until = NOW + timedelta(hours=2)
    gateway.paid_until = {("A123BC77", "1001"): until}
    async with http.get(
        f"{server.base_url}/v1/plates/а123вс77", params={"zone": "1001"}, headers=AUTH
    ) as response:
        assert response.status == 200
        body = await _json(response)
    assert body == {"plate": "A123BC77", "zone": "1001", "paid": True, "until": until.isoformat()}
    assert gateway.plate_queries == [("A123BC77", "1001", NOW)]


async def test_unpaid_plate_lookup(
    server: RunningHttpServer, http: aiohttp.ClientSession, gateway: FakeGateway
) -> None:
    async with http.get(
        f"{server.base_url}/v1/plates/123ABC02", params={"zone": "1002"}, headers=AUTH
    ) as response:
        assert response.status == 200
        body = await _json(response)
    assert body == {"plate": "123ABC02", "zone": "1002", "paid": False, "until": None}


@pytest.mark.parametrize(
    ("plate", "params", "status", "code"),
    [
        ("A123BC77", {}, 400, "missing_field"),
        ("A123BC77", {"zone": "one"}, 400, "invalid_field"),
        ("Ж123BC77", {"zone": "1001"}, 400, "invalid_field"),
        ("HELLO", {"zone": "1001"}, 400, "invalid_field"),
        ("A123BC77", {"zone": "9999"}, 404, "unknown_zone"),
    ],
)
async def test_bad_plate_lookups(
    server: RunningHttpServer,
    http: aiohttp.ClientSession,
    plate: str,
    params: dict[str, str],
    status: int,
    code: str,
) -> None:
    async with http.get(
        f"{server.base_url}/v1/plates/{plate}", params=params, headers=AUTH
    ) as response:
        assert response.status == status
        assert (await _json(response))["error"] == code


async def test_phone_overview_normalises_the_number(
    server: RunningHttpServer, http: aiohttp.ClientSession, gateway: FakeGateway
) -> None:
    gateway.overview = {
        "sessions": [{"plate": "A123BC77", "zone": "1001", "ends_at": NOW}],
        "account": Money(15_000, "RUB"),
    }
    async with http.get(f"{server.base_url}/v1/phones/%2B79031234567", headers=AUTH) as response:
        assert response.status == 200
        body = await _json(response)
    assert gateway.phone_queries == ["79031234567"]
    assert body["msisdn"] == "79031234567"
    assert body["sessions"] == [{"plate": "A123BC77", "zone": "1001", "ends_at": NOW.isoformat()}]
    assert body["account"] == {"minor": 15_000, "currency": "RUB"}


async def test_phone_overview_refuses_a_non_number(
    server: RunningHttpServer, http: aiohttp.ClientSession, gateway: FakeGateway
) -> None:
    async with http.get(f"{server.base_url}/v1/phones/abc", headers=AUTH) as response:
        assert response.status == 400
        assert (await _json(response))["error"] == "invalid_field"
    assert gateway.phone_queries == []
