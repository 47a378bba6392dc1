"""Receipts that overtake their submit_sm_resp, over real TCP into a real SQLite outbox.

The outbox sends through an SMPP link to the simulator's SMSC; receipts come back, to
the service wired as in production (`build_service`, the link's intake connected to
`service.gateway`), on the same link (transceiver) or on the receiver bind while the
resps come on the transmitter bind. Real SMSCs send the receipt right behind the resp,
or even before it; a long reply gets one receipt per part. Whatever the order, every
reply must end delivered.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest

from simulator.config import SmscAccount, SmscSettings
from simulator.faults import Faults
from simulator.smsc import SimulatedSmsc
from smsgw.charging.callbacks import parse_callback
from smsgw.service.messages import OutboundSms
from smsgw.service.outbox import OutboxSender
from smsgw.service.ports import OutboxState
from smsgw.service.runtime import build_service
from smsgw.service.settings import Deployment
from smsgw.service.store_port import Store, Tx
from smsgw.smpp.reassembly import DEFAULT_TIMEOUT
from smsgw.storage.sqlite import open_sqlite_store
from smsgw.transport.smpp_client import BindMode, EsmeLinkConfig
from smsgw.transport.smpp_link import IntakePort, IntakeSettings, OperatorLink

GUARD = 10.0
NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
LONG = "Парковка в зоне 1001 оплачена до 18:00, номер А123ВС77. " * 2  # two UCS-2 parts


class FixedClock:
    def now(self) -> datetime:
        return NOW


@dataclass
class Rig:
    smsc: SimulatedSmsc
    store: Store
    outbox: OutboxSender

    async def send_replies(self, texts: list[str]) -> list[str]:
        ids = [f"r{n}" for n in range(len(texts))]

        async def queue(tx: Tx) -> None:
            for outbox_id, text in zip(ids, texts, strict=True):
                await tx.enqueue_outbound(
                    OutboundSms(outbox_id, "mts", "7757", "79030000001", text, NOW)
                )

        await self.store.transact(queue)
        await self.outbox.drain()
        return ids

    async def states_once_receipts_answered(self, ids: list[str], receipts: int) -> list[str]:
        smsc = self.smsc
        await smsc.wait_until(lambda: len(smsc.receipts_sent) >= receipts, GUARD)
        assert all(sent.status == 0 for sent in smsc.receipts_sent)

        async def read(tx: Tx) -> list[str]:
            rows = [await tx.get_outbound(outbox_id) for outbox_id in ids]
            return [row.state.value if row is not None else "missing" for row in rows]

        return await self.store.transact(read)


@asynccontextmanager
async def rig(tmp_path: Path, mode: BindMode, faults: Faults) -> AsyncIterator[Rig]:
    smsc = SimulatedSmsc(
        SmscSettings("127.0.0.1", 0, (SmscAccount("gw", "pw", "mts"),)), faults=faults
    )
    await smsc.start()
    store = await open_sqlite_store(tmp_path / "outbox.sqlite3")
    config = EsmeLinkConfig(
        host="127.0.0.1", port=smsc.port, system_id="gw", password="pw", bind_mode=mode
    )
    # the link needs the outbox for its receipts, the outbox the link's sender
    port = IntakePort()
    operator_link = OperatorLink(
        "mts-1",
        "mts",
        config,
        IntakeSettings(short_numbers=("7757",), parts_timeout=DEFAULT_TIMEOUT),
        store=store,
        service=port,
        clock=FixedClock(),
    )
    service = build_service(
        store,
        Deployment(zones={}, operators={}),
        FixedClock(),
        charging={},
        senders={"mts": operator_link.sender},
        verify_callback=parse_callback,
    )
    port.connect(service.messages)
    link = operator_link.esme
    await link.start()
    try:
        async with asyncio.timeout(GUARD):
            await link.wait_bound()
        yield Rig(smsc, store, service.outbox)
    finally:
        await link.close()
        await smsc.close()
        await store.close()


MODES = [BindMode.TRANSCEIVER, BindMode.TRANSMITTER_RECEIVER]


@pytest.mark.parametrize("mode", MODES, ids=lambda mode: mode.value)
async def test_single_part_replies_are_all_matched(tmp_path: Path, mode: BindMode) -> None:
    async with rig(tmp_path, mode, Faults(receipts=True)) as r:
        ids = await r.send_replies([f"Ответ {n}" for n in range(5)])
        states = await r.states_once_receipts_answered(ids, 5)
    assert states == [OutboxState.DELIVERED.value] * 5


@pytest.mark.parametrize("mode", MODES, ids=lambda mode: mode.value)
async def test_a_receipt_sent_before_its_resp_is_matched(tmp_path: Path, mode: BindMode) -> None:
    async with rig(tmp_path, mode, Faults(receipts=True, receipt_before_resp=True)) as r:
        ids = await r.send_replies(["Оплачено", LONG])
        states = await r.states_once_receipts_answered(ids, 3)
    assert states == [OutboxState.DELIVERED.value] * 2


@pytest.mark.parametrize("mode", MODES, ids=lambda mode: mode.value)
async def test_both_parts_of_a_long_reply_are_matched(tmp_path: Path, mode: BindMode) -> None:
    async with rig(tmp_path, mode, Faults(receipts=True, receipt_delay_ms=50)) as r:
        ids = await r.send_replies([LONG])
        states = await r.states_once_receipts_answered(ids, 2)
        parts = await r.store.transact(lambda tx: tx.outbound_parts(ids[0]))
    assert states == [OutboxState.DELIVERED.value]
    assert [(part.part, part.state) for part in parts] == [
        (1, OutboxState.DELIVERED),
        (2, OutboxState.DELIVERED),
    ]
