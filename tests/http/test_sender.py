"""KannelSender against a tiny fake Kannel (real HTTP on an OS-chosen port)."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from urllib.parse import parse_qs, urlsplit

import aiohttp
import pytest
from aiohttp import web

from smsgw.service.messages import OutboundSms
from smsgw.service.ports import PermanentSendError, SendError
from smsgw.transport.http_app import RunningHttpServer, start_http_server
from smsgw.transport.http_common import parse_form_bytes
from smsgw.transport.http_sender import KannelSender, sendsms_url

DLR_TEMPLATE = "http://gw.example:8080/dlr/kannel/mts-kannel?id={outbox_id}&type=%d"


def _sms(text: str, outbox_id: str = "out-01HZX/1") -> OutboundSms:
    return OutboundSms(
        outbox_id=outbox_id,
        operator_id="mts",
        sender="7757",
        receiver="79031234567",
        text=text,
        created_at=datetime(2026, 3, 2, 9, 30, tzinfo=UTC),
    )


@dataclass
class FakeKannel:
    status: int = 202
    body: str = "0: Accepted for delivery"
    hang: bool = False
    drop: bool = False
    queries: list[dict[str, bytes]] = field(default_factory=list)
    paths: list[str] = field(default_factory=list)
    released: asyncio.Event = field(default_factory=asyncio.Event)

    async def sendsms(self, request: web.Request) -> web.StreamResponse:
        self.paths.append(request.path)
        self.queries.append(parse_form_bytes(request.rel_url.raw_query_string))
        if self.hang:
            await self.released.wait()
        if self.drop:
            assert request.transport is not None
            request.transport.close()
        return web.Response(status=self.status, text=self.body)


@pytest.fixture
async def kannel() -> AsyncIterator[tuple[FakeKannel, RunningHttpServer]]:
    fake = FakeKannel()
    app = web.Application()
    app.router.add_get("/cgi-bin/sendsms", fake.sendsms)
    server = await start_http_server(app, "127.0.0.1", 0)
    yield fake, server
    fake.released.set()
    await server.close()


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as client:
        yield client


def _sender(
    server: RunningHttpServer, session: aiohttp.ClientSession, **options: float
) -> KannelSender:
    return KannelSender(
        server.base_url,
        "gw",
        "p&ss=wörd",
        "mts1",
        session,
        DLR_TEMPLATE,
        **options,
    )


async def test_gsm_text_goes_as_utf8_and_the_outbox_id_comes_back(
    kannel: tuple[FakeKannel, RunningHttpServer], session: aiohttp.ClientSession
) -> None:
    fake, server = kannel
    message_id = await _sender(server, session).send(_sms("Parking 1001 A123BC77 until 11:30 €"))
    assert message_id == "out-01HZX/1"
    (query,) = fake.queries
    assert fake.paths == ["/cgi-bin/sendsms"]
    assert query["text"].decode("utf-8") == "Parking 1001 A123BC77 until 11:30 €"
    assert (query["coding"], query["charset"]) == (b"0", b"UTF-8")
    assert query["username"] == b"gw"
    assert query["password"].decode() == "p&ss=wörd"
    assert (query["from"], query["to"], query["smsc"]) == (b"7757", b"79031234567", b"mts1")
    assert query["dlr-mask"] == b"3"


async def test_non_gsm_text_goes_as_ucs2_octets(
    kannel: tuple[FakeKannel, RunningHttpServer], session: aiohttp.ClientSession
) -> None:
    fake, server = kannel
    text = "Парковка 1001 A123BC77 до 11:30 😀"
    await _sender(server, session).send(_sms(text))
    (query,) = fake.queries
    assert (query["coding"], query["charset"]) == (b"2", b"UTF-16BE")
    assert query["text"] == text.encode("utf-16-be")


async def test_dlr_url_carries_the_outbox_id_and_kannels_escape(
    kannel: tuple[FakeKannel, RunningHttpServer], session: aiohttp.ClientSession
) -> None:
    fake, server = kannel
    await _sender(server, session).send(_sms("I", outbox_id="out-01HZX/1"))
    dlr_url = fake.queries[0]["dlr-url"].decode()
    parsed = parse_qs(urlsplit(dlr_url).query)
    assert parsed["id"] == ["out-01HZX/1"]
    assert parsed["type"] == ["%d"]  # left for Kannel to fill in


def test_sendsms_url_accepts_a_base_or_the_full_url() -> None:
    assert sendsms_url("http://k:13013") == "http://k:13013/cgi-bin/sendsms"
    assert sendsms_url("http://k:13013/") == "http://k:13013/cgi-bin/sendsms"
    assert sendsms_url("http://k:13013/cgi-bin/sendsms") == "http://k:13013/cgi-bin/sendsms"


def test_a_dlr_template_without_the_placeholder_is_refused() -> None:
    with pytest.raises(ValueError, match="outbox_id"):
        KannelSender("http://k", "u", "p", "", None, "http://gw/dlr?id=1")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("status", "body"), [(403, "Authorization failed for sendsms"), (400, "Missing receiver")]
)
async def test_client_errors_are_permanent(
    kannel: tuple[FakeKannel, RunningHttpServer],
    session: aiohttp.ClientSession,
    status: int,
    body: str,
) -> None:
    fake, server = kannel
    fake.status, fake.body = status, body
    with pytest.raises(PermanentSendError, match=str(status)) as raised:
        await _sender(server, session).send(_sms("I"))
    assert raised.value.temporary is False
    assert body in str(raised.value)


@pytest.mark.parametrize("status", [500, 503, 429, 408])
async def test_server_errors_are_temporary(
    kannel: tuple[FakeKannel, RunningHttpServer], session: aiohttp.ClientSession, status: int
) -> None:
    fake, server = kannel
    fake.status, fake.body = status, "Temporal failure, try again later"
    with pytest.raises(SendError) as raised:
        await _sender(server, session).send(_sms("I"))
    assert raised.value.temporary is True


async def test_dropped_connection_is_temporary(
    kannel: tuple[FakeKannel, RunningHttpServer], session: aiohttp.ClientSession
) -> None:
    fake, server = kannel
    fake.drop = True
    with pytest.raises(SendError) as raised:
        await _sender(server, session).send(_sms("I"))
    assert raised.value.temporary is True
    assert "p&ss" not in str(raised.value)


async def test_refused_connection_is_temporary(session: aiohttp.ClientSession) -> None:
    with socket.socket() as probe:  # a port that was free a moment ago: nobody listens
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    sender = KannelSender(f"http://127.0.0.1:{port}", "gw", "secret", "", session, DLR_TEMPLATE)
    with pytest.raises(SendError) as raised:
        await sender.send(_sms("I"))
    assert raised.value.temporary is True
    assert "secret" not in str(raised.value)


async def test_no_answer_in_time_is_temporary(
    kannel: tuple[FakeKannel, RunningHttpServer], session: aiohttp.ClientSession
) -> None:
    fake, server = kannel
    fake.hang = True
    with pytest.raises(SendError) as raised:
        await _sender(server, session, timeout_seconds=0.05).send(_sms("I"))
    assert raised.value.temporary is True


async def test_without_smsc_or_dlr_template_those_parameters_are_left_out(
    kannel: tuple[FakeKannel, RunningHttpServer], session: aiohttp.ClientSession
) -> None:
    fake, server = kannel
    await KannelSender(server.base_url, "gw", "pw", "", session, "").send(_sms("I"))
    assert not {"smsc", "dlr-mask", "dlr-url"} & fake.queries[0].keys()
