"""Several gateway nodes on one PostgreSQL database: no row goes to two of them."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from functools import partial
from typing import Any

import asyncpg
import pytest

from smsgw.domain.ledger import Account, charge_confirmed, session_paid
from smsgw.service.store_port import Tx
from smsgw.storage.errors import StoreUnavailableError
from smsgw.storage.postgres import MAX_ATTEMPTS, PostgresStore, open_postgres_store
from tests.storage.backends import Backend, PostgresPlace
from tests.storage.builders import PHONE, T0, at, inbound, job, outbound, rub

ROWS = 120
LEASE = 60.0


@pytest.fixture
async def nodes(postgres_place: PostgresPlace) -> AsyncIterator[tuple[PostgresStore, ...]]:
    await Backend("postgres", postgres=postgres_place).empty()
    opened = [
        await open_postgres_store(postgres_place.dsn, schema=postgres_place.schema, max_size=4)
        for _ in range(2)
    ]
    try:
        yield tuple(opened)
    finally:
        for store in opened:
            await store.close()


Claim = Callable[[Tx, str], Awaitable[Sequence[Any]]]


async def drain(store: PostgresStore, node: str, claim: Claim) -> list[str]:
    """Claim in small batches, several at once, until nothing is left for this node."""
    got: list[str] = []

    async def worker() -> None:
        while batch := await store.transact(lambda tx: claim(tx, node)):
            got.extend(_key(item) for item in batch)

    await asyncio.gather(*(worker() for _ in range(3)))
    return got


def _key(item: Any) -> str:
    return str(getattr(item, "id", None) or item.sms.outbox_id)


CLAIMS: dict[str, tuple[Callable[[int], Callable[[Tx], Awaitable[object]]], Claim]] = {
    "jobs": (
        lambda i: lambda tx: tx.schedule(job(f"j{i}", f"s{i}", minutes=i % 7)),
        lambda tx, node: tx.claim_due_jobs(at(10), node, LEASE, 5),
    ),
    "inbound": (
        lambda i: lambda tx: tx.insert_inbound(inbound(f"k{i}", minutes=i % 7)),
        lambda tx, node: tx.claim_inbound(at(10), node, LEASE, 5),
    ),
    "outbox": (
        lambda i: lambda tx: tx.enqueue_outbound(outbound(f"o{i}", minutes=i % 7)),
        lambda tx, node: tx.claim_outbound(at(10), node, LEASE, 5),
    ),
}


@pytest.mark.parametrize("kind", sorted(CLAIMS))
async def test_two_nodes_never_claim_the_same_row(
    nodes: tuple[PostgresStore, PostgresStore], kind: str
) -> None:
    make, claim = CLAIMS[kind]
    node_a, node_b = nodes
    await asyncio.gather(*(node_a.transact(make(i)) for i in range(ROWS)))

    got_a, got_b = await asyncio.gather(drain(node_a, "a", claim), drain(node_b, "b", claim))

    assert len(got_a) + len(got_b) == ROWS
    assert set(got_a).isdisjoint(got_b)
    assert len(set(got_a) | set(got_b)) == ROWS


async def test_the_same_movement_posted_by_two_nodes_at_once_moves_money_once(
    nodes: tuple[PostgresStore, PostgresStore],
) -> None:
    def movement(tx_id: str) -> Callable[[Tx], Awaitable[object]]:
        return lambda tx: tx.post(
            charge_confirmed(
                transaction_id=tx_id,
                charge_id="c1",
                phone=PHONE,
                operator_id="beeline",
                amount=rub(5000),
                at=T0,
            )
        )

    posted = await asyncio.gather(
        *(store.transact(movement(f"t-{i}")) for i in range(10) for store in nodes)
    )

    assert len({p.id for p in posted}) == 1  # type: ignore[attr-defined]
    phone = Account.phone(PHONE, "RUB")
    assert await nodes[1].transact(lambda tx: tx.balance(phone)) == rub(5000)


async def test_phone_locks_serialise_spending_across_nodes(
    nodes: tuple[PostgresStore, PostgresStore],
) -> None:
    """Read the balance, decide, pay: with lock_phone first, no node spends money twice."""
    await nodes[0].transact(
        lambda tx: tx.post(
            charge_confirmed(
                transaction_id="fund",
                charge_id="fund",
                phone=PHONE,
                operator_id="beeline",
                amount=rub(500),
                at=T0,
            )
        )
    )

    async def pay_if_covered(session_id: str, tx: Tx) -> bool:
        await tx.lock_phone(PHONE, "beeline")
        if (await tx.balance(Account.phone(PHONE, "RUB"))).minor < 100:
            return False
        await tx.post(
            session_paid(
                transaction_id=f"{session_id}/paid",
                session_id=session_id,
                phone=PHONE,
                zone="1001",
                amount=rub(100),
                at=T0,
            )
        )
        return True

    paid = await asyncio.gather(
        *(nodes[i % 2].transact(partial(pay_if_covered, f"s{i}")) for i in range(12))
    )

    assert sum(paid) == 5
    assert await nodes[0].transact(lambda tx: tx.balance(Account.phone(PHONE, "RUB"))) == rub(0)


async def test_a_serialisation_failure_runs_the_unit_again(
    nodes: tuple[PostgresStore, PostgresStore],
) -> None:
    store = nodes[0]
    runs: list[int] = []

    async def flaky(tx: Tx) -> str | None:
        runs.append(1)
        stored = await tx.insert_inbound(inbound("k1"))
        if len(runs) < 3:
            raise asyncpg.DeadlockDetectedError("deadlock detected")
        return stored

    stored = await store.transact(flaky)

    assert stored is not None  # the failed runs rolled back: the third one inserted it
    assert (len(runs), store.retries) == (3, 2)


async def test_a_unit_that_keeps_losing_gives_up_as_unavailable(
    nodes: tuple[PostgresStore, PostgresStore],
) -> None:
    async def always(tx: Tx) -> None:
        raise asyncpg.SerializationError("could not serialize access")

    with pytest.raises(StoreUnavailableError):
        await nodes[0].transact(always)
    assert nodes[0].retries == MAX_ATTEMPTS - 1


async def test_an_unreachable_database_is_unavailable() -> None:
    with socket.socket() as probe:  # a port the OS just handed out and nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]

    with pytest.raises(StoreUnavailableError):
        await open_postgres_store(f"postgresql://smsgw@127.0.0.1:{port}/smsgw")
