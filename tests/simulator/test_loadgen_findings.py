"""What `smsgw bench` found in the gateway, kept fixed.

The SMPP intake used to remember each MO's content in memory for the redelivery window,
and forgetting scanned every remembered key on every MO once there were 10 000 of them:
a link past 10 000 MOs in ten minutes fell from ~1 600 to 100–180 MO/s
(bench/README.md). The intake now remembers MOs in the database (an indexed lookup per
MO, one indexed DELETE a minute to forget), so it holds nothing per message in memory.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from smsgw.service.ports import StoredInbound
from smsgw.service.store_port import Store
from smsgw.smpp.pdu import DeliverSm
from smsgw.smpp.text import encode_text
from smsgw.storage import open_store
from smsgw.transport.smpp_mo import AdmitUnit, SmppInbound

T0 = datetime(2026, 3, 10, 6, 0, tzinfo=UTC)
UCS2 = 8


class Storing:
    def __init__(self, store: Store) -> None:
        self.store = store
        self.count = 0

    async def admit_mo(self, unit: AdmitUnit) -> StoredInbound | None:
        stored = await self.store.transact(unit)
        self.count += stored is not None
        return stored

    async def admit_incomplete_mo(self, unit: AdmitUnit) -> StoredInbound | None:
        return await self.store.transact(unit)


async def _receipt(*_: object) -> bool:
    return True


class _Now:
    def __init__(self, read: Callable[[], datetime]) -> None:
        self.read = read

    def now(self) -> datetime:
        return self.read()


def footprint(inbound: SmppInbound) -> int:
    return sum(sys.getsizeof(value) for value in vars(inbound).values())


async def test_the_intake_keeps_nothing_per_message_in_memory(tmp_path: Path) -> None:
    store = await open_store(f"sqlite:///{tmp_path / 'gateway.sqlite3'}")
    now = T0
    side = Storing(store)
    inbound = SmppInbound(
        link_id="mts-1",
        operator_id="mts",
        store=store,
        admission=side,
        accept_receipt=_receipt,
        short_numbers=("7757",),
        clock=_Now(lambda: now),
    )
    try:
        sizes = []
        for n in range(600):
            pdu = DeliverSm(
                source_addr=f"7900{n:07d}",
                destination_addr="7757",
                data_coding=UCS2,
                short_message=encode_text("I", UCS2),
            )
            await inbound.on_deliver(pdu)
            now += timedelta(seconds=1)
            if n in (99, 599):
                sizes.append(footprint(inbound))
        assert side.count == 600
        assert sizes[0] == sizes[1]
    finally:
        await store.close()
