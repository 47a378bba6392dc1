"""The rig's flows with `storage.dsn` on PostgreSQL, and two gateway nodes on one database.

PostgreSQL comes from SMSGW_TEST_POSTGRES_DSN (default: the local `test` database); each
test gets a schema of its own, created first and dropped after. The DSN carries it as
`?search_path=<schema>` (asyncpg passes unknown DSN parameters on as server settings);
`open_store` has no other way to be given a schema. Unreachable: the tests skip, or fail
when CI=true.

The rig (tests/e2e/rig.py) runs one gateway on SQLite; `postgres_nodes` below is the same
world with its configuration pointed at PostgreSQL and one gateway per node id.
"""

from __future__ import annotations

import asyncio
import dataclasses
import os
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

import asyncpg
import pytest

from simulator.config import SmscAccount, SmscSettings
from simulator.operator import OperatorSimulator
from simulator.phones import PhoneBook
from simulator.smsc import SimulatedSmsc
from smsgw.bootstrap import RunningGateway, start_gateway
from smsgw.domain.money import Money
from tests.e2e.rig import (
    CHARGING_OPERATORS,
    LINK_OPERATORS,
    Rig,
    SettableClock,
    gateway_config,
    secret_for,
)
from tests.storage.backends import postgres_dsn

CONNECT_TIMEOUT = 3.0  # seconds: only a guard for an unreachable server
DRIVER = "79161234567"
REMINDED_PHONES = 12
RECORD_GUARD_SECONDS = 10.0  # a guard against hanging, not a wait


def with_search_path(dsn: str, schema: str) -> str:
    return f"{dsn}{'&' if '?' in dsn else '?'}search_path={schema}"


async def _connect_or_give_up(dsn: str) -> asyncpg.Connection:
    try:
        return await asyncio.wait_for(asyncpg.connect(dsn), CONNECT_TIMEOUT)
    except (OSError, TimeoutError, asyncpg.PostgresError) as error:
        message = f"PostgreSQL (SMSGW_TEST_POSTGRES_DSN or the local test db) unusable: {error!r}"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message)
        pytest.skip(message)


@dataclasses.dataclass(frozen=True, slots=True)
class Schema:
    dsn: str  # what storage.dsn says: the server's DSN with the schema as search_path
    admin: asyncpg.Connection  # beside the gateways, to read what they wrote

    async def rows(self, sql: str) -> list[tuple[Any, ...]]:
        return [tuple(row) for row in await self.admin.fetch(sql)]


@pytest.fixture
async def schema() -> AsyncIterator[Schema]:
    base = postgres_dsn()
    name = f"smsgw_e2e_{uuid.uuid4().hex[:12]}"
    admin = await _connect_or_give_up(base)
    try:
        # made first: a search_path naming a schema that does not exist would put the
        # tables in `public`
        await admin.execute(f"CREATE SCHEMA {name}")
        await admin.execute(f"SET search_path TO {name}")
        yield Schema(with_search_path(base, name), admin)
    finally:
        await admin.execute(f"DROP SCHEMA IF EXISTS {name} CASCADE")
        await admin.close()


class Nodes:
    """Gateways on one database, sharing the simulator's SMSC, operators and phones."""

    def __init__(self, rigs: list[Rig]) -> None:
        self.rigs = rigs
        self._stopped: set[int] = set()

    @property
    def first(self) -> Rig:
        return self.rigs[0]

    async def run_due_everywhere(self) -> int:
        """Every node's scheduler at once, at the shared clock's time; how many jobs ran."""
        now = self.first.clock.now()
        ran = await asyncio.gather(
            *(rig.gateway.service.scheduler.run_due(now) for rig in self.rigs)
        )
        return sum(ran)

    async def stop(self) -> None:
        for index, rig in enumerate(self.rigs):
            if index not in self._stopped:
                self._stopped.add(index)
                await rig.gateway.stop()


