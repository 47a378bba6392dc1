"""The PostgreSQL schema: the one schema source (schema_source.py) with PostgreSQL's
type names."""

from __future__ import annotations

from smsgw.storage.schema import Migration
from smsgw.storage.schema_source import MIGRATIONS, POSTGRES_TYPES, render

POSTGRES_MIGRATIONS: tuple[Migration, ...] = render(MIGRATIONS, POSTGRES_TYPES)
