"""Versioned schema migrations, shared shape for both backends.

The migrations are written once (schema_source.py) and rendered with each backend's
type names (schema_sqlite, schema_postgres), so a version means the same tables on both.
A migration is a tuple of statements (not a script) so it runs inside the caller's
transaction: SQLite's executescript would commit on its own.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from smsgw.storage.errors import SchemaTooNewError

SCHEMA_VERSION_TABLE = "schema_version"


@dataclass(frozen=True, slots=True)
class Migration:
    version: int
    name: str
    statements: tuple[str, ...]


def pending_migrations(
    migrations: Sequence[Migration], applied: Iterable[int]
) -> tuple[Migration, ...]:
    """The migrations not yet applied, in order; refuse a database newer than the code."""
    applied_versions = set(applied)
    known = {migration.version for migration in migrations}
    unknown = sorted(applied_versions - known)
    if unknown:
        raise SchemaTooNewError(
            f"database has schema version(s) {unknown} this smsgw does not know "
            f"(it knows up to {max(known, default=0)}): run a newer smsgw"
        )
    return tuple(m for m in migrations if m.version not in applied_versions)


def check_ordered(migrations: Sequence[Migration]) -> None:
    """Versions must be 1, 2, 3…: a gap or a repeat is a bug in this package."""
    versions = [migration.version for migration in migrations]
    if versions != list(range(1, len(versions) + 1)):
        raise AssertionError(f"migration versions must be 1..n in order, got {versions}")


# the tables whose rows a node leases while it works on them
LEASED_TABLES = ("inbound", "outbox", "jobs")
