"""The two backends as test fixtures see them: open a store, peek at the raw tables."""

from __future__ import annotations

import os
import sqlite3
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg

from smsgw.service.store_port import Store
from smsgw.storage.postgres import PostgresStore, open_postgres_store
from smsgw.storage.sqlite import SqliteStore, open_sqlite_store

POSTGRES_DSN_ENV = "SMSGW_TEST_POSTGRES_DSN"
DEFAULT_POSTGRES_DSN = "postgresql://postgres@127.0.0.1:5432/test"
DATA_TABLES = (
    "inbound",
    "phones",
    "ledger_entries",
    "ledger_transactions",
    "balances",
    "sessions",
    "charges",
    "outbox",
    "jobs",
    "callback_nonces",
    "outbox_parts",
    "held_receipts",
    "smpp_binds",
    "smpp_mo",
    "smpp_mo_parts",
    "driver_codes",
    "driver_sessions",
    "driver_vehicles",
)

# the rows that point at others' (foreign keys: entries at their transaction, a reply's
# parts at the reply) go first
_REFERENCING = ("ledger_entries", "outbox_parts")
_DELETE_ORDER = (*_REFERENCING, *(table for table in DATA_TABLES if table not in _REFERENCING))


def postgres_dsn() -> str:
    return os.environ.get(POSTGRES_DSN_ENV, DEFAULT_POSTGRES_DSN)


def unique_schema() -> str:
    return f"smsgw_test_{uuid.uuid4().hex[:12]}"


@dataclass(frozen=True, slots=True)
class PostgresPlace:
    dsn: str
    schema: str


class Raw:
    """Plain SQL beside the store (committed data only), for what the port cannot show."""

    def __init__(self, sqlite_path: Path | None, postgres: asyncpg.Connection | None) -> None:
        self._sqlite = None if sqlite_path is None else sqlite3.connect(sqlite_path)
        self._postgres = postgres

    async def rows(self, sql: str) -> list[tuple[Any, ...]]:
        if self._sqlite is not None:
            return [tuple(row) for row in self._sqlite.execute(sql).fetchall()]
        assert self._postgres is not None
        return [tuple(row) for row in await self._postgres.fetch(sql)]

    async def execute(self, sql: str) -> None:
        if self._sqlite is not None:
            self._sqlite.execute(sql)
            self._sqlite.commit()
        else:
            assert self._postgres is not None
            await self._postgres.execute(sql)

    async def close(self) -> None:
        if self._sqlite is not None:
            self._sqlite.close()
        if self._postgres is not None:
            await self._postgres.close()


@dataclass(frozen=True, slots=True)
class Backend:
    name: str
    sqlite_path: Path | None = None
    postgres: PostgresPlace | None = None

    async def open(self) -> SqliteStore | PostgresStore:
        if self.postgres is not None:
            place = self.postgres
            return await open_postgres_store(place.dsn, schema=place.schema, max_size=4)
        assert self.sqlite_path is not None
        return await open_sqlite_store(self.sqlite_path)

    async def raw(self) -> Raw:
        if self.postgres is None:
            return Raw(self.sqlite_path, None)
        connection = await asyncpg.connect(
            self.postgres.dsn, server_settings={"search_path": self.postgres.schema}
        )
        return Raw(None, connection)

    async def empty(self) -> None:
        """Start a test from empty tables (the PostgreSQL schema lives for the session)."""
        if self.postgres is None:
            return
        raw = await self.raw()
        try:
            # DELETE, not TRUNCATE: the tables hold one test's few rows, and TRUNCATE gives
            # every table and index a new file (some 140 ms a test, DELETE a few ms); one
            # string is one transaction
            await raw.execute("; ".join(f"DELETE FROM {table}" for table in _DELETE_ORDER))
        finally:
            await raw.close()


def as_store(store: SqliteStore | PostgresStore) -> Store:
    return store
