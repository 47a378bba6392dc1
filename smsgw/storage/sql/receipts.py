"""Delivery receipts per part of a reply, and receipts held until the send they belong
to is known (a receipt may come before the submit_sm_resp carrying its message id)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from smsgw.service.ports import HeldReceipt, OutboundPart, OutboxState, PartReceipt
from smsgw.storage import rows
from smsgw.storage.sql.base import SqlTx
from smsgw.storage.sql.dialect import marks


class ReceiptsSql(SqlTx):
    async def record_outbound_part(
        self, outbox_id: str, part: int, parts: int, message_id: str, now: datetime
    ) -> None:
        await self._execute(
            "INSERT INTO outbox_parts (outbox_id, part, parts, message_id, state, sent_at)"
            " VALUES (?, ?, ?, ?, 'sent', ?) ON CONFLICT (outbox_id, part) DO UPDATE SET"
            " parts = excluded.parts, message_id = excluded.message_id, state = 'sent',"
            " sent_at = excluded.sent_at, receipt_at = NULL",
            outbox_id,
            part,
            parts,
            message_id,
            self._time(now),
        )

    async def record_part_receipt(
        self, operator_id: str, message_ids: Sequence[str], state: OutboxState, now: datetime
    ) -> PartReceipt | None:
        if not message_ids:
            return None
        at = self._time(now)
        # message ids recycle on some SMSCs: the receipt belongs to the latest send. The
        # reply's row is locked first (PostgreSQL), so two parts' receipts settle it one
        # at a time.
        found = await self._one(
            "SELECT p.outbox_id, p.part, p.parts, o.state AS reply_state FROM outbox_parts p"
            " JOIN outbox o ON o.outbox_id = p.outbox_id"
            f" WHERE o.operator_id = ? AND p.message_id IN ({marks(len(message_ids))})"
            f" ORDER BY p.sent_at DESC LIMIT 1{self._dialect.lock_rows_of('o')}",
            operator_id,
            *message_ids,
        )
        if found is None:
            return None
        outbox_id = found["outbox_id"]
        await self._execute(
            # the first final receipt of a part stands; a repeat changes nothing
            "UPDATE outbox_parts SET state = ?, receipt_at = ? WHERE outbox_id = ? AND part = ?"
            " AND state = 'sent'",
            str(state),
            at,
            outbox_id,
            found["part"],
        )
        states = [
            row["state"]
            for row in await self._all(
                "SELECT state FROM outbox_parts WHERE outbox_id = ?", outbox_id
            )
        ]
        before = OutboxState(found["reply_state"])
        after = rows.reply_state_of(states, found["parts"])
        if after is None or before in (OutboxState.DELIVERED, OutboxState.FAILED):
            return PartReceipt(outbox_id, operator_id, before, settled=False)
        # a reply still being sent keeps being sent; mark_outbound_sent keeps this state
        await self._execute(
            "UPDATE outbox SET state = ?, receipt_state = ?, receipt_at = ?,"
            " finished_at = coalesce(finished_at, ?) WHERE outbox_id = ?",
            str(after),
            str(after),
            at,
            at,
            outbox_id,
        )
        return PartReceipt(outbox_id, operator_id, after, settled=True)

    async def outbound_parts(self, outbox_id: str) -> Sequence[OutboundPart]:
        found = await self._all(
            "SELECT * FROM outbox_parts WHERE outbox_id = ? ORDER BY part", outbox_id
        )
        return [rows.part_from_row(row, self._read_time) for row in found]

    async def hold_receipt(
        self,
        operator_id: str,
        message_id: str,
        state: OutboxState,
        received_at: datetime,
        expires_at: datetime,
    ) -> None:
        await self._execute(
            "INSERT INTO held_receipts (operator_id, message_id, state, received_at, expires_at)"
            " VALUES (?, ?, ?, ?, ?)",
            operator_id,
            message_id,
            str(state),
            self._time(received_at),
            self._time(expires_at),
        )

    async def held_receipts_for(
        self, operator_id: str, message_ids: Sequence[str]
    ) -> Sequence[HeldReceipt]:
        if not message_ids:
            return []
        found = await self._all(
            "SELECT * FROM held_receipts WHERE operator_id = ?"
            f" AND message_id IN ({marks(len(message_ids))}) ORDER BY received_at, id",
            operator_id,
            *message_ids,
        )
        return [rows.held_receipt_from_row(row, self._read_time) for row in found]

    async def held_receipts(self, limit: int) -> Sequence[HeldReceipt]:
        # two nodes sweeping at once take different receipts
        found = await self._all(
            "SELECT * FROM held_receipts ORDER BY received_at, id"
            f" LIMIT ?{self._dialect.skip_locked}",
            limit,
        )
        return [rows.held_receipt_from_row(row, self._read_time) for row in found]

    async def drop_held_receipt(self, receipt_id: int) -> None:
        await self._execute("DELETE FROM held_receipts WHERE id = ?", receipt_id)
