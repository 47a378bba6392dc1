"""The gateway's SMPP edges over real TCP: MO in (stored in a real SQLite file before
the answer), MT out in segments, receipts matched — against the bundled simulator's
SMSC. The service behind the intake is reduced to storing (processing is tested with
the whole gateway in tests/simulator/test_faults_gateway.py)."""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from simulator.config import SmscAccount, SmscSettings
from simulator.faults import Faults
from simulator.smsc import SimulatedSmsc
from smsgw.observability import Metrics
from smsgw.service.messages import InboundSms, OutboundSms
from smsgw.service.ports import OutboxState, StoredInbound
from smsgw.service.store_port import Store
from smsgw.smpp.constants import ESM_UDHI, CommandStatus
from smsgw.smpp.pdu import DeliverSm
from smsgw.smpp.reassembly import DEFAULT_TIMEOUT
from smsgw.smpp.segmentation import concat_udh
from smsgw.smpp.session import SessionConfig
from smsgw.smpp.text import encode_text
from smsgw.storage import open_store
from smsgw.transport.smpp_client import EsmeLink, EsmeLinkConfig
from smsgw.transport.smpp_link import IntakePort, IntakeSettings, OperatorLink
from smsgw.transport.smpp_mo import AdmitUnit, SmppInbound
from smsgw.transport.smpp_protocol import LinkError
from smsgw.transport.smpp_sender import SmppSender

GUARD = 5.0
NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
DRIVER = "79031234567"
UCS2 = 8


@dataclass
class Clock:
    current: datetime = NOW

    def now(self) -> datetime:
        return self.current

    def advance(self, delta: timedelta) -> datetime:
        self.current += delta
        return self.current


@dataclass
class GatewaySide:
    """The service as the intake sees it: runs the intake's units on the real store."""

    store: Store
    stored: list[InboundSms] = field(default_factory=list)
    incomplete: list[InboundSms] = field(default_factory=list)
    receipts: list[tuple[str, str, OutboxState]] = field(default_factory=list)
    fail_storage: bool = False
    # while set, a stored MO is not answered until it is cleared
    hold: asyncio.Event | None = None
    work_delay: float = 0.0

    async def admit_mo(self, unit: AdmitUnit) -> StoredInbound | None:
        if self.fail_storage:
            raise OSError("database is locked")
        stored = await self.store.transact(unit)
        if stored is not None:
            self.stored.append(stored.sms)
        if self.work_delay:
            await asyncio.sleep(self.work_delay)
        if self.hold is not None:
            await self.hold.wait()
        return stored

    async def admit_incomplete_mo(self, unit: AdmitUnit) -> StoredInbound | None:
        stored = await self.store.transact(unit)
        if stored is not None:
            self.incomplete.append(stored.sms)
        return stored

    async def accept_receipt(self, operator: str, message_id: str, state: OutboxState) -> bool:
        self.receipts.append((operator, message_id, state))
        return True


@dataclass
class Rig:
    smsc: SimulatedSmsc
    side: GatewaySide
    clock: Clock
    metrics: Metrics
    db: Path
    link: EsmeLink = field(init=False)
    inbound: SmppInbound = field(init=False)
    sender: SmppSender = field(init=False)

    async def connect(self, mo_in_flight: int = 64) -> None:
        """A gateway's link and MO intake (again: a restart on the same database)."""
        port = IntakePort()
        port.connect(self.side)
        operator_link = OperatorLink(
            "mts-1",
            "mts",
            EsmeLinkConfig(
                host="127.0.0.1",
                port=self.smsc.port,
                system_id="gw",
                password="pw",
                mo_in_flight=mo_in_flight,
                reconnect_initial_delay=0.05,
            ),
            IntakeSettings(short_numbers=("7757",), parts_timeout=DEFAULT_TIMEOUT),
            store=self.side.store,
            service=port,
            clock=self.clock,
            metrics=self.metrics,
        )
        self.link = operator_link.esme
        self.inbound = operator_link.intake
        self.sender = operator_link.sender
        await self.link.start()
        async with asyncio.timeout(GUARD):
            await self.link.wait_bound()
            await self.smsc.wait_until(lambda: self.smsc.is_bound("mts"))

    async def kill(self) -> None:
        """The gateway's end without a goodbye: the TCP connection just goes."""
        self.smsc.drop_links("mts")
        await self.link.close()

    async def rebind(self) -> None:
        connects = self.link.stats.connects
        self.smsc.drop_links("mts")
        await self.smsc.wait_until(
            lambda: self.link.stats.connects > connects and self.smsc.is_bound("mts"), GUARD
        )

    def refused(self, reason: str) -> float:
        value = self.metrics.registry.get_sample_value(
            "smpp_mo_refused_total", {"link": "mts-1", "reason": reason}
        )
        return value or 0.0

    def rows(self, sql: str) -> list[tuple[object, ...]]:
        with contextlib.closing(sqlite3.connect(f"file:{self.db}?mode=ro", uri=True)) as db:
            return db.execute(sql).fetchall()

    async def deliver(self, pdu: DeliverSm) -> int:
        """Send one hand-made deliver_sm on the bound link; its answer's status."""
        (connection,) = [c for c in self.smsc.server.bound if self.smsc.operator_of(c) == "mts"]
        response = await connection.deliver(pdu)
        return response.command_status


