"""The MO and delivery-report endpoints as an attacker meets them: whoever reaches the
HTTP port must not be able to text as a phone or mark someone's reply as failed."""

from __future__ import annotations

import ipaddress
from dataclasses import replace

import aiohttp
import orjson
import pytest
from yarl import URL

from smsgw.observability import Metrics
from smsgw.transport.http_app import HttpOptions, RunningHttpServer
from smsgw.transport.http_common import HttpLink
from tests.http.conftest import LINK_SECRETS, OPTIONS, FakeServiceApi, StartServer
from tests.http.kannel import kannel_query

VICTIM = "79031234567"
MO_QUERY = kannel_query(b"S", sender=VICTIM, extra={"id": "k-1"})
MTS_SECRET = LINK_SECRETS["mts-kannel"]
# an SMPP link: it is not in HttpOptions.links, as bootstrap only maps kannel links
SMPP_LINK = "mts-1"


def _refusals(metrics: Metrics, reason: str) -> float:
    total = 0.0
    for family in metrics.registry.collect():
        for sample in family.samples:
            if sample.name == "http_link_refusals_total" and sample.labels["reason"] == reason:
                total += sample.value
    return total


async def _refused(response: aiohttp.ClientResponse, status: int) -> str:
    assert response.status == status
    assert response.content_type == "application/json"
    body = orjson.loads(await response.read())
    assert set(body) == {"error", "message"} and body["message"]
    return str(body["error"])


ATTACKS = [
    pytest.param("GET", f"/mo/kannel/mts-kannel?{MO_QUERY}", None, id="kannel-get"),
    pytest.param("GET", f"/mo/kannel/{SMPP_LINK}?{MO_QUERY}", None, id="kannel-get-smpp-link"),
    pytest.param(
        "POST",
        f"/mo/json/{SMPP_LINK}",
        {"sender": VICTIM, "receiver": "7757", "text": "S"},
        id="json-smpp-link",
    ),
    pytest.param(
        "POST",
        "/mo/json/mts-kannel",
        {"sender": VICTIM, "receiver": "7757", "text": "S"},
        id="json-http-link",
    ),
    pytest.param("GET", "/dlr/kannel/mts-kannel?id=4&type=2", None, id="dlr"),
    pytest.param("GET", f"/dlr/kannel/{SMPP_LINK}?id=4&type=2", None, id="dlr-smpp-link"),
]


@pytest.mark.parametrize(("method", "path", "document"), ATTACKS)
async def test_without_the_link_secret_nothing_is_stored(
    server: RunningHttpServer,
    anonymous: aiohttp.ClientSession,
    gateway: FakeServiceApi,
    metrics: Metrics,
    method: str,
    path: str,
    document: dict[str, str] | None,
) -> None:
    url = URL(f"{server.base_url}{path}", encoded=True)
    async with anonymous.request(method, url, json=document) as response:
        assert response.status in (401, 404)
        await _refused(response, response.status)
    assert gateway.mos == [] and gateway.receipts == []
    assert _refusals(metrics, "bad_credential") + _refusals(metrics, "unknown_link") == 1


CREDENTIALS = [
    pytest.param({"secret": "wrong-secret-0123456789"}, None, id="wrong-query-secret"),
    pytest.param({"secret": ""}, None, id="empty-query-secret"),
    pytest.param({"secret": LINK_SECRETS["beeline-http"]}, None, id="another-links-secret"),
    pytest.param({}, aiohttp.encode_basic_auth("kannel", "wrong"), id="wrong-basic-auth"),
    pytest.param({}, f"Bearer {MTS_SECRET}", id="secret-as-bearer"),
    pytest.param({}, "Basic !!!not-base64", id="broken-basic-auth"),
    pytest.param({"secret": MTS_SECRET[:-1]}, None, id="secret-prefix"),
]


@pytest.mark.parametrize(("query", "authorization"), CREDENTIALS)
async def test_a_wrong_credential_is_401(
    server: RunningHttpServer,
    anonymous: aiohttp.ClientSession,
    gateway: FakeServiceApi,
    metrics: Metrics,
    query: dict[str, str],
    authorization: str | None,
) -> None:
    headers = {"Authorization": authorization} if authorization else {}
    url = URL(f"{server.base_url}/mo/kannel/mts-kannel?{MO_QUERY}", encoded=True)
    async with anonymous.get(url.update_query(query), headers=headers) as response:
        assert await _refused(response, 401) == "unauthorized"
    assert gateway.mos == []
    assert _refusals(metrics, "bad_credential") == 1


async def test_the_secret_in_the_query_as_kannel_sends_it(
    server: RunningHttpServer, anonymous: aiohttp.ClientSession, gateway: FakeServiceApi
) -> None:
    url = f"{server.base_url}/mo/kannel/mts-kannel?secret={MTS_SECRET}&{MO_QUERY}"
    async with anonymous.get(URL(url, encoded=True)) as response:
        assert response.status == 200
    dlr = f"{server.base_url}/dlr/kannel/mts-kannel?secret={MTS_SECRET}&id=out-1&type=1"
    async with anonymous.get(dlr) as response:
        assert response.status == 200
    assert [sms.sender for sms in gateway.mos] == [VICTIM]
    assert [receipt[1] for receipt in gateway.receipts] == ["out-1"]


async def test_the_secret_as_basic_auth(
    server: RunningHttpServer, anonymous: aiohttp.ClientSession, gateway: FakeServiceApi
) -> None:
    headers = {"Authorization": aiohttp.encode_basic_auth("kannel", MTS_SECRET)}
    document = {"sender": VICTIM, "receiver": "7757", "text": "S", "id": "j-1"}
    async with anonymous.post(
        f"{server.base_url}/mo/json/mts-kannel", json=document, headers=headers
    ) as response:
        assert response.status == 200
    assert len(gateway.mos) == 1


async def test_a_link_without_a_secret_takes_nothing(
    start_server: StartServer, anonymous: aiohttp.ClientSession, gateway: FakeServiceApi
) -> None:
    server = await start_server(replace(OPTIONS, links={"open": HttpLink("mts", "")}))
    url = URL(f"{server.base_url}/mo/kannel/open?secret=&{MO_QUERY}", encoded=True)
    async with anonymous.get(url) as response:
        assert await _refused(response, 401) == "unauthorized"
    assert gateway.mos == []


@pytest.mark.parametrize(
    ("networks", "status"),
    [
        (("10.0.0.0/8",), 403),
        (("10.0.0.0/8", "127.0.0.0/8"), 200),
        (("::1/128",), 403),  # the client connects over IPv4
    ],
)
async def test_allowed_networks(
    start_server: StartServer,
    anonymous: aiohttp.ClientSession,
    gateway: FakeServiceApi,
    metrics: Metrics,
    networks: tuple[str, ...],
    status: int,
) -> None:
    link = HttpLink("mts", MTS_SECRET, tuple(ipaddress.ip_network(n) for n in networks))
    server = await start_server(HttpOptions(links={"mts-kannel": link}))
    url = f"{server.base_url}/mo/kannel/mts-kannel?secret={MTS_SECRET}&{MO_QUERY}"
    async with anonymous.get(URL(url, encoded=True)) as response:
        assert response.status == status
    assert len(gateway.mos) == (1 if status == 200 else 0)
    assert _refusals(metrics, "source_not_allowed") == (0 if status == 200 else 1)