@asynccontextmanager
async def postgres_nodes(tmp_path: Path, dsn: str, node_ids: Sequence[str]) -> AsyncIterator[Nodes]:
    clock = SettableClock()
    accounts = tuple(SmscAccount(f"gw-{op}", "pw", op) for op in LINK_OPERATORS)
    smsc = SimulatedSmsc(SmscSettings("127.0.0.1", 0, accounts))
    await smsc.start()
    phones = PhoneBook()
    operators = {
        op: OperatorSimulator(op, secret_for(op), phones, clock=clock.now)
        for op in CHARGING_OPERATORS
    }
    for operator in operators.values():
        await operator.start()
    base = gateway_config(tmp_path, smsc.port, {op: sim.base_url for op, sim in operators.items()})
    gateways: list[RunningGateway] = []
    nodes = Nodes([])
    try:
        for node_id in node_ids:
            config = dataclasses.replace(
                base,
                storage_dsn=dsn,
                gateway=dataclasses.replace(base.gateway, node_id=node_id),
            )
            gateway = await start_gateway(config, clock=clock)
            gateways.append(gateway)
            nodes.rigs.append(Rig(gateway, smsc, operators, phones, clock))
        for gateway in gateways:
            await gateway.wait_links_bound()
        yield nodes
    finally:
        await nodes.stop()
        for operator in operators.values():
            await operator.close()
        await smsc.close()


@pytest.fixture
async def rig(tmp_path: Path, schema: Schema) -> AsyncIterator[Rig]:
    async with postgres_nodes(tmp_path, schema.dsn, ["pg-node-1"]) as nodes:
        yield nodes.first


# --- one node ----------------------------------------------------------------------------------


async def test_the_tables_are_in_the_test_schema(rig: Rig, schema: Schema) -> None:
    rig.phone(DRIVER)
    await rig.converse(DRIVER, "?")
    rows = await schema.rows("SELECT sender, processed_at IS NOT NULL FROM inbound")
    assert rows == [(DRIVER, True)]


async def test_pay_with_operator_confirmation(rig: Rig, schema: Schema) -> None:
    phone = rig.phone(DRIVER, rubles=500)
    await rig.text(DRIVER, "1001*а123вс77*2")
    await rig.settle()
    asked, started = await rig.replies(DRIVER, 2)
    assert "120" in asked
    assert "A123BC77" in started and "1001" in started and "11:00" in started
    assert phone.balance == Money(500_00 - 120_00, "RUB")
    assert await rig.balance(DRIVER) == Money(0, "RUB")
    (total,) = await schema.rows("SELECT sum(amount_minor) FROM ledger_entries")
    assert total == (0,)


async def test_stop_refunds_to_the_parking_account_then_pay_from_balance(rig: Rig) -> None:
    phone = rig.phone(DRIVER, rubles=500)
    await rig.text(DRIVER, "1001*A123BC77*2")
    await rig.settle()
    await rig.replies(DRIVER, 2)
    rig.clock.advance(timedelta(minutes=30))
    (stopped,) = await rig.converse(DRIVER, "S")
    assert "90" in stopped
    assert await rig.balance(DRIVER) == Money(90_00, "RUB")
    charged_before = phone.balance
    (started,) = await rig.converse(DRIVER, "1001*B456CE77*1")
    assert "B456CE77" in started
    assert phone.balance == charged_before, "paid from the parking account, no charge"
    assert await rig.balance(DRIVER) == Money(30_00, "RUB")


async def test_reminder_and_end_notice_once_each(rig: Rig) -> None:
    rig.phone(DRIVER)
    await rig.text(DRIVER, "1001*A123BC77*1")
    await rig.settle()
    await rig.replies(DRIVER, 2)
    rig.clock.advance(timedelta(minutes=50))
    await rig.run_due()
    await rig.run_due()
    reminder = (await rig.replies(DRIVER, 3))[-1]
    assert "10:00" in reminder and "X" in reminder.upper()
    rig.clock.advance(timedelta(minutes=10))
    await rig.run_due()
    await rig.run_due()
    texts = await rig.replies(DRIVER, 4)
    assert "A123BC77" in texts[-1]
    await rig.converse(DRIVER, "?")  # a later reply proves nothing more was queued before
    assert len(rig.smsc.inbox[DRIVER]) == 5