async def rig_on(tmp_path: Path, session: SessionConfig | None = None) -> AsyncIterator[Rig]:
    settings = SmscSettings("127.0.0.1", 0, (SmscAccount("gw", "pw", "mts"),))
    smsc = SimulatedSmsc(settings, session=session)
    await smsc.start()
    db = tmp_path / "gateway.sqlite3"
    store = await open_store(f"sqlite:///{db}")
    rig = Rig(smsc, GatewaySide(store), Clock(), Metrics(), db)
    await rig.connect()
    try:
        yield rig
    finally:
        await rig.link.close()
        await smsc.close()
        await store.close()


@pytest.fixture
async def rig(tmp_path: Path) -> AsyncIterator[Rig]:
    async for ready in rig_on(tmp_path):
        yield ready


def part_pdu(seqnum: int, total: int, text: str, reference: int = 7) -> DeliverSm:
    return DeliverSm(
        source_addr_ton=1,
        source_addr=DRIVER,
        destination_addr="7757",
        esm_class=ESM_UDHI,
        data_coding=UCS2,
        short_message=concat_udh(reference, total, seqnum, ref16=False) + encode_text(text, UCS2),
    )


async def test_mo_is_stored_before_the_smsc_gets_rok(rig: Rig) -> None:
    status = await rig.smsc.send_mo("mts", DRIVER, "7757", "1001*а123вс77*2")
    assert status == CommandStatus.ESME_ROK
    (sms,) = rig.side.stored
    assert (sms.link_id, sms.operator_id, sms.sender, sms.receiver) == (
        "mts-1",
        "mts",
        DRIVER,
        "7757",
    )
    assert sms.text == "1001*а123вс77*2"
    assert rig.rows("SELECT sender, text FROM inbound") == [(DRIVER, "1001*а123вс77*2")]


async def test_mo_not_stored_gets_a_temporary_error(rig: Rig) -> None:
    rig.side.fail_storage = True
    status = await rig.smsc.send_mo("mts", DRIVER, "7757", "I")
    assert status == CommandStatus.ESME_RX_T_APPN
    assert rig.side.stored == []


async def test_the_same_text_again_on_a_live_link_is_a_new_message(rig: Rig) -> None:
    # answered at once with ESME_ROK on a link that stayed up: the SMSC will not
    # redeliver it, so a repeat a minute later is the driver texting again
    await rig.smsc.send_mo("mts", DRIVER, "7757", "I")
    rig.clock.advance(timedelta(minutes=1))
    await rig.smsc.send_mo("mts", DRIVER, "7757", "I")
    first, again = rig.side.stored
    assert first.dedup_key != again.dedup_key


async def test_the_same_text_twice_on_one_bind_seconds_apart_is_two_messages(rig: Rig) -> None:
    # This used to be "the same deliver_sm twice within seconds is one message". An SMSC
    # sends a message again only when its answer was lost, i.e. on a new bind; on the
    # same bind a repeat is a driver sending `I` again because the reply is slow.
    await rig.smsc.send_mo("mts", DRIVER, "7757", "I")
    rig.clock.advance(timedelta(seconds=3))
    await rig.smsc.send_mo("mts", DRIVER, "7757", "I")
    assert [sms.text for sms in rig.side.stored] == ["I", "I"]
    assert rig.refused("redelivery_dropped") == 0


