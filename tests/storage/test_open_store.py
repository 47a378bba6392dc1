"""open_store picks the backend from the DSN; a bad DSN names the `storage.dsn` key."""

from __future__ import annotations

from pathlib import Path

import pytest

from smsgw.storage import PostgresTarget, SqliteTarget, open_store, parse_dsn
from smsgw.storage.postgres import PostgresStore
from smsgw.storage.sqlite import SqliteStore
from tests.storage.backends import Backend, PostgresPlace
from tests.storage.builders import T0


@pytest.mark.parametrize(
    ("dsn", "target"),
    [
        ("sqlite:///var/smsgw.sqlite3", SqliteTarget("var/smsgw.sqlite3")),
        ("sqlite:////srv/smsgw/db.sqlite3", SqliteTarget("/srv/smsgw/db.sqlite3")),
        ("sqlite:///:memory:", SqliteTarget(":memory:")),
        ("postgresql://smsgw@db/smsgw", PostgresTarget("postgresql://smsgw@db/smsgw")),
        ("postgres://db:5433/smsgw", PostgresTarget("postgres://db:5433/smsgw")),
    ],
)
def test_a_dsn_names_its_backend(dsn: str, target: SqliteTarget | PostgresTarget) -> None:
    assert parse_dsn(dsn) == target


@pytest.mark.parametrize(
    "dsn",
    [
        "",
        "var/smsgw.sqlite3",
        "sqlite://var/x",
        "sqlite:///",
        "sqlite:///var/",
        "mysql://db/x",
        "postgresql://",
        "sqlite:///x.db?mode=ro",
    ],
)
def test_a_bad_dsn_names_the_setting(dsn: str) -> None:
    with pytest.raises(ValueError, match=r"^storage\.dsn: "):
        parse_dsn(dsn)


def test_a_bad_dsn_never_shows_a_password() -> None:
    with pytest.raises(ValueError) as refused:
        parse_dsn("mysql://smsgw:s3cret@db/x")

    assert "s3cret" not in str(refused.value)
    assert "smsgw:***@db/x" in str(refused.value)


async def test_a_relative_sqlite_path_is_from_the_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)

    store = await open_store("sqlite:///var/here.sqlite3")
    await store.close()

    assert isinstance(store, SqliteStore)
    assert (tmp_path / "var" / "here.sqlite3").exists()


async def test_an_absolute_sqlite_path(tmp_path: Path) -> None:
    store = await open_store(f"sqlite:///{tmp_path}/abs.sqlite3")  # a fourth slash from the path
    await store.close()

    assert (tmp_path / "abs.sqlite3").exists()


async def test_an_in_memory_sqlite_store_works(tmp_path: Path) -> None:
    store = await open_store("sqlite:///:memory:")
    await store.ping()
    await store.close()


async def test_a_postgresql_dsn_opens_postgres(postgres_place: PostgresPlace) -> None:
    backend = Backend("postgres", postgres=postgres_place)
    await backend.empty()
    joiner = "&" if "?" in postgres_place.dsn else "?"
    # server settings ride on the DSN: here, the test schema instead of `public`
    store = await open_store(f"{postgres_place.dsn}{joiner}search_path={postgres_place.schema}")
    await store.ping()
    await store.transact(lambda tx: tx.remember_nonce("mts", "n1", T0))
    await store.close()

    raw = await backend.raw()
    try:
        assert await raw.rows("SELECT operator_id, nonce FROM callback_nonces") == [("mts", "n1")]
    finally:
        await raw.close()
    assert isinstance(store, PostgresStore)
