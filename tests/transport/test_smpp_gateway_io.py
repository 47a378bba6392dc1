"""The gateway's SMPP edges over real TCP: MO in (stored before the answer), MT out in
segments, receipts matched — against the bundled simulator's SMSC."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import pytest

from simulator.config import SmscAccount, SmscSettings
from simulator.smsc import SimulatedSmsc
from smsgw.service.messages import InboundSms, OutboundSms
from smsgw.service.ports import OutboxState
from smsgw.smpp.constants import CommandStatus
from smsgw.transport.smpp_client import EsmeLink, EsmeLinkConfig
from smsgw.transport.smpp_mo import SmppInbound, dedup_key_for
from smsgw.transport.smpp_sender import SmppSender

GUARD = 5.0
NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


@dataclass
class Clock:
    current: datetime = NOW

    def now(self) -> datetime:
        return self.current

    def advance(self, delta: timedelta) -> None:
        self.current += delta


@dataclass
class GatewaySide:
    stored: list[InboundSms] = field(default_factory=list)
    receipts: list[tuple[str, str, OutboxState]] = field(default_factory=list)
    fail_storage: bool = False

    async def accept_mo(self, sms: InboundSms) -> bool:
        if self.fail_storage:
            raise OSError("database is locked")
        self.stored.append(sms)
        return True

    async def accept_receipt(self, operator: str, message_id: str, state: OutboxState) -> bool:
        self.receipts.append((operator, message_id, state))
        return True


@dataclass
class Rig:
    smsc: SimulatedSmsc
    link: EsmeLink
    side: GatewaySide
    sender: SmppSender
    clock: Clock
    inbound: SmppInbound


@pytest.fixture
async def rig() -> AsyncIterator[Rig]:
    clock = Clock()
    settings = SmscSettings("127.0.0.1", 0, (SmscAccount("gw", "pw", "mts"),))
    smsc = SimulatedSmsc(settings)
    await smsc.start()
    side = GatewaySide()
    inbound = SmppInbound(
        link_id="mts-1",
        operator_id="mts",
        accept_mo=side.accept_mo,
        accept_receipt=side.accept_receipt,
        clock=clock.now,
    )
    link = EsmeLink(
        EsmeLinkConfig(host="127.0.0.1", port=smsc.port, system_id="gw", password="pw"),
        on_deliver=inbound.on_deliver,
        on_receipt=inbound.on_receipt,
    )
    inbound.connection_generation = lambda: link.stats.connects
    await link.start()
    async with asyncio.timeout(GUARD):
        await link.wait_bound()
    try:
        yield Rig(smsc, link, side, SmppSender(link), clock, inbound)
    finally:
        await link.close()
        await smsc.close()


async def test_mo_is_stored_before_the_smsc_gets_rok(rig: Rig) -> None:
    status = await rig.smsc.send_mo("mts", "79031234567", "7757", "1001*а123вс77*2")
    assert status == CommandStatus.ESME_ROK
    (sms,) = rig.side.stored
    assert (sms.link_id, sms.operator_id, sms.sender, sms.receiver) == (
        "mts-1",
        "mts",
        "79031234567",
        "7757",
    )
    assert sms.text == "1001*а123вс77*2"


async def test_mo_not_stored_gets_a_temporary_error(rig: Rig) -> None:
    rig.side.fail_storage = True
    status = await rig.smsc.send_mo("mts", "79031234567", "7757", "I")
    assert status == CommandStatus.ESME_RX_T_APPN
    assert rig.side.stored == []


async def test_the_same_text_again_on_a_live_link_is_a_new_message(rig: Rig) -> None:
    # answered at once with ESME_ROK on a link that stayed up: the SMSC will not
    # redeliver it, so a repeat a minute later is the driver texting again
    await rig.smsc.send_mo("mts", "79031234567", "7757", "I")
    rig.clock.advance(timedelta(minutes=1))
    await rig.smsc.send_mo("mts", "79031234567", "7757", "I")
    first, again = rig.side.stored
    assert first.dedup_key != again.dedup_key


async def test_the_same_deliver_sm_twice_within_seconds_is_one_message(rig: Rig) -> None:
    await rig.smsc.send_mo("mts", "79031234567", "7757", "I")
    rig.clock.advance(timedelta(seconds=2))
    await rig.smsc.send_mo("mts", "79031234567", "7757", "I")
    first, again = rig.side.stored
    assert first.dedup_key == again.dedup_key


async def test_a_refused_mo_sent_again_keeps_its_dedup_key(rig: Rig) -> None:
    rig.side.fail_storage = True
    assert await rig.smsc.send_mo("mts", "79031234567", "7757", "S") != CommandStatus.ESME_ROK
    rig.side.fail_storage = False
    await rig.smsc.send_mo("mts", "79031234567", "7757", "S")  # the SMSC's redelivery
    await rig.smsc.send_mo("mts", "79039999999", "7757", "S")
    redelivered, other = rig.side.stored
    assert redelivered.dedup_key == dedup_key_for(
        "mts-1", "79031234567", "7757", "S", NOW.timestamp()
    )
    assert other.dedup_key != redelivered.dedup_key


async def test_a_repeat_after_a_reconnect_keeps_its_dedup_key(rig: Rig) -> None:
    await rig.smsc.send_mo("mts", "79031234567", "7757", "S")
    rig.clock.advance(timedelta(minutes=2))  # well past a duplicate: only the drop counts
    connects = rig.link.stats.connects
    rig.smsc.drop_links()
    await rig.smsc.wait_until(
        lambda: rig.link.stats.connects > connects and rig.smsc.is_bound("mts"), GUARD
    )
    await rig.smsc.send_mo("mts", "79031234567", "7757", "S")  # redelivered after the drop
    first, again = rig.side.stored
    assert first.dedup_key == again.dedup_key


def test_dedup_key_window_and_content() -> None:
    base = dedup_key_for("l", "7903", "7757", "I", 1000.0)
    assert base == dedup_key_for("l", "7903", "7757", "I", 1001.0)
    assert base != dedup_key_for("l", "7903", "7757", "S", 1000.0)
    assert base != dedup_key_for("l2", "7903", "7757", "I", 1000.0)


async def test_long_cyrillic_reply_arrives_whole_in_segments(rig: Rig) -> None:
    text = "Парковка в зоне 1001 для A123BC77 оплачена до 12:00. " * 4
    message_id = await rig.sender.send(OutboundSms("o1", "mts", "7757", "79031234567", text, NOW))
    assert message_id
    assert rig.smsc.segments_received == 4  # 212 UCS-2 chars → 67-char parts
    (received,) = rig.smsc.inbox["79031234567"]
    assert received.text == text


async def test_short_gsm_reply_is_one_segment(rig: Rig) -> None:
    await rig.sender.send(OutboundSms("o2", "mts", "7757", "79031234567", "Paid till 12:00", NOW))
    assert rig.smsc.segments_received == 1
    assert rig.smsc.inbox["79031234567"][0].text == "Paid till 12:00"


async def test_delivery_receipt_reaches_the_outbox(rig: Rig) -> None:
    message_id = await rig.sender.send(OutboundSms("o3", "mts", "7757", "79031234567", "ok", NOW))
    (received,) = rig.smsc.inbox["79031234567"]
    assert await rig.smsc.send_receipt(received) == CommandStatus.ESME_ROK
    assert rig.side.receipts == [("mts", message_id, OutboxState.DELIVERED)]


async def test_failed_receipt_marks_failed(rig: Rig) -> None:
    await rig.sender.send(OutboundSms("o4", "mts", "7757", "79031234567", "ok", NOW))
    (received,) = rig.smsc.inbox["79031234567"]
    await rig.smsc.send_receipt(received, stat="UNDELIV", state=5)
    assert rig.side.receipts[0][2] is OutboxState.FAILED


async def test_a_draining_node_refuses_mo_for_now(rig: Rig) -> None:
    rig.inbound.draining = True
    status = await rig.smsc.send_mo("mts", "79031234567", "7757", "I")
    assert status == CommandStatus.ESME_RX_T_APPN  # the SMSC keeps it and retries
    assert rig.side.stored == []