async def test_an_mo_refused_for_now_and_sent_again_is_stored_once(rig: Rig) -> None:
    rig.side.fail_storage = True
    assert await rig.smsc.send_mo("mts", DRIVER, "7757", "S") != CommandStatus.ESME_ROK
    rig.side.fail_storage = False
    await rig.smsc.send_mo("mts", DRIVER, "7757", "S")  # the SMSC's retry
    await rig.smsc.send_mo("mts", "79039999999", "7757", "S")
    retried, other = rig.side.stored
    assert (retried.sender, other.sender) == (DRIVER, "79039999999")


async def test_a_repeat_after_a_reconnect_long_after_its_answer_is_a_new_text(rig: Rig) -> None:
    # This used to keep the first dedup key (one message). The answer was written two
    # minutes before the link dropped: the SMSC had it, so it has nothing to redeliver.
    await rig.smsc.send_mo("mts", DRIVER, "7757", "S")
    await rig.inbound.tick(rig.clock.advance(timedelta(minutes=2)))  # the bind alive
    await rig.rebind()
    await rig.inbound.tick(rig.clock.advance(timedelta(seconds=1)))
    await rig.smsc.send_mo("mts", DRIVER, "7757", "S")
    assert [sms.text for sms in rig.side.stored] == ["S", "S"]


async def test_a_stored_mo_whose_answer_was_lost_is_handled_once(rig: Rig) -> None:
    # stored, deliver_sm_resp never written: the link drops first; the SMSC, which got
    # no answer, sends the message again on its next bind
    rig.side.hold = asyncio.Event()
    first = asyncio.ensure_future(rig.smsc.send_mo("mts", DRIVER, "7757", "1001*A123BC77*2"))
    await eventually(lambda: len(rig.side.stored) == 1)
    await rig.rebind()
    rig.side.hold.set()
    with contextlib.suppress(LinkError):
        await first
    rig.side.hold = None
    await rig.inbound.tick(rig.clock.advance(timedelta(seconds=1)))
    status = await rig.smsc.send_mo("mts", DRIVER, "7757", "1001*A123BC77*2", wait=GUARD)
    assert status == CommandStatus.ESME_ROK
    assert len(rig.side.stored) == 1
    assert rig.refused("redelivery_dropped") == 1
    # ... and only that one: the driver sending it again later is a new text
    rig.clock.advance(timedelta(seconds=30))
    await rig.smsc.send_mo("mts", DRIVER, "7757", "1001*A123BC77*2")
    assert len(rig.side.stored) == 2


async def test_an_answer_written_just_before_the_bind_went_down_may_be_lost(rig: Rig) -> None:
    await rig.smsc.send_mo("mts", DRIVER, "7757", "I")
    await rig.rebind()  # within the same second: the ESME_ROK may not have arrived
    await rig.inbound.tick(rig.clock.advance(timedelta(seconds=1)))
    await rig.smsc.send_mo("mts", DRIVER, "7757", "I")
    assert len(rig.side.stored) == 1
    assert rig.refused("redelivery_dropped") == 1


async def test_the_same_text_after_a_restart_is_answered(rig: Rig) -> None:
    # 100 phones text `I`, the gateway is killed 12 s later and comes back; they text
    # `I` again: every one is new (their answers reached the SMSC long before)
    phones = [f"7916{n:07d}" for n in range(100)]
    for phone in phones:
        await rig.smsc.send_mo("mts", phone, "7757", "I")
    await rig.inbound.tick(rig.clock.advance(timedelta(seconds=12)))  # alive till here
    await rig.kill()
    rig.clock.advance(timedelta(seconds=3))
    await rig.connect()  # a new process: a new link object, the same database
    for phone in phones:
        assert await rig.smsc.send_mo("mts", phone, "7757", "I") == CommandStatus.ESME_ROK
    assert len(rig.side.stored) == 200
    assert rig.refused("redelivery_dropped") == 0


async def test_an_mo_unanswered_when_the_gateway_died_is_handled_once_after(rig: Rig) -> None:
    rig.side.hold = asyncio.Event()
    first = asyncio.ensure_future(rig.smsc.send_mo("mts", DRIVER, "7757", "X*1"))
    await eventually(lambda: len(rig.side.stored) == 1)
    rig.smsc.drop_links("mts")  # the gateway dies between storing and answering
    with contextlib.suppress(LinkError):
        await first
    rig.side.hold.set()
    rig.side.hold = None
    await rig.kill()
    rig.clock.advance(timedelta(seconds=20))
    await rig.connect()
    await rig.smsc.send_mo("mts", DRIVER, "7757", "X*1")
    assert len(rig.side.stored) == 1
    assert rig.refused("redelivery_dropped") == 1


