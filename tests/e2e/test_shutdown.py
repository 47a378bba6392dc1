"""`smsgw serve` stops within its drain deadline whatever the operators do, and a second
signal stops it at once; what it could not finish goes out after the next start.

Each test runs the real process (tests/e2e/proc.py) against peers in this process: the
simulator's SMSC, or nothing listening, or a charging API that takes a request and never
answers. The bound asserted is the configured drain plus a margin for the process to
start its exit (interpreter shutdown, store close); the original code never exited.
"""

from __future__ import annotations

import asyncio
import signal
import socket
import sqlite3
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, closing
from pathlib import Path

import aiohttp

from simulator.config import SmscAccount, SmscSettings
from simulator.faults import Faults
from simulator.smsc import SimulatedSmsc
from smsgw.service.settings import ServiceSettings
from tests.e2e.proc import SMPP_PASSWORD, GatewayProcess, ServeConfig, system_id_for, write_config
from tests.e2e.rig import HTTP_LINK_SECRET, SHORT_NUMBER

OPERATOR = "mts"
# MO come in over HTTP (a kannel link of the same operator): they arrive while every
# SMPP link is down; replies go out through the SMPP link (the restarts leave the kannel
# link out, so none is dealt to its sendsms, which leads nowhere)
HTTP_LINK = f"{OPERATOR}-http"
PHONE = "79161234567"
DRAIN_SECONDS = 1
# exit must begin by the drain deadline; this covers the rest (unbind grace, store close)
EXIT_MARGIN_SECONDS = 4.0
WAIT_SECONDS = 30.0  # a guard for events that come in well under a second
# A restart runs on a clock this far ahead of the wall clock (tests/e2e/serve_ahead.py):
# the retries the stopped run scheduled, after the first back-off of a charge or a reply,
# are then due at once instead of seconds of waiting; nothing else is due that soon.
_DEFAULTS = ServiceSettings()
RETRIES_DUE_AHEAD_SECONDS = (
    max(_DEFAULTS.charge_backoff.first, _DEFAULTS.outbox_backoff.first).total_seconds() + 1.0
)
ZONE = "9001"
ZONE_TABLE = {
    "number": ZONE,
    "name": "Round the clock",
    "time_zone": "Europe/Moscow",
    "currency": "RUB",
    "price_per_hour": "60.00",
    "paid": [{"days": "Mon-Sun", "from": "00:00", "to": "24:00"}],
}


def unused_port() -> int:
    """A port nobody listens on: connecting to it is refused at once."""
    with closing(socket.socket()) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def serve_config(
    directory: Path,
    smsc_port: int,
    charging_url: str,
    drain: int = DRAIN_SECONDS,
    *,
    mo_over_http: bool = True,
) -> ServeConfig:
    return ServeConfig(
        storage_dsn=f"sqlite:///{directory / 'gw.sqlite3'}",
        smsc_port=smsc_port,
        link_operators=(OPERATOR,),
        charging_urls={OPERATOR: charging_url},
        zones=[ZONE_TABLE],
        node_id="shutdown-node",
        log_level="info",
        drain_seconds=drain,
        http_link_operators=(OPERATOR,) if mo_over_http else (),
    )


def smsc(faults: Faults | None = None) -> SimulatedSmsc:
    account = SmscAccount(system_id_for(OPERATOR), SMPP_PASSWORD, OPERATOR)
    return SimulatedSmsc(SmscSettings("127.0.0.1", 0, (account,)), faults=faults)


@asynccontextmanager
async def running(config_path: Path, ahead_seconds: float = 0.0) -> AsyncIterator[GatewayProcess]:
    gateway = await GatewayProcess.start(config_path, ahead_seconds=ahead_seconds)
    try:
        yield gateway
    finally:
        await gateway.ensure_gone()


