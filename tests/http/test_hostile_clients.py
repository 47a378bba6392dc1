"""The listener against clients that are slow, greedy, rude or malformed, over real
sockets: slow headers and bodies are cut off at the read deadline, a flood beyond the
connection cap holds nothing, a hang-up is no error, and what aiohttp logs about a
request it cannot parse shows no number, text or token."""

from __future__ import annotations

import asyncio
import base64
import io
import logging
import sys
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass

import orjson
import pytest
import structlog

from smsgw.log_masking import scrub
from smsgw.observability import Metrics, configure_logging
from smsgw.transport.http_app import GUARD, RunningHttpServer, create_app, start_http_server
from smsgw.transport.http_limits import ConnectionGuard, ConnectionLimits
from tests.http.conftest import LINK_SECRETS, OPTIONS, FakeServiceApi, StartServer

# short enough for a test, long enough for a loaded machine to send a request in time
DEADLINE = 0.5
# how long a test waits, at most, for what must happen after the deadline
PATIENCE = 10.0
PHONE = "79031234567"
TOKEN = "ops-token-0123456789"
MO_TEXT = "1001*A123BC77*2"
BASIC = base64.b64encode(f"kannel:{LINK_SECRETS['mts-kannel']}".encode()).decode()


async def _start_guarded(gateway: FakeServiceApi, metrics: Metrics) -> RunningHttpServer:
    """A listener with a short read deadline and a cap of 20 connections."""
    return await start_http_server(
        create_app(gateway, OPTIONS, metrics),
        "127.0.0.1",
        0,
        ConnectionLimits(read_timeout_seconds=DEADLINE, max_connections=20),
    )


@pytest.fixture
async def guarded(gateway: FakeServiceApi, metrics: Metrics) -> AsyncIterator[RunningHttpServer]:
    server = await _start_guarded(gateway, metrics)
    yield server
    await server.close()


def _guard(server: RunningHttpServer) -> ConnectionGuard:
    return server.runner.app[GUARD]


async def _connect(server: RunningHttpServer) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    return await asyncio.open_connection("127.0.0.1", server.port)


async def _closed_by_server(reader: asyncio.StreamReader) -> bytes:
    """Everything the server sent until it closed the connection."""
    async with asyncio.timeout(PATIENCE):
        try:
            return await reader.read()
        except ConnectionResetError:
            return b""


def _slow_body_request(length: int = 60_000) -> bytes:
    return (
        "POST /mo/json/mts-kannel HTTP/1.1\r\nHost: gw\r\n"
        f"Authorization: Basic {BASIC}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {length}\r\n\r\n{{"
    ).encode()


async def test_slow_headers_are_cut_off_at_the_deadline(guarded: RunningHttpServer) -> None:
    reader, writer = await _connect(guarded)
    writer.write(b"GET /health HTTP/1.1\r\nHost: gw\r\nX-Slow: ")  # and never the rest
    started = asyncio.get_running_loop().time()
    assert await _closed_by_server(reader) == b""
    assert asyncio.get_running_loop().time() - started >= DEADLINE * 0.9
    writer.close()
    assert _guard(guarded).stats.timed_out == 1


async def test_a_slow_body_is_cut_off_and_nothing_is_stored(
    guarded: RunningHttpServer, gateway: FakeServiceApi, metrics: Metrics
) -> None:
    reader, writer = await _connect(guarded)
    writer.write(_slow_body_request())  # headers and one body byte of 60 000
    await _closed_by_server(reader)
    writer.close()
    await _wait_for(lambda: _guard(guarded).stats.open == 0)
    assert _guard(guarded).stats.timed_out == 1
    assert gateway.mos == []
    assert _statuses(metrics) <= {"499"}, "a cut-off request is no server error"


async def test_an_idle_keep_alive_connection_is_closed_too(guarded: RunningHttpServer) -> None:
    reader, writer = await _connect(guarded)
    writer.write(b"GET /health HTTP/1.1\r\nHost: gw\r\n\r\n")
    answer = await _closed_by_server(reader)
    assert answer.startswith(b"HTTP/1.1 200"), "answered first, then closed when idle"
    writer.close()


async def test_a_request_sent_in_time_is_answered_whatever_came_before(
    guarded: RunningHttpServer,
) -> None:
    reader, writer = await _connect(guarded)
    for _ in range(3):  # keep-alive: each request has its own deadline
        writer.write(b"GET /health HTTP/1.1\r\nHost: gw\r\n\r\n")
        async with asyncio.timeout(PATIENCE):
            status = await reader.readline()
            assert status.startswith(b"HTTP/1.1 200")
            while (await reader.readline()) != b"\r\n":
                pass
            await reader.readexactly(len(b'{"status":"ok"}'))
    writer.close()


async def test_a_flood_beyond_the_cap_holds_no_connections(guarded: RunningHttpServer) -> None:
    guard = _guard(guarded)
    streams = []
    for _ in range(200):
        reader, writer = await _connect(guarded)
        writer.write(_slow_body_request())
        streams.append((reader, writer))
    await _wait_for(lambda: guard.stats.open + guard.stats.refused >= 200)
    assert guard.stats.open <= 20, "never more than max_connections held"
    assert guard.stats.refused >= 180
    # the ones held are cut off at the deadline: nothing stays open
    await _wait_for(lambda: guard.stats.open == 0)
    for reader, writer in streams:
        await _closed_by_server(reader)
        writer.close()
    # and the listener still answers
    reader, writer = await _connect(guarded)
    writer.write(b"GET /health HTTP/1.1\r\nHost: gw\r\nConnection: close\r\n\r\n")
    assert (await _closed_by_server(reader)).startswith(b"HTTP/1.1 200")
    writer.close()


# --- logs ------------------------------------------------------------------------------------


