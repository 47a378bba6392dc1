"""The embedded store: one SQLite file, one writer task, group commit.

Every unit of work goes through one queue to one writer task. The writer takes what has
queued up (at most `batch_max` units), opens one `BEGIN IMMEDIATE`, runs each unit in its
own SAVEPOINT (a unit that raises is rolled back alone and its caller gets the error),
COMMITs once, and only then resolves the callers' futures: a caller that acknowledges
an SMSC on that future never acknowledges anything a crash could take back.

Why these choices:
- WAL with synchronous=NORMAL: a commit is in the WAL file (the OS page cache) before
  COMMIT returns, so it survives the process dying in any way (SIGKILL, OOM, a crash:
  tests/storage/test_sqlite_durability.py kills a writer with SIGKILL); only an OS crash
  or power loss can lose the last commits, which NORMAL does not fsync. The rule is "an
  MO acknowledged to the SMSC survives a process crash", and an SMSC redelivers what it
  got no ack for. Pass synchronous="FULL" to fsync every group commit too (one fsync per
  group, not per message) where the OS crash matters as well.
- Statements, BEGIN and (with synchronous=NORMAL) COMMIT run on the event-loop thread:
  they take microseconds, and a thread hop (~50 µs, and the loop idle while a group's
  callers wait for it: a quarter of the loop's time in the bench) would cost more. What
  made a commit slow (p99 29 ms, max 48 ms for 100-row groups) was the WAL checkpoint
  SQLite runs inside it, with its fsyncs; automatic checkpoints are off and
  sqlite_checkpoint.py runs them in the store's own worker thread on a connection of
  their own. With synchronous=FULL (an fsync per COMMIT) the COMMIT itself runs in the
  worker thread. A BEGIN that finds another process holding the write lock waits for it
  in the worker thread (up to busy_timeout), never on the loop.
- A locked or failing database fails the group's callers with StoreUnavailableError
  (the SMPP layer answers the SMSC with a temporary error) and the writer goes on.
- Reads take the same path as writes: one connection, always consistent, and a read is
  as cheap as a write inside a group.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final, TypeVar, cast

import structlog

from smsgw.service.store_port import Tx
from smsgw.storage.errors import StoreClosedError, StoreUnavailableError, WorkCancelledError
from smsgw.storage.rows import utc_text
from smsgw.storage.schema import SCHEMA_VERSION_TABLE, pending_migrations
from smsgw.storage.schema_sqlite import SQLITE_MIGRATIONS
from smsgw.storage.sqlite_checkpoint import WalCheckpointer
from smsgw.storage.sqlite_tx import SqliteTx

if TYPE_CHECKING:
    from smsgw.service.store_port import Store

T = TypeVar("T")
log = structlog.get_logger(__name__)

DEFAULT_SQLITE_PATH: Final = Path("var/smsgw.sqlite3")
MEMORY: Final = ":memory:"
# STRICT tables need 3.37; upsert with RETURNING needs 3.35
MIN_SQLITE_VERSION: Final = (3, 37, 0)
SYNCHRONOUS_MODES: Final = frozenset({"NORMAL", "FULL", "EXTRA"})
_PRIMARY_CODE: Final = 0xFF  # an extended result code's low byte is its primary code


@dataclass(slots=True)
class WriterStats:
    """What the writer has done, for the bench and the tests that check grouping."""

    groups: int = 0
    units: int = 0
    failed_units: int = 0
    failed_groups: int = 0
    largest_group: int = 0


@dataclass(slots=True)
class _Unit:
    work: Callable[[SqliteTx], Awaitable[Any]]
    future: asyncio.Future[Any]


@dataclass(slots=True)
class _Outcome:
    result: Any = None
    error: BaseException | None = None


@dataclass(slots=True)
class _Group:
    units: list[_Unit] = field(default_factory=list)
    last: bool = False  # the close marker came after these units


async def open_sqlite_store(
    path: str | Path = DEFAULT_SQLITE_PATH,
    *,
    batch_max: int = 256,
    busy_timeout: float = 5.0,
    synchronous: str = "NORMAL",
) -> SqliteStore:
    """Open (creating parent directories and migrating) the file and start its writer.

    `busy_timeout` (seconds): how long a group waits for another process's write lock
    before its callers get StoreUnavailableError."""
    if batch_max < 1:
        raise ValueError(f"batch_max must be at least 1, got {batch_max}")
    if synchronous.upper() not in SYNCHRONOUS_MODES:
        raise ValueError(f"synchronous must be one of {sorted(SYNCHRONOUS_MODES)}")
    mode = synchronous.upper()
    # COMMIT on the loop only where it does not fsync, and where another connection can
    # checkpoint the same file (an in-memory database has no WAL to checkpoint)
    commit_on_loop = mode == "NORMAL" and str(path) != MEMORY
    connection = await asyncio.to_thread(_connect, path, busy_timeout, mode, commit_on_loop)
    return SqliteStore(
        connection,
        batch_max=batch_max,
        busy_timeout=busy_timeout,
        checkpoint_path=path if commit_on_loop else None,
    )


def _connect(
    path: str | Path, busy_timeout: float, synchronous: str, own_checkpoints: bool
) -> sqlite3.Connection:
    if sqlite3.sqlite_version_info < MIN_SQLITE_VERSION:
        raise RuntimeError(f"smsgw needs SQLite >= 3.37, this Python has {sqlite3.sqlite_version}")
    if str(path) != MEMORY:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
    # isolation_level=None: no implicit transactions, the writer says BEGIN and COMMIT;
    # check_same_thread=False: BEGIN/COMMIT run in a worker thread, one call at a time
    connection = sqlite3.connect(
        path, isolation_level=None, check_same_thread=False, cached_statements=256
    )
    try:
        connection.row_factory = sqlite3.Row
        connection.execute(f"PRAGMA busy_timeout = {int(busy_timeout * 1000)}")
        connection.execute("PRAGMA journal_mode = WAL")
        connection.execute(f"PRAGMA synchronous = {synchronous}")
        if own_checkpoints:
            connection.execute("PRAGMA wal_autocheckpoint = 0")  # see sqlite_checkpoint.py
        connection.execute("PRAGMA foreign_keys = ON")
        migrate_sqlite(connection)
        connection.execute("PRAGMA busy_timeout = 0")  # see SqliteStore._begin
    except BaseException:
        connection.close()
        raise
    return connection


def migrate_sqlite(connection: sqlite3.Connection) -> int:
    """Apply the pending migrations in one transaction; how many were applied."""
    connection.execute("BEGIN IMMEDIATE")
    try:
        connection.execute(
            f"CREATE TABLE IF NOT EXISTS {SCHEMA_VERSION_TABLE} (version INTEGER PRIMARY KEY,"
            " name TEXT NOT NULL, applied_at TEXT NOT NULL) STRICT"
        )
        applied = [
            row[0] for row in connection.execute(f"SELECT version FROM {SCHEMA_VERSION_TABLE}")
        ]
        pending = pending_migrations(SQLITE_MIGRATIONS, applied)
        for migration in pending:
            for statement in migration.statements:
                connection.execute(statement)
            connection.execute(
                f"INSERT INTO {SCHEMA_VERSION_TABLE} (version, name, applied_at) VALUES (?, ?, ?)",
                (migration.version, migration.name, utc_text(datetime.now(UTC))),
            )
    except BaseException:
        connection.execute("ROLLBACK")
        raise
    connection.execute("COMMIT")
    return len(pending)


class SqliteStore:
    """`Store` over one SQLite file; create it with `open_sqlite_store`."""

    def __init__(
        self,
        connection: sqlite3.Connection,
        *,
        batch_max: int,
        busy_timeout: float,
        checkpoint_path: str | Path | None = None,
    ) -> None:
        self._connection = connection
        self._batch_max = batch_max
        self._busy_timeout_ms = int(busy_timeout * 1000)
        # one thread of its own: a commit or checkpoint never queues behind to_thread work
        self._worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="smsgw-sqlite")
        # set: COMMIT on the loop, WAL checkpoints in the worker thread
        self._checkpointer = (
            None if checkpoint_path is None else WalCheckpointer(checkpoint_path, self._worker)
        )
        self._queue: asyncio.Queue[_Unit | None] = asyncio.Queue()
        self._closing = False
        self._worker_closed = False
        self.stats = WriterStats()
        self._writer = asyncio.create_task(self._write_forever(), name="smsgw-sqlite-writer")

    async def transact(self, work: Callable[[Tx], Awaitable[T]]) -> T:
        return await self._submit(work)

    @property
    def checkpoints(self) -> int | None:
        """WAL checkpoints run by the worker thread so far; None when SQLite runs its own
        inside COMMIT (synchronous=FULL or EXTRA, or an in-memory database)."""
        return None if self._checkpointer is None else self._checkpointer.checkpoints

    async def ping(self) -> None:
        # through the writer: a database another process keeps locked is not ready
        await self._submit(lambda tx: tx.schema_version())

    async def close(self) -> None:
        if not self._closing:
            self._closing = True
            self._queue.put_nowait(None)
        await asyncio.shield(self._writer)
        if not self._worker_closed:
            self._worker_closed = True
            if self._checkpointer is not None:
                await self._checkpointer.close()
            await self._in_worker(self._connection.close)
            self._worker.shutdown(wait=False)

    async def _submit(self, work: Callable[[SqliteTx], Awaitable[T]]) -> T:
        if self._closing or self._writer.done():
            raise StoreClosedError("the SQLite store is closed")
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._queue.put_nowait(_Unit(work, future))
        return cast(T, await future)

    # --- the writer ------------------------------------------------------------------

    async def _write_forever(self) -> None:
        try:
            while True:
                group = await self._next_group()
                try:
                    await self._commit_group(group.units)
                except Exception as exc:
                    # a bug here must neither leave callers waiting nor stop the writer
                    log.exception("sqlite writer failed a group")
                    self._rollback_after(exc)
                    self._fail_group(group.units, exc)
                if group.last:
                    return
        finally:
            self._fail_queued()

    async def _next_group(self) -> _Group:
        first = await self._queue.get()
        if first is None:
            return _Group(last=True)
        group = _Group(units=[first])
        while len(group.units) < self._batch_max and not self._queue.empty():
            unit = self._queue.get_nowait()
            if unit is None:
                group.last = True
                break
            group.units.append(unit)
        return group

    def _fail_queued(self) -> None:
        while not self._queue.empty():
            unit = self._queue.get_nowait()
            if unit is not None and not unit.future.done():
                unit.future.set_exception(StoreClosedError("the SQLite store closed"))

    async def _commit_group(self, group: list[_Unit]) -> None:
        live = [unit for unit in group if not unit.future.done()]  # skip cancelled callers
        if not live:
            return
        try:
            await self._begin()
            outcomes = [await self._run_unit(unit) for unit in live]
            await self._commit()
        except sqlite3.Error as exc:
            self._rollback_after(exc)
            self._fail_group(live, exc)
            return
        except asyncio.CancelledError:
            # the writer is cancelled mid-group (the loop is going away without close())
            self._rollback_after(None)
            self._fail_group(live, StoreClosedError("the SQLite store closed mid-commit"))
            raise
        self._resolve(live, outcomes)

    async def _commit(self) -> None:
        if self._checkpointer is None:
            await self._in_worker(self._connection.execute, "COMMIT")
            return
        self._connection.execute("COMMIT")
        self._checkpointer.committed()

    async def _in_worker(self, call: Callable[..., object], *args: object) -> None:
        """Run a blocking call in the worker thread. If the writer is cancelled meanwhile,
        wait for the call to finish before going on: the connection must never be used
        from two threads at once (the rollback that follows a cancel would)."""
        done = asyncio.get_running_loop().run_in_executor(self._worker, call, *args)
        try:
            await asyncio.shield(done)
        except asyncio.CancelledError:
            await asyncio.wait([done])
            raise

    async def _begin(self) -> None:
        """BEGIN IMMEDIATE without ever blocking the loop on another process's lock."""
        try:
            # the writer's own connection never waits (busy_timeout 0): normally it is
            # the only writer, and this takes microseconds
            self._connection.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as exc:
            if exc.sqlite_errorcode & _PRIMARY_CODE != sqlite3.SQLITE_BUSY:
                raise
            await self._in_worker(self._begin_waiting)

    def _begin_waiting(self) -> None:
        """In a worker thread: wait up to busy_timeout for the write lock."""
        self._connection.execute(f"PRAGMA busy_timeout = {self._busy_timeout_ms}")
        try:
            self._connection.execute("BEGIN IMMEDIATE")
        finally:
            self._connection.execute("PRAGMA busy_timeout = 0")

    async def _run_unit(self, unit: _Unit) -> _Outcome:
        if unit.future.done():
            return _Outcome()  # its caller was cancelled while earlier units ran
        self._connection.execute("SAVEPOINT unit")
        tx = SqliteTx(self._connection)
        try:
            result = await unit.work(tx)
        except asyncio.CancelledError as exc:
            if _writer_cancelled():
                raise
            # the work itself was cancelled (by something it awaited): its failure only
            cancelled = WorkCancelledError("the unit of work was cancelled from inside")
            cancelled.__cause__ = exc
            return self._roll_back_unit(cancelled)
        except Exception as exc:
            return self._roll_back_unit(exc)
        finally:
            tx.close()
        self._connection.execute("RELEASE unit")
        return _Outcome(result=result)

    def _roll_back_unit(self, error: BaseException) -> _Outcome:
        self._connection.execute("ROLLBACK TO unit")
        self._connection.execute("RELEASE unit")
        return _Outcome(error=_for_caller(error))

    def _resolve(self, units: list[_Unit], outcomes: list[_Outcome]) -> None:
        self.stats.groups += 1
        self.stats.units += len(units)
        self.stats.largest_group = max(self.stats.largest_group, len(units))
        for unit, outcome in zip(units, outcomes, strict=True):
            if unit.future.done():
                continue
            if outcome.error is None:
                unit.future.set_result(outcome.result)
            else:
                self.stats.failed_units += 1
                unit.future.set_exception(outcome.error)

    def _fail_group(self, units: list[_Unit], error: BaseException) -> None:
        """Nothing of the group committed: every caller hears a temporary error (each its
        own instance, since one exception object raised in many tasks would gather all
        their tracebacks)."""
        if not units:
            return
        self.stats.failed_groups += 1
        log.warning("sqlite group failed", units=len(units), error=str(error))
        for unit in units:
            if not unit.future.done():
                unavailable = StoreUnavailableError(f"SQLite: {error}")
                unavailable.__cause__ = error
                unit.future.set_exception(unavailable)

    def _rollback_after(self, error: BaseException | None) -> None:
        if not self._connection.in_transaction:
            return  # SQLite already rolled back (a failed COMMIT can do that)
        try:
            self._connection.execute("ROLLBACK")
        except sqlite3.Error as rollback_error:
            # the connection is in trouble; the group's callers hear about `error`
            log.error("sqlite rollback failed", error=str(rollback_error), cause=str(error))


def _writer_cancelled() -> bool:
    task = asyncio.current_task()
    return task is not None and task.cancelling() > 0


def _for_caller(error: BaseException) -> BaseException:
    """What a caller gets: a database that cannot do its job now is a temporary error."""
    if isinstance(error, sqlite3.OperationalError):
        unavailable = StoreUnavailableError(f"SQLite: {error}")
        unavailable.__cause__ = error
        return unavailable
    return error


if TYPE_CHECKING:

    def _implements_store(store: SqliteStore) -> Store:
        return store