async def text_over_http(gateway: GatewayProcess, sender: str, text: str) -> None:
    document = {"sender": sender, "receiver": SHORT_NUMBER, "text": text}
    async with (
        aiohttp.ClientSession() as session,
        session.post(
            f"{gateway.base_url}/mo/json/{HTTP_LINK}",
            json=document,
            params={"secret": HTTP_LINK_SECRET},
        ) as response,
    ):
        assert response.status == 200, await response.text()


def outbox_states(database: Path) -> dict[str, int]:
    with closing(sqlite3.connect(f"file:{database}?mode=ro", uri=True)) as db:
        return dict(db.execute("SELECT state, count(*) FROM outbox GROUP BY state").fetchall())


def reply_being_sent(database: Path) -> bool:
    """The outbox has claimed the pending reply (leased it): its send has started, and
    with every link down it waits for a bind that does not come."""
    with closing(sqlite3.connect(f"file:{database}?mode=ro", uri=True)) as db:
        found = db.execute(
            "SELECT 1 FROM outbox WHERE state = 'pending' AND lease_owner IS NOT NULL"
        ).fetchone()
    return found is not None


async def until(condition: object, what: str) -> None:
    """Wait for `condition()` to hold, checking as the gateway's store changes."""
    assert callable(condition)
    async with asyncio.timeout(WAIT_SECONDS):
        while not condition():
            await asyncio.sleep(0.05)  # polls another process's file; no event to await
    assert condition(), what


async def timed_stop(gateway: GatewayProcess, *signals: signal.Signals) -> tuple[int, float]:
    """Send the signals (the later ones once the first drain has begun); exit code and
    seconds from the first signal to the exit."""
    loop = asyncio.get_running_loop()
    started = loop.time()
    gateway.process.send_signal(signals[0])
    for later in signals[1:]:
        await until(lambda: _logged(gateway, "gateway.draining"), "the drain did not begin")
        gateway.process.send_signal(later)
    code = await gateway.wait_exit(DRAIN_SECONDS * 10 + EXIT_MARGIN_SECONDS)
    return code, loop.time() - started


def _logged(gateway: GatewayProcess, event: str) -> bool:
    return any(f'"event":"{event}"' in line for line in gateway.output)


async def test_sigterm_with_every_link_down_exits_in_time_and_the_reply_goes_out_later(
    tmp_path: Path,
) -> None:
    config = serve_config(tmp_path, unused_port(), f"http://127.0.0.1:{unused_port()}")
    database = tmp_path / "gw.sqlite3"
    async with running(write_config(tmp_path, config)) as gateway:
        await text_over_http(gateway, PHONE, "I")
        # stopped while the send is under way: a stop before it starts drains at once
        await until(lambda: reply_being_sent(database), "the reply's send did not start")
        code, seconds = await timed_stop(gateway, signal.SIGTERM)
    assert code == 0, gateway.tail()
    assert seconds < DRAIN_SECONDS + EXIT_MARGIN_SECONDS, gateway.tail()
    assert _logged(gateway, "gateway.draining")
    assert _logged(gateway, "gateway.drain_cut_short")
    assert outbox_states(database) == {"pending": 1}
    # the SMSC is back: the next start sends what was left
    server = smsc()
    await server.start()
    try:
        restarted = serve_config(
            tmp_path, server.port, config.charging_urls[OPERATOR], mo_over_http=False
        )
        async with running(write_config(tmp_path, restarted)) as again:
            (reply,) = await server.wait_for_texts(PHONE, 1, timeout=WAIT_SECONDS)
            assert reply
            assert await again.stop() == 0
    finally:
        await server.close()
    assert outbox_states(database) == {"sent": 1}


