"""Migrations: applied in order at open, once; a second run (or a second node) is a no-op."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

import asyncpg
import pytest

from smsgw.storage.errors import SchemaTooNewError
from smsgw.storage.postgres import migrate_postgres, open_postgres_store
from smsgw.storage.schema import Migration, check_ordered, pending_migrations
from smsgw.storage.schema_postgres import POSTGRES_MIGRATIONS
from smsgw.storage.schema_sqlite import SQLITE_MIGRATIONS
from smsgw.storage.sqlite import migrate_sqlite, open_sqlite_store
from tests.storage.backends import DATA_TABLES, Backend, PostgresPlace, postgres_dsn, unique_schema
from tests.storage.builders import at, inbound


async def test_reopening_keeps_the_data_and_migrates_nothing(backend: Backend) -> None:
    await backend.empty()
    first = await backend.open()
    stored = await first.transact(lambda tx: tx.insert_inbound(inbound("k1")))
    await first.close()

    reopened = await backend.open()
    claimed = await reopened.transact(lambda tx: tx.claim_inbound(at(1), "n", 60, 10))
    await reopened.close()
    raw = await backend.raw()
    try:
        versions = await raw.rows("SELECT version, name FROM schema_version ORDER BY version")
    finally:
        await raw.close()

    assert [c.id for c in claimed] == [stored]
    assert versions == [(m.version, m.name) for m in SQLITE_MIGRATIONS]


def test_running_the_sqlite_migrations_again_is_a_no_op(tmp_path: Path) -> None:
    connection = sqlite3.connect(tmp_path / "db.sqlite3", isolation_level=None)
    try:
        first, second = migrate_sqlite(connection), migrate_sqlite(connection)
        tables = {
            row[0]
            for row in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
        }
    finally:
        connection.close()

    assert (first, second) == (len(SQLITE_MIGRATIONS), 0)
    assert tables >= {*DATA_TABLES, "schema_version"}


async def test_a_database_from_a_newer_smsgw_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "db.sqlite3"
    await (await open_sqlite_store(path)).close()
    with sqlite3.connect(path) as connection:
        connection.execute("INSERT INTO schema_version VALUES (99, 'future', 'x')")

    with pytest.raises(SchemaTooNewError, match="99"):
        await open_sqlite_store(path)


def test_pending_migrations_are_the_missing_ones_in_order() -> None:
    steps = tuple(Migration(v, f"m{v}", ()) for v in (1, 2, 3))

    assert pending_migrations(steps, []) == steps
    assert pending_migrations(steps, [1]) == steps[1:]
    assert pending_migrations(steps, [1, 2, 3]) == ()
    with pytest.raises(SchemaTooNewError):
        pending_migrations(steps, [1, 4])


def test_both_backends_number_their_migrations_alike() -> None:
    check_ordered(SQLITE_MIGRATIONS)
    check_ordered(POSTGRES_MIGRATIONS)
    assert [m.name for m in SQLITE_MIGRATIONS] == [m.name for m in POSTGRES_MIGRATIONS]
    with pytest.raises(AssertionError):
        check_ordered((Migration(1, "a", ()), Migration(3, "b", ())))


async def test_two_nodes_starting_at_once_migrate_a_fresh_schema_once(
    postgres_place: PostgresPlace,
) -> None:
    place = PostgresPlace(postgres_dsn(), unique_schema())
    try:
        stores = await asyncio.gather(
            *(open_postgres_store(place.dsn, schema=place.schema) for _ in range(3))
        )
        for store in stores:
            await store.close()
        connection = await asyncpg.connect(place.dsn)
        try:
            versions = await connection.fetch(f"SELECT version FROM {place.schema}.schema_version")
            again = await migrate_postgres(connection, place.schema)
            in_schema = await connection.fetch(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = $1",
                place.schema,
            )
        finally:
            await connection.close()
    finally:
        await _drop(place)

    assert [row["version"] for row in versions] == [m.version for m in POSTGRES_MIGRATIONS]
    assert again == 0
    assert {row["table_name"] for row in in_schema} >= {*DATA_TABLES, "schema_version"}


async def _drop(place: PostgresPlace) -> None:
    connection = await asyncpg.connect(place.dsn)
    try:
        await connection.execute(f"DROP SCHEMA IF EXISTS {place.schema} CASCADE")
    finally:
        await connection.close()


async def test_a_schema_name_must_be_plain() -> None:
    with pytest.raises(ValueError, match=r"storage\.schema"):
        await open_postgres_store(postgres_dsn(), schema="x; DROP TABLE y")
