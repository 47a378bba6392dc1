"""The SMPP MO intake across restarts of a real `smsgw serve` process (SQLite file).

- A long MO whose gateway is killed (SIGKILL) between its parts: each part was stored
  before it was acknowledged, so the text is whole and answered after the restart.
- Phones sending the same text they sent before the gateway was killed (or stopped):
  their first answers reached the SMSC long before, so the SMSC has nothing to
  redeliver and each repeat is a new text, answered.

Nothing sleeps: waits are for events (binds, replies, a row the gateway writes).
"""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from simulator.config import SmscAccount, SmscSettings
from simulator.smsc import SimulatedSmsc
from smsgw.smpp.constants import ESM_UDHI, CommandStatus
from smsgw.smpp.pdu import DeliverSm
from smsgw.smpp.segmentation import concat_udh
from smsgw.smpp.text import encode_text
from tests.e2e.proc import (
    SMPP_PASSWORD,
    FastClock,
    GatewayProcess,
    ServeConfig,
    system_id_for,
    write_config,
)
from tests.e2e.rig import SHORT_NUMBER

GUARD = 30.0  # seconds: a guard, not a wait
# The gateway's clock runs this many times faster than the wall clock, across restarts:
# the bind's once-a-second sign of life is then seconds of gateway time after the last
# answer within one wall-clock second (see wait_for_a_heartbeat_after_the_last_answer).
CLOCK_SPEED = 4.0
UCS2 = 8
DRIVER = "79161234567"
ZONE_TABLE = {
    "number": "9001",
    "name": "Round the clock",
    "time_zone": "Europe/Moscow",
    "currency": "RUB",
    "price_per_hour": "60.00",
    "paid": [{"days": "Mon-Sun", "from": "00:00", "to": "24:00"}],
}


@dataclass
class World:
    smsc: SimulatedSmsc
    directory: Path
    config: ServeConfig
    process: GatewayProcess | None = None
    # every run of the gateway in one test reads this one clock (see CLOCK_SPEED)
    clock: FastClock = field(default_factory=lambda: FastClock(time.time(), CLOCK_SPEED))

    async def start(self) -> None:
        config = write_config(self.directory, self.config)
        self.process = await GatewayProcess.start(config, fast_clock=self.clock)
        await self.smsc.wait_until(lambda: self.smsc.is_bound("mts"), GUARD)

    async def kill(self) -> None:
        assert self.process is not None
        self.process.kill()
        await self.process.wait_exit()
        await self.smsc.wait_until(lambda: not self.smsc.is_bound("mts"), GUARD)

    async def stop(self) -> None:
        assert self.process is not None
        assert await self.process.stop() == 0
        await self.smsc.wait_until(lambda: not self.smsc.is_bound("mts"), GUARD)

    async def deliver(self, pdu: DeliverSm) -> int:
        (connection,) = [c for c in self.smsc.server.bound if self.smsc.operator_of(c) == "mts"]
        return (await connection.deliver(pdu)).command_status

    def rows(self, sql: str) -> list[tuple[object, ...]]:
        database = self.directory / "gateway.sqlite3"
        with contextlib.closing(sqlite3.connect(f"file:{database}?mode=ro", uri=True)) as db:
            return db.execute(sql).fetchall()


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[World]:
    account = SmscAccount(system_id_for("mts"), SMPP_PASSWORD, "mts")
    smsc = SimulatedSmsc(SmscSettings("127.0.0.1", 0, (account,)))
    await smsc.start()
    config = ServeConfig(
        storage_dsn=f"sqlite:///{tmp_path / 'gateway.sqlite3'}",
        smsc_port=smsc.port,
        link_operators=("mts",),
        # a paying operator's link needs its charging API; these texts charge nothing
        charging_urls={"mts": "http://127.0.0.1:9/charging"},
        zones=[ZONE_TABLE],
        node_id="intake-node",
    )
    world = World(smsc, tmp_path, config)
    try:
        yield world
    finally:
        if world.process is not None:
            await world.process.ensure_gone()
        await smsc.close()


def part(seqnum: int, text: str) -> DeliverSm:
    return DeliverSm(
        source_addr_ton=1,
        source_addr_npi=1,
        source_addr=DRIVER,
        destination_addr=SHORT_NUMBER,
        esm_class=ESM_UDHI,
        data_coding=UCS2,
        short_message=concat_udh(42, 2, seqnum, ref16=False) + encode_text(text, UCS2),
    )


async def test_a_long_mo_cut_by_a_sigkill_between_its_parts_is_answered(world: World) -> None:
    await world.start()
    assert await world.deliver(part(1, "LANG*")) == CommandStatus.ESME_ROK
    assert world.rows("SELECT seqnum FROM smpp_mo_parts") == [(1,)]  # stored, then answered
    await world.kill()
    await world.start()
    assert await world.deliver(part(2, "EN")) == CommandStatus.ESME_ROK
    (reply,) = await world.smsc.wait_for_texts(DRIVER, 1, GUARD)
    assert "English" in reply
    assert world.rows("SELECT text FROM inbound") == [("LANG*EN",)]


async def wait_for_a_heartbeat_after_the_last_answer(world: World) -> None:
    """Until the bind's record says it was alive 2.5 s after the last MO was answered:
    from then on those answers are surely not lost if the gateway dies."""

    def past() -> bool:
        found = world.rows(
            "SELECT max(b.alive_at), max(m.answered_at) FROM smpp_binds b, smpp_mo m"
            " WHERE b.closed_at IS NULL"
        )
        alive, answered = found[0]
        if not isinstance(alive, str) or not isinstance(answered, str):
            return False
        later = datetime.fromisoformat(alive) - datetime.fromisoformat(answered)
        return later > timedelta(seconds=2.5)

    async with asyncio.timeout(GUARD):
        while not past():
            await asyncio.sleep(0.1)


@pytest.mark.parametrize("end", ["sigkill", "sigterm"])
async def test_phones_repeating_a_text_after_a_restart_are_answered(world: World, end: str) -> None:
    phones = [f"7916{n:07d}" for n in range(20)]
    await world.start()
    for phone in phones:
        assert await world.smsc.send_mo("mts", phone, SHORT_NUMBER, "I") == 0
    for phone in phones:
        await world.smsc.wait_for_texts(phone, 1, GUARD)
    await wait_for_a_heartbeat_after_the_last_answer(world)
    await (world.kill() if end == "sigkill" else world.stop())
    await world.start()
    for phone in phones:
        assert await world.smsc.send_mo("mts", phone, SHORT_NUMBER, "I") == 0
    for phone in phones:
        first, again = await world.smsc.wait_for_texts(phone, 2, GUARD)
        assert first == again
    assert world.rows("SELECT count(*) FROM inbound") == [(40,)]
