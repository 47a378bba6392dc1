"""The ledger's reads, shared; posting (how balance rows are locked, checked and
updated) is each backend's own (sqlite_tx.py, postgres_tx.py)."""

from __future__ import annotations

from smsgw.domain.ledger import Account, Transaction
from smsgw.domain.money import Money
from smsgw.storage import rows
from smsgw.storage.rows import Row
from smsgw.storage.sql.base import SqlTx


class LedgerSql(SqlTx):
    async def balance(self, account: Account) -> Money:
        row = await self._one("SELECT balance_minor FROM balances WHERE account = ?", account.key)
        return Money(0 if row is None else int(row["balance_minor"]), account.currency)

    async def _posted_like(self, transaction: Transaction) -> Transaction | None:
        """The stored transaction with this id, else with this (kind, reference)."""
        head = await self._one(
            "SELECT * FROM ledger_transactions"
            " WHERE id = ? OR (kind = ? AND reference = ?)"
            " ORDER BY id = ? DESC LIMIT 1",
            transaction.id,
            str(transaction.kind),
            transaction.reference,
            transaction.id,
        )
        return None if head is None else await self._with_entries(head)

    async def _with_entries(self, head: Row) -> Transaction:
        entries = await self._all(
            "SELECT account, amount_minor, currency FROM ledger_entries"
            " WHERE transaction_id = ? ORDER BY position",
            head["id"],
        )
        return rows.transaction_from_rows(
            head, [rows.entry_from_row(e) for e in entries], self._read_time
        )
