from __future__ import annotations

from dataclasses import replace

import aiohttp
import orjson
import pytest
from yarl import URL

from smsgw.transport.http_app import RunningHttpServer
from tests.http.conftest import NOW, OPTIONS, FakeServiceApi, StartServer
from tests.http.kannel import kannel_query


def _url(server: RunningHttpServer, path: str, query: str) -> URL:
    # encoded=True: the query goes on the wire exactly as Kannel would write it
    return URL(f"{server.base_url}{path}?{query}", encoded=True)


async def _error(response: aiohttp.ClientResponse) -> str:
    assert response.content_type == "application/json"
    body = orjson.loads(await response.read())
    assert set(body) == {"error", "message"} and body["message"]
    return str(body["error"])


KANNEL_TEXTS = [
    pytest.param("1001*А123ВС77*2", "2", "UTF-16BE", "utf-16-be", id="ucs2-cyrillic"),
    pytest.param("Оплата 😀 ok", "2", "UTF-16BE", "utf-16-be", id="ucs2-emoji"),
    pytest.param("1001*A123BC77*2", "0", "UTF-8", "utf-8", id="gsm-utf8"),
    pytest.param("Сәлем, көмек?", "0", "UTF-8", "utf-8", id="kazakh-utf8"),
    pytest.param("Café S*A123BC77", "0", "ISO-8859-1", "latin-1", id="latin1"),
    pytest.param("ПОМОЩЬ", "0", "WINDOWS-1251", "cp1251", id="windows-1251"),
]


@pytest.mark.parametrize(("text", "coding", "charset", "codec"), KANNEL_TEXTS)
@pytest.mark.parametrize("space_as_plus", [False, True])
async def test_kannel_get_decodes_raw_octets(
    server: RunningHttpServer,
    http: aiohttp.ClientSession,
    gateway: FakeServiceApi,
    text: str,
    coding: str,
    charset: str,
    codec: str,
    space_as_plus: bool,
) -> None:
    query = kannel_query(
        text.encode(codec),
        coding=coding,
        charset=charset,
        extra={"smsc": "mts1", "id": "6f1c2a9e-0001"},
        space_as_plus=space_as_plus,
    )
    async with http.get(_url(server, "/mo/kannel/mts-kannel", query)) as response:
        assert response.status == 200
        assert response.content_type == "text/plain"
        assert await response.read() == b""
    (sms,) = gateway.mos
    assert sms.text == text
    assert (sms.link_id, sms.operator_id) == ("mts-kannel", "mts")
    assert (sms.sender, sms.receiver) == ("79031234567", "7757")
    assert sms.received_at == NOW
    assert sms.dedup_key == "id:6f1c2a9e-0001"


async def test_kannel_post_form(
    server: RunningHttpServer, http: aiohttp.ClientSession, gateway: FakeServiceApi
) -> None:
    body = kannel_query(
        "Й".encode("utf-16-be"), sender="0079031234567", coding="2", charset="UTF-16BE"
    )
    async with http.post(
        f"{server.base_url}/mo/kannel/beeline-http",
        data=body.encode(),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    ) as response:
        assert response.status == 200
    (sms,) = gateway.mos
    assert (sms.text, sms.sender, sms.operator_id) == ("Й", "79031234567", "beeline")


async def test_kannel_post_body_overrides_the_query(
    server: RunningHttpServer, http: aiohttp.ClientSession, gateway: FakeServiceApi
) -> None:
    async with http.post(
        _url(server, "/mo/kannel/mts-kannel", "sender=79990000000&text=query"),
        data={"sender": "79031234567", "receiver": "7757", "text": "I"},
    ) as response:
        assert response.status == 200
    (sms,) = gateway.mos
    assert (sms.sender, sms.text) == ("79031234567", "I")


async def test_kannel_post_of_another_type_is_refused(
    server: RunningHttpServer, http: aiohttp.ClientSession, gateway: FakeServiceApi
) -> None:
    async with http.post(
        f"{server.base_url}/mo/kannel/mts-kannel", data=b"I", headers={"Content-Type": "text/plain"}
    ) as response:
        assert response.status == 415
        assert await _error(response) == "unsupported_media_type"
    assert gateway.mos == []


async def test_only_a_repeated_transport_id_is_the_same_message(
    server: RunningHttpServer, http: aiohttp.ClientSession, gateway: FakeServiceApi
) -> None:
    retried = kannel_query(b"S", extra={"id": "kannel-41"})
    for _ in range(2):  # Kannel retrying a get-url whose answer it did not see
        async with http.get(_url(server, "/mo/kannel/mts-kannel", retried)) as response:
            assert response.status == 200
    for _ in range(2):  # a driver texting S twice, with timestamps but without an id
        again = kannel_query(b"S", extra={"ts": "1772443800"})
        async with http.get(_url(server, "/mo/kannel/mts-kannel", again)) as response:
            assert response.status == 200
    retry_a, retry_b, new_a, new_b = (sms.dedup_key for sms in gateway.mos)
    assert retry_a == retry_b == "id:kannel-41"
    assert len({retry_a, new_a, new_b}) == 3, "texts without an id are each a new message"


