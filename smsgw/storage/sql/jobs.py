"""Scheduled jobs (every "later" is one), claimed under a lease, and the release of a
node's leases when it stops."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from smsgw.service.ports import Job
from smsgw.storage import rows
from smsgw.storage.schema import LEASED_TABLES
from smsgw.storage.sql.base import SqlTx


class JobsSql(SqlTx):
    async def schedule(self, job: Job) -> None:
        # a moved job takes the new id, so a node still finishing the old one (it will
        # call complete_job with the old id) cannot delete the move
        await self._execute(
            "INSERT INTO jobs (id, kind, reference, due_at) VALUES (?, ?, ?, ?)"
            " ON CONFLICT (kind, reference) DO UPDATE SET id = excluded.id,"
            " due_at = excluded.due_at, lease_owner = NULL, lease_until = NULL",
            job.id,
            str(job.kind),
            job.reference,
            self._time(job.due_at),
        )

    async def cancel_jobs(self, reference: str) -> None:
        await self._execute("DELETE FROM jobs WHERE reference = ?", reference)

    async def claim_due_jobs(
        self, now: datetime, node: str, lease_seconds: float, limit: int
    ) -> Sequence[Job]:
        at = self._time(now)
        found = await self._all(
            "UPDATE jobs SET lease_owner = ?, lease_until = ? WHERE id IN ("
            " SELECT id FROM jobs WHERE due_at <= ?"
            " AND (lease_until IS NULL OR lease_until <= ?)"
            f" ORDER BY due_at, id LIMIT ?{self._dialect.skip_locked}) RETURNING *",
            node,
            self._time(rows.lease_end(now, lease_seconds)),
            at,
            at,
            limit,
        )
        found.sort(key=lambda row: (row["due_at"], row["id"]))  # RETURNING has no order
        return [rows.job_from_row(row, self._read_time) for row in found]

    async def complete_job(self, job_id: str) -> None:
        await self._execute("DELETE FROM jobs WHERE id = ?", job_id)

    async def release_leases(self, node: str) -> int:
        freed = 0
        for table in LEASED_TABLES:
            freed += await self._execute(
                f"UPDATE {table} SET lease_owner = NULL, lease_until = NULL WHERE lease_owner = ?",
                node,
            )
        return freed
