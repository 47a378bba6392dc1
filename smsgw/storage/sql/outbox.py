"""The outbox: replies queued in the unit that decided them, claimed by a sender under
a lease, finished by its answer, and settled by the delivery receipt."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from smsgw.service.messages import OutboundSms
from smsgw.service.ports import OutboxState, StoredOutbound
from smsgw.storage import rows
from smsgw.storage.errors import UnknownRowError
from smsgw.storage.sql.base import SqlTx


class OutboxSql(SqlTx):
    async def enqueue_outbound(self, sms: OutboundSms) -> bool:
        inserted = await self._execute(
            "INSERT INTO outbox (outbox_id, operator_id, sender, receiver, text, created_at,"
            " state) VALUES (?, ?, ?, ?, ?, ?, 'pending') ON CONFLICT (outbox_id) DO NOTHING",
            sms.outbox_id,
            sms.operator_id,
            sms.sender,
            sms.receiver,
            sms.text,
            self._time(sms.created_at),
        )
        return inserted == 1

    async def claim_outbound(
        self, now: datetime, node: str, lease_seconds: float, limit: int
    ) -> Sequence[StoredOutbound]:
        at = self._time(now)
        found = await self._all(
            "UPDATE outbox SET lease_owner = ?, lease_until = ? WHERE outbox_id IN ("
            " SELECT outbox_id FROM outbox WHERE state = 'pending'"
            " AND (not_before IS NULL OR not_before <= ?)"
            " AND (lease_until IS NULL OR lease_until <= ?)"
            f" ORDER BY created_at, outbox_id LIMIT ?{self._dialect.skip_locked}) RETURNING *",
            node,
            self._time(rows.lease_end(now, lease_seconds)),
            at,
            at,
            limit,
        )
        found.sort(key=lambda row: (row["created_at"], row["outbox_id"]))
        return [rows.outbound_from_row(row, self._read_time) for row in found]

    async def _finish_attempt(self, outbox_id: str, assignments: str, *params: object) -> None:
        updated = await self._execute(
            f"UPDATE outbox SET {assignments}, attempts = attempts + 1, lease_owner = NULL,"
            " lease_until = NULL WHERE outbox_id = ?",
            *params,
            outbox_id,
        )
        if updated == 0:
            raise UnknownRowError(f"outbox {outbox_id}")

    async def mark_outbound_sent(self, outbox_id: str, message_id: str, now: datetime) -> None:
        await self._finish_attempt(
            outbox_id,
            # a receipt may overtake the sender's answer (Kannel submits before it
            # answers sendsms): what it said stands
            "state = CASE WHEN receipt_state IS NULL THEN 'sent' ELSE state END,"
            " message_id = ?, sent_at = ?",
            message_id,
            self._time(now),
        )

    async def retry_outbound(self, outbox_id: str, not_before: datetime, error: str) -> None:
        await self._finish_attempt(
            outbox_id, "not_before = ?, last_error = ?", self._time(not_before), error
        )

    async def fail_outbound(self, outbox_id: str, error: str, now: datetime) -> None:
        await self._finish_attempt(
            outbox_id, "state = 'failed', last_error = ?, finished_at = ?", error, self._time(now)
        )

    async def record_receipt(
        self, operator_id: str, message_id: str, state: OutboxState, now: datetime
    ) -> bool:
        at = self._time(now)
        # message ids recycle on some SMSCs: the receipt belongs to the latest send
        updated = await self._execute(
            "UPDATE outbox SET state = ?, receipt_state = ?, receipt_at = ?,"
            " finished_at = coalesce(finished_at, ?) WHERE outbox_id = ("
            " SELECT outbox_id FROM outbox WHERE operator_id = ?"
            # HTTP senders (Kannel) report by our own outbox id, possibly before the
            # send is marked: match that too
            " AND (message_id = ? OR (message_id IS NULL AND outbox_id = ?))"
            " ORDER BY sent_at DESC NULLS LAST LIMIT 1)",
            str(state),
            str(state),
            at,
            at,
            operator_id,
            message_id,
            message_id,
        )
        return updated == 1

    async def get_outbound(self, outbox_id: str) -> StoredOutbound | None:
        row = await self._one("SELECT * FROM outbox WHERE outbox_id = ?", outbox_id)
        return None if row is None else rows.outbound_from_row(row, self._read_time)
