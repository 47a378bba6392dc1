"""The SQLite unit of work: every `Tx` method as plain sqlite3 calls.

It runs inside the store's single writer (see sqlite.py), between a SAVEPOINT and its
RELEASE, within a group `BEGIN IMMEDIATE … COMMIT`. The writer is the only one writing,
so there are no races to guard against here: `lock_phone` needs no lock and a claim
needs no SKIP LOCKED. The methods are `async` only to satisfy the port; none awaits.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any, NoReturn

from smsgw.domain.charges import PENDING_STATES, RESERVING_STATES, Charge, ChargeState
from smsgw.domain.errors import ChargePendingExistsError, PlateAlreadyActiveError
from smsgw.domain.ledger import Account, Transaction
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
from smsgw.storage.rows import utc_text
from smsgw.storage.schema import LEASED_TABLES

if TYPE_CHECKING:
    from smsgw.service.ports import Tx

_PENDING = tuple(sorted(PENDING_STATES))
_RESERVING = tuple(sorted(RESERVING_STATES))
# charges nothing will change any more: the ones retention may prune
_FINISHED_CHARGES = "('applied', 'declined', 'expired', 'failed')"


def _time(text: str) -> datetime:
    return datetime.fromisoformat(text)


class SqliteTx:
    """One unit of work on the writer's connection; unusable once the unit has ended."""

    def __init__(self, connection: sqlite3.Connection) -> None:
        self._connection: sqlite3.Connection | None = connection

    def close(self) -> None:
        self._connection = None

    def _live(self) -> sqlite3.Connection:
        if self._connection is None:
            raise TxClosedError("this Tx belongs to a unit of work that has ended")
        return self._connection

    def _execute(self, sql: str, params: Sequence[Any] = ()) -> sqlite3.Cursor:
        return self._live().execute(sql, params)

    def _one(self, sql: str, params: Sequence[Any] = ()) -> sqlite3.Row | None:
        row: sqlite3.Row | None = self._execute(sql, params).fetchone()
        return row

    def _all(self, sql: str, params: Sequence[Any] = ()) -> list[sqlite3.Row]:
        return self._execute(sql, params).fetchall()

    async def schema_version(self) -> int:
        """The highest applied migration (the store's readiness probe reads it)."""
        row = self._one("SELECT max(version) AS version FROM schema_version")
        return 0 if row is None or row["version"] is None else int(row["version"])

    # --- inbound ---------------------------------------------------------------------

    async def insert_inbound(self, sms: InboundSms) -> str | None:
        inbound_id = rows.time_ordered_id(sms.received_at)
        cursor = self._execute(
            "INSERT INTO inbound (id, link_id, dedup_key, operator_id, sender, receiver,"
            " text, received_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
            " ON CONFLICT (link_id, dedup_key) DO NOTHING",
            (
                inbound_id,
                sms.link_id,
                sms.dedup_key,
                sms.operator_id,
                sms.sender,
                sms.receiver,
                sms.text,
                utc_text(sms.received_at),
            ),
        )
        return inbound_id if cursor.rowcount == 1 else None

    async def claim_inbound(
        self, now: datetime, node: str, lease_seconds: float, limit: int
    ) -> Sequence[StoredInbound]:
        until = utc_text(rows.lease_end(now, lease_seconds))
        found = self._all(
            "SELECT * FROM inbound WHERE processed_at IS NULL"
            " AND (lease_until IS NULL OR lease_until <= ?)"
            " ORDER BY received_at, id LIMIT ?",
            (utc_text(now), limit),
        )
        self._lease("inbound", "id", [row["id"] for row in found], node, until)
        return [rows.inbound_from_row(row, _time) for row in found]

    def _lease(self, table: str, key: str, ids: list[str], node: str, until: str) -> None:
        self._live().executemany(
            f"UPDATE {table} SET lease_owner = ?, lease_until = ? WHERE {key} = ?",
            [(node, until, row_id) for row_id in ids],
        )

    async def mark_inbound_processed(self, inbound_id: str, outcome: str, now: datetime) -> bool:
        cursor = self._execute(
            "UPDATE inbound SET processed_at = ?, outcome = ?, lease_owner = NULL,"
            " lease_until = NULL WHERE id = ? AND processed_at IS NULL",
            (utc_text(now), outcome, inbound_id),
        )
        return cursor.rowcount == 1

    # --- phones ----------------------------------------------------------------------

    async def lock_phone(self, msisdn: str, operator_id: str | None) -> PhoneProfile:
        # the group's BEGIN IMMEDIATE already excludes every other writer
        row = self._one(
            "INSERT INTO phones (msisdn, operator_id) VALUES (?, ?) ON CONFLICT (msisdn)"
            " DO UPDATE SET operator_id = coalesce(excluded.operator_id, phones.operator_id)"
            " RETURNING msisdn, language, operator_id",
            (msisdn, operator_id),
        )
        if row is None:
            raise UnknownRowError(msisdn)
        return rows.phone_from_row(row)

    async def get_phone(self, msisdn: str) -> PhoneProfile | None:
        row = self._one(
            "SELECT msisdn, language, operator_id FROM phones WHERE msisdn = ?", (msisdn,)
        )
        return None if row is None else rows.phone_from_row(row)

    async def set_language(self, msisdn: str, language: Language) -> None:
        self._execute(
            "INSERT INTO phones (msisdn, language) VALUES (?, ?)"
            " ON CONFLICT (msisdn) DO UPDATE SET language = excluded.language",
            (msisdn, str(language)),
        )

    # --- ledger ----------------------------------------------------------------------

    async def post(self, transaction: Transaction) -> Transaction:
        existing = self._posted_like(transaction)
        if existing is not None:
            return repeat_of(existing, transaction)
        changes = balance_changes(transaction)
        refuse_overdraft(changes, self._balances([a.key for a in changes]))
        self._execute(
            "INSERT INTO ledger_transactions (id, kind, reference, at) VALUES (?, ?, ?, ?)",
            (
                transaction.id,
                str(transaction.kind),
                transaction.reference,
                utc_text(transaction.at),
            ),
        )
        self._insert_entries(transaction)
        self._apply_changes(changes)
        return transaction

    def _posted_like(self, transaction: Transaction) -> Transaction | None:
        """The stored transaction with this id, else with this (kind, reference)."""
        head = self._one(
            "SELECT * FROM ledger_transactions"
            " WHERE id = ?1 OR (kind = ?2 AND reference = ?3)"
            " ORDER BY id = ?1 DESC LIMIT 1",
            (transaction.id, str(transaction.kind), transaction.reference),
        )
        if head is None:
            return None
        entries = self._all(
            "SELECT account, amount_minor, currency FROM ledger_entries"
            " WHERE transaction_id = ? ORDER BY position",
            (head["id"],),
        )
        return rows.transaction_from_rows(head, [rows.entry_from_row(e) for e in entries], _time)

    def _balances(self, keys: list[str]) -> dict[str, int]:
        marks = ", ".join("?" * len(keys))
        found = self._all(
            f"SELECT account, balance_minor FROM balances WHERE account IN ({marks})", keys
        )
        return {row["account"]: row["balance_minor"] for row in found}

    def _insert_entries(self, transaction: Transaction) -> None:
        self._live().executemany(
            "INSERT INTO ledger_entries (transaction_id, position, account, amount_minor,"
            " currency) VALUES (?, ?, ?, ?, ?)",
            [
                (transaction.id, position, e.account.key, e.amount.minor, e.amount.currency)
                for position, e in enumerate(transaction.entries)
            ],
        )

    def _apply_changes(self, changes: dict[Account, int]) -> None:
        # create missing rows at zero, then add: an upsert would check the CHECK against
        # the proposed row (the bare change) before it sees the conflict
        connection = self._live()
        connection.executemany(
            "INSERT INTO balances (account, account_kind, currency, balance_minor)"
            " VALUES (?, ?, ?, 0) ON CONFLICT (account) DO NOTHING",
            [(a.key, str(a.kind), a.currency) for a in changes],
        )
        connection.executemany(
            "UPDATE balances SET balance_minor = balance_minor + ? WHERE account = ?",
            [(change, a.key) for a, change in changes.items()],
        )

    async def balance(self, account: Account) -> Money:
        row = self._one("SELECT balance_minor FROM balances WHERE account = ?", (account.key,))
        return Money(0 if row is None else row["balance_minor"], account.currency)

    # --- sessions --------------------------------------------------------------------

    async def insert_session(self, session: ParkingSession) -> None:
        cursor = self._execute(
            "INSERT INTO sessions (id, phone, zone, plate, start_at, end_at, prepaid_minor,"
            " currency, state, closed_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
            " ON CONFLICT (plate) WHERE state = 'active' DO NOTHING",
            (
                session.id,
                session.phone,
                session.zone,
                session.plate,
                utc_text(session.start),
                utc_text(session.end),
                session.prepaid.minor,
                session.prepaid.currency,
                str(session.state),
                None if session.closed_at is None else utc_text(session.closed_at),
            ),
        )
        if cursor.rowcount == 0:
            await self._refuse_active_plate(session.plate)

    async def _refuse_active_plate(self, plate: str) -> NoReturn:
        active = await self.active_session_for_plate(plate)
        raise PlateAlreadyActiveError(
            plate=plate,
            end=None if active is None else active.end,
            example=extend_example(plate),
        )

    async def update_session(self, session: ParkingSession) -> None:
        try:
            cursor = self._execute(
                "UPDATE sessions SET phone = ?, zone = ?, plate = ?, start_at = ?, end_at = ?,"
                " prepaid_minor = ?, currency = ?, state = ?, closed_at = ? WHERE id = ?",
                (
                    session.phone,
                    session.zone,
                    session.plate,
                    utc_text(session.start),
                    utc_text(session.end),
                    session.prepaid.minor,
                    session.prepaid.currency,
                    str(session.state),
                    None if session.closed_at is None else utc_text(session.closed_at),
                    session.id,
                ),
            )
        except sqlite3.IntegrityError:
            # only the one-active-per-plate index can refuse an update of a stored session
            if session.state is not SessionState.ACTIVE:
                raise
            await self._refuse_active_plate(session.plate)
        if cursor.rowcount == 0:
            raise UnknownRowError(f"session {session.id}")

    async def get_session(self, session_id: str) -> ParkingSession | None:
        row = self._one("SELECT * FROM sessions WHERE id = ?", (session_id,))
        return None if row is None else rows.session_from_row(row, _time)

    async def running_sessions(self, msisdn: str) -> Sequence[ParkingSession]:
        found = self._all(
            "SELECT * FROM sessions WHERE phone = ? AND state = 'active' ORDER BY end_at, id",
            (msisdn,),
        )
        return [rows.session_from_row(row, _time) for row in found]

    async def active_session_for_plate(self, plate: str) -> ParkingSession | None:
        row = self._one("SELECT * FROM sessions WHERE plate = ? AND state = 'active'", (plate,))
        return None if row is None else rows.session_from_row(row, _time)

    # --- charges ---------------------------------------------------------------------

    async def insert_charge(self, charge: Charge, details: JsonObject) -> None:
        cursor = self._execute(
            "INSERT INTO charges (id, phone, operator_id, amount_minor, currency, purpose,"
            " requested_at, deadline, state, details) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
            " ON CONFLICT (phone) WHERE state IN ('requested', 'awaiting_confirmation')"
            " DO NOTHING",
            (
                charge.id,
                charge.phone,
                charge.operator_id,
                charge.amount.minor,
                charge.amount.currency,
                charge.purpose,
                utc_text(charge.requested_at),
                utc_text(charge.deadline),
                str(charge.state),
                rows.details_json(details),
            ),
        )
        if cursor.rowcount == 0:
            raise ChargePendingExistsError()

    async def get_charge(self, charge_id: str) -> StoredCharge | None:
        row = self._one("SELECT * FROM charges WHERE id = ?", (charge_id,))
        return None if row is None else rows.charge_from_row(row, _time)

    async def pending_charge(self, msisdn: str) -> StoredCharge | None:
        row = self._one(
            "SELECT * FROM charges WHERE phone = ? AND state IN (?, ?)", (msisdn, *_PENDING)
        )
        return None if row is None else rows.charge_from_row(row, _time)

    async def update_charge(
        self,
        charge_id: str,
        expected: ChargeState,
        new: ChargeState,
        operator_reference: str | None = None,
    ) -> bool:
        cursor = self._execute(
            "UPDATE charges SET state = ?,"
            " operator_reference = coalesce(?, operator_reference)"
            " WHERE id = ? AND state = ?",
            (str(new), operator_reference, charge_id, str(expected)),
        )
        return cursor.rowcount == 1

    async def charges_in_state(
        self, state: ChargeState, requested_before: datetime, limit: int
    ) -> Sequence[StoredCharge]:
        found = self._all(
            "SELECT * FROM charges WHERE state = ? AND requested_at < ?"
            " ORDER BY requested_at, id LIMIT ?",
            (str(state), utc_text(requested_before), limit),
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
        day, month = utc_text(day_start), utc_text(month_start)
        marks = ", ".join("?" * len(_RESERVING))
        row = self._one(
            "SELECT"
            " coalesce(sum(CASE WHEN requested_at >= ? THEN amount_minor END), 0) AS day_amount,"
            " count(CASE WHEN requested_at >= ? THEN 1 END) AS day_count,"
            " coalesce(sum(CASE WHEN requested_at >= ? THEN amount_minor END), 0)"
            " AS month_amount,"
            " count(CASE WHEN requested_at >= ? THEN 1 END) AS month_count"
            " FROM charges WHERE phone = ? AND operator_id = ? AND currency = ?"
            f" AND requested_at >= ? AND state IN ({marks})",
            (day, day, month, month, msisdn, operator_id, currency, min(day, month), *_RESERVING),
        )
        if row is None:
            raise UnknownRowError("charge usage")
        return ChargeUsage(
            day_amount=Money(row["day_amount"], currency),
            day_count=row["day_count"],
            month_amount=Money(row["month_amount"], currency),
            month_count=row["month_count"],
        )

    # --- outbox ----------------------------------------------------------------------

    async def enqueue_outbound(self, sms: OutboundSms) -> bool:
        cursor = self._execute(
            "INSERT INTO outbox (outbox_id, operator_id, sender, receiver, text, created_at,"
            " state) VALUES (?, ?, ?, ?, ?, ?, 'pending') ON CONFLICT (outbox_id) DO NOTHING",
            (
                sms.outbox_id,
                sms.operator_id,
                sms.sender,
                sms.receiver,
                sms.text,
                utc_text(sms.created_at),
            ),
        )
        return cursor.rowcount == 1

    async def claim_outbound(
        self, now: datetime, node: str, lease_seconds: float, limit: int
    ) -> Sequence[StoredOutbound]:
        at = utc_text(now)
        until = utc_text(rows.lease_end(now, lease_seconds))
        found = self._all(
            "SELECT * FROM outbox WHERE state = 'pending'"
            " AND (not_before IS NULL OR not_before <= ?)"
            " AND (lease_until IS NULL OR lease_until <= ?)"
            " ORDER BY created_at, outbox_id LIMIT ?",
            (at, at, limit),
        )
        self._lease("outbox", "outbox_id", [row["outbox_id"] for row in found], node, until)
        return [rows.outbound_from_row(row, _time) for row in found]

    def _finish_attempt(self, outbox_id: str, assignments: str, params: Sequence[Any]) -> None:
        cursor = self._execute(
            f"UPDATE outbox SET {assignments}, attempts = attempts + 1, lease_owner = NULL,"
            " lease_until = NULL WHERE outbox_id = ?",
            (*params, outbox_id),
        )
        if cursor.rowcount == 0:
            raise UnknownRowError(f"outbox {outbox_id}")

    async def mark_outbound_sent(self, outbox_id: str, message_id: str, now: datetime) -> None:
        self._finish_attempt(
            outbox_id,
            # a receipt may overtake the sender's answer (Kannel submits before it
            # answers sendsms): what it said stands
            "state = CASE WHEN receipt_state IS NULL THEN 'sent' ELSE state END,"
            " message_id = ?, sent_at = ?",
            (message_id, utc_text(now)),
        )

    async def retry_outbound(self, outbox_id: str, not_before: datetime, error: str) -> None:
        self._finish_attempt(
            outbox_id, "not_before = ?, last_error = ?", (utc_text(not_before), error)
        )

    async def fail_outbound(self, outbox_id: str, error: str, now: datetime) -> None:
        self._finish_attempt(
            outbox_id,
            "state = 'failed', last_error = ?, finished_at = ?",
            (error, utc_text(now)),
        )

    async def record_receipt(
        self, operator_id: str, message_id: str, state: OutboxState, now: datetime
    ) -> bool:
        # message ids recycle on some SMSCs: the receipt belongs to the latest send
        cursor = self._execute(
            "UPDATE outbox SET state = ?, receipt_state = ?, receipt_at = ?,"
            " finished_at = coalesce(finished_at, ?) WHERE outbox_id = ("
            "SELECT outbox_id FROM outbox WHERE operator_id = ?"
            # HTTP senders (Kannel) report by our own outbox id, possibly before the
            # send is marked: match that too
            " AND (message_id = ? OR (message_id IS NULL AND outbox_id = ?))"
            " ORDER BY sent_at DESC LIMIT 1)",
            (
                str(state),
                str(state),
                utc_text(now),
                utc_text(now),
                operator_id,
                message_id,
                message_id,
            ),
        )
        return cursor.rowcount == 1

    async def get_outbound(self, outbox_id: str) -> StoredOutbound | None:
        row = self._one("SELECT * FROM outbox WHERE outbox_id = ?", (outbox_id,))
        return None if row is None else rows.outbound_from_row(row, _time)

    # --- jobs ------------------------------------------------------------------------

    async def schedule(self, job: Job) -> None:
        # a moved job takes the new id, so a node still finishing the old one (it will
        # call complete_job with the old id) cannot delete the move
        self._execute(
            "INSERT INTO jobs (id, kind, reference, due_at) VALUES (?, ?, ?, ?)"
            " ON CONFLICT (kind, reference) DO UPDATE SET id = excluded.id,"
            " due_at = excluded.due_at, lease_owner = NULL, lease_until = NULL",
            (job.id, str(job.kind), job.reference, utc_text(job.due_at)),
        )

    async def cancel_jobs(self, reference: str) -> None:
        self._execute("DELETE FROM jobs WHERE reference = ?", (reference,))

    async def claim_due_jobs(
        self, now: datetime, node: str, lease_seconds: float, limit: int
    ) -> Sequence[Job]:
        at = utc_text(now)
        until = utc_text(rows.lease_end(now, lease_seconds))
        found = self._all(
            "SELECT * FROM jobs WHERE due_at <= ? AND (lease_until IS NULL OR lease_until <= ?)"
            " ORDER BY due_at, id LIMIT ?",
            (at, at, limit),
        )
        self._lease("jobs", "id", [row["id"] for row in found], node, until)
        return [rows.job_from_row(row, _time) for row in found]

    async def complete_job(self, job_id: str) -> None:
        self._execute("DELETE FROM jobs WHERE id = ?", (job_id,))

    async def release_leases(self, node: str) -> int:
        freed = 0
        for table in LEASED_TABLES:
            cursor = self._execute(
                f"UPDATE {table} SET lease_owner = NULL, lease_until = NULL WHERE lease_owner = ?",
                (node,),
            )
            freed += cursor.rowcount
        return freed

    # --- callbacks -------------------------------------------------------------------

    async def remember_nonce(self, operator_id: str, nonce: str, now: datetime) -> bool:
        cursor = self._execute(
            "INSERT INTO callback_nonces (operator_id, nonce, seen_at) VALUES (?, ?, ?)"
            " ON CONFLICT (operator_id, nonce) DO NOTHING",
            (operator_id, nonce, utc_text(now)),
        )
        return cursor.rowcount == 1

    # --- support and metrics (read only) ---------------------------------------------

    async def phone_history(self, msisdn: str, until: datetime | None, limit: int) -> PhoneHistory:
        bound = None if until is None else utc_text(until)
        first, after_last = rows.phone_account_range(msisdn)
        heads = self._all(
            "SELECT * FROM ledger_transactions WHERE id IN (SELECT transaction_id"
            " FROM ledger_entries WHERE account >= ? AND account < ?)"
            " AND (? IS NULL OR at <= ?) ORDER BY at DESC, id DESC LIMIT ?",
            (first, after_last, bound, bound, limit),
        )
        charges = self._all(
            "SELECT * FROM charges WHERE phone = ? AND (? IS NULL OR requested_at <= ?)"
            " ORDER BY requested_at DESC, id DESC LIMIT ?",
            (msisdn, bound, bound, limit),
        )
        sessions = self._all(
            "SELECT * FROM sessions WHERE phone = ? AND (? IS NULL OR start_at <= ?)"
            " ORDER BY start_at DESC, id DESC LIMIT ?",
            (msisdn, bound, bound, limit),
        )
        replies = self._all(
            "SELECT * FROM outbox WHERE receiver = ? AND (? IS NULL OR created_at <= ?)"
            " ORDER BY created_at DESC, outbox_id DESC LIMIT ?",
            (msisdn, bound, bound, limit),
        )
        return PhoneHistory(
            movements=[self._with_entries(head) for head in heads],
            charges=[rows.charge_from_row(row, _time) for row in charges],
            sessions=[rows.session_from_row(row, _time) for row in sessions],
            replies=[rows.outbound_from_row(row, _time) for row in replies],
        )

    def _with_entries(self, head: sqlite3.Row) -> Transaction:
        entries = self._all(
            "SELECT account, amount_minor, currency FROM ledger_entries"
            " WHERE transaction_id = ? ORDER BY position",
            (head["id"],),
        )
        return rows.transaction_from_rows(head, [rows.entry_from_row(e) for e in entries], _time)

    async def store_figures(self) -> StoreFigures:
        operators = self._all(
            "SELECT account, balance_minor FROM balances WHERE account_kind = 'operator'"
            " ORDER BY account"
        )
        refunds = self._all(
            "SELECT e.account, -sum(e.amount_minor) AS refunded FROM ledger_transactions t"
            " JOIN ledger_entries e ON e.transaction_id = t.id"
            " WHERE t.kind = 'session_refund' AND e.account >= 'revenue:'"
            " AND e.account < 'revenue;' GROUP BY e.account ORDER BY e.account"
        )
        active = self._all(
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
        return self._prune(
            "inbound",
            "id",
            "processed_at IS NOT NULL AND received_at < ? ORDER BY received_at",
            before,
            limit,
        )

    async def prune_outbox(self, before: datetime, limit: int) -> int:
        return self._prune(
            "outbox",
            "outbox_id",
            "state <> 'pending' AND created_at < ? ORDER BY created_at",
            before,
            limit,
        )

    async def prune_charges(self, before: datetime, limit: int) -> int:
        return self._prune(
            "charges",
            "id",
            f"state IN {_FINISHED_CHARGES} AND requested_at < ? AND NOT EXISTS ("
            " SELECT 1 FROM sessions WHERE sessions.id = charges.purpose"
            " AND sessions.state = 'active') ORDER BY requested_at",
            before,
            limit,
        )

    async def prune_nonces(self, before: datetime, limit: int) -> int:
        return self._prune(
            "callback_nonces", "rowid", "seen_at < ? ORDER BY seen_at", before, limit
        )

    def _prune(self, table: str, key: str, condition: str, before: datetime, limit: int) -> int:
        # SQLite has no DELETE … LIMIT by default: delete the keys a bounded SELECT found
        cursor = self._execute(
            f"DELETE FROM {table} WHERE {key} IN"
            f" (SELECT {key} FROM {table} WHERE {condition} LIMIT ?)",
            (utc_text(before), limit),
        )
        return cursor.rowcount

    # --- delivery receipts per part --------------------------------------------------

    async def record_outbound_part(
        self, outbox_id: str, part: int, parts: int, message_id: str, now: datetime
    ) -> None:
        self._execute(
            "INSERT INTO outbox_parts (outbox_id, part, parts, message_id, state, sent_at)"
            " VALUES (?, ?, ?, ?, 'sent', ?) ON CONFLICT (outbox_id, part) DO UPDATE SET"
            " parts = excluded.parts, message_id = excluded.message_id, state = 'sent',"
            " sent_at = excluded.sent_at, receipt_at = NULL",
            (outbox_id, part, parts, message_id, utc_text(now)),
        )

    async def record_part_receipt(
        self, operator_id: str, message_ids: Sequence[str], state: OutboxState, now: datetime
    ) -> PartReceipt | None:
        if not message_ids:
            return None
        marks = ", ".join("?" * len(message_ids))
        # message ids recycle on some SMSCs: the receipt belongs to the latest send
        found = self._one(
            "SELECT p.outbox_id, p.part, p.parts, o.state AS reply_state FROM outbox_parts p"
            " JOIN outbox o ON o.outbox_id = p.outbox_id"
            f" WHERE o.operator_id = ? AND p.message_id IN ({marks})"
            " ORDER BY p.sent_at DESC LIMIT 1",
            (operator_id, *message_ids),
        )
        if found is None:
            return None
        outbox_id = found["outbox_id"]
        self._execute(
            # the first final receipt of a part stands; a repeat changes nothing
            "UPDATE outbox_parts SET state = ?, receipt_at = ? WHERE outbox_id = ? AND part = ?"
            " AND state = 'sent'",
            (str(state), utc_text(now), outbox_id, found["part"]),
        )
        states = [
            row["state"]
            for row in self._all("SELECT state FROM outbox_parts WHERE outbox_id = ?", (outbox_id,))
        ]
        before = OutboxState(found["reply_state"])
        after = rows.reply_state_of(states, found["parts"])
        if after is None or before in (OutboxState.DELIVERED, OutboxState.FAILED):
            return PartReceipt(outbox_id, operator_id, before, settled=False)
        # a reply still being sent keeps being sent; mark_outbound_sent keeps this state
        self._execute(
            "UPDATE outbox SET state = ?, receipt_state = ?, receipt_at = ?,"
            " finished_at = coalesce(finished_at, ?) WHERE outbox_id = ?",
            (str(after), str(after), utc_text(now), utc_text(now), outbox_id),
        )
        return PartReceipt(outbox_id, operator_id, after, settled=True)

    async def outbound_parts(self, outbox_id: str) -> Sequence[OutboundPart]:
        found = self._all(
            "SELECT * FROM outbox_parts WHERE outbox_id = ? ORDER BY part", (outbox_id,)
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
        self._execute(
            "INSERT INTO held_receipts (operator_id, message_id, state, received_at, expires_at)"
            " VALUES (?, ?, ?, ?, ?)",
            (operator_id, message_id, str(state), utc_text(received_at), utc_text(expires_at)),
        )

    async def held_receipts_for(
        self, operator_id: str, message_ids: Sequence[str]
    ) -> Sequence[HeldReceipt]:
        if not message_ids:
            return []
        marks = ", ".join("?" * len(message_ids))
        found = self._all(
            "SELECT * FROM held_receipts WHERE operator_id = ?"
            f" AND message_id IN ({marks}) ORDER BY received_at, id",
            (operator_id, *message_ids),
        )
        return [rows.held_receipt_from_row(row, _time) for row in found]

    async def held_receipts(self, limit: int) -> Sequence[HeldReceipt]:
        found = self._all("SELECT * FROM held_receipts ORDER BY received_at, id LIMIT ?", (limit,))
        return [rows.held_receipt_from_row(row, _time) for row in found]

    async def drop_held_receipt(self, receipt_id: int) -> None:
        self._execute("DELETE FROM held_receipts WHERE id = ?", (receipt_id,))

    # --- SMPP MO intake --------------------------------------------------------------

    async def touch_smpp_bind(
        self, link_id: str, bind_id: str, now: datetime, *, closed: bool = False
    ) -> None:
        at = utc_text(now)
        self._execute(
            "INSERT INTO smpp_binds (id, link_id, opened_at, alive_at, closed_at)"
            " VALUES (?, ?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET"
            " alive_at = max(smpp_binds.alive_at, excluded.alive_at),"
            " closed_at = coalesce(smpp_binds.closed_at, excluded.closed_at)",
            (bind_id, link_id, at, at, at if closed else None),
        )

    async def seen_smpp_mo(self, link_id: str, digest: str, bind_id: str) -> Sequence[SmppMoSeen]:
        found = self._all(
            "SELECT m.id, m.bind_id, m.answered_at, m.answer_status,"
            " coalesce(b.closed_at, b.alive_at) AS bind_down_at"
            " FROM smpp_mo m LEFT JOIN smpp_binds b ON b.id = m.bind_id"
            " WHERE m.link_id = ? AND m.digest = ? AND m.bind_id <> ?"
            " ORDER BY m.stored_at, m.id",
            (link_id, digest, bind_id),
        )
        return [
            SmppMoSeen(
                id=row["id"],
                bind_id=row["bind_id"],
                answered_at=_optional_time(row["answered_at"]),
                answer_status=row["answer_status"],
                bind_down_at=_optional_time(row["bind_down_at"]),
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
        at = utc_text(now)
        self._execute(
            "INSERT INTO smpp_mo (id, link_id, digest, bind_id, stored_at, answered_at,"
            " answer_status) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (mo_id, link_id, digest, bind_id, at, at, answer_status),
        )

    async def claim_smpp_redelivery(
        self, mo_id: str, from_bind: str, to_bind: str, now: datetime, answer_status: int
    ) -> bool:
        cursor = self._execute(
            "UPDATE smpp_mo SET bind_id = ?, answered_at = ?, answer_status = ?"
            " WHERE id = ? AND bind_id = ?",
            (to_bind, utc_text(now), answer_status, mo_id, from_bind),
        )
        return cursor.rowcount == 1

    async def add_smpp_part(self, part: SmppPart) -> Sequence[SmppPart]:
        key = part.key
        self._execute(
            "INSERT INTO smpp_mo_parts (link_id, sender, receiver, reference, total, seqnum,"
            " data_coding, payload, received_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
            " ON CONFLICT DO NOTHING",
            (
                key.link_id,
                key.sender,
                key.receiver,
                key.reference,
                key.total,
                part.seqnum,
                part.data_coding,
                part.payload,
                utc_text(part.received_at),
            ),
        )
        return self._parts_of(key)

    async def take_smpp_parts(self, key: SmppPartKey) -> Sequence[SmppPart]:
        parts = self._parts_of(key)
        self._execute(
            "DELETE FROM smpp_mo_parts WHERE link_id = ? AND sender = ? AND receiver = ?"
            " AND reference = ? AND total = ?",
            (key.link_id, key.sender, key.receiver, key.reference, key.total),
        )
        return parts

    def _parts_of(self, key: SmppPartKey) -> list[SmppPart]:
        found = self._all(
            "SELECT seqnum, data_coding, payload, received_at FROM smpp_mo_parts"
            " WHERE link_id = ? AND sender = ? AND receiver = ? AND reference = ?"
            " AND total = ? ORDER BY seqnum",
            (key.link_id, key.sender, key.receiver, key.reference, key.total),
        )
        return [
            SmppPart(
                key,
                row["seqnum"],
                row["data_coding"],
                bytes(row["payload"]),
                _time(row["received_at"]),
            )
            for row in found
        ]

    async def stale_smpp_parts(
        self, link_id: str, before: datetime, limit: int
    ) -> Sequence[SmppPartKey]:
        found = self._all(
            "SELECT sender, receiver, reference, total FROM smpp_mo_parts WHERE link_id = ?"
            " GROUP BY sender, receiver, reference, total HAVING min(received_at) < ?"
            " ORDER BY min(received_at) LIMIT ?",
            (link_id, utc_text(before), limit),
        )
        return [
            SmppPartKey(link_id, row["sender"], row["receiver"], row["reference"], row["total"])
            for row in found
        ]

    async def prune_smpp_mo(self, link_id: str, before: datetime) -> int:
        at = utc_text(before)
        cursor = self._execute(
            "DELETE FROM smpp_mo WHERE link_id = ? AND stored_at < ?", (link_id, at)
        )
        self._execute(
            "DELETE FROM smpp_binds WHERE link_id = ? AND coalesce(closed_at, alive_at) < ?",
            (link_id, at),
        )
        return cursor.rowcount


def _optional_time(text: str | None) -> datetime | None:
    return None if text is None else _time(text)


if TYPE_CHECKING:

    def _implements_tx(tx: SqliteTx) -> Tx:
        return tx
