"""The hot path's queries use the index meant for them (each planner chooses by its own
cost model, which a test of results alone would never notice).

Every query that runs per MO, per reply, per receipt or per part is checked on both
backends: no scan of a table that grows, and the look-up searches the index meant for
it. A failure here is a query that gets slower as the history grows.
"""

from __future__ import annotations

import asyncio
import re
import sqlite3
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Final

import asyncpg
import pytest

from smsgw.domain.charges import PENDING_STATES, ChargeState
from smsgw.domain.ledger import charge_confirmed
from smsgw.domain.parking import SessionState
from smsgw.service.ports import OutboxState, SmppPart, SmppPartKey
from smsgw.service.store_port import Tx
from smsgw.storage.postgres_tx import PostgresTx
from smsgw.storage.rows import Row
from smsgw.storage.schema_source import MIGRATIONS
from smsgw.storage.sql.base import SqlTx
from smsgw.storage.sql.dialect import SqlRunner, numbered
from smsgw.storage.sql.sessions import PENDING_CHARGE
from smsgw.storage.sqlite import open_sqlite_store
from smsgw.storage.sqlite_tx import SqliteRunner, SqliteTx
from tests.storage.backends import Backend, PostgresPlace
from tests.storage.builders import (
    PHONE,
    T0,
    at,
    charge,
    inbound,
    job,
    outbound,
    rub,
    session,
)


async def _statements_of_seen_smpp_mo(path: Path) -> tuple[sqlite3.Connection, list[str]]:
    store = await open_sqlite_store(path)  # applies every migration
    await store.close()
    connection = sqlite3.connect(path)
    connection.row_factory = sqlite3.Row
    statements: list[str] = []
    connection.set_trace_callback(statements.append)
    await SqliteTx(connection).seen_smpp_mo("mts-1", "a-digest", "mts-1:bind:1")
    connection.set_trace_callback(None)
    return connection, statements


async def test_the_redelivery_lookup_searches_by_digest_not_the_links_whole_history(
    tmp_path: Path,
) -> None:
    # every MO asks this; walking the link's (link, stored_at) index instead made each
    # lookup scan all the link's stored MO (a regression the bench found: ~50x slower)
    connection, statements = await _statements_of_seen_smpp_mo(tmp_path / "plan.sqlite3")
    [lookup] = [statement for statement in statements if "FROM smpp_mo" in statement]

    plan = [row[3] for row in connection.execute(f"EXPLAIN QUERY PLAN {lookup}")]
    connection.close()

    assert any("smpp_mo_digest" in step and "digest=?" in step for step in plan), plan


# --- every query of the hot path, on both backends -----------------------------------
#
# Each hot-path call runs once, in order, on a freshly migrated store (SQLite file; a
# PostgreSQL schema), through a runner that records the SQL and parameters exactly as
# the shared SQL layer hands them to the database. The trace callback above shows the
# parameters already expanded into literals, and a planner may use a partial index for
# a literal that it cannot use for a bound parameter: the recorded form is the one that
# runs.


@dataclass(frozen=True, slots=True)
class Statement:
    sql: str
    params: tuple[object, ...]


class RecordingRunner:
    """The unit's runner, remembering each statement it runs."""

    def __init__(self, runner: SqlRunner) -> None:
        self._runner = runner
        self.dialect = runner.dialect
        self.statements: list[Statement] = []

    async def execute(self, sql: str, params: Sequence[object] = ()) -> int:
        self.statements.append(Statement(sql, tuple(params)))
        return await self._runner.execute(sql, params)

    async def execute_many(self, sql: str, params: Sequence[Sequence[object]]) -> None:
        self.statements.append(Statement(sql, tuple(params[0]) if params else ()))
        await self._runner.execute_many(sql, params)

    async def one(self, sql: str, params: Sequence[object] = ()) -> Row | None:
        self.statements.append(Statement(sql, tuple(params)))
        return await self._runner.one(sql, params)

    async def all(self, sql: str, params: Sequence[object] = ()) -> list[Row]:
        self.statements.append(Statement(sql, tuple(params)))
        return await self._runner.all(sql, params)

    def close(self) -> None:
        self._runner.close()


