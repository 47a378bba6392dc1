"""The PostgreSQL unit of work: every `Tx` method over one asyncpg connection.

Runs in a READ COMMITTED transaction that several gateway nodes share the database
with, so every read-then-write is guarded: `lock_phone` row-locks the phone (serialising
a phone's units across nodes), claims take rows with FOR UPDATE SKIP LOCKED, partial
unique indexes are hit with ON CONFLICT so a refusal never aborts the transaction, and
ledger balance rows are locked in key order before they are checked.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any, NoReturn

import asyncpg  # asyncpg ships no type hints

from smsgw.domain.charges import PENDING_STATES, RESERVING_STATES, Charge, ChargeState
from smsgw.domain.errors import ChargePendingExistsError, PlateAlreadyActiveError
from smsgw.domain.ledger import Account, ConflictingPostingError, Transaction
from smsgw.domain.money import Money
from smsgw.domain.parking import ParkingSession, SessionState, extend_example
from smsgw.language import Language
from smsgw.service.messages import InboundSms, OutboundSms
from smsgw.service.ports import (
    ChargeUsage,
    HeldReceipt,
    Job,
    JsonObject,
    OutboundPart,
    OutboxState,
    PartReceipt,
    PhoneHistory,
    PhoneProfile,
    SmppMoSeen,
    SmppPart,
    SmppPartKey,
    StoredCharge,
    StoredInbound,
    StoredOutbound,
    StoreFigures,
)
from smsgw.storage import rows
from smsgw.storage.errors import TxClosedError, UnknownRowError
from smsgw.storage.ledger_rules import balance_changes, refuse_overdraft, repeat_of
from smsgw.storage.rows import as_utc
from smsgw.storage.schema import LEASED_TABLES

if TYPE_CHECKING:
    from smsgw.service.ports import Tx

_PENDING = sorted(PENDING_STATES)
_RESERVING = sorted(RESERVING_STATES)
# charges nothing will change any more: the ones retention may prune
_FINISHED_CHARGES = "('applied', 'declined', 'expired', 'failed')"


def _time(value: datetime) -> datetime:
    return value  # asyncpg decodes timestamptz as an aware UTC datetime


def _count(status: str) -> int:
    """The row count from a command tag: 'INSERT 0 1', 'UPDATE 3', 'DELETE 0'."""
    return int(status.rsplit(" ", 1)[-1])


class PostgresTx:
    """One unit of work on a pooled connection; unusable once the unit has ended."""

    def __init__(self, connection: asyncpg.Connection) -> None:
        self._connection: asyncpg.Connection | None = connection

    def close(self) -> None:
        self._connection = None

    def _live(self) -> asyncpg.Connection:
        if self._connection is None:
            raise TxClosedError("this Tx belongs to a unit of work that has ended")
        return self._connection

    async def _execute(self, sql: str, *args: Any) -> int:
        return _count(await self._live().execute(sql, *args))

    async def _one(self, sql: str, *args: Any) -> asyncpg.Record | None:
        row: asyncpg.Record | None = await self._live().fetchrow(sql, *args)
        return row

    async def _all(self, sql: str, *args: Any) -> list[asyncpg.Record]:
        found: list[asyncpg.Record] = await self._live().fetch(sql, *args)
        return found

    async def schema_version(self) -> int:
        value = await self._live().fetchval("SELECT max(version) FROM schema_version")
        return 0 if value is None else int(value)

    # --- inbound ---------------------------------------------------------------------

    async def insert_inbound(self, sms: InboundSms) -> str | None:
        inbound_id: str | None = await self._live().fetchval(
            "INSERT INTO inbound (id, link_id, dedup_key, operator_id, sender, receiver,"
            " text, received_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"
            " ON CONFLICT (link_id, dedup_key) DO NOTHING RETURNING id",
            rows.time_ordered_id(sms.received_at),
            sms.link_id,
            sms.dedup_key,
            sms.operator_id,
            sms.sender,
            sms.receiver,
            sms.text,
            as_utc(sms.received_at),
        )
        return inbound_id

    async def claim_inbound(
        self, now: datetime, node: str, lease_seconds: float, limit: int
    ) -> Sequence[StoredInbound]:
        found = await self._all(
            "UPDATE inbound SET lease_owner = $1, lease_until = $2 WHERE id IN ("
            " SELECT id FROM inbound WHERE processed_at IS NULL"
            " AND (lease_until IS NULL OR lease_until <= $3)"
            " ORDER BY received_at, id LIMIT $4 FOR UPDATE SKIP LOCKED) RETURNING *",
            node,
            rows.lease_end(now, lease_seconds),
            as_utc(now),
            limit,
        )
        found.sort(key=lambda row: (row["received_at"], row["id"]))
        return [rows.inbound_from_row(row, _time) for row in found]

    async def mark_inbound_processed(self, inbound_id: str, outcome: str, now: datetime) -> bool:
        updated = await self._execute(
            "UPDATE inbound SET processed_at = $1, outcome = $2, lease_owner = NULL,"
            " lease_until = NULL WHERE id = $3 AND processed_at IS NULL",
            as_utc(now),
            outcome,
            inbound_id,
        )
        return updated == 1

    # --- phones ----------------------------------------------------------------------

    async def lock_phone(self, msisdn: str, operator_id: str | None) -> PhoneProfile:
        # One round trip instead of INSERT … DO NOTHING + SELECT … FOR UPDATE: an upsert
        # that updates takes the same row lock (FOR NO KEY UPDATE, which two lock_phone
        # calls conflict on), creates the phone, and returns it.
        row = await self._one(
            "INSERT INTO phones (msisdn, operator_id) VALUES ($1, $2) ON CONFLICT (msisdn)"
            " DO UPDATE SET operator_id = coalesce(EXCLUDED.operator_id, phones.operator_id)"
            " RETURNING msisdn, language, operator_id",
            msisdn,
            operator_id,
        )
        if row is None:
            raise UnknownRowError(msisdn)
        return rows.phone_from_row(row)

    async def get_phone(self, msisdn: str) -> PhoneProfile | None:
        row = await self._one(
            "SELECT msisdn, language, operator_id FROM phones WHERE msisdn = $1", msisdn
        )
        return None if row is None else rows.phone_from_row(row)

    async def set_language(self, msisdn: str, language: Language) -> None:
        await self._execute(
            "INSERT INTO phones (msisdn, language) VALUES ($1, $2)"
            " ON CONFLICT (msisdn) DO UPDATE SET language = EXCLUDED.language",
            msisdn,
            str(language),
        )

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
        claimed = await self._live().fetchval(
            "INSERT INTO ledger_transactions (id, kind, reference, at) VALUES ($1, $2, $3, $4)"
            " ON CONFLICT DO NOTHING RETURNING id",
            transaction.id,
            str(transaction.kind),
            transaction.reference,
            as_utc(transaction.at),
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

    async def _posted_like(self, transaction: Transaction) -> Transaction | None:
        """The stored transaction with this id, else with this (kind, reference)."""
        head = await self._one(
            "SELECT * FROM ledger_transactions"
            " WHERE id = $1 OR (kind = $2 AND reference = $3)"
            " ORDER BY id = $1 DESC LIMIT 1",
            transaction.id,
            str(transaction.kind),
            transaction.reference,
        )
        if head is None:
            return None
        entries = await self._all(
            "SELECT account, amount_minor, currency FROM ledger_entries"
            " WHERE transaction_id = $1 ORDER BY position",
            head["id"],
        )
        return rows.transaction_from_rows(head, [rows.entry_from_row(e) for e in entries], _time)

    async def _lock_balances(self, keys: list[str]) -> dict[str, int]:
        found = await self._all(
            "SELECT account, balance_minor FROM balances WHERE account = ANY($1::text[])"
            " ORDER BY account FOR UPDATE",
            keys,
        )
        return {row["account"]: row["balance_minor"] for row in found}

    async def _insert_entries(self, transaction: Transaction) -> None:
        entries = transaction.entries
        await self._execute(
            "INSERT INTO ledger_entries (transaction_id, position, account, amount_minor,"
            " currency) SELECT $1, * FROM unnest($2::int[], $3::text[], $4::bigint[],"
            " $5::text[])",
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
            " FROM unnest($1::text[], $2::text[], $3::text[]) AS a(account, kind, currency)"
            " ORDER BY account ON CONFLICT (account) DO NOTHING",
            [a.key for a in accounts],
            [str(a.kind) for a in accounts],
            [a.currency for a in accounts],
        )
        await self._execute(
            "UPDATE balances SET balance_minor = balances.balance_minor + c.change"
            " FROM unnest($1::text[], $2::bigint[]) AS c(account, change)"
            " WHERE balances.account = c.account",
            [a.key for a in accounts],
            list(changes.values()),
        )

    async def balance(self, account: Account) -> Money:
        minor = await self._live().fetchval(
            "SELECT balance_minor FROM balances WHERE account = $1", account.key
        )
        return Money(0 if minor is None else int(minor), account.currency)

    # --- sessions --------------------------------------------------------------------

    async def insert_session(self, session: ParkingSession) -> None:
        inserted = await self._execute(
            "INSERT INTO sessions (id, phone, zone, plate, start_at, end_at, prepaid_minor,"
            " currency, state, closed_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)"
            " ON CONFLICT (plate) WHERE state = 'active' DO NOTHING",
            *_session_values(session),
        )
        if inserted == 0:
            await self._refuse_active_plate(session.plate)

    async def _refuse_active_plate(self, plate: str) -> NoReturn:
        active = await self.active_session_for_plate(plate)
        raise PlateAlreadyActiveError(
            plate=plate,
            end=None if active is None else active.end,
            example=extend_example(plate),
        )

    async def update_session(self, session: ParkingSession) -> None:
        sql = (
            "UPDATE sessions SET phone = $2, zone = $3, plate = $4, start_at = $5,"
            " end_at = $6, prepaid_minor = $7, currency = $8, state = $9, closed_at = $10"
            " WHERE id = $1"
        )
        if session.state is not SessionState.ACTIVE:
            updated = await self._execute(sql, *_session_values(session))
        else:
            # only an activation can hit the one-active-per-plate index; the savepoint
            # keeps the unit's transaction usable when it does
            try:
                async with self._live().transaction():
                    updated = await self._execute(sql, *_session_values(session))
            except asyncpg.UniqueViolationError:
                await self._refuse_active_plate(session.plate)
        if updated == 0:
            raise UnknownRowError(f"session {session.id}")

    async def get_session(self, session_id: str) -> ParkingSession | None:
        row = await self._one("SELECT * FROM sessions WHERE id = $1", session_id)
        return None if row is None else rows.session_from_row(row, _time)

    async def running_sessions(self, msisdn: str) -> Sequence[ParkingSession]:
        found = await self._all(
            "SELECT * FROM sessions WHERE phone = $1 AND state = 'active' ORDER BY end_at, id",
            msisdn,
        )
        return [rows.session_from_row(row, _time) for row in found]

    async def active_session_for_plate(self, plate: str) -> ParkingSession | None:
        row = await self._one("SELECT * FROM sessions WHERE plate = $1 AND state = 'active'", plate)
        return None if row is None else rows.session_from_row(row, _time)

    # --- charges ---------------------------------------------------------------------

    async def insert_charge(self, charge: Charge, details: JsonObject) -> None:
        inserted = await self._execute(
            "INSERT INTO charges (id, phone, operator_id, amount_minor, currency, purpose,"
            " requested_at, deadline, state, details)"
            " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10::jsonb)"
            " ON CONFLICT (phone) WHERE state IN ('requested', 'awaiting_confirmation')"
            " DO NOTHING",
            charge.id,
            charge.phone,
            charge.operator_id,
            charge.amount.minor,
            charge.amount.currency,
            charge.purpose,
            as_utc(charge.requested_at),
            as_utc(charge.deadline),
            str(charge.state),
            rows.details_json(details),
        )
        if inserted == 0:
            raise ChargePendingExistsError()

    async def get_charge(self, charge_id: str) -> StoredCharge | None:
        row = await self._one("SELECT * FROM charges WHERE id = $1", charge_id)
        return None if row is None else rows.charge_from_row(row, _time)

    async def pending_charge(self, msisdn: str) -> StoredCharge | None:
        row = await self._one(
            "SELECT * FROM charges WHERE phone = $1 AND state = ANY($2::text[])",
            msisdn,
            _PENDING,
        )
        return None if row is None else rows.charge_from_row(row, _time)

    async def update_charge(
        self,
        charge_id: str,
        expected: ChargeState,
        new: ChargeState,
        operator_reference: str | None = None,
    ) -> bool:
        updated = await self._execute(
            "UPDATE charges SET state = $1,"
            " operator_reference = coalesce($2, operator_reference)"
            " WHERE id = $3 AND state = $4",
            str(new),
            operator_reference,
            charge_id,
            str(expected),
        )
        return updated == 1

    async def charges_in_state(
        self, state: ChargeState, requested_before: datetime, limit: int
    ) -> Sequence[StoredCharge]:
        found = await self._all(
            "SELECT * FROM charges WHERE state = $1 AND requested_at < $2"
            " ORDER BY requested_at, id LIMIT $3",
            str(state),
            as_utc(requested_before),
            limit,
        )
        return [rows.charge_from_row(row, _time) for row in found]

    async def charge_usage(
        self,
        msisdn: str,
        operator_id: str,
        currency: str,
        day_start: datetime,
        month_start: datetime,
    ) -> ChargeUsage:
        day, month = as_utc(day_start), as_utc(month_start)
        row = await self._one(
            "SELECT"
            " coalesce(sum(amount_minor) FILTER (WHERE requested_at >= $1), 0) AS day_amount,"
            " count(*) FILTER (WHERE requested_at >= $1) AS day_count,"
            " coalesce(sum(amount_minor) FILTER (WHERE requested_at >= $2), 0)"
            " AS month_amount,"
            " count(*) FILTER (WHERE requested_at >= $2) AS month_count"
            " FROM charges WHERE phone = $3 AND operator_id = $4 AND currency = $5"
            " AND requested_at >= $6 AND state = ANY($7::text[])",
            day,
            month,
            msisdn,
            operator_id,
            currency,
            min(day, month),
            _RESERVING,
        )
        if row is None:
            raise UnknownRowError("charge usage")
        return ChargeUsage(
            day_amount=Money(int(row["day_amount"]), currency),
            day_count=row["day_count"],
            month_amount=Money(int(row["month_amount"]), currency),
            month_count=row["month_count"],
        )

    # --- outbox ----------------------------------------------------------------------

    async def enqueue_outbound(self, sms: OutboundSms) -> bool:
        inserted = await self._execute(
            "INSERT INTO outbox (outbox_id, operator_id, sender, receiver, text, created_at,"
            " state) VALUES ($1, $2, $3, $4, $5, $6, 'pending')"
            " ON CONFLICT (outbox_id) DO NOTHING",
            sms.outbox_id,
            sms.operator_id,
            sms.sender,
            sms.receiver,
            sms.text,
            as_utc(sms.created_at),
        )
        return inserted == 1

    async def claim_outbound(
        self, now: datetime, node: str, lease_seconds: float, limit: int
    ) -> Sequence[StoredOutbound]:
        found = await self._all(
            "UPDATE outbox SET lease_owner = $1, lease_until = $2 WHERE outbox_id IN ("
            " SELECT outbox_id FROM outbox WHERE state = 'pending'"
            " AND (not_before IS NULL OR not_before <= $3)"
            " AND (lease_until IS NULL OR lease_until <= $3)"
            " ORDER BY created_at, outbox_id LIMIT $4 FOR UPDATE SKIP LOCKED) RETURNING *",
            node,
            rows.lease_end(now, lease_seconds),
            as_utc(now),
            limit,
        )
        found.sort(key=lambda row: (row["created_at"], row["outbox_id"]))
        return [rows.outbound_from_row(row, _time) for row in found]

    async def _finish_attempt(self, outbox_id: str, assignments: str, *args: Any) -> None:
        updated = await self._execute(
            f"UPDATE outbox SET {assignments}, attempts = attempts + 1, lease_owner = NULL,"
            " lease_until = NULL WHERE outbox_id = $1",
            outbox_id,
            *args,
        )
        if updated == 0:
            raise UnknownRowError(f"outbox {outbox_id}")

    async def mark_outbound_sent(self, outbox_id: str, message_id: str, now: datetime) -> None:
        await self._finish_attempt(
            outbox_id,
            # a receipt may overtake the sender's answer (Kannel submits before it
            # answers sendsms): what it said stands
            "state = CASE WHEN receipt_state IS NULL THEN 'sent' ELSE state END,"
            " message_id = $2, sent_at = $3",
            message_id,
            as_utc(now),
        )

    async def retry_outbound(self, outbox_id: str, not_before: datetime, error: str) -> None:
        await self._finish_attempt(
            outbox_id, "not_before = $2, last_error = $3", as_utc(not_before), error
        )

    async def fail_outbound(self, outbox_id: str, error: str, now: datetime) -> None:
        await self._finish_attempt(
            outbox_id, "state = 'failed', last_error = $2, finished_at = $3", error, as_utc(now)
        )

    async def record_receipt(
        self, operator_id: str, message_id: str, state: OutboxState, now: datetime
    ) -> bool:
        # message ids recycle on some SMSCs: the receipt belongs to the latest send
        updated = await self._execute(
            "UPDATE outbox SET state = $1, receipt_state = $1, receipt_at = $2,"
            " finished_at = coalesce(finished_at, $2) WHERE outbox_id = ("
            " SELECT outbox_id FROM outbox WHERE operator_id = $3"
            # HTTP senders (Kannel) report by our own outbox id, possibly before the
            # send is marked: match that too
            " AND (message_id = $4 OR (message_id IS NULL AND outbox_id = $4))"
            " ORDER BY sent_at DESC NULLS LAST LIMIT 1)",
            str(state),
            as_utc(now),
            operator_id,
            message_id,
        )
        return updated == 1

    async def get_outbound(self, outbox_id: str) -> StoredOutbound | None:
        row = await self._one("SELECT * FROM outbox WHERE outbox_id = $1", outbox_id)
        return None if row is None else rows.outbound_from_row(row, _time)

    # --- jobs ------------------------------------------------------------------------

    async def schedule(self, job: Job) -> None:
        # a moved job takes the new id, so a node still finishing the old one (it will
        # call complete_job with the old id) cannot delete the move
        await self._execute(
            "INSERT INTO jobs (id, kind, reference, due_at) VALUES ($1, $2, $3, $4)"
            " ON CONFLICT (kind, reference) DO UPDATE SET id = EXCLUDED.id,"
            " due_at = EXCLUDED.due_at, lease_owner = NULL, lease_until = NULL",
            job.id,
            str(job.kind),
            job.reference,
            as_utc(job.due_at),
        )

    async def cancel_jobs(self, reference: str) -> None:
        await self._execute("DELETE FROM jobs WHERE reference = $1", reference)

    async def claim_due_jobs(
        self, now: datetime, node: str, lease_seconds: float, limit: int
    ) -> Sequence[Job]:
        found = await self._all(
            "UPDATE jobs SET lease_owner = $1, lease_until = $2 WHERE id IN ("
            " SELECT id FROM jobs WHERE due_at <= $3"
            " AND (lease_until IS NULL OR lease_until <= $3)"
            " ORDER BY due_at, id LIMIT $4 FOR UPDATE SKIP LOCKED) RETURNING *",
            node,
            rows.lease_end(now, lease_seconds),
            as_utc(now),
            limit,
        )
        found.sort(key=lambda row: (row["due_at"], row["id"]))
        return [rows.job_from_row(row, _time) for row in found]

    async def complete_job(self, job_id: str) -> None:
        await self._execute("DELETE FROM jobs WHERE id = $1", job_id)

    async def release_leases(self, node: str) -> int:
        freed = 0
        for table in LEASED_TABLES:
            freed += await self._execute(
                f"UPDATE {table} SET lease_owner = NULL, lease_until = NULL WHERE lease_owner = $1",
                node,
            )
        return freed

    # --- callbacks -------------------------------------------------------------------

    async def remember_nonce(self, operator_id: str, nonce: str, now: datetime) -> bool:
        inserted = await self._execute(
            "INSERT INTO callback_nonces (operator_id, nonce, seen_at) VALUES ($1, $2, $3)"
            " ON CONFLICT (operator_id, nonce) DO NOTHING",
            operator_id,
            nonce,
            as_utc(now),
        )
        return inserted == 1

    # --- support and metrics (read only) ---------------------------------------------

    async def phone_history(self, msisdn: str, until: datetime | None, limit: int) -> PhoneHistory:
        bound = None if until is None else as_utc(until)
        first, after_last = rows.phone_account_range(msisdn)
        heads = await self._all(
            "SELECT * FROM ledger_transactions WHERE id IN (SELECT transaction_id"
            " FROM ledger_entries WHERE account >= $1 AND account < $2)"
            " AND ($3::timestamptz IS NULL OR at <= $3) ORDER BY at DESC, id DESC LIMIT $4",
            first,
            after_last,
            bound,
            limit,
        )
        charges = await self._all(
            "SELECT * FROM charges WHERE phone = $1"
            " AND ($2::timestamptz IS NULL OR requested_at <= $2)"
            " ORDER BY requested_at DESC, id DESC LIMIT $3",
            msisdn,
            bound,
            limit,
        )
        sessions = await self._all(
            "SELECT * FROM sessions WHERE phone = $1"
            " AND ($2::timestamptz IS NULL OR start_at <= $2)"
            " ORDER BY start_at DESC, id DESC LIMIT $3",
            msisdn,
            bound,
            limit,
        )
        replies = await self._all(
            "SELECT * FROM outbox WHERE receiver = $1"
            " AND ($2::timestamptz IS NULL OR created_at <= $2)"
            " ORDER BY created_at DESC, outbox_id DESC LIMIT $3",
            msisdn,
            bound,
            limit,
        )
        return PhoneHistory(
            movements=[await self._with_entries(head) for head in heads],
            charges=[rows.charge_from_row(row, _time) for row in charges],
            sessions=[rows.session_from_row(row, _time) for row in sessions],
            replies=[rows.outbound_from_row(row, _time) for row in replies],
        )

    async def _with_entries(self, head: asyncpg.Record) -> Transaction:
        entries = await self._all(
            "SELECT account, amount_minor, currency FROM ledger_entries"
            " WHERE transaction_id = $1 ORDER BY position",
            head["id"],
        )
        return rows.transaction_from_rows(head, [rows.entry_from_row(e) for e in entries], _time)

    async def store_figures(self) -> StoreFigures:
        operators = await self._all(
            "SELECT account, balance_minor FROM balances WHERE account_kind = 'operator'"
            " ORDER BY account"
        )
        refunds = await self._all(
            "SELECT e.account, -sum(e.amount_minor)::bigint AS refunded"
            " FROM ledger_transactions t JOIN ledger_entries e ON e.transaction_id = t.id"
            " WHERE t.kind = 'session_refund' AND e.account >= 'revenue:'"
            " AND e.account < 'revenue;' GROUP BY e.account ORDER BY e.account"
        )
        active = await self._all(
            "SELECT zone, count(*) AS sessions FROM sessions WHERE state = 'active'"
            " GROUP BY zone ORDER BY zone"
        )
        return rows.store_figures(
            [(row["account"], -row["balance_minor"]) for row in operators],
            [(row["account"], row["refunded"]) for row in refunds],
            [(row["zone"], row["sessions"]) for row in active],
        )

    # --- retention -------------------------------------------------------------------

    async def prune_inbound(self, before: datetime, limit: int) -> int:
        return await self._prune(
            "inbound",
            "id",
            "processed_at IS NOT NULL AND received_at < $1 ORDER BY received_at",
            before,
            limit,
        )

    async def prune_outbox(self, before: datetime, limit: int) -> int:
        return await self._prune(
            "outbox",
            "outbox_id",
            "state <> 'pending' AND created_at < $1 ORDER BY created_at",
            before,
            limit,
        )

    async def prune_charges(self, before: datetime, limit: int) -> int:
        return await self._prune(
            "charges",
            "id",
            f"state IN {_FINISHED_CHARGES} AND requested_at < $1 AND NOT EXISTS ("
            " SELECT 1 FROM sessions WHERE sessions.id = charges.purpose"
            " AND sessions.state = 'active') ORDER BY requested_at",
            before,
            limit,
        )

    async def prune_nonces(self, before: datetime, limit: int) -> int:
        return await self._prune(
            "callback_nonces", "ctid", "seen_at < $1 ORDER BY seen_at", before, limit
        )

    async def _prune(
        self, table: str, key: str, condition: str, before: datetime, limit: int
    ) -> int:
        # SKIP LOCKED: a row another node holds is left for the next round, never waited on
        return await self._execute(
            f"DELETE FROM {table} WHERE {key} IN"
            f" (SELECT {key} FROM {table} WHERE {condition} LIMIT $2 FOR UPDATE SKIP LOCKED)",
            as_utc(before),
            limit,
        )

    # --- delivery receipts per part --------------------------------------------------

    async def record_outbound_part(
        self, outbox_id: str, part: int, parts: int, message_id: str, now: datetime
    ) -> None:
        await self._execute(
            "INSERT INTO outbox_parts (outbox_id, part, parts, message_id, state, sent_at)"
            " VALUES ($1, $2, $3, $4, 'sent', $5) ON CONFLICT (outbox_id, part) DO UPDATE SET"
            " parts = EXCLUDED.parts, message_id = EXCLUDED.message_id, state = 'sent',"
            " sent_at = EXCLUDED.sent_at, receipt_at = NULL",
            outbox_id,
            part,
            parts,
            message_id,
            as_utc(now),
        )

    async def record_part_receipt(
        self, operator_id: str, message_ids: Sequence[str], state: OutboxState, now: datetime
    ) -> PartReceipt | None:
        if not message_ids:
            return None
        # message ids recycle on some SMSCs: the receipt belongs to the latest send. The
        # reply's row is locked first, so two parts' receipts settle it one at a time.
        found = await self._one(
            "SELECT p.outbox_id, p.part, p.parts, o.state AS reply_state FROM outbox_parts p"
            " JOIN outbox o ON o.outbox_id = p.outbox_id"
            " WHERE o.operator_id = $1 AND p.message_id = ANY($2::text[])"
            " ORDER BY p.sent_at DESC LIMIT 1 FOR UPDATE OF o",
            operator_id,
            list(message_ids),
        )
        if found is None:
            return None
        outbox_id = found["outbox_id"]
        await self._execute(
            "UPDATE outbox_parts SET state = $1, receipt_at = $2"
            # the first final receipt of a part stands; a repeat changes nothing
            " WHERE outbox_id = $3 AND part = $4 AND state = 'sent'",
            str(state),
            as_utc(now),
            outbox_id,
            found["part"],
        )
        states = [
            row["state"]
            for row in await self._all(
                "SELECT state FROM outbox_parts WHERE outbox_id = $1", outbox_id
            )
        ]
        before = OutboxState(found["reply_state"])
        after = rows.reply_state_of(states, found["parts"])
        if after is None or before in (OutboxState.DELIVERED, OutboxState.FAILED):
            return PartReceipt(outbox_id, operator_id, before, settled=False)
        # a reply still being sent keeps being sent; mark_outbound_sent keeps this state
        await self._execute(
            "UPDATE outbox SET state = $1, receipt_state = $1, receipt_at = $2,"
            " finished_at = coalesce(finished_at, $2) WHERE outbox_id = $3",
            str(after),
            as_utc(now),
            outbox_id,
        )
        return PartReceipt(outbox_id, operator_id, after, settled=True)

    async def outbound_parts(self, outbox_id: str) -> Sequence[OutboundPart]:
        found = await self._all(
            "SELECT * FROM outbox_parts WHERE outbox_id = $1 ORDER BY part", outbox_id
        )
        return [rows.part_from_row(row, _time) for row in found]

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
            " VALUES ($1, $2, $3, $4, $5)",
            operator_id,
            message_id,
            str(state),
            as_utc(received_at),
            as_utc(expires_at),
        )

    async def held_receipts_for(
        self, operator_id: str, message_ids: Sequence[str]
    ) -> Sequence[HeldReceipt]:
        found = await self._all(
            "SELECT * FROM held_receipts WHERE operator_id = $1"
            " AND message_id = ANY($2::text[]) ORDER BY received_at, id",
            operator_id,
            list(message_ids),
        )
        return [rows.held_receipt_from_row(row, _time) for row in found]

    async def held_receipts(self, limit: int) -> Sequence[HeldReceipt]:
        # two nodes sweeping at once take different receipts
        found = await self._all(
            "SELECT * FROM held_receipts ORDER BY received_at, id LIMIT $1 FOR UPDATE SKIP LOCKED",
            limit,
        )
        return [rows.held_receipt_from_row(row, _time) for row in found]

    async def drop_held_receipt(self, receipt_id: int) -> None:
        await self._execute("DELETE FROM held_receipts WHERE id = $1", receipt_id)

    # --- SMPP MO intake --------------------------------------------------------------

    async def touch_smpp_bind(
        self, link_id: str, bind_id: str, now: datetime, *, closed: bool = False
    ) -> None:
        at = as_utc(now)
        await self._execute(
            "INSERT INTO smpp_binds (id, link_id, opened_at, alive_at, closed_at)"
            " VALUES ($1, $2, $3, $3, $4) ON CONFLICT (id) DO UPDATE SET"
            " alive_at = greatest(smpp_binds.alive_at, excluded.alive_at),"
            " closed_at = coalesce(smpp_binds.closed_at, excluded.closed_at)",
            bind_id,
            link_id,
            at,
            at if closed else None,
        )

    async def seen_smpp_mo(self, link_id: str, digest: str, bind_id: str) -> Sequence[SmppMoSeen]:
        found = await self._all(
            "SELECT m.id, m.bind_id, m.answered_at, m.answer_status,"
            " coalesce(b.closed_at, b.alive_at) AS bind_down_at"
            " FROM smpp_mo m LEFT JOIN smpp_binds b ON b.id = m.bind_id"
            " WHERE m.link_id = $1 AND m.digest = $2 AND m.bind_id <> $3"
            " ORDER BY m.stored_at, m.id",
            link_id,
            digest,
            bind_id,
        )
        return [
            SmppMoSeen(
                id=row["id"],
                bind_id=row["bind_id"],
                answered_at=row["answered_at"],
                answer_status=row["answer_status"],
                bind_down_at=row["bind_down_at"],
            )
            for row in found
        ]

    async def record_smpp_mo(
        self,
        mo_id: str,
        link_id: str,
        digest: str,
        bind_id: str,
        now: datetime,
        answer_status: int,
    ) -> None:
        await self._execute(
            "INSERT INTO smpp_mo (id, link_id, digest, bind_id, stored_at, answered_at,"
            " answer_status) VALUES ($1, $2, $3, $4, $5, $5, $6)",
            mo_id,
            link_id,
            digest,
            bind_id,
            as_utc(now),
            answer_status,
        )

    async def claim_smpp_redelivery(
        self, mo_id: str, from_bind: str, to_bind: str, now: datetime, answer_status: int
    ) -> bool:
        updated = await self._execute(
            "UPDATE smpp_mo SET bind_id = $1, answered_at = $2, answer_status = $3"
            " WHERE id = $4 AND bind_id = $5",
            to_bind,
            as_utc(now),
            answer_status,
            mo_id,
            from_bind,
        )
        return updated == 1

    async def add_smpp_part(self, part: SmppPart) -> Sequence[SmppPart]:
        key = part.key
        # Parts of one message may be stored by concurrent units (several deliver_sm in
        # flight, or two nodes): one at a time per message, so the last one to commit
        # sees every part and completes the message.
        await self._live().execute(
            "SELECT pg_advisory_xact_lock(hashtext($1))",
            f"smpp_mo_parts\x1f{key.link_id}\x1f{key.sender}\x1f{key.receiver}"
            f"\x1f{key.reference}\x1f{key.total}",
        )
        await self._execute(
            "INSERT INTO smpp_mo_parts (link_id, sender, receiver, reference, total, seqnum,"
            " data_coding, payload, received_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)"
            " ON CONFLICT DO NOTHING",
            key.link_id,
            key.sender,
            key.receiver,
            key.reference,
            key.total,
            part.seqnum,
            part.data_coding,
            part.payload,
            as_utc(part.received_at),
        )
        return await self._parts_of(key)

    async def take_smpp_parts(self, key: SmppPartKey) -> Sequence[SmppPart]:
        found = await self._all(
            "DELETE FROM smpp_mo_parts WHERE link_id = $1 AND sender = $2 AND receiver = $3"
            " AND reference = $4 AND total = $5"
            " RETURNING seqnum, data_coding, payload, received_at",
            key.link_id,
            key.sender,
            key.receiver,
            key.reference,
            key.total,
        )
        parts = [_smpp_part(key, row) for row in found]
        parts.sort(key=lambda part: part.seqnum)
        return parts

    async def _parts_of(self, key: SmppPartKey) -> list[SmppPart]:
        found = await self._all(
            "SELECT seqnum, data_coding, payload, received_at FROM smpp_mo_parts"
            " WHERE link_id = $1 AND sender = $2 AND receiver = $3 AND reference = $4"
            " AND total = $5 ORDER BY seqnum",
            key.link_id,
            key.sender,
            key.receiver,
            key.reference,
            key.total,
        )
        return [_smpp_part(key, row) for row in found]

    async def stale_smpp_parts(
        self, link_id: str, before: datetime, limit: int
    ) -> Sequence[SmppPartKey]:
        found = await self._all(
            "SELECT sender, receiver, reference, total FROM smpp_mo_parts WHERE link_id = $1"
            " GROUP BY sender, receiver, reference, total HAVING min(received_at) < $2"
            " ORDER BY min(received_at) LIMIT $3",
            link_id,
            as_utc(before),
            limit,
        )
        return [
            SmppPartKey(link_id, row["sender"], row["receiver"], row["reference"], row["total"])
            for row in found
        ]

    async def prune_smpp_mo(self, link_id: str, before: datetime) -> int:
        at = as_utc(before)
        pruned = await self._execute(
            "DELETE FROM smpp_mo WHERE link_id = $1 AND stored_at < $2", link_id, at
        )
        await self._execute(
            "DELETE FROM smpp_binds WHERE link_id = $1 AND coalesce(closed_at, alive_at) < $2",
            link_id,
            at,
        )
        return pruned


def _smpp_part(key: SmppPartKey, row: asyncpg.Record) -> SmppPart:
    return SmppPart(
        key, row["seqnum"], row["data_coding"], bytes(row["payload"]), row["received_at"]
    )


def _session_values(session: ParkingSession) -> tuple[object, ...]:
    return (
        session.id,
        session.phone,
        session.zone,
        session.plate,
        as_utc(session.start),
        as_utc(session.end),
        session.prepaid.minor,
        session.prepaid.currency,
        str(session.state),
        None if session.closed_at is None else as_utc(session.closed_at),
    )


if TYPE_CHECKING:

    def _implements_tx(tx: PostgresTx) -> Tx:
        return tx