@pytest.mark.parametrize(
    ("faults", "status", "reason"),
    [
        (Faults(mo_bad_sender="EVIL'--"), CommandStatus.ESME_RINVSRCADR, "bad_sender"),
        (Faults(mo_bad_sender=""), CommandStatus.ESME_RINVSRCADR, "bad_sender"),
        (Faults(mo_bad_sender="7701"), CommandStatus.ESME_RINVSRCADR, "bad_sender"),
        (Faults(mo_bad_sender="7903123456789012"), CommandStatus.ESME_RINVSRCADR, "bad_sender"),
        (Faults(mo_bad_receiver="7701"), CommandStatus.ESME_RINVDSTADR, "bad_receiver"),
        (Faults(mo_bad_receiver="1234"), CommandStatus.ESME_RINVDSTADR, "bad_receiver"),
        (Faults(mo_bad_receiver=""), CommandStatus.ESME_RINVDSTADR, "bad_receiver"),
    ],
    ids=["quote", "empty", "short", "too_long", "other_number", "1234", "no_receiver"],
)
async def test_mo_with_bad_addresses_is_refused_and_not_stored(
    rig: Rig, faults: Faults, status: int, reason: str
) -> None:
    rig.smsc.faults = faults
    assert await rig.smsc.send_mo("mts", DRIVER, "7757", "I") == status
    assert rig.side.stored == []
    assert rig.rows("SELECT count(*) FROM inbound") == [(0,)]
    assert rig.refused(reason) == 1


async def test_alphanumeric_sender_is_refused(rig: Rig) -> None:
    pdu = DeliverSm(
        source_addr_ton=5, source_addr="PARKING", destination_addr="7757", short_message=b"I"
    )
    assert await rig.deliver(pdu) == CommandStatus.ESME_RINVSRCADR
    assert rig.side.stored == []


async def test_each_part_is_stored_before_it_is_answered(rig: Rig) -> None:
    assert await rig.deliver(part_pdu(1, 2, "1001*А123")) == CommandStatus.ESME_ROK
    assert rig.rows("SELECT seqnum, total FROM smpp_mo_parts") == [(1, 2)]
    assert rig.side.stored == []
    assert await rig.deliver(part_pdu(2, 2, "ВС77*2")) == CommandStatus.ESME_ROK
    (sms,) = rig.side.stored
    assert sms.text == "1001*А123ВС77*2"
    assert rig.rows("SELECT count(*) FROM smpp_mo_parts") == [(0,)]


async def test_a_long_mo_survives_a_restart_between_its_parts(rig: Rig) -> None:
    assert await rig.deliver(part_pdu(1, 2, "1001*А123")) == CommandStatus.ESME_ROK
    await rig.kill()
    await rig.connect()
    assert await rig.deliver(part_pdu(2, 2, "ВС77*2")) == CommandStatus.ESME_ROK
    (sms,) = rig.side.stored
    assert sms.text == "1001*А123ВС77*2"


async def test_a_part_redelivered_after_the_message_completed_is_dropped(rig: Rig) -> None:
    await rig.deliver(part_pdu(1, 2, "1001*А123"))
    await rig.deliver(part_pdu(2, 2, "ВС77*2"))
    await rig.rebind()  # the last answer may have been lost with the link
    await rig.deliver(part_pdu(2, 2, "ВС77*2"))
    assert len(rig.side.stored) == 1
    assert rig.rows("SELECT count(*) FROM smpp_mo_parts") == [(0,)]


async def test_parts_out_of_order_and_repeated_make_one_mo(rig: Rig) -> None:
    rig.smsc.faults = Faults(mo_parts=4, mo_parts_order="shuffled", seed=3)
    await rig.smsc.send_mo("mts", DRIVER, "7757", "1001*А123ВС77*2")
    (sms,) = rig.side.stored
    assert sms.text == "1001*А123ВС77*2"