HotCall = Callable[[Tx], Awaitable[object]]
_PART_KEY = SmppPartKey("mts-1", PHONE, "7757", 7, 2)
_POSTING = charge_confirmed(
    transaction_id="charge-c1",
    charge_id="c1",
    phone=PHONE,
    operator_id="beeline",
    amount=rub(10000),
    at=T0,
)


def _insert_awaiting_payment(tx: Tx) -> Awaitable[None]:
    return tx.insert_session(session("s1", state=SessionState.AWAITING_PAYMENT))


def _activate(tx: Tx) -> Awaitable[None]:
    return tx.update_session(session("s1"))


# Run in this order on one unit, so a call finds the rows the earlier ones stored (a
# receipt finds its part, a redelivery its MO) and runs every statement it can.
HOT_PATH: Final[dict[str, HotCall]] = {
    "insert_inbound": lambda tx: tx.insert_inbound(inbound("k1")),
    "claim_inbound": lambda tx: tx.claim_inbound(at(1), "node-1", 30, 64),
    "mark_inbound_processed": lambda tx: tx.mark_inbound_processed("i1", "ok", at(1)),
    "lock_phone": lambda tx: tx.lock_phone(PHONE, "mts"),
    "get_phone": lambda tx: tx.get_phone(PHONE),
    "running_sessions": lambda tx: tx.running_sessions(PHONE),
    "active_session_for_plate": lambda tx: tx.active_session_for_plate("A123BC77"),
    "insert_session": lambda tx: tx.insert_session(
        session("s1", state=SessionState.AWAITING_PAYMENT)
    ),
    "update_session": _activate,
    "get_session": lambda tx: tx.get_session("s1"),
    "pending_charge": lambda tx: tx.pending_charge(PHONE),
    "charge_usage": lambda tx: tx.charge_usage(PHONE, "beeline", "RUB", at(0), at(-100)),
    "insert_charge": lambda tx: tx.insert_charge(charge("c1"), {}),
    "get_charge": lambda tx: tx.get_charge("c1"),
    "update_charge": lambda tx: tx.update_charge(
        "c1", ChargeState.REQUESTED, ChargeState.CONFIRMED, "op-1"
    ),
    "post": lambda tx: tx.post(_POSTING),
    "balance": lambda tx: tx.balance(_POSTING.entries[0].account),
    "enqueue_outbound": lambda tx: tx.enqueue_outbound(outbound("o1")),
    "claim_outbound": lambda tx: tx.claim_outbound(at(1), "node-1", 30, 64),
    "mark_outbound_sent": lambda tx: tx.mark_outbound_sent("o1", "m1", at(1)),
    "record_outbound_part": lambda tx: tx.record_outbound_part("o1", 1, 2, "m1", at(1)),
    "record_part_receipt": lambda tx: tx.record_part_receipt(
        "mts", ["m1"], OutboxState.DELIVERED, at(2)
    ),
    "record_receipt": lambda tx: tx.record_receipt("mts", "m1", OutboxState.DELIVERED, at(2)),
    "hold_receipt": lambda tx: tx.hold_receipt("mts", "m2", OutboxState.DELIVERED, at(2), at(9)),
    "held_receipts_for": lambda tx: tx.held_receipts_for("mts", ["m2", "m3"]),
    "held_receipts": lambda tx: tx.held_receipts(500),
    "drop_held_receipt": lambda tx: tx.drop_held_receipt(1),
    "remember_nonce": lambda tx: tx.remember_nonce("mts", "n1", at(2)),
    "touch_smpp_bind": lambda tx: tx.touch_smpp_bind("mts-1", "mts-1:bind:1", at(0)),
    "seen_smpp_mo": lambda tx: tx.seen_smpp_mo("mts-1", "a-digest", "mts-1:bind:2"),
    "record_smpp_mo": lambda tx: tx.record_smpp_mo(
        "mo1", "mts-1", "a-digest", "mts-1:bind:1", at(0), 0
    ),
    "claim_smpp_redelivery": lambda tx: tx.claim_smpp_redelivery(
        "mo1", "mts-1:bind:1", "mts-1:bind:2", at(1), 0
    ),
    "add_smpp_part": lambda tx: tx.add_smpp_part(SmppPart(_PART_KEY, 1, 0, b"part", at(0))),
    "take_smpp_parts": lambda tx: tx.take_smpp_parts(_PART_KEY),
    "schedule": lambda tx: tx.schedule(job("j1", "s1", minutes=5)),
    "claim_due_jobs": lambda tx: tx.claim_due_jobs(at(10), "node-1", 30, 64),
    "complete_job": lambda tx: tx.complete_job("j1"),
    "cancel_jobs": lambda tx: tx.cancel_jobs("s1"),
}