async def test_moving_another_phones_car_waits_for_that_phone(rig: Rig, schema: Schema) -> None:
    """A payment that moves a plate paid by another phone stops that phone's session
    under that phone's lock, as its own `S` would: never both at once."""
    payer, mover = "79031112233", DRIVER
    rig.phone(payer)
    rig.phone(mover)
    await rig.text(payer, "1001*A123BC77*1")
    await rig.settle()
    await rig.replies(payer, 2)
    await rig.text(mover, "1001*B456CE77*2")  # then stopped at once: 120 RUB to spend
    await rig.settle()
    await rig.replies(mover, 2)
    await rig.converse(mover, "S")
    assert await rig.balance(mover) == Money(120_00, "RUB")

    holder = await asyncpg.connect(schema.dsn)
    try:
        async with holder.transaction():
            await holder.execute("SELECT 1 FROM phones WHERE msisdn = $1 FOR UPDATE", payer)
            moving = asyncio.create_task(rig.text(mover, "9001*A123BC77*1"))
            done, _ = await asyncio.wait({moving}, timeout=1.0)
            assert not done, "the move went ahead while the payer's phone was locked"
        await moving
    finally:
        await holder.close()

    [moved] = (await rig.replies(mover, 4))[3:]
    assert "1001" in moved and "9001" in moved  # pay.moved: from the old zone to the new
    [told] = (await rig.replies(payer, 3))[2:]
    assert "A123BC77" in told and "1001" in told  # session.moved_away
    assert await rig.balance(payer) == Money(60_00, "RUB")  # the unused hour, once
    assert await rig.balance(mover) == Money(60_00, "RUB")


# --- two nodes ---------------------------------------------------------------------------------


def reminded(number: int) -> tuple[str, str]:
    return f"7916555{number:04d}", f"A{number:03d}BC77"


async def every_send_recorded(schema: Schema) -> None:
    """Wait until every reply a phone has is recorded sent. A phone holds a text a moment
    before its node records the send; moving the shared clock past the lease in that
    moment would let the other node claim the reply and send it again, which no real
    clock does (a lease is a minute, a record milliseconds)."""
    async with asyncio.timeout(RECORD_GUARD_SECONDS):
        while await schema.rows("SELECT 1 FROM outbox WHERE state = 'pending' LIMIT 1"):
            await asyncio.sleep(0.01)


async def test_two_nodes_send_each_reminder_and_end_notice_once(
    tmp_path: Path, schema: Schema
) -> None:
    drivers = [reminded(n) for n in range(1, REMINDED_PHONES + 1)]
    async with postgres_nodes(tmp_path, schema.dsn, ["pg-node-a", "pg-node-b"]) as nodes:
        a, _ = nodes.rigs
        binds = Counter(a.smsc.operator_of(link) for link in a.smsc.server.bound)
        assert binds == Counter(dict.fromkeys(LINK_OPERATORS, 2)), "both nodes on the SMSC"
        for msisdn, plate in drivers:
            a.phone(msisdn)
            await a.text(msisdn, f"1001*{plate}*1")
        await a.settle()
        for msisdn, _ in drivers:
            await a.replies(msisdn, 2)
        await every_send_recorded(schema)
        a.clock.advance(timedelta(minutes=50))
        await nodes.run_due_everywhere()
        await nodes.run_due_everywhere()
        for msisdn, _ in drivers:
            await a.replies(msisdn, 3)
        await every_send_recorded(schema)
        a.clock.advance(timedelta(minutes=10))
        await nodes.run_due_everywhere()
        await nodes.run_due_everywhere()
        for msisdn, _ in drivers:
            await a.replies(msisdn, 4)
        senders = {mt.operator for msisdn, _ in drivers for mt in a.smsc.inbox[msisdn]}
        await nodes.stop()  # nothing in flight any more: what the phones have is final

    for msisdn, plate in drivers:
        texts = [mt.text for mt in a.smsc.inbox[msisdn]]
        assert len(texts) == 4, texts
        asked, started, reminder, ended = texts
        assert "60" in asked and plate in started
        assert "10:00" in reminder and plate in reminder and "X" in reminder.upper()
        assert plate in ended and ended != reminder
    unsent = await schema.rows(
        "SELECT receiver, state FROM outbox WHERE state NOT IN ('sent', 'delivered')"
    )
    assert unsent == []
    per_phone = Counter(
        receiver for (receiver,) in await schema.rows("SELECT receiver FROM outbox")
    )
    assert per_phone == Counter({msisdn: 4 for msisdn, _ in drivers})
    assert senders == {"mts"}