async def test_parts_that_never_complete_expire_and_the_sender_is_told(rig: Rig) -> None:
    await rig.deliver(part_pdu(1, 3, "1001*А123"))
    await rig.deliver(part_pdu(3, 3, "*2"))
    assert await rig.inbound.tick(rig.clock.advance(timedelta(seconds=299))) == 0
    assert await rig.inbound.tick(rig.clock.advance(timedelta(seconds=2))) == 1
    (sms,) = rig.side.incomplete
    assert (sms.sender, sms.text) == (DRIVER, "1001*А123*2")
    assert rig.rows("SELECT count(*) FROM smpp_mo_parts") == [(0,)]
    assert rig.refused("incomplete") == 1
    assert await rig.inbound.tick(rig.clock.advance(timedelta(seconds=400))) == 0


async def test_remembered_mo_are_forgotten_after_a_day(rig: Rig) -> None:
    await rig.smsc.send_mo("mts", DRIVER, "7757", "I")
    await rig.inbound.tick(rig.clock.now())
    assert rig.rows("SELECT count(*) FROM smpp_mo") == [(1,)]
    await rig.inbound.tick(rig.clock.advance(timedelta(hours=25)))
    assert rig.rows("SELECT count(*) FROM smpp_mo") == [(0,)]


async def test_a_flood_of_large_mo_is_held_to_the_bound(tmp_path: Path) -> None:
    # a hostile SMSC writes 300 deliver_sm of 16 KB at once (its window allows it)
    async for rig in rig_on(tmp_path, SessionConfig(window_size=1000)):
        await rig.link.close()
        await rig.connect(mo_in_flight=8)
        rig.side.work_delay = 0.002  # storing takes time: the flood outruns it
        rig.smsc.faults = Faults(mo_flood=300, mo_payload_bytes=16_000)
        status = await asyncio.wait_for(rig.smsc.send_mo("mts", DRIVER, "7757", "I"), 60)
        assert status == CommandStatus.ESME_ROK
        assert rig.smsc.mo_flood_answers == 300  # every one answered
        assert len(rig.side.stored) == 300  # none lost
        assert rig.link.stats.mo_in_flight_peak == 8
        assert rig.link.stats.reading_paused >= 1
        assert rig.rows("SELECT count(*) FROM inbound") == [(300,)]


async def test_long_cyrillic_reply_arrives_whole_in_segments(rig: Rig) -> None:
    text = "Парковка в зоне 1001 для A123BC77 оплачена до 12:00. " * 4
    message_id = await rig.sender.send(OutboundSms("o1", "mts", "7757", DRIVER, text, NOW))
    assert message_id
    assert rig.smsc.segments_received == 4  # 212 UCS-2 chars → 67-char parts
    (received,) = rig.smsc.inbox[DRIVER]
    assert received.text == text


async def test_short_gsm_reply_is_one_segment(rig: Rig) -> None:
    await rig.sender.send(OutboundSms("o2", "mts", "7757", DRIVER, "Paid till 12:00", NOW))
    assert rig.smsc.segments_received == 1
    assert rig.smsc.inbox[DRIVER][0].text == "Paid till 12:00"


async def test_delivery_receipt_reaches_the_outbox(rig: Rig) -> None:
    message_id = await rig.sender.send(OutboundSms("o3", "mts", "7757", DRIVER, "ok", NOW))
    (received,) = rig.smsc.inbox[DRIVER]
    assert await rig.smsc.send_receipt(received) == CommandStatus.ESME_ROK
    assert rig.side.receipts == [("mts", message_id, OutboxState.DELIVERED)]


async def test_failed_receipt_marks_failed(rig: Rig) -> None:
    await rig.sender.send(OutboundSms("o4", "mts", "7757", DRIVER, "ok", NOW))
    (received,) = rig.smsc.inbox[DRIVER]
    await rig.smsc.send_receipt(received, stat="UNDELIV", state=5)
    assert rig.side.receipts[0][2] is OutboxState.FAILED


async def test_a_draining_node_refuses_mo_for_now(rig: Rig) -> None:
    rig.inbound.drain()
    status = await rig.smsc.send_mo("mts", DRIVER, "7757", "I")
    assert status == CommandStatus.ESME_RX_T_APPN  # the SMSC keeps it and retries
    assert rig.side.stored == []


async def eventually(condition: object, timeout: float = GUARD) -> None:
    assert callable(condition)
    async with asyncio.timeout(timeout):
        while not condition():
            await asyncio.sleep(0.01)
