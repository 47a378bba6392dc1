"""Retention: the oldest finished rows deleted in small batches, so a sweep never holds
the database for long."""

from __future__ import annotations

from datetime import datetime

from smsgw.storage.sql.base import SqlTx

# charges nothing will change any more: the ones retention may prune
_FINISHED_CHARGES = "('applied', 'declined', 'expired', 'failed')"


class RetentionSql(SqlTx):
    async def prune_inbound(self, before: datetime, limit: int) -> int:
        return await self._prune(
            "inbound",
            "id",
            "processed_at IS NOT NULL AND received_at < ? ORDER BY received_at",
            before,
            limit,
        )

    async def prune_outbox(self, before: datetime, limit: int) -> int:
        return await self._prune(
            "outbox",
            "outbox_id",
            "state <> 'pending' AND created_at < ? ORDER BY created_at",
            before,
            limit,
        )

    async def prune_charges(self, before: datetime, limit: int) -> int:
        return await self._prune(
            "charges",
            "id",
            f"state IN {_FINISHED_CHARGES} AND requested_at < ? AND NOT EXISTS ("
            " SELECT 1 FROM sessions WHERE sessions.id = charges.purpose"
            " AND sessions.state = 'active') ORDER BY requested_at",
            before,
            limit,
        )

    async def prune_nonces(self, before: datetime, limit: int) -> int:
        return await self._prune(
            "callback_nonces", self._dialect.row_key, "seen_at < ? ORDER BY seen_at", before, limit
        )

    async def _prune(
        self, table: str, key: str, condition: str, before: datetime, limit: int
    ) -> int:
        # no DELETE … LIMIT (SQLite's is a compile-time option): delete the keys a
        # bounded SELECT found. SKIP LOCKED (PostgreSQL): a row another node holds is
        # left for the next round, never waited on.
        return await self._execute(
            f"DELETE FROM {table} WHERE {key} IN (SELECT {key} FROM {table}"
            f" WHERE {condition} LIMIT ?{self._dialect.skip_locked})",
            self._time(before),
            limit,
        )
