"""The SQLite unit of work: the shared SQL (smsgw/storage/sql/) over sqlite3, plus the
ledger posting and the activation guard, which are SQLite's own.

It runs inside the store's single writer (see sqlite.py), between a SAVEPOINT and its
RELEASE, within a group `BEGIN IMMEDIATE … COMMIT`. The writer is the only one writing,
so there are no races to guard against here: `lock_phone` needs no lock, a claim needs
no SKIP LOCKED and the parts of a long MO need no advisory lock. The calls are `async`
only to share the SQL with PostgreSQL; none suspends, so a unit never yields the loop
while it holds the writer's transaction.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from typing import TYPE_CHECKING

from smsgw.domain.ledger import Account, Transaction, balance_changes, refuse_overdraft, repeat_of
from smsgw.service.ports import SmppPartKey
from smsgw.service.store_port import ActivePlateConflictError
from smsgw.storage.rows import Row
from smsgw.storage.sql.base import UnitConnection
from smsgw.storage.sql.dialect import SQLITE, Dialect, marks
from smsgw.storage.sql.repositories import SqlRepositories
from smsgw.storage.sql.sessions import UPDATE_SESSION

if TYPE_CHECKING:
    from smsgw.service.store_port import Tx


class SqliteRunner(UnitConnection[sqlite3.Connection]):
    """The writer's connection for one unit; unusable once the unit has ended."""

    dialect: Dialect = SQLITE

    async def execute(self, sql: str, params: Sequence[object] = ()) -> int:
        return self.live().execute(sql, params).rowcount

    async def execute_many(self, sql: str, params: Sequence[Sequence[object]]) -> None:
        self.live().executemany(sql, params)

    async def one(self, sql: str, params: Sequence[object] = ()) -> Row | None:
        row: sqlite3.Row | None = self.live().execute(sql, params).fetchone()
        return row

    async def all(self, sql: str, params: Sequence[object] = ()) -> list[Row]:
        return list(self.live().execute(sql, params).fetchall())


class SqliteTx(SqlRepositories):
    """One unit of work on the writer's connection; unusable once the unit has ended."""

    def __init__(self, connection: sqlite3.Connection) -> None:
        super().__init__(SqliteRunner(connection))

    # --- ledger ----------------------------------------------------------------------

    async def post(self, transaction: Transaction) -> Transaction:
        existing = await self._posted_like(transaction)
        if existing is not None:
            return repeat_of(existing, transaction)
        changes = balance_changes(transaction)
        refuse_overdraft(changes, await self._balances([a.key for a in changes]))
        await self._execute(
            "INSERT INTO ledger_transactions (id, kind, reference, at) VALUES (?, ?, ?, ?)",
            transaction.id,
            str(transaction.kind),
            transaction.reference,
            self._time(transaction.at),
        )
        await self._db.execute_many(
            "INSERT INTO ledger_entries (transaction_id, position, account, amount_minor,"
            " currency) VALUES (?, ?, ?, ?, ?)",
            [
                (transaction.id, position, e.account.key, e.amount.minor, e.amount.currency)
                for position, e in enumerate(transaction.entries)
            ],
        )
        await self._apply_changes(changes)
        return transaction

    async def _balances(self, keys: list[str]) -> dict[str, int]:
        found = await self._all(
            f"SELECT account, balance_minor FROM balances WHERE account IN ({marks(len(keys))})",
            *keys,
        )
        return {row["account"]: row["balance_minor"] for row in found}

    async def _apply_changes(self, changes: dict[Account, int]) -> None:
        # create missing rows at zero, then add: an upsert would check the CHECK against
        # the proposed row (the bare change) before it sees the conflict
        await self._db.execute_many(
            "INSERT INTO balances (account, account_kind, currency, balance_minor)"
            " VALUES (?, ?, ?, 0) ON CONFLICT (account) DO NOTHING",
            [(a.key, str(a.kind), a.currency) for a in changes],
        )
        await self._db.execute_many(
            "UPDATE balances SET balance_minor = balance_minor + ? WHERE account = ?",
            [(change, a.key) for a, change in changes.items()],
        )

    # --- what the shared SQL leaves to the backend -----------------------------------

    async def _update_activating(self, plate: str, params: Sequence[object]) -> int:
        try:
            return await self._execute(UPDATE_SESSION, *params)
        except sqlite3.IntegrityError:
            # only the one-active-per-plate index can refuse an update of a stored session
            raise ActivePlateConflictError(plate) from None

    async def lock_driver_codes(self, msisdn: str) -> None:
        return None  # the writer is the only one writing

    async def _one_message_at_a_time(self, key: SmppPartKey) -> None:
        return None  # the single writer runs one unit at a time already


if TYPE_CHECKING:

    def _implements_tx(tx: SqliteTx) -> Tx:
        return tx
