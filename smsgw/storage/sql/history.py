"""Support and metrics, read only: a phone's history and the store's figures."""

from __future__ import annotations

from datetime import datetime

from smsgw.service.ports import PhoneHistory, StoreFigures
from smsgw.storage import rows
from smsgw.storage.sql.ledger import LedgerSql


class HistorySql(LedgerSql):
    async def phone_history(self, msisdn: str, until: datetime | None, limit: int) -> PhoneHistory:
        first, after_last = rows.phone_account_range(msisdn)
        # a bound only when there is one: `? IS NULL` has no type PostgreSQL can infer
        bound: tuple[object, ...] = () if until is None else (self._time(until),)

        def upto(column: str) -> str:
            return "" if until is None else f" AND {column} <= ?"

        heads = await self._all(
            "SELECT * FROM ledger_transactions WHERE id IN (SELECT transaction_id"
            " FROM ledger_entries WHERE account >= ? AND account < ?)"
            f"{upto('at')} ORDER BY at DESC, id DESC LIMIT ?",
            first,
            after_last,
            *bound,
            limit,
        )
        charges = await self._all(
            f"SELECT * FROM charges WHERE phone = ?{upto('requested_at')}"
            " ORDER BY requested_at DESC, id DESC LIMIT ?",
            msisdn,
            *bound,
            limit,
        )
        sessions = await self._all(
            f"SELECT * FROM sessions WHERE phone = ?{upto('start_at')}"
            " ORDER BY start_at DESC, id DESC LIMIT ?",
            msisdn,
            *bound,
            limit,
        )
        replies = await self._all(
            f"SELECT * FROM outbox WHERE receiver = ?{upto('created_at')}"
            " ORDER BY created_at DESC, outbox_id DESC LIMIT ?",
            msisdn,
            *bound,
            limit,
        )
        read = self._read_time
        return PhoneHistory(
            movements=[await self._with_entries(head) for head in heads],
            charges=[rows.charge_from_row(row, read) for row in charges],
            sessions=[rows.session_from_row(row, read) for row in sessions],
            replies=[rows.outbound_from_row(row, read) for row in replies],
        )

    async def store_figures(self) -> StoreFigures:
        operators = await self._all(
            "SELECT account, balance_minor FROM balances WHERE account_kind = 'operator'"
            " ORDER BY account"
        )
        refunds = await self._all(
            "SELECT e.account, -sum(e.amount_minor) AS refunded FROM ledger_transactions t"
            " JOIN ledger_entries e ON e.transaction_id = t.id"
            " WHERE t.kind = 'session_refund' AND e.account >= 'revenue:'"
            " AND e.account < 'revenue;' GROUP BY e.account ORDER BY e.account"
        )
        active = await self._all(
            "SELECT zone, count(*) AS sessions FROM sessions WHERE state = 'active'"
            " GROUP BY zone ORDER BY zone"
        )
        # PostgreSQL sums a bigint into a numeric: back to int
        return rows.store_figures(
            [(row["account"], -int(row["balance_minor"])) for row in operators],
            [(row["account"], int(row["refunded"])) for row in refunds],
            [(row["zone"], int(row["sessions"])) for row in active],
        )
