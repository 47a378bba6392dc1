"""Retention: the oldest finished rows deleted in small batches, so a sweep never holds
the database for long."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Final

from smsgw.storage.sql.base import SqlTx


@dataclass(frozen=True, slots=True)
class _Finished:
    """Which rows of a table retention may delete, oldest first."""

    table: str
    key: str | None  # the column naming a row; None: the dialect's row key
    condition: str  # its one `?` is the cutoff; ends with the ORDER BY (oldest first)


# charges nothing will change any more: the ones retention may prune
_FINISHED_CHARGES = "('applied', 'declined', 'expired', 'failed')"

_INBOUND: Final = _Finished(
    "inbound", "id", "processed_at IS NOT NULL AND received_at < ? ORDER BY received_at"
)
_OUTBOX: Final = _Finished(
    "outbox", "outbox_id", "state <> 'pending' AND created_at < ? ORDER BY created_at"
)
_CHARGES: Final = _Finished(
    "charges",
    "id",
    f"state IN {_FINISHED_CHARGES} AND requested_at < ? AND NOT EXISTS ("
    " SELECT 1 FROM sessions WHERE sessions.id = charges.purpose"
    " AND sessions.state = 'active') ORDER BY requested_at",
)
_NONCES: Final = _Finished("callback_nonces", None, "seen_at < ? ORDER BY seen_at")
_DRIVER_CODES: Final = _Finished("driver_codes", "id", "created_at < ? ORDER BY created_at")
# a sign-in is dead once expired or revoked, whichever came first
_DRIVER_SESSIONS: Final = _Finished(
    "driver_sessions",
    "id",
    "coalesce(revoked_at, expires_at) < ? ORDER BY coalesce(revoked_at, expires_at)",
)


class RetentionSql(SqlTx):
    async def prune_inbound(self, before: datetime, limit: int) -> int:
        return await self._prune(_INBOUND, before, limit)

    async def prune_outbox(self, before: datetime, limit: int) -> int:
        return await self._prune(_OUTBOX, before, limit)

    async def prune_charges(self, before: datetime, limit: int) -> int:
        return await self._prune(_CHARGES, before, limit)

    async def prune_nonces(self, before: datetime, limit: int) -> int:
        return await self._prune(_NONCES, before, limit)

    async def prune_driver_codes(self, before: datetime, limit: int) -> int:
        return await self._prune(_DRIVER_CODES, before, limit)

    async def prune_driver_sessions(self, before: datetime, limit: int) -> int:
        return await self._prune(_DRIVER_SESSIONS, before, limit)

    async def _prune(self, rows: _Finished, before: datetime, limit: int) -> int:
        table = rows.table
        key = rows.key if rows.key is not None else self._dialect.row_key
        # no DELETE … LIMIT (SQLite's is a compile-time option): delete the keys a
        # bounded SELECT found. SKIP LOCKED (PostgreSQL): a row another node holds is
        # left for the next round, never waited on.
        return await self._execute(
            f"DELETE FROM {table} WHERE {key} IN (SELECT {key} FROM {table}"
            f" WHERE {rows.condition} LIMIT ?{self._dialect.skip_locked})",
            self._time(before),
            limit,
        )
