"""Stored MOs per second: insert_inbound units of work on SQLite and on PostgreSQL.

    python bench/storage.py [--units 20000] [--callers 200] [--postgres DSN]

Each backend gets a fresh database (SQLite: a temporary file; PostgreSQL: a schema of
its own, dropped afterwards). `callers` tasks each store MOs one unit of work at a time,
as SMPP links do; the figure is committed units per second. "one caller" is the same
with a single task: the latency of one acknowledged MO. SQLite runs with
synchronous=NORMAL (the default) and FULL (an fsync per group commit). PostgreSQL is
skipped when it cannot be reached; its DSN defaults to SMSGW_TEST_POSTGRES_DSN or the
local `test` database.

"sqlite Tx" is the CPU time of one insert_inbound through the SQLite Tx inside an open
transaction (no commit, in memory): the cost of the SQL layer itself. Process CPU time
barely moves with the load of a shared machine, where the rates above swing by 2x.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sqlite3
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import replace
from datetime import UTC, datetime
from functools import partial
from pathlib import Path

import asyncpg

from smsgw.service.messages import InboundSms
from smsgw.service.store_port import Store, Tx
from smsgw.storage.errors import StoreUnavailableError
from smsgw.storage.postgres import open_postgres_store
from smsgw.storage.sqlite import SqliteStore, migrate_sqlite, open_sqlite_store
from smsgw.storage.sqlite_tx import SqliteTx

DEFAULT_POSTGRES = "postgresql://postgres@127.0.0.1:5432/test"
NOW = datetime(2024, 3, 1, 9, 0, tzinfo=UTC)


def mo(key: str) -> InboundSms:
    return InboundSms("mts-1", "mts", "79031234567", "7757", "1001*A123BC77*2", NOW, key)


async def store_mo(key: str, tx: Tx) -> str | None:
    return await tx.insert_inbound(mo(key))


async def rate(store: Store, units: int, callers: int) -> float:
    """Committed units per second with `callers` tasks storing one MO at a time."""
    prefix = uuid.uuid4().hex[:8]
    per_caller = units // callers

    async def caller(number: int) -> None:
        for i in range(per_caller):
            await store.transact(partial(store_mo, f"{prefix}-{number}-{i}"))

    started = time.perf_counter()
    await asyncio.gather(*(caller(n) for n in range(callers)))
    return per_caller * callers / (time.perf_counter() - started)


async def measure(name: str, open_store: Callable[[], Awaitable[Store]], args: Namespace) -> None:
    store = await open_store()
    try:
        await rate(store, 500, 50)  # warm up: statement caches, pool connections
        before = replace(store.stats) if isinstance(store, SqliteStore) else None
        many = await rate(store, args.units, args.callers)
        grouping = ""
        if isinstance(store, SqliteStore) and before is not None:
            groups = store.stats.groups - before.groups
            units = store.stats.units - before.units
            grouping = f"  (groups of {units / max(groups, 1):.0f} units on average)"
        one = await rate(store, min(args.units, 2000), 1)
        print(
            f"{name:<13} {args.callers} callers: {many:>6.0f} tx/s{grouping}\n"
            f"{'':<13} one caller:  {one:>6.0f} tx/s = {1e6 / one:>4.0f} µs per acknowledged MO"
        )
    finally:
        await store.close()


Namespace = argparse.Namespace


async def statement_cost(calls: int) -> float:
    """CPU µs per insert_inbound through the SQLite Tx, in one open transaction."""
    connection = sqlite3.connect(":memory:", isolation_level=None)
    try:
        connection.row_factory = sqlite3.Row
        migrate_sqlite(connection)
        connection.execute("BEGIN")
        tx = SqliteTx(connection)
        started = time.process_time()
        for i in range(calls):
            await tx.insert_inbound(mo(f"cost-{i}"))
        return (time.process_time() - started) / calls * 1e6
    finally:
        connection.close()


async def main(args: Namespace) -> None:
    cost = await statement_cost(args.units)
    print(f"{'sqlite Tx':<13} insert_inbound: {cost:.1f} µs CPU per call (no commit)")
    with tempfile.TemporaryDirectory() as scratch:
        for mode in ("NORMAL", "FULL"):
            path = Path(scratch) / f"bench-{mode}.sqlite3"
            opener = partial(open_sqlite_store, path, synchronous=mode)
            await measure(f"sqlite {mode}", opener, args)
    schema = f"smsgw_bench_{uuid.uuid4().hex[:8]}"
    try:
        await measure(
            "postgresql",
            partial(open_postgres_store, args.postgres, schema=schema, max_size=args.pool),
            args,
        )
    except (OSError, asyncpg.PostgresError, StoreUnavailableError) as exc:
        print(f"postgresql    skipped: {exc}")
        return
    finally:
        await drop_schema(args.postgres, schema)


async def drop_schema(dsn: str, schema: str) -> None:
    try:
        connection = await asyncpg.connect(dsn)
    except OSError:
        return
    try:
        await connection.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
    finally:
        await connection.close()


def parse_args() -> Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--units", type=int, default=20000)
    parser.add_argument("--callers", type=int, default=200)
    parser.add_argument("--pool", type=int, default=10, help="PostgreSQL pool size")
    parser.add_argument(
        "--postgres", default=os.environ.get("SMSGW_TEST_POSTGRES_DSN", DEFAULT_POSTGRES)
    )
    return parser.parse_args()


if __name__ == "__main__":
    asyncio.run(main(parse_args()))
