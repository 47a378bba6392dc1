"""Fixtures: `store` runs each contract test on SQLite and on PostgreSQL.

PostgreSQL comes from SMSGW_TEST_POSTGRES_DSN (default: the local `test` database). It is
shared with other test runs, so this session works in a schema of its own, dropped at
the end. Unreachable: the PostgreSQL tests skip, or fail when CI=true.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import asyncpg
import pytest

from smsgw.service.store_port import Store
from smsgw.storage.errors import StoreUnavailableError
from smsgw.storage.postgres import open_postgres_store
from tests.storage.backends import Backend, PostgresPlace, postgres_dsn, unique_schema

CONNECT_TIMEOUT = 3.0  # seconds: only a guard for an unreachable server


async def _prepare_schema(place: PostgresPlace) -> None:
    store = await asyncio.wait_for(
        open_postgres_store(place.dsn, schema=place.schema), CONNECT_TIMEOUT
    )
    await store.close()


async def _drop_schema(place: PostgresPlace) -> None:
    connection = await asyncpg.connect(place.dsn)
    try:
        await connection.execute(f"DROP SCHEMA IF EXISTS {place.schema} CASCADE")
    finally:
        await connection.close()


@pytest.fixture(scope="session")
def postgres_place() -> Iterator[PostgresPlace]:
    place = PostgresPlace(postgres_dsn(), unique_schema())
    try:
        asyncio.run(_prepare_schema(place))
    except (StoreUnavailableError, OSError, TimeoutError, asyncpg.PostgresError) as exc:
        message = f"PostgreSQL (SMSGW_TEST_POSTGRES_DSN or the local test db) unusable: {exc!r}"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message)
        pytest.skip(message)
    try:
        yield place
    finally:
        asyncio.run(_drop_schema(place))


@pytest.fixture(params=["sqlite", "postgres"])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Backend:
    if request.param == "postgres":
        place: PostgresPlace = request.getfixturevalue("postgres_place")
        return Backend("postgres", postgres=place)
    return Backend("sqlite", sqlite_path=tmp_path / "var" / "smsgw.sqlite3")


@pytest.fixture
async def store(backend: Backend) -> AsyncIterator[Store]:
    await backend.empty()
    opened = await backend.open()
    try:
        yield opened
    finally:
        await opened.close()