@dataclass
class LogOutput:
    """What configure_logging writes to stdout, captured here."""

    buffer: io.BytesIO

    def lines(self) -> list[dict[str, object]]:
        text = self.buffer.getvalue().decode("utf-8", "replace")
        return [orjson.loads(line) for line in text.splitlines() if line.startswith("{")]

    def text(self) -> str:
        return self.buffer.getvalue().decode("utf-8", "replace")


@pytest.fixture
def logged(monkeypatch: pytest.MonkeyPatch) -> Iterator[LogOutput]:
    """The gateway's own logging set up as `smsgw serve` does, writing to a buffer."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    buffer = io.BytesIO()
    monkeypatch.setattr(sys, "stdout", io.TextIOWrapper(buffer, write_through=True))
    configure_logging("debug", json=True)
    # module loggers must not keep this test's stdout once it is over
    structlog.configure(cache_logger_on_first_use=False)
    yield LogOutput(buffer)
    structlog.reset_defaults()
    root.handlers[:] = handlers
    root.setLevel(level)


async def test_a_hang_up_mid_request_is_a_debug_line(
    logged: LogOutput,
    start_server: StartServer,
    gateway: FakeServiceApi,
    metrics: Metrics,
) -> None:
    server = await start_server(OPTIONS)
    for _ in range(5):
        reader, writer = await _connect(server)
        writer.write(_slow_body_request())
        await asyncio.sleep(0)  # let the request reach the handler before hanging up
        await _wait_for(lambda: _in_handler(server))
        writer.close()
        await _closed_by_server(reader)
    await _wait_for(lambda: _guard(server).stats.open == 0)
    await _wait_for(lambda: "499" in _statuses(metrics))
    lines = logged.lines()
    assert [line for line in lines if line["level"] in ("error", "critical")] == []
    assert any(line["event"] == "http.client_gone" for line in lines)
    assert "500" not in _statuses(metrics)
    assert gateway.mos == []


MALFORMED = [
    # a request line with a space in the query (a raw Kannel text) and a bad version
    pytest.param(
        f"GET /mo/kannel/mts-kannel?sender=%2B{PHONE}&text={MO_TEXT} now HTTP/9.9\r\n"
        f"Authorization: Bearer {TOKEN}\r\n\r\n",
        id="bad-request-line",
    ),
    # a header line that is no header, holding the token and the number
    pytest.param(
        f"POST /mo/json/mts-kannel HTTP/1.1\r\nHost: gw\r\nBearer {TOKEN} {PHONE}\r\n\r\n",
        id="bad-header",
    ),
    # a chunked body that is not chunked, holding a JSON MO
    pytest.param(
        "POST /mo/json/mts-kannel HTTP/1.1\r\nHost: gw\r\nTransfer-Encoding: chunked\r\n"
        f"Authorization: Bearer {TOKEN}\r\n\r\n"
        f'{{"sender": "{PHONE}", "text": "{MO_TEXT}"}}\r\n\r\n',
        id="bad-chunk",
    ),
    # a header name with a byte no header may hold
    pytest.param(
        f"GET /v1/phones/{PHONE} HTTP/1.1\r\nHost: gw\r\nX-{PHONE}\x01: {TOKEN}\r\n\r\n",
        id="bad-header-name",
    ),
]


@pytest.mark.parametrize("raw", MALFORMED)
async def test_what_aiohttp_logs_of_a_malformed_request_is_masked(
    logged: LogOutput, server: RunningHttpServer, raw: str
) -> None:
    reader, writer = await _connect(server)
    writer.write(raw.encode("latin-1"))
    answer = await _closed_by_server(reader)
    writer.close()
    # aiohttp answers a request it cannot parse itself, before any middleware runs
    assert answer.startswith(b"HTTP/1.") and b" 400 " in answer[:20], answer[:80]
    out = logged.text()
    assert out.strip(), "aiohttp says something about the request"
    (line,) = [line for line in logged.lines() if line.get("logger") == "aiohttp.server"]
    assert line["level"] == "warning", "a client's bad request is not our error"
    assert "Traceback" not in out
    for secret in (PHONE, TOKEN, MO_TEXT, MO_TEXT.replace("*", "%2A")):
        assert secret not in out, f"{secret!r} reached the log:\n{out}"


@pytest.mark.parametrize(
    ("raw", "hidden"),
    [
        ("Bearer ops-token-0123456789", "ops-token-0123456789"),
        ("authorization: Basic a2Fubm", "a2Fubm"),
        ("GET /mo?secret=s3cr3t-value&sender=79031234567", "s3cr3t-value"),
        ("GET /mo?sender=%2B79031234567&text=PARK", "79031234567"),
        ("?text=1001%2AA123BC77%2A2&id=1", "A123BC77"),
        ('{"sender": "79031234567", "text": "S 1001"}', "S 1001"),
        ("b'sender=79031234567'", "79031234567"),
    ],
)
def test_scrub_hides_credentials_texts_and_numbers(raw: str, hidden: str) -> None:
    assert hidden not in scrub(raw)


def test_scrub_keeps_what_helps_and_is_harmless() -> None:
    line = "Error handling request from 127.0.0.1 port 8080 short number 7757"
    assert scrub(line) == line


# --- helpers ---------------------------------------------------------------------------------


def _statuses(metrics: Metrics) -> set[str]:
    return {
        sample.labels["status"]
        for family in metrics.registry.collect()
        for sample in family.samples
        if sample.name == "http_requests_total"
    }


def _in_handler(server: RunningHttpServer) -> bool:
    return any(c.request is not None for c in _guard(server)._connections.values())


async def _wait_for(condition: object) -> None:
    assert callable(condition)
    async with asyncio.timeout(PATIENCE):
        while not condition():
            await asyncio.sleep(0.01)
