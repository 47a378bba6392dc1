"""The SQLite writer: group commit, one unit failing alone, answers only after COMMIT."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator
from functools import partial
from pathlib import Path

import pytest

from smsgw.service.store_port import Tx
from smsgw.storage.errors import (
    StoreClosedError,
    StoreUnavailableError,
    TxClosedError,
    WorkCancelledError,
)
from smsgw.storage.sqlite import SqliteStore, open_sqlite_store
from tests.storage.builders import at, inbound, insert_inbound


class BoomError(Exception):
    pass


@pytest.fixture
async def sqlite_store(tmp_path: Path) -> AsyncIterator[SqliteStore]:
    store = await open_sqlite_store(tmp_path / "db.sqlite3", batch_max=64, busy_timeout=0.05)
    try:
        yield store
    finally:
        await store.close()  # the tests close it themselves too: closing twice is fine


def count_inbound(path: Path) -> int:
    with sqlite3.connect(path) as connection:
        return int(connection.execute("SELECT count(*) FROM inbound").fetchone()[0])


async def test_many_callers_share_groups_and_one_failure_stays_its_own(
    sqlite_store: SqliteStore, tmp_path: Path
) -> None:
    async def store_one(key: str, tx: Tx) -> str | None:
        stored = await tx.insert_inbound(inbound(key))
        if key == "k-13":
            raise BoomError(key)  # after writing: its write must roll back alone
        return stored

    callers = [sqlite_store.transact(partial(store_one, f"k-{i}")) for i in range(300)]
    results = await asyncio.gather(*callers, return_exceptions=True)
    await sqlite_store.close()

    failures = [r for r in results if isinstance(r, BaseException)]
    assert [str(f) for f in failures] == ["k-13"] and isinstance(failures[0], BoomError)
    ids = [r for r in results if isinstance(r, str)]
    assert len(set(ids)) == 299
    assert count_inbound(tmp_path / "db.sqlite3") == 299
    stats = sqlite_store.stats
    assert (stats.units, stats.failed_units) == (300, 1)
    assert stats.groups < 300 and stats.largest_group == 64  # grouped, capped by batch_max


async def test_a_caller_hears_back_only_once_its_group_is_committed(
    sqlite_store: SqliteStore, tmp_path: Path
) -> None:
    seen_by_others = []
    for i in range(5):
        await sqlite_store.transact(partial(insert_inbound, inbound(f"k{i}")))
        seen_by_others.append(count_inbound(tmp_path / "db.sqlite3"))  # another connection

    assert seen_by_others == [1, 2, 3, 4, 5]
    await sqlite_store.close()


async def test_a_locked_database_fails_the_callers_and_the_writer_goes_on(
    sqlite_store: SqliteStore, tmp_path: Path
) -> None:
    other = sqlite3.connect(tmp_path / "db.sqlite3", isolation_level=None)
    other.execute("BEGIN IMMEDIATE")  # another process holds the write lock
    try:
        with pytest.raises(StoreUnavailableError, match="locked"):
            await sqlite_store.transact(lambda tx: tx.insert_inbound(inbound("k1")))
        with pytest.raises(StoreUnavailableError):
            await sqlite_store.ping()
    finally:
        other.execute("ROLLBACK")
        other.close()

    stored = await sqlite_store.transact(lambda tx: tx.insert_inbound(inbound("k1")))
    await sqlite_store.ping()
    await sqlite_store.close()
    assert stored is not None
    assert sqlite_store.stats.failed_groups == 2


async def test_a_tx_cannot_be_used_after_its_unit_of_work(sqlite_store: SqliteStore) -> None:
    kept: list[Tx] = []

    async def keep(tx: Tx) -> None:
        kept.append(tx)

    await sqlite_store.transact(keep)
    with pytest.raises(TxClosedError):
        await kept[0].insert_inbound(inbound("late"))
    await sqlite_store.close()


async def test_a_caller_cancelled_before_its_turn_does_not_run(
    sqlite_store: SqliteStore, tmp_path: Path
) -> None:
    started, gate = asyncio.Event(), asyncio.Event()

    async def blocker(tx: Tx) -> None:
        started.set()
        await gate.wait()  # breaks the port's rule on purpose: holds the group open

    blocking = asyncio.ensure_future(sqlite_store.transact(blocker))
    queued = asyncio.ensure_future(
        sqlite_store.transact(lambda tx: tx.insert_inbound(inbound("never")))
    )
    await started.wait()  # both are in the group now, the blocker running
    queued.cancel()
    gate.set()
    await blocking
    await sqlite_store.close()

    assert queued.cancelled()
    assert count_inbound(tmp_path / "db.sqlite3") == 0


async def test_close_finishes_queued_work_then_refuses_more(
    sqlite_store: SqliteStore, tmp_path: Path
) -> None:
    queued = [
        asyncio.ensure_future(sqlite_store.transact(partial(insert_inbound, inbound(f"k{i}"))))
        for i in range(10)
    ]
    await asyncio.sleep(0)
    await sqlite_store.close()

    assert all(q.done() and q.result() is not None for q in queued)
    assert count_inbound(tmp_path / "db.sqlite3") == 10
    with pytest.raises(StoreClosedError):
        await sqlite_store.transact(lambda tx: tx.claim_inbound(at(0), "n", 1, 1))
    await sqlite_store.close()  # twice is harmless


async def test_the_file_and_its_directories_are_created_in_wal_mode(tmp_path: Path) -> None:
    path = tmp_path / "var" / "deep" / "smsgw.sqlite3"
    store = await open_sqlite_store(path)
    await store.close()

    with sqlite3.connect(path) as connection:
        assert connection.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


async def test_bad_settings_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="batch_max"):
        await open_sqlite_store(tmp_path / "a.sqlite3", batch_max=0)
    with pytest.raises(ValueError, match="synchronous"):
        await open_sqlite_store(tmp_path / "a.sqlite3", synchronous="OFF")


async def test_a_unit_cancelled_by_what_it_awaited_fails_alone(
    sqlite_store: SqliteStore, tmp_path: Path
) -> None:
    async def cancelled_inside(tx: Tx) -> None:
        await tx.insert_inbound(inbound("rolled-back"))
        doomed: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        doomed.cancel()
        await doomed  # breaks the port's rule on purpose

    failing = sqlite_store.transact(cancelled_inside)
    fine = sqlite_store.transact(partial(insert_inbound, inbound("kept")))
    results = await asyncio.gather(failing, fine, return_exceptions=True)
    after = await sqlite_store.transact(partial(insert_inbound, inbound("later")))
    await sqlite_store.close()

    assert isinstance(results[0], WorkCancelledError)
    assert isinstance(results[1], str) and after is not None
    assert count_inbound(tmp_path / "db.sqlite3") == 2
