"""The PostgreSQL unit of work: the shared SQL (smsgw/storage/sql/) over one asyncpg
connection, plus what only PostgreSQL needs because nodes share the database.

Runs in a READ COMMITTED transaction that several gateway nodes share the database
with, so every read-then-write is guarded: `lock_phone` row-locks the phone (serialising
a phone's units across nodes), claims take rows with FOR UPDATE SKIP LOCKED, partial
unique indexes are hit with ON CONFLICT so a refusal never aborts the transaction,
ledger balance rows are locked in key order before they are checked, and the parts of
one long MO, like a phone's sign-in code requests, are stored under an advisory lock.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import asyncpg  # asyncpg ships no type hints

from smsgw.domain.ledger import (
    Account,
    ConflictingPostingError,
    Transaction,
    balance_changes,
    refuse_overdraft,
    repeat_of,
)
from smsgw.service.ports import SmppPartKey
from smsgw.service.store_port import ActivePlateConflictError
from smsgw.storage.rows import Row
from smsgw.storage.sql.base import UnitConnection
from smsgw.storage.sql.dialect import POSTGRES, Dialect, numbered
from smsgw.storage.sql.repositories import SqlRepositories
from smsgw.storage.sql.sessions import UPDATE_SESSION

if TYPE_CHECKING:
    from smsgw.service.store_port import Tx


def _count(status: str) -> int:
    """The row count from a command tag: 'INSERT 0 1', 'UPDATE 3', 'DELETE 0'."""
    return int(status.rsplit(" ", 1)[-1])


class PostgresRunner(UnitConnection[asyncpg.Connection]):
    """A pooled connection for one unit; `?` placeholders become `$n`."""

    dialect: Dialect = POSTGRES

    async def execute(self, sql: str, params: Sequence[object] = ()) -> int:
        return _count(await self.live().execute(numbered(sql), *params))

    async def execute_many(self, sql: str, params: Sequence[Sequence[object]]) -> None:
        await self.live().executemany(numbered(sql), params)

    async def one(self, sql: str, params: Sequence[object] = ()) -> Row | None:
        row: asyncpg.Record | None = await self.live().fetchrow(numbered(sql), *params)
        return row

    async def all(self, sql: str, params: Sequence[object] = ()) -> list[Row]:
        found: list[asyncpg.Record] = await self.live().fetch(numbered(sql), *params)
        return list(found)


class PostgresTx(SqlRepositories):
    """One unit of work on a pooled connection; unusable once the unit has ended."""

    def __init__(self, connection: asyncpg.Connection) -> None:
        self._runner = PostgresRunner(connection)
        super().__init__(self._runner)

    # --- ledger ----------------------------------------------------------------------

    async def post(self, transaction: Transaction) -> Transaction:
        changes = balance_changes(transaction)
        # Lock the balance rows first (in key order): a node posting the same movement
        # at the same moment has committed by the time we hold them, so the look-up
        # below finds its transaction and this is a repeat, not an overdraft.
        balances = await self._lock_balances([a.key for a in changes])
        existing = await self._posted_like(transaction)
        if existing is not None:
            return repeat_of(existing, transaction)
        # refuse before writing anything: the caller may catch the refusal and go on
        refuse_overdraft(changes, balances)
        claimed = await self._one(
            "INSERT INTO ledger_transactions (id, kind, reference, at) VALUES (?, ?, ?, ?)"
            " ON CONFLICT DO NOTHING RETURNING id",
            transaction.id,
            str(transaction.kind),
            transaction.reference,
            self._time(transaction.at),
        )
        if claimed is None:  # raced on balance rows that did not exist yet
            return await self._posted_meanwhile(transaction)
        await self._insert_entries(transaction)
        await self._apply_changes(changes)
        return transaction

    async def _posted_meanwhile(self, transaction: Transaction) -> Transaction:
        existing = await self._posted_like(transaction)
        if existing is None:  # cannot happen: ON CONFLICT only yields to a committed row
            raise ConflictingPostingError(
                transaction=transaction.id, reference=transaction.reference
            )
        return repeat_of(existing, transaction)

    async def _lock_balances(self, keys: list[str]) -> dict[str, int]:
        found = await self._all(
            "SELECT account, balance_minor FROM balances WHERE account = ANY(?::text[])"
            " ORDER BY account FOR UPDATE",
            keys,
        )
        return {row["account"]: row["balance_minor"] for row in found}

    async def _insert_entries(self, transaction: Transaction) -> None:
        entries = transaction.entries
        await self._execute(
            "INSERT INTO ledger_entries (transaction_id, position, account, amount_minor,"
            " currency) SELECT ?, * FROM unnest(?::int[], ?::text[], ?::bigint[], ?::text[])",
            transaction.id,
            list(range(len(entries))),
            [e.account.key for e in entries],
            [e.amount.minor for e in entries],
            [e.amount.currency for e in entries],
        )

    async def _apply_changes(self, changes: dict[Account, int]) -> None:
        # create missing rows at zero, then add: an upsert would check the CHECK against
        # the proposed row (the bare change) before it sees the conflict
        accounts = list(changes)
        await self._execute(
            "INSERT INTO balances (account, account_kind, currency, balance_minor)"
            " SELECT account, kind, currency, 0"
            " FROM unnest(?::text[], ?::text[], ?::text[]) AS a(account, kind, currency)"
            " ORDER BY account ON CONFLICT (account) DO NOTHING",
            [a.key for a in accounts],
            [str(a.kind) for a in accounts],
            [a.currency for a in accounts],
        )
        await self._execute(
            "UPDATE balances SET balance_minor = balances.balance_minor + c.change"
            " FROM unnest(?::text[], ?::bigint[]) AS c(account, change)"
            " WHERE balances.account = c.account",
            [a.key for a in accounts],
            list(changes.values()),
        )

    # --- what the shared SQL leaves to the backend -----------------------------------

    async def _update_activating(self, plate: str, params: Sequence[object]) -> int:
        # only an activation can hit the one-active-per-plate index; the savepoint
        # keeps the unit's transaction usable when it does
        try:
            async with self._runner.live().transaction():
                return await self._execute(UPDATE_SESSION, *params)
        except asyncpg.UniqueViolationError:
            raise ActivePlateConflictError(plate) from None

    async def lock_driver_codes(self, msisdn: str) -> None:
        await self._execute(
            "SELECT pg_advisory_xact_lock(hashtext(?))", f"driver_codes\x1f{msisdn}"
        )

    async def _one_message_at_a_time(self, key: SmppPartKey) -> None:
        await self._execute(
            "SELECT pg_advisory_xact_lock(hashtext(?))",
            f"smpp_mo_parts\x1f{key.link_id}\x1f{key.sender}\x1f{key.receiver}"
            f"\x1f{key.reference}\x1f{key.total}",
        )


if TYPE_CHECKING:

    def _implements_tx(tx: PostgresTx) -> Tx:
        return tx