# The index a call's look-up must search: a scan-free plan on another index can still
# read a whole growing history (the redelivery look-up walking (link, stored_at); the
# pending charge walking every charge of the phone). Primary-key look-ups are left to
# the no-scan rule (the two backends name those indexes differently).
EXPECTED_INDEX: Final[dict[str, str]] = {
    "claim_inbound": "inbound_unprocessed",
    "running_sessions": "sessions_phone_state",
    "active_session_for_plate": "sessions_one_active_per_plate",
    "pending_charge": "charges_one_pending_per_phone",
    "charge_usage": "charges_usage",
    "claim_outbound": "outbox_pending",
    "record_part_receipt": "outbox_parts_message",
    "record_receipt": "outbox_message",
    "held_receipts_for": "held_receipts_message",
    "held_receipts": "held_receipts_received",
    "seen_smpp_mo": "smpp_mo_digest",
    "claim_due_jobs": "jobs_due",
    "cancel_jobs": "jobs_reference",
}

# Walking these in order is the point: each holds a queue (unprocessed MOs, pending
# replies, held receipts), whose rows leave it, and the walk stops at the claim's LIMIT.
QUEUE_INDEXES: Final = frozenset(
    {"inbound_unprocessed", "outbox_pending", "held_receipts_received"}
)

Plans = dict[str, list[str]]  # call → the plan text of each of its statements


class _RecordedSqliteTx(SqliteTx):
    """A SQLite unit whose statements its runner records."""

    def __init__(self, connection: sqlite3.Connection) -> None:
        self.recorder = RecordingRunner(SqliteRunner(connection))
        SqlTx.__init__(self, self.recorder)


class _RecordedPostgresTx(PostgresTx):
    """A PostgreSQL unit whose statements its runner records."""

    def __init__(self, connection: asyncpg.Connection) -> None:
        super().__init__(connection)
        self.recorder = RecordingRunner(self._runner)
        SqlTx.__init__(self, self.recorder)


async def _record_hot_path(
    tx: _RecordedSqliteTx | _RecordedPostgresTx,
) -> dict[str, list[Statement]]:
    recorder = tx.recorder
    recorded: dict[str, list[Statement]] = {}
    for name, call in HOT_PATH.items():
        recorder.statements = []
        await call(tx)
        recorded[name] = recorder.statements
    return recorded


async def _sqlite_plans(path: Path) -> Plans:
    store = await open_sqlite_store(path)  # applies every migration
    await store.close()
    connection = sqlite3.connect(path)
    connection.row_factory = sqlite3.Row
    try:
        recorded = await _record_hot_path(_RecordedSqliteTx(connection))
        return {
            name: [
                "\n".join(
                    row[3] for row in connection.execute(f"EXPLAIN QUERY PLAN {s.sql}", s.params)
                )
                for s in statements
            ]
            for name, statements in recorded.items()
        }
    finally:
        connection.rollback()
        connection.close()


