from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import aiohttp
import orjson
import pytest
from prometheus_client.parser import text_string_to_metric_families

from smsgw.domain.money import Money
from smsgw.service.ports import StoreFigures
from smsgw.transport.http_app import RunningHttpServer
from smsgw.transport.http_ops import bearer_token_matches
from tests.http.conftest import AUTH, NOW, OPTIONS, TOKEN, FakeServiceApi, StartServer

PROTECTED = [
    "/ready",
    "/metrics",
    "/v1/plates/A123BC77?zone=1001",
    "/v1/plates/A123BC77",
    "/v1/phones/79031234567",
    "/v1/phones/79031234567/history",
]


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
    gateway: FakeServiceApi,
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
    gateway: FakeServiceApi,
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
    server: RunningHttpServer, http: aiohttp.ClientSession, gateway: FakeServiceApi
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
    server: RunningHttpServer, http: aiohttp.ClientSession, gateway: FakeServiceApi
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
        ("A123BC77", {"zone": ""}, 400, "missing_field"),
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
    server: RunningHttpServer, http: aiohttp.ClientSession, gateway: FakeServiceApi
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
    server: RunningHttpServer, http: aiohttp.ClientSession, gateway: FakeServiceApi
) -> None:
    async with http.get(f"{server.base_url}/v1/phones/abc", headers=AUTH) as response:
        assert response.status == 400
        assert (await _json(response))["error"] == "invalid_field"
    assert gateway.phone_queries == []


# --- the support page ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "content_type"),
    [
        ("/ops/", "text/html"),
        ("/ops/ops.js", "text/javascript"),
        ("/ops/ops.css", "text/css"),
    ],
)
async def test_the_support_page_is_public_static_and_same_origin_only(
    server: RunningHttpServer,
    http: aiohttp.ClientSession,
    gateway: FakeServiceApi,
    path: str,
    content_type: str,
) -> None:
    async with http.get(f"{server.base_url}{path}") as response:
        assert response.status == 200
        assert response.content_type == content_type
        assert "charset=utf-8" in response.headers["Content-Type"]
        policy = response.headers["Content-Security-Policy"]
        assert "default-src 'none'" in policy and "connect-src 'self'" in policy
        body = await response.text()
    assert "http://" not in body and "https://" not in body, "nothing from elsewhere"
    assert gateway.plate_queries == [] and gateway.phone_queries == []


@pytest.mark.parametrize(
    "path", ["/ops/..%2Fhttp_ops.py", "/ops/.hidden.js", "/ops/nope.js", "/ops/ops_page.py"]
)
async def test_the_support_page_serves_nothing_but_its_files(
    server: RunningHttpServer, http: aiohttp.ClientSession, path: str
) -> None:
    async with http.get(f"{server.base_url}{path}") as response:
        assert response.status == 404
        assert (await _json(response))["error"] == "not_found"


async def test_ops_without_the_slash_leads_to_the_page(
    server: RunningHttpServer, http: aiohttp.ClientSession
) -> None:
    async with http.get(f"{server.base_url}/ops", allow_redirects=False) as response:
        assert response.status == 302
        assert response.headers["Location"] == "/ops/"


# --- plates everywhere, history paging, store-backed metrics ------------------------------


async def test_a_plate_without_a_zone_asks_every_zone(
    server: RunningHttpServer, http: aiohttp.ClientSession, gateway: FakeServiceApi
) -> None:
    until = NOW + timedelta(hours=1)
    gateway.paid_until = {("A123BC77", "1002"): until}
    async with http.get(f"{server.base_url}/v1/plates/а123вс77", headers=AUTH) as response:
        assert response.status == 200
        body = await _json(response)
    assert (body["plate"], body["paid"], body["zone"]) == ("A123BC77", True, "1002")
    assert body["until"] == until.isoformat()
    assert gateway.plate_queries == [("A123BC77", "", NOW)]


@pytest.mark.parametrize(
    ("query", "limit", "before"),
    [("", 50, None), ("?limit=200", 200, None), ("?limit=1&before=abc", 1, "abc")],
)
async def test_history_passes_limit_and_cursor_through(
    server: RunningHttpServer,
    http: aiohttp.ClientSession,
    gateway: FakeServiceApi,
    query: str,
    limit: int,
    before: str | None,
) -> None:
    url = f"{server.base_url}/v1/phones/%2B79031234567/history{query}"
    async with http.get(url, headers=AUTH) as response:
        assert response.status == 200
    assert gateway.history_queries == [("79031234567", limit, before)]


@pytest.mark.parametrize("query", ["?limit=0", "?limit=201", "?limit=-1", "?before=bad"])
async def test_a_bad_history_query_is_refused(
    server: RunningHttpServer, http: aiohttp.ClientSession, query: str
) -> None:
    url = f"{server.base_url}/v1/phones/79031234567/history{query}"
    async with http.get(url, headers=AUTH) as response:
        assert response.status == 400
        assert (await _json(response))["error"] == "invalid_field"


async def test_metrics_show_the_stores_figures_at_scrape_time(
    server: RunningHttpServer, http: aiohttp.ClientSession, gateway: FakeServiceApi
) -> None:
    gateway.figures = StoreFigures(
        charged=[("mts", Money(12_000, "RUB"))],
        refunded=[("1001", Money(9_000, "RUB"))],
        active_sessions=[("1001", 3)],
    )
    first = await _scrape(server, http)
    gateway.figures = StoreFigures([], [], [("1002", 1)])
    second = await _scrape(server, http)

    assert first['money_charged_minor{currency="RUB",operator="mts"}'] == 12_000
    assert first['money_refunded_minor{currency="RUB",zone="1001"}'] == 9_000
    assert first['active_sessions{zone="1001"}'] == 3
    # what the store no longer has is no longer shown
    assert 'active_sessions{zone="1001"}' not in second
    assert second['active_sessions{zone="1002"}'] == 1


async def _scrape(server: RunningHttpServer, http: aiohttp.ClientSession) -> dict[str, float]:
    async with http.get(f"{server.base_url}/metrics", headers=AUTH) as response:
        text = await response.text()
    found: dict[str, float] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            labels = ",".join(f'{k}="{v}"' for k, v in sorted(sample.labels.items()))
            found[f"{sample.name}{{{labels}}}"] = sample.value
    return found
