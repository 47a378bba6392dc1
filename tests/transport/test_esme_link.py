"""EsmeLink against our SmscServer over real TCP (port 0)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from dataclasses import replace
from typing import ClassVar

import pytest

from simulator.smsc_server import SmscConnection, SmscServer
from smsgw.smpp.codec import Framer
from smsgw.smpp.constants import ESM_DELIVERY_RECEIPT, CommandId, CommandStatus, Tag
from smsgw.smpp.events import DeliveryReceiptReceived
from smsgw.smpp.pdu import DataSm, DeliverSm, SubmitSm, SubmitSmResp
from smsgw.smpp.session import SessionConfig
from smsgw.transport.smpp_client import BindMode, EsmeLinkConfig, LinkState, check_config
from smsgw.transport.smpp_protocol import (
    LinkClosedError,
    LinkLostError,
    ResponseTimeoutError,
)
from tests.transport.conftest import GUARD, MakeLink, Recorder, SubmitAnswer
from tests.transport.manual_timer import ManualTimer


async def _until(condition: Callable[[], bool]) -> None:
    """Let the loop run (socket reads, answers) until ``condition``; time stays put."""
    async with asyncio.timeout(GUARD):
        while not condition():
            await asyncio.sleep(0)


def _part(index: int) -> SubmitSm:
    return SubmitSm(destination_addr="79001234567", short_message=f"part {index}".encode())


async def test_bind_transceiver_and_submit(
    server: SmscServer, link_config: EsmeLinkConfig, make_link: MakeLink, recorder: Recorder
) -> None:
    link = await make_link(link_config)
    async with asyncio.timeout(GUARD):
        await link.wait_bound()
    assert link.state is LinkState.BOUND
    await recorder.until(lambda: len(recorder.bound) == 1)
    (connection,) = recorder.bound
    assert connection.bind_type == CommandId.BIND_TRANSCEIVER
    assert connection.system_id == "esme"
    async with asyncio.timeout(GUARD):
        response = await link.submit(_part(1))
    assert response.command_status == CommandStatus.ESME_ROK
    assert response.message_id == "1"
    assert recorder.submits[0][1].short_message == b"part 1"


async def test_transmitter_receiver_pair(
    server: SmscServer, link_config: EsmeLinkConfig, make_link: MakeLink, recorder: Recorder
) -> None:
    received: list[DeliverSm | DataSm] = []

    async def on_deliver(pdu: DeliverSm | DataSm) -> int:
        received.append(pdu)
        return CommandStatus.ESME_ROK

    config = replace(link_config, bind_mode=BindMode.TRANSMITTER_RECEIVER)
    link = await make_link(config, on_deliver=on_deliver)
    async with asyncio.timeout(GUARD):
        await link.wait_bound()
    await recorder.until(lambda: len(recorder.bound) == 2)
    by_type = {connection.bind_type: connection for connection in recorder.bound}
    assert set(by_type) == {CommandId.BIND_TRANSMITTER, CommandId.BIND_RECEIVER}
    async with asyncio.timeout(GUARD):
        await link.submit(_part(1))
        answer = await by_type[CommandId.BIND_RECEIVER].deliver(DeliverSm(short_message=b"I"))
    assert answer.command_status == CommandStatus.ESME_ROK
    assert [pdu.short_message for pdu in received] == [b"I"]  # type: ignore[union-attr]


async def test_deliver_is_answered_only_after_the_callback(
    server: SmscServer, link_config: EsmeLinkConfig, make_link: MakeLink, recorder: Recorder
) -> None:
    called = asyncio.Event()
    stored = asyncio.Event()

    async def on_deliver(pdu: DeliverSm | DataSm) -> int:
        called.set()
        await stored.wait()  # stands for the durable write
        return CommandStatus.ESME_ROK

    link = await make_link(link_config, on_deliver=on_deliver)
    await recorder.until(lambda: len(recorder.bound) == 1)
    async with asyncio.timeout(GUARD):
        await link.wait_bound()
        delivery = asyncio.create_task(recorder.bound[0].deliver(DeliverSm(short_message=b"S")))
        await called.wait()
        assert not delivery.done()
        stored.set()
        answer = await delivery
    assert answer.command_status == CommandStatus.ESME_ROK


@pytest.mark.parametrize(
    ("outcome", "expected"),
    [
        (CommandStatus.ESME_RX_T_APPN, CommandStatus.ESME_RX_T_APPN),
        (RuntimeError("database down"), CommandStatus.ESME_RX_T_APPN),
    ],
)
async def test_deliver_failure_is_a_temporary_error(
    server: SmscServer,
    link_config: EsmeLinkConfig,
    make_link: MakeLink,
    recorder: Recorder,
    outcome: int | Exception,
    expected: int,
) -> None:
    async def on_deliver(pdu: DeliverSm | DataSm) -> int:
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    await make_link(link_config, on_deliver=on_deliver)
    await recorder.until(lambda: len(recorder.bound) == 1)
    async with asyncio.timeout(GUARD):
        answer = await recorder.bound[0].deliver(DeliverSm(short_message=b"S"))
    assert answer.command_status == expected


async def test_receipts_go_to_their_own_callback(
    server: SmscServer, link_config: EsmeLinkConfig, make_link: MakeLink, recorder: Recorder
) -> None:
    receipts: list[DeliveryReceiptReceived] = []

    async def on_receipt(event: DeliveryReceiptReceived) -> int:
        receipts.append(event)
        return CommandStatus.ESME_ROK

    await make_link(link_config, on_receipt=on_receipt)
    await recorder.until(lambda: len(recorder.bound) == 1)
    receipt = DeliverSm(
        esm_class=ESM_DELIVERY_RECEIPT,
        short_message=b"id:2A stat:DELIVRD",
        tlvs={Tag.RECEIPTED_MESSAGE_ID: b"2A\0"},
    )
    async with asyncio.timeout(GUARD):
        answer = await recorder.bound[0].deliver(receipt)
    assert answer.command_status == CommandStatus.ESME_ROK
    (event,) = receipts
    assert event.matches("42")


async def test_multipart_message_is_counted_per_segment(
    server: SmscServer, link_config: EsmeLinkConfig, make_link: MakeLink, recorder: Recorder
) -> None:
    rate = 50.0  # one segment every 20 ms once the burst of 3 is spent
    config = replace(link_config, segments_per_second=rate, segment_burst=3)
    timer = ManualTimer()
    link = await make_link(config, timer=timer)
    async with asyncio.timeout(GUARD):
        await link.wait_bound()
        answers = await link.submit_message([_part(1), _part(2), _part(3)])
        fourth = asyncio.create_task(link.submit(_part(4)))
        # The three parts took the whole burst: the fourth waits for the token's moment.
        await _until(lambda: timer.next_deadline() is not None)
        assert timer.next_deadline() == pytest.approx(timer.now + 1 / rate)
        assert len(recorder.submits) == 3
        timer.advance(1 / rate)
        await fourth
    assert [answer.message_id for answer in answers] == ["1", "2", "3"]
    assert [pdu.short_message for _, pdu in recorder.submits] == [
        b"part 1",
        b"part 2",
        b"part 3",
        b"part 4",
    ]
    assert link.stats.segments_submitted == 4


async def test_window_limits_outstanding_submits(
    server: SmscServer,
    link_config: EsmeLinkConfig,
    make_link: MakeLink,
    recorder: Recorder,
    submit_answer: list[SubmitAnswer],
) -> None:
    gate = asyncio.Event()

    async def held(connection: SmscConnection, pdu: SubmitSm) -> SubmitSmResp | int:
        await gate.wait()
        return connection.server.accept_submit(connection, pdu)

    submit_answer.append(held)
    config = replace(link_config, session=replace(link_config.session, window_size=2))
    link = await make_link(config)
    async with asyncio.timeout(GUARD):
        await link.wait_bound()
        submits = [asyncio.create_task(link.submit(_part(i))) for i in range(3)]
        await recorder.until(lambda: len(recorder.submits) == 2)
        assert link.stats.segments_submitted == 2, "the third must wait for a window slot"
        gate.set()
        answers = await asyncio.gather(*submits)
    assert sorted(answer.message_id for answer in answers) == ["1", "2", "3"]


async def test_throttled_submit_pauses_and_is_resent(
    server: SmscServer,
    link_config: EsmeLinkConfig,
    make_link: MakeLink,
    recorder: Recorder,
    submit_answer: list[SubmitAnswer],
) -> None:
    async def throttle_first(connection: SmscConnection, pdu: SubmitSm) -> SubmitSmResp | int:
        if len(recorder.submits) == 1:
            return CommandStatus.ESME_RTHROTTLED
        return connection.server.accept_submit(connection, pdu)

    submit_answer.append(throttle_first)
    timer = ManualTimer()
    link = await make_link(link_config, timer=timer)
    async with asyncio.timeout(GUARD):
        await link.wait_bound()
        submit = asyncio.create_task(link.submit(_part(1)))
        await _until(lambda: link.paused)
        # Back-off of 0.05 s spread by the pinned jitter (random 0.5 → no spread).
        assert timer.next_deadline() == pytest.approx(timer.now + 0.05)
        timer.advance(0.049)
        await _until(lambda: link.stats.throttled == 1)
        assert link.paused and len(recorder.submits) == 1, "resent before the pause ended"
        timer.advance(0.001)
        response = await submit
    assert response.command_status == CommandStatus.ESME_ROK
    assert link.stats.throttled == 1
    (_, first), (_, second) = recorder.submits
    assert first.short_message == second.short_message == b"part 1"


async def test_a_dropped_bind_reconnects_only_when_its_back_off_ends(
    server: SmscServer, link_config: EsmeLinkConfig, make_link: MakeLink, recorder: Recorder
) -> None:
    timer = ManualTimer()
    link = await make_link(link_config, timer=timer)
    await recorder.until(lambda: len(recorder.bound) == 1)
    recorder.bound[0].abort()
    await recorder.until(lambda: LinkState.BACKING_OFF in recorder.states)
    # reconnect_initial_delay 0.01 s, the pinned jitter spreading nothing
    assert timer.next_deadline() == pytest.approx(timer.now + 0.01)
    assert link.state is LinkState.BACKING_OFF and len(recorder.bound) == 1
    timer.advance(0.01)
    await recorder.until(lambda: len(recorder.bound) == 2)
    async with asyncio.timeout(GUARD):
        await link.wait_bound()
    assert link.stats.connects == 2


async def test_reconnects_after_the_server_drops_the_link(
    server: SmscServer, link_config: EsmeLinkConfig, make_link: MakeLink, recorder: Recorder
) -> None:
    link = await make_link(link_config)
    await recorder.until(lambda: len(recorder.bound) == 1)
    recorder.bound[0].abort()
    await recorder.until(lambda: len(recorder.bound) == 2)
    async with asyncio.timeout(GUARD):
        await link.wait_bound()
        response = await link.submit(_part(1))
    assert response.command_status == CommandStatus.ESME_ROK
    assert link.stats.connects == 2
    assert LinkState.BACKING_OFF in recorder.states
    assert recorder.states[-1] is LinkState.BOUND


async def test_refused_bind_backs_off_and_retries(
    link_config: EsmeLinkConfig, make_link: MakeLink, recorder: Recorder
) -> None:
    attempts: list[str] = []

    def authenticate(system_id: str, password: str, bind: CommandId, peer: object) -> int:
        attempts.append(system_id)
        return CommandStatus.ESME_RBINDFAIL if len(attempts) == 1 else CommandStatus.ESME_ROK

    smsc = SmscServer(authenticate=authenticate)
    await smsc.start()
    try:
        link = await make_link(replace(link_config, port=smsc.port))
        async with asyncio.timeout(GUARD):
            await link.wait_bound()
        assert len(attempts) == 2
        assert link.stats.bind_failures == 1
        assert recorder.states[:2] == [LinkState.BACKING_OFF, LinkState.CONNECTING]
    finally:
        await link.close()
        await smsc.close()


async def test_in_flight_submit_fails_when_the_link_drops(
    server: SmscServer,
    link_config: EsmeLinkConfig,
    make_link: MakeLink,
    recorder: Recorder,
    submit_answer: list[SubmitAnswer],
) -> None:
    never = asyncio.get_running_loop().create_future()

    async def no_answer(connection: SmscConnection, pdu: SubmitSm) -> SubmitSmResp | int:
        return await never  # type: ignore[no-any-return]

    submit_answer.append(no_answer)
    link = await make_link(link_config)
    async with asyncio.timeout(GUARD):
        await link.wait_bound()
        submit = asyncio.create_task(link.submit(_part(1)))
        await recorder.until(lambda: len(recorder.submits) == 1)
        recorder.bound[0].abort()
        with pytest.raises(LinkLostError) as raised:
            await submit
    assert raised.value.maybe_delivered
    never.cancel()


async def test_unanswered_submit_times_out(
    server: SmscServer,
    link_config: EsmeLinkConfig,
    make_link: MakeLink,
    recorder: Recorder,
    submit_answer: list[SubmitAnswer],
) -> None:
    never = asyncio.get_running_loop().create_future()

    async def no_answer(connection: SmscConnection, pdu: SubmitSm) -> SubmitSmResp | int:
        return await never  # type: ignore[no-any-return]

    submit_answer.append(no_answer)
    config = replace(link_config, session=SessionConfig(response_timeout=0.05))
    link = await make_link(config)
    async with asyncio.timeout(GUARD):
        await link.wait_bound()
        with pytest.raises(ResponseTimeoutError):
            await link.submit(_part(1))
        assert link.state is LinkState.BOUND
    never.cancel()


class WatchedConnection(SmscConnection):
    """Counts the enquire_links it receives and, when told to, ignores them."""

    enquire_links: ClassVar[list[float]] = []
    ignore_enquire_link: ClassVar[bool] = False
    recorder: ClassVar[Recorder | None] = None

    def data_received(self, data: bytes) -> None:
        for frame in self._frames(data):
            if int.from_bytes(frame[4:8], "big") == CommandId.ENQUIRE_LINK:
                self.enquire_links.append(asyncio.get_running_loop().time())
                if self.recorder is not None:
                    self.recorder.note()
                if self.ignore_enquire_link:
                    continue
            super().data_received(frame)

    def _frames(self, data: bytes) -> list[bytes]:
        framer: Framer = self.__dict__.setdefault("_watch_framer", Framer())
        return framer.feed(data)


@pytest.fixture
async def watched_server(recorder: Recorder) -> AsyncIterator[SmscServer]:
    WatchedConnection.enquire_links = []
    WatchedConnection.ignore_enquire_link = False
    WatchedConnection.recorder = recorder

    async def on_bind(connection: SmscConnection) -> None:
        recorder.bound.append(connection)
        recorder.note()

    smsc = SmscServer(
        authenticate={"esme": "secret"},
        on_bind=on_bind,
        connection_class=WatchedConnection,
        # Without enquire_links from the ESME the server would drop it after 0.2 s.
        session_config=SessionConfig(enquire_link_interval=None, inactivity_timeout=0.2),
    )
    await smsc.start()
    yield smsc
    await smsc.close()


async def test_enquire_link_keeps_an_idle_link_alive(
    watched_server: SmscServer,
    link_config: EsmeLinkConfig,
    make_link: MakeLink,
    recorder: Recorder,
) -> None:
    session = SessionConfig(response_timeout=GUARD, enquire_link_interval=0.05)
    link = await make_link(replace(link_config, port=watched_server.port, session=session))
    await recorder.until(lambda: len(WatchedConnection.enquire_links) >= 5)
    # Five intervals of idleness were bridged by enquire_link, past the server's timeout.
    assert WatchedConnection.enquire_links[-1] - WatchedConnection.enquire_links[0] > 0.2
    assert link.stats.connects == 1
    assert link.state is LinkState.BOUND


async def test_unanswered_enquire_link_drops_and_reconnects(
    watched_server: SmscServer,
    link_config: EsmeLinkConfig,
    make_link: MakeLink,
    recorder: Recorder,
) -> None:
    WatchedConnection.ignore_enquire_link = True
    session = SessionConfig(response_timeout=0.05, enquire_link_interval=0.01)
    link = await make_link(replace(link_config, port=watched_server.port, session=session))
    await recorder.until(lambda: len(recorder.bound) >= 2)
    assert link.stats.connects >= 2
    assert LinkState.BACKING_OFF in recorder.states


async def test_clean_close_unbinds(
    server: SmscServer, link_config: EsmeLinkConfig, make_link: MakeLink, recorder: Recorder
) -> None:
    link = await make_link(link_config)
    async with asyncio.timeout(GUARD):
        await link.wait_bound()
        await link.close()
    assert link.state is LinkState.CLOSED
    await recorder.until(lambda: len(recorder.unbound) == 1)
    await recorder.until(lambda: not server.connections)
    with pytest.raises(LinkClosedError):
        await link.submit(_part(1))


async def test_server_deliveries_respect_the_window(
    link_config: EsmeLinkConfig, make_link: MakeLink, recorder: Recorder
) -> None:
    gate = asyncio.Event()
    first_called = asyncio.Event()

    async def on_deliver(pdu: DeliverSm | DataSm) -> int:
        first_called.set()
        await gate.wait()
        return CommandStatus.ESME_ROK

    async def on_bind(connection: SmscConnection) -> None:
        recorder.bound.append(connection)
        recorder.note()

    smsc = SmscServer(
        authenticate={"esme": "secret"},
        on_bind=on_bind,
        session_config=SessionConfig(window_size=1),
    )
    await smsc.start()
    try:
        link = await make_link(replace(link_config, port=smsc.port), on_deliver=on_deliver)
        await recorder.until(lambda: len(recorder.bound) == 1)
        connection = recorder.bound[0]
        async with asyncio.timeout(GUARD):
            deliveries = [
                asyncio.create_task(connection.deliver(DeliverSm(short_message=bytes([i]))))
                for i in range(2)
            ]
            await first_called.wait()
            assert link.stats.received == 1, "the second deliver_sm waits for the window"
            assert connection.session.window_free == 0
            gate.set()
            answers = await asyncio.gather(*deliveries)
        assert [answer.command_status for answer in answers] == [0, 0]
        assert link.stats.received == 2
    finally:
        await link.close()
        await smsc.close()


@pytest.mark.parametrize(
    ("changes", "named"),
    [
        ({"system_id": "x" * 16}, "system_id"),
        ({"password": "p" * 9}, "password"),
        ({"segments_per_second": 0.0}, "segments_per_second"),
        ({"segment_burst": 0}, "segment_burst"),
        ({"reconnect_jitter": 1.5}, "reconnect_jitter"),
    ],
)
def test_bad_settings_are_refused_up_front(
    link_config: EsmeLinkConfig, changes: dict[str, object], named: str
) -> None:
    with pytest.raises(ValueError, match=named):
        check_config(replace(link_config, **changes))  # type: ignore[arg-type]
