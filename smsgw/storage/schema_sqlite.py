"""The SQLite schema: the one schema source (schema_source.py) with SQLite's type names."""

from __future__ import annotations

from smsgw.storage.schema import Migration
from smsgw.storage.schema_source import MIGRATIONS, SQLITE_TYPES, render

SQLITE_MIGRATIONS: tuple[Migration, ...] = render(MIGRATIONS, SQLITE_TYPES)