async def _postgres_plans(place: PostgresPlace) -> Plans:
    # the schema lives for the session: whatever test ran before in this process left its
    # rows, and the hot path recorded here would run into them (the same charge posted)
    await Backend("postgres", postgres=place).empty()
    connection = await asyncpg.connect(place.dsn, server_settings={"search_path": place.schema})
    unit = connection.transaction()
    await unit.start()
    try:
        recorded = await _record_hot_path(_RecordedPostgresTx(connection))
        # enable_seqscan off: a sequential scan is chosen only where no index can serve.
        # The generic plan is the one a prepared statement settles on after five runs; it
        # knows no parameter's value, so a partial index must be implied by the SQL alone.
        await connection.execute(
            "SET LOCAL enable_seqscan = off; SET LOCAL plan_cache_mode = force_generic_plan"
        )
        return {
            name: [
                await _generic_plan(connection, s)
                for s in statements
                if "pg_advisory_xact_lock" not in s.sql
            ]
            for name, statements in recorded.items()
        }
    finally:
        await unit.rollback()
        await connection.close()


async def _generic_plan(connection: asyncpg.Connection, statement: Statement) -> str:
    await connection.execute(f"PREPARE hot_path_query AS {numbered(statement.sql)}")
    nulls = ", ".join("NULL" for _ in statement.params)  # a generic plan ignores them
    run = f"EXECUTE hot_path_query({nulls})" if nulls else "EXECUTE hot_path_query"
    try:
        return "\n".join(row[0] for row in await connection.fetch(f"EXPLAIN {run}"))
    finally:
        await connection.execute("DEALLOCATE hot_path_query")


@pytest.fixture(scope="module")
def sqlite_plans(tmp_path_factory: pytest.TempPathFactory) -> Plans:
    return asyncio.run(_sqlite_plans(tmp_path_factory.mktemp("plans") / "plans.sqlite3"))


@pytest.fixture(scope="module")
def postgres_plans(postgres_place: PostgresPlace) -> Plans:
    return asyncio.run(_postgres_plans(postgres_place))


_SQLITE_SCAN = re.compile(r"^SCAN (\S+)(?: USING (?:COVERING )?INDEX (\S+))?", re.MULTILINE)


def _sqlite_scans(plan: str) -> list[str]:
    """The plan's scans other than a walk of a queue's index."""
    return [
        scan.group(0) for scan in _SQLITE_SCAN.finditer(plan) if scan.group(2) not in QUEUE_INDEXES
    ]


def _uses(plan: str, index: str) -> bool:
    # SQLite: "SEARCH t USING INDEX i (…)"; PostgreSQL: "Index Scan using i on t",
    # "Bitmap Index Scan on i"
    return re.search(rf"(?:INDEX|using|Scan on) {index}\b", plan) is not None


@pytest.mark.parametrize("call", HOT_PATH)
def test_a_hot_path_query_never_scans_a_table_on_sqlite(sqlite_plans: Plans, call: str) -> None:
    plans = sqlite_plans[call]
    assert plans, f"{call} ran no statement"
    for plan in plans:
        assert not _sqlite_scans(plan), plan
    if call in EXPECTED_INDEX:
        assert any(_uses(plan, EXPECTED_INDEX[call]) for plan in plans), plans


@pytest.mark.parametrize("call", HOT_PATH)
def test_a_hot_path_query_never_scans_a_table_on_postgres(postgres_plans: Plans, call: str) -> None:
    plans = postgres_plans[call]
    assert plans, f"{call} ran no statement"
    for plan in plans:
        assert "Seq Scan" not in plan, plan
    if call in EXPECTED_INDEX:
        assert any(_uses(plan, EXPECTED_INDEX[call]) for plan in plans), plans


def test_the_pending_charge_clause_names_exactly_the_pending_states() -> None:
    # written out for the planner (see sql/sessions.py); it must still mean the domain's
    states = set(re.findall(r"'(\w+)'", PENDING_CHARGE))
    assert states == {str(state) for state in PENDING_STATES}
    assert PENDING_CHARGE in " ".join(
        " ".join(m.statements) for m in MIGRATIONS if m.name == "initial"
    )
