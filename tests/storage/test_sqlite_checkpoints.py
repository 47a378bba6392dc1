"""With synchronous=NORMAL the SQLite writer commits on the loop and the WAL is
checkpointed in the store's worker thread (smsgw/storage/sqlite_checkpoint.py); with FULL
the commit, fsync and all, stays in the worker thread and SQLite checkpoints inside it."""

from __future__ import annotations

import asyncio
import sqlite3
from functools import partial
from pathlib import Path

from smsgw.service.store_port import Tx
from smsgw.storage.sqlite import open_sqlite_store
from tests.storage.builders import inbound

GUARD_SECONDS = 5.0  # a guard against hanging, never a wait


async def _store_mo(number: int, tx: Tx) -> str | None:
    return await tx.insert_inbound(inbound(f"mo-{number}"))


async def test_normal_commits_are_checkpointed_in_the_worker_thread(tmp_path: Path) -> None:
    path = tmp_path / "gw.sqlite3"
    store = await open_sqlite_store(path, synchronous="NORMAL")
    try:
        for number in range(20):
            await store.transact(partial(_store_mo, number))
        async with asyncio.timeout(GUARD_SECONDS):
            while not store.checkpoints:
                await asyncio.sleep(0.01)
    finally:
        await store.close()

    # everything committed is in the file, whoever opens it next
    with sqlite3.connect(path) as reader:
        (count,) = reader.execute("SELECT count(*) FROM inbound").fetchone()
    assert count == 20


async def test_full_commits_leave_checkpoints_to_sqlite(tmp_path: Path) -> None:
    store = await open_sqlite_store(tmp_path / "gw.sqlite3", synchronous="FULL")
    try:
        await store.transact(lambda tx: _store_mo(1, tx))
        assert store.checkpoints is None
    finally:
        await store.close()
