"""What differs between SQLite and PostgreSQL for the SQL written once.

Statements are written with `?` placeholders (SQLite's); `numbered` rewrites them to
PostgreSQL's `$1, $2, …`. A time goes in as the backend stores it (SQLite: fixed-width
UTC ISO text; PostgreSQL: an aware datetime for timestamptz) and comes out as an aware
datetime. The few clauses only PostgreSQL needs (row locks between nodes) are fragments
that are empty on SQLite, whose single writer has no other writer to exclude.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any, Final, Protocol

from smsgw.storage.rows import Row, as_utc, utc_text

_QUOTES: Final = frozenset("'\"")


@lru_cache(maxsize=1024)
def numbered(sql: str) -> str:
    """`?` placeholders as `$1, $2, …` in order; a `?` inside a quoted literal or a quoted
    name stays as it is (a doubled quote inside one is part of it)."""
    out: list[str] = []
    quote: str | None = None
    count = 0
    for char in sql:
        if quote is not None:
            if char == quote:
                quote = None  # a doubled quote closes and reopens: same result
        elif char in _QUOTES:
            quote = char
        elif char == "?":
            count += 1
            out.append(f"${count}")
            continue
        out.append(char)
    return "".join(out)


def marks(count: int) -> str:
    """`?, ?, …` for an IN list of `count` values (at least one)."""
    if count < 1:
        raise ValueError("an IN list needs at least one value")
    return ", ".join("?" * count)


@dataclass(frozen=True, slots=True)
class Dialect:
    name: str
    encode_time: Callable[[datetime], object]
    decode_time: Callable[[Any], datetime]
    # FOR UPDATE SKIP LOCKED where nodes compete for rows (claims, sweeps)
    skip_locked: str
    # the row lock a read-then-write takes on PostgreSQL: `FOR UPDATE OF <alias>`
    lock_rows_of: Callable[[str], str]
    # a column every table has that identifies a row (tables without a key of their own)
    row_key: str
    # the larger of two values (SQLite's two-argument max)
    greatest: str

    def time(self, moment: datetime) -> object:
        return self.encode_time(moment)

    def optional_time(self, moment: datetime | None) -> object:
        return None if moment is None else self.encode_time(moment)

    def read_time(self, value: Any) -> datetime:
        return self.decode_time(value)

    def read_optional_time(self, value: Any) -> datetime | None:
        return None if value is None else self.decode_time(value)


def _from_text(text: str) -> datetime:
    return datetime.fromisoformat(text)


def _as_is(value: datetime) -> datetime:
    return value  # asyncpg decodes timestamptz as an aware UTC datetime


SQLITE: Final = Dialect(
    name="sqlite",
    encode_time=utc_text,
    decode_time=_from_text,
    skip_locked="",
    lock_rows_of=lambda alias: "",
    row_key="rowid",
    greatest="max",
)
POSTGRES: Final = Dialect(
    name="postgres",
    encode_time=as_utc,
    decode_time=_as_is,
    skip_locked=" FOR UPDATE SKIP LOCKED",
    lock_rows_of=lambda alias: f" FOR UPDATE OF {alias}",
    row_key="ctid",
    greatest="greatest",
)


class SqlRunner(Protocol):
    """One unit of work's connection, as the shared SQL uses it (`?` placeholders)."""

    dialect: Dialect

    async def execute(self, sql: str, params: Sequence[object] = ()) -> int:
        """Run a statement; how many rows it changed."""

    async def execute_many(self, sql: str, params: Sequence[Sequence[object]]) -> None: ...

    async def one(self, sql: str, params: Sequence[object] = ()) -> Row | None: ...

    async def all(self, sql: str, params: Sequence[object] = ()) -> list[Row]: ...

    def close(self) -> None:
        """The unit of work ended: any further call raises TxClosedError."""