async def test_an_empty_message_is_stored(
    server: RunningHttpServer, http: aiohttp.ClientSession, gateway: FakeServiceApi
) -> None:
    async with http.get(_url(server, "/mo/kannel/mts-kannel", kannel_query(b""))) as response:
        assert response.status == 200
    assert gateway.mos[0].text == ""


@pytest.mark.parametrize(
    ("query", "code"),
    [
        ("receiver=7757&text=I", "missing_field"),
        ("sender=&receiver=7757&text=I", "missing_field"),
        ("sender=79031234567&text=I", "missing_field"),
        ("sender=79031234567&receiver=7757", "missing_field"),
        ("sender=not-a-number&receiver=7757&text=I", "invalid_field"),
        ("sender=79031234567&receiver=%FF%FE&text=I", "invalid_field"),
    ],
)
async def test_kannel_bad_fields_are_400_json(
    server: RunningHttpServer,
    http: aiohttp.ClientSession,
    gateway: FakeServiceApi,
    query: str,
    code: str,
) -> None:
    async with http.get(_url(server, "/mo/kannel/mts-kannel", query)) as response:
        assert response.status == 400
        assert await _error(response) == code
    assert gateway.mos == []


async def test_unknown_link_is_404(
    server: RunningHttpServer, http: aiohttp.ClientSession, gateway: FakeServiceApi
) -> None:
    async with http.get(_url(server, "/mo/kannel/nope", kannel_query(b"I"))) as response:
        assert response.status == 404
        assert await _error(response) == "unknown_link"
    assert gateway.mos == []


@pytest.mark.parametrize("answer", [None, False], ids=["store-raises", "store-refuses"])
async def test_not_stored_is_503_so_kannel_retries(
    server: RunningHttpServer,
    http: aiohttp.ClientSession,
    gateway: FakeServiceApi,
    answer: bool | None,
) -> None:
    gateway.mo_answer = answer
    async with http.get(_url(server, "/mo/kannel/mts-kannel", kannel_query(b"I"))) as response:
        assert response.status == 503
        assert await _error(response) == "not_stored"
    async with http.post(
        f"{server.base_url}/mo/json/mts-kannel",
        json={"sender": "79031234567", "receiver": "7757", "text": "I"},
    ) as response:
        assert response.status == 503


async def test_json_mo(
    server: RunningHttpServer, http: aiohttp.ClientSession, gateway: FakeServiceApi
) -> None:
    document = {"sender": "+77011234567", "receiver": "7757", "text": "Сәлем 😀", "id": 42}
    async with http.post(f"{server.base_url}/mo/json/beeline-http", json=document) as response:
        assert response.status == 200
        assert await response.read() == b""
    (sms,) = gateway.mos
    assert (sms.sender, sms.text, sms.operator_id, sms.dedup_key) == (
        "77011234567",
        "Сәлем 😀",
        "beeline",
        "id:42",
    )


@pytest.mark.parametrize(
    ("body", "code"),
    [
        (b"{not json", "invalid_json"),
        (b"[1, 2]", "invalid_json"),
        (b'{"receiver": "7757", "text": "I"}', "missing_field"),
        (b'{"sender": "79031234567", "receiver": "7757"}', "missing_field"),
        (b'{"sender": 79031234567, "receiver": "7757", "text": "I"}', "invalid_field"),
        (b'{"sender": "79031234567", "receiver": "7757", "text": null}', "invalid_field"),
        (b'{"sender": "79031234567", "receiver": "7757", "text": "I", "id": [1]}', "invalid_field"),
    ],
)
async def test_json_mo_bad_bodies_are_400(
    server: RunningHttpServer,
    http: aiohttp.ClientSession,
    gateway: FakeServiceApi,
    body: bytes,
    code: str,
) -> None:
    async with http.post(
        f"{server.base_url}/mo/json/mts-kannel",
        data=body,
        headers={"Content-Type": "application/json"},
    ) as response:
        assert response.status == 400
        assert await _error(response) == code
    assert gateway.mos == []


async def test_json_mo_over_the_size_limit_is_413(
    start_server: StartServer, http: aiohttp.ClientSession, gateway: FakeServiceApi
) -> None:
    server = await start_server(replace(OPTIONS, max_body_bytes=1024))
    document = {"sender": "79031234567", "receiver": "7757", "text": "x" * 2000}
    async with http.post(f"{server.base_url}/mo/json/mts-kannel", json=document) as response:
        assert response.status == 413
        assert await _error(response) == "payload_too_large"
    assert gateway.mos == []
