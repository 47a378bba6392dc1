"""The one schema source renders, for versions 1–5, exactly the schema those versions
have always produced on each backend: existing databases keep working.

The expected dumps (tests/storage/schema_dumps/) were taken from a fresh database
migrated by the two hand-written schemas this source replaced. A dump lists every
table, index and constraint as the database itself describes them (sqlite_master's SQL
text; PostgreSQL's catalog), so a changed type, default, index or constraint shows.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import asyncpg
import pytest

from smsgw.storage.schema import Migration
from smsgw.storage.schema_postgres import POSTGRES_MIGRATIONS
from smsgw.storage.schema_sqlite import SQLITE_MIGRATIONS
from tests.storage.backends import postgres_dsn, unique_schema

DUMPS = Path(__file__).parent / "schema_dumps"
FROZEN_VERSIONS = 5  # what released databases may hold


def _statements(migrations: tuple[Migration, ...]) -> list[str]:
    return [s for m in migrations if m.version <= FROZEN_VERSIONS for s in m.statements]


def sqlite_dump(path: Path) -> str:
    connection = sqlite3.connect(path)
    try:
        for statement in _statements(SQLITE_MIGRATIONS):
            connection.execute(statement)
        found = connection.execute(
            "SELECT type, name, tbl_name, sql FROM sqlite_master ORDER BY type, name"
        ).fetchall()
    finally:
        connection.close()
    return "\n".join(" | ".join(str(value) for value in row) for row in found) + "\n"


_PG_CATALOG = (
    (
        "SELECT table_name, column_name, data_type, is_nullable, coalesce(column_default, '')"
        " FROM information_schema.columns WHERE table_schema = $1"
        " ORDER BY table_name, ordinal_position"
    ),
    "SELECT tablename, indexdef FROM pg_indexes WHERE schemaname = $1 ORDER BY indexname",
    (
        "SELECT c.conrelid::regclass::text, c.conname, pg_get_constraintdef(c.oid)"
        " FROM pg_constraint c JOIN pg_namespace n ON n.oid = c.connamespace"
        " WHERE n.nspname = $1 ORDER BY c.conrelid::regclass::text, c.conname"
    ),
)


async def postgres_dump() -> str:
    try:
        connection = await asyncpg.connect(postgres_dsn())
    except (OSError, asyncpg.PostgresError) as exc:
        pytest.skip(f"PostgreSQL unreachable: {exc!r}")
    schema = unique_schema()
    lines: list[str] = []
    try:
        await connection.execute(f"CREATE SCHEMA {schema}")
        async with connection.transaction():
            await connection.execute(f"SET LOCAL search_path TO {schema}")
            for statement in _statements(POSTGRES_MIGRATIONS):
                await connection.execute(statement)
        for query in _PG_CATALOG:
            for row in await connection.fetch(query, schema):
                lines.append(" | ".join(str(value) for value in row).replace(schema, "<schema>"))
    finally:
        await connection.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
        await connection.close()
    return "\n".join(lines) + "\n"


def test_sqlite_versions_1_to_5_produce_the_schema_they_always_did(tmp_path: Path) -> None:
    expected = (DUMPS / "sqlite_v1_5.txt").read_text()
    assert sqlite_dump(tmp_path / "fresh.sqlite3") == expected


async def test_postgres_versions_1_to_5_produce_the_schema_they_always_did() -> None:
    expected = (DUMPS / "postgres_v1_5.txt").read_text()
    assert await postgres_dump() == expected
