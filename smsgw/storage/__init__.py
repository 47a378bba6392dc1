"""Storage behind the service's ports: SQLite (embedded) or PostgreSQL (several nodes).

    store = await open_store("sqlite:///var/smsgw.sqlite3")    # relative to the cwd
    store = await open_store("sqlite:////srv/smsgw/db.sqlite3")  # absolute
    store = await open_store("postgresql://smsgw@db.example/smsgw")

Both implement `smsgw.service.store_port.Store`, and one contract-test suite
(tests/storage) runs against both.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from smsgw.domain.errors import ConfigError
from smsgw.service.store_port import Store
from smsgw.storage.sqlite import open_sqlite_store

DEFAULT_DSN: Final = "sqlite:///var/smsgw.sqlite3"
DSN_KEY: Final = "storage.dsn"
_SQLITE_PREFIX: Final = "sqlite:///"
_POSTGRES_PREFIXES: Final = ("postgresql://", "postgres://")


@dataclass(frozen=True, slots=True)
class SqliteTarget:
    path: str


@dataclass(frozen=True, slots=True)
class PostgresTarget:
    dsn: str


def parse_dsn(dsn: str) -> SqliteTarget | PostgresTarget:
    """Which backend a DSN names; ConfigError (a ValueError) naming `storage.dsn` if none."""
    if dsn.startswith(_SQLITE_PREFIX):
        path = dsn.removeprefix(_SQLITE_PREFIX)
        if not path or path.endswith("/") or "?" in path:
            raise ConfigError(DSN_KEY, f"a SQLite DSN names a file, got {dsn!r}")
        return SqliteTarget(path)
    if dsn.startswith(_POSTGRES_PREFIXES):
        if dsn.partition("://")[2] in ("", "/"):
            raise ConfigError(DSN_KEY, "a PostgreSQL DSN needs a host or a database")
        return PostgresTarget(dsn)
    raise ConfigError(
        DSN_KEY,
        f"expected sqlite:///relative/path, sqlite:////absolute/path or postgresql://…, "
        f"got {_without_password(dsn)!r}",
    )


def _without_password(dsn: str) -> str:
    """A DSN for an error message: never print a password from the config."""
    scheme, sep, rest = dsn.partition("://")
    credentials, at, host = rest.rpartition("@")
    if not sep or not at or ":" not in credentials:
        return dsn
    user = credentials.partition(":")[0]
    return f"{scheme}://{user}:***@{host}"


async def open_store(dsn: str) -> Store:
    """Open the store a DSN names, migrated and ready."""
    target = parse_dsn(dsn)
    if isinstance(target, SqliteTarget):
        return await open_sqlite_store(target.path)
    # imported here so the embedded deployment never loads asyncpg
    from smsgw.storage.postgres import open_postgres_store

    return await open_postgres_store(target.dsn)


__all__ = ["DEFAULT_DSN", "PostgresTarget", "SqliteTarget", "open_store", "parse_dsn"]