async def test_a_second_signal_stops_at_once(tmp_path: Path) -> None:
    # a drain far longer than the test: only the second signal can end it
    config = serve_config(tmp_path, unused_port(), f"http://127.0.0.1:{unused_port()}", drain=600)
    database = tmp_path / "gw.sqlite3"
    for first, second in ((signal.SIGTERM, signal.SIGTERM), (signal.SIGINT, signal.SIGTERM)):
        async with running(write_config(tmp_path, config)) as gateway:
            await text_over_http(gateway, PHONE, "I")
            await until(lambda: outbox_states(database), "no reply was queued")
            code, seconds = await timed_stop(gateway, first, second)
        assert code == 0, gateway.tail()
        assert seconds < EXIT_MARGIN_SECONDS, gateway.tail()
        assert _logged(gateway, "gateway.stop_now")
        assert _logged(gateway, "gateway.stopped")  # the store was closed cleanly
    with closing(sqlite3.connect(database)) as db:
        assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)


@asynccontextmanager
async def silent_charging_api() -> AsyncIterator[tuple[str, list[bytes]]]:
    """An HTTP listener that reads requests and never answers any."""
    requests: list[bytes] = []
    hold = asyncio.Event()

    async def take(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        requests.append(await reader.read(65536))
        await hold.wait()
        writer.close()

    server = await asyncio.start_server(take, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}", requests
    finally:
        hold.set()
        server.close()
        await server.wait_closed()


async def test_sigterm_while_the_operator_never_answers_exits_in_time(tmp_path: Path) -> None:
    server = smsc()
    await server.start()
    try:
        async with silent_charging_api() as (charging_url, requests):
            config = serve_config(tmp_path, server.port, charging_url)
            async with running(write_config(tmp_path, config)) as gateway:
                await until(lambda: server.is_bound(OPERATOR), "the link did not bind")
                await text_over_http(gateway, PHONE, f"{ZONE}*A123BC77*1")
                await until(lambda: requests, "the charge was not requested")
                code, seconds = await timed_stop(gateway, signal.SIGTERM)
            assert code == 0, gateway.tail()
            assert seconds < DRAIN_SECONDS + EXIT_MARGIN_SECONDS, gateway.tail()
            # the charge is still owed an answer: the next start asks the operator again
            restart = write_config(tmp_path, config)
            async with running(restart, RETRIES_DUE_AHEAD_SECONDS) as again:
                await until(lambda: len(requests) >= 2, "the charge was not asked again")
                code, _ = await timed_stop(again, signal.SIGTERM)
                assert code == 0, again.tail()
    finally:
        await server.close()


async def test_sigterm_with_a_full_outbox_exits_in_time_and_the_rest_goes_out_later(
    tmp_path: Path,
) -> None:
    phones = [f"7916{n:07d}" for n in range(1, 31)]
    # the SMSC takes the submits and answers none of them
    server = smsc(Faults(no_response_count=1_000_000))
    await server.start()
    database = tmp_path / "gw.sqlite3"
    try:
        config = serve_config(tmp_path, server.port, f"http://127.0.0.1:{unused_port()}")
        async with running(write_config(tmp_path, config)) as gateway:
            await until(lambda: server.is_bound(OPERATOR), "the link did not bind")
            await asyncio.gather(*(text_over_http(gateway, phone, "I") for phone in phones))
            await until(
                lambda: sum(outbox_states(database).values()) == len(phones), "replies missing"
            )
            code, seconds = await timed_stop(gateway, signal.SIGTERM)
        assert code == 0, gateway.tail()
        assert seconds < DRAIN_SECONDS + EXIT_MARGIN_SECONDS, gateway.tail()
        assert outbox_states(database) == {"pending": len(phones)}
        server.faults = Faults()
        restarted = serve_config(
            tmp_path, server.port, config.charging_urls[OPERATOR], mo_over_http=False
        )
        restart = write_config(tmp_path, restarted)
        async with running(restart, RETRIES_DUE_AHEAD_SECONDS) as again:
            for phone in phones:
                await server.wait_for_texts(phone, 1, timeout=WAIT_SECONDS)
            assert await again.stop() == 0
    finally:
        await server.close()
    assert outbox_states(database) == {"sent": len(phones)}
