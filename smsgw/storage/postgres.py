"""The scale-out store: PostgreSQL through an asyncpg pool, shared by gateway nodes.

A unit of work is one READ COMMITTED transaction on one pooled connection. The Tx
methods take explicit row locks where a decision depends on what they read (see
postgres_tx.py), so nodes never need SERIALIZABLE; the rare serialization failure or
deadlock (two units locking the same balance rows from different sides) is retried by
running the whole unit again, which the port allows (`work` is a pure function of what
it reads through `tx`).

Migrations run at open, in one transaction holding an advisory lock keyed by the schema,
so two nodes starting at once apply them once: the second waits, then finds them applied.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Final, TypeVar

import asyncpg  # asyncpg ships no type hints
import structlog

from smsgw.service.store_port import Tx
from smsgw.storage.errors import StoreUnavailableError
from smsgw.storage.postgres_tx import PostgresTx
from smsgw.storage.schema import SCHEMA_VERSION_TABLE, pending_migrations
from smsgw.storage.schema_postgres import POSTGRES_MIGRATIONS

if TYPE_CHECKING:
    from smsgw.service.store_port import Store

T = TypeVar("T")
log = structlog.get_logger(__name__)

MAX_ATTEMPTS: Final = 5  # a unit that loses this many serialisation races gives up
_SCHEMA_NAME = re.compile(r"[a-z_][a-z0-9_]{0,62}")
# transient by nature: running the unit again is the documented remedy
_RETRYABLE = (asyncpg.SerializationError, asyncpg.DeadlockDetectedError)
# the database cannot be reached or is going away: the caller retries later
_UNAVAILABLE = (
    OSError,
    asyncpg.PostgresConnectionError,
    asyncpg.InterfaceError,
    asyncpg.CannotConnectNowError,
    asyncpg.TooManyConnectionsError,
    asyncpg.AdminShutdownError,
)


async def open_postgres_store(
    dsn: str, *, schema: str | None = None, min_size: int = 1, max_size: int = 10
) -> PostgresStore:
    """Connect a pool and migrate. `schema` (created if missing) holds the tables and is
    every connection's search_path; None keeps the server's default (public)."""
    if schema is not None and not _SCHEMA_NAME.fullmatch(schema):
        raise ValueError(f"storage.schema: not a plain lower-case SQL name: {schema!r}")
    settings = {"application_name": "smsgw", "timezone": "UTC"}
    if schema is not None:
        settings["search_path"] = schema
    try:
        pool = await asyncpg.create_pool(
            dsn, min_size=min_size, max_size=max_size, server_settings=settings
        )
    except _UNAVAILABLE as exc:
        raise StoreUnavailableError(f"PostgreSQL: {exc}") from exc
    try:
        async with pool.acquire() as connection:
            await migrate_postgres(connection, schema)
    except BaseException:
        await pool.close()
        raise
    return PostgresStore(pool)


async def migrate_postgres(connection: asyncpg.Connection, schema: str | None) -> int:
    """Apply the pending migrations under an advisory lock; how many were applied.

    With `schema` None the tables go where the connection's search_path says (the first
    schema of it that exists: `public` unless the DSN or the role says otherwise)."""
    if schema is not None and not _SCHEMA_NAME.fullmatch(schema):
        raise ValueError(f"storage.schema: not a plain lower-case SQL name: {schema!r}")
    async with connection.transaction():
        lock_key = f"smsgw.migrations.{schema or 'default'}"
        await connection.execute("SELECT pg_advisory_xact_lock(hashtext($1))", lock_key)
        if schema is not None:
            await connection.execute(f"CREATE SCHEMA IF NOT EXISTS {schema}")
            # whatever this connection's search_path: the tables go into `schema`
            await connection.execute(f"SET LOCAL search_path TO {schema}")
        await connection.execute(
            f"CREATE TABLE IF NOT EXISTS {SCHEMA_VERSION_TABLE} (version INTEGER PRIMARY KEY,"
            " name TEXT NOT NULL, applied_at TIMESTAMPTZ NOT NULL)"
        )
        applied = [
            row["version"]
            for row in await connection.fetch(f"SELECT version FROM {SCHEMA_VERSION_TABLE}")
        ]
        pending = pending_migrations(POSTGRES_MIGRATIONS, applied)
        for migration in pending:
            for statement in migration.statements:
                await connection.execute(statement)
            await connection.execute(
                f"INSERT INTO {SCHEMA_VERSION_TABLE} (version, name, applied_at)"
                " VALUES ($1, $2, $3)",
                migration.version,
                migration.name,
                datetime.now(UTC),
            )
    if pending:
        log.info("postgres schema migrated", applied=[m.version for m in pending])
    return len(pending)


class PostgresStore:
    """`Store` over a pool; create it with `open_postgres_store`."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool
        self.retries = 0  # units run again after a serialisation failure or deadlock

    async def transact(self, work: Callable[[Tx], Awaitable[T]]) -> T:
        return await self._transact(work)

    async def _transact(self, work: Callable[[PostgresTx], Awaitable[T]]) -> T:
        for attempt in range(1, MAX_ATTEMPTS + 1):
            try:
                return await self._attempt(work)
            except _RETRYABLE as exc:
                if attempt == MAX_ATTEMPTS:
                    raise StoreUnavailableError(
                        f"PostgreSQL: gave up after {attempt} attempts: {exc}"
                    ) from exc
                self.retries += 1
                log.info("postgres unit retried", attempt=attempt, error=type(exc).__name__)
        raise AssertionError("unreachable")  # the loop returns or raises

    async def _attempt(self, work: Callable[[PostgresTx], Awaitable[T]]) -> T:
        try:
            async with self._pool.acquire() as connection, connection.transaction():
                tx = PostgresTx(connection)
                try:
                    return await work(tx)
                finally:
                    tx.close()
        except _UNAVAILABLE as exc:
            raise StoreUnavailableError(f"PostgreSQL: {exc}") from exc

    async def ping(self) -> None:
        await self._transact(lambda tx: tx.schema_version())

    async def close(self) -> None:
        await self._pool.close()


if TYPE_CHECKING:

    def _implements_store(store: PostgresStore) -> Store:
        return store
