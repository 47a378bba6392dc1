"""Our SmscServer on an OS-chosen port, and EsmeLink settings fit for fast tests."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field

import pytest

from simulator.smsc_server import SmscConnection, SmscServer
from smsgw.smpp.constants import CommandStatus
from smsgw.smpp.pdu import DataSm, DeliverSm, SubmitSm, SubmitSmResp
from smsgw.smpp.session import SessionConfig
from smsgw.transport.smpp_client import (
    DeliverHandler,
    EsmeLink,
    EsmeLinkConfig,
    LinkState,
    LinkTimer,
    ReceiptHandler,
)

ACCOUNTS = {"esme": "secret"}
GUARD = 5.0  # seconds: only a guard against hanging, never a synchronisation delay


@dataclass
class Recorder:
    """Collects what the server and the link saw, and lets tests await it."""

    submits: list[tuple[float, SubmitSm]] = field(default_factory=list)
    delivered: list[DeliverSm | DataSm] = field(default_factory=list)
    states: list[LinkState] = field(default_factory=list)
    bound: list[SmscConnection] = field(default_factory=list)
    unbound: list[SmscConnection] = field(default_factory=list)
    changed: asyncio.Event = field(default_factory=asyncio.Event)

    def note(self) -> None:
        self.changed.set()

    async def until(self, condition: Callable[[], bool]) -> None:
        async with asyncio.timeout(GUARD):
            while not condition():
                self.changed.clear()
                await self.changed.wait()


SubmitAnswer = Callable[[SmscConnection, SubmitSm], Awaitable[SubmitSmResp | int]]


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()


@pytest.fixture
def submit_answer() -> list[SubmitAnswer]:
    """Tests put a coroutine function here to answer submit_sm their way."""
    return []


@pytest.fixture
async def server(
    recorder: Recorder, submit_answer: list[SubmitAnswer]
) -> AsyncIterator[SmscServer]:
    async def on_submit(connection: SmscConnection, pdu: SubmitSm) -> SubmitSmResp | int:
        recorder.submits.append((asyncio.get_running_loop().time(), pdu))
        recorder.note()
        if submit_answer:
            return await submit_answer[0](connection, pdu)
        return connection.server.accept_submit(connection, pdu)

    async def on_bind(connection: SmscConnection) -> None:
        recorder.bound.append(connection)
        recorder.note()

    async def on_unbind(connection: SmscConnection) -> None:
        recorder.unbound.append(connection)
        recorder.note()

    smsc = SmscServer(
        authenticate=ACCOUNTS, on_submit=on_submit, on_bind=on_bind, on_unbind=on_unbind
    )
    await smsc.start("127.0.0.1", 0)
    yield smsc
    async with asyncio.timeout(GUARD):
        await smsc.close()


@pytest.fixture
def link_config(server: SmscServer) -> EsmeLinkConfig:
    return EsmeLinkConfig(
        host="127.0.0.1",
        port=server.port,
        system_id="esme",
        password="secret",
        session=SessionConfig(response_timeout=GUARD, enquire_link_interval=None),
        connect_timeout=GUARD,
        segments_per_second=10_000.0,
        segment_burst=100,
        reconnect_initial_delay=0.01,
        reconnect_max_delay=0.05,
        throttle_initial_pause=0.05,
        throttle_max_pause=0.2,
    )


async def accept_all(pdu: DeliverSm | DataSm) -> int:
    return CommandStatus.ESME_ROK


MakeLink = Callable[..., Awaitable[EsmeLink]]


@pytest.fixture
async def make_link(recorder: Recorder) -> AsyncIterator[MakeLink]:
    """Start EsmeLinks (jitter pinned to the middle) that are closed after the test."""
    links: list[EsmeLink] = []

    def on_state(state: LinkState) -> None:
        recorder.states.append(state)
        recorder.note()

    async def make(
        config: EsmeLinkConfig,
        on_deliver: DeliverHandler = accept_all,
        on_receipt: ReceiptHandler | None = None,
        timer: LinkTimer | None = None,
    ) -> EsmeLink:
        link = EsmeLink(
            config,
            on_deliver=on_deliver,
            on_receipt=on_receipt,
            on_state=on_state,
            random=lambda: 0.5,
            timer=timer,
        )
        links.append(link)
        await link.start()
        return link

    yield make
    async with asyncio.timeout(GUARD):
        for link in links:
            await link.close()
