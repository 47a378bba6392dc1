"""WAL checkpoints away from the event loop, so that COMMIT can stay on it.

With synchronous=NORMAL a COMMIT only appends the group's pages to the WAL (the OS page
cache: no fsync), which takes well under a millisecond; what made commits slow (p99 29 ms)
was the automatic checkpoint SQLite runs inside a COMMIT once the WAL passes 1 000 pages,
with its fsyncs. So the writer's connection turns automatic checkpoints off, commits on
the loop, and this class runs `PRAGMA wal_checkpoint(PASSIVE)` on a connection of its own
in the store's worker thread, at most every `interval` seconds while there are commits.
PASSIVE never waits for the writer, and the writer never waits for it.
"""

from __future__ import annotations

import asyncio
import sqlite3
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Final

import structlog

log = structlog.get_logger(__name__)

CHECKPOINT_INTERVAL_SECONDS: Final = 0.5


class WalCheckpointer:
    """Checkpoints the WAL of `path` in `executor`'s thread after commits."""

    def __init__(
        self,
        path: str | Path,
        executor: ThreadPoolExecutor,
        *,
        interval: float = CHECKPOINT_INTERVAL_SECONDS,
    ) -> None:
        self._path = str(path)
        self._executor = executor
        self._interval = interval
        self._connection: sqlite3.Connection | None = None  # used in the worker thread only
        self._running: asyncio.Future[None] | None = None
        self._last = -interval
        self.checkpoints = 0

    def committed(self) -> None:
        """A COMMIT happened on the writer's connection: checkpoint if one is due."""
        loop = asyncio.get_running_loop()
        if self._running is not None or loop.time() - self._last < self._interval:
            return
        self._last = loop.time()
        self._running = loop.run_in_executor(self._executor, self._checkpoint)
        self._running.add_done_callback(self._finished)

    async def close(self) -> None:
        """Wait for a running checkpoint, run a last one, and close the connection."""
        if self._running is not None:
            await asyncio.wait([self._running])
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(self._executor, self._close)

    def _finished(self, done: asyncio.Future[None]) -> None:
        self._running = None
        if not done.cancelled() and done.exception() is not None:
            # the next one copies what this one did not; the WAL only grows meanwhile
            log.warning("sqlite checkpoint failed", error=str(done.exception()))

    def _checkpoint(self) -> None:
        if self._connection is None:
            self._connection = sqlite3.connect(
                self._path, isolation_level=None, check_same_thread=False
            )
        self._connection.execute("PRAGMA wal_checkpoint(PASSIVE)")
        self.checkpoints += 1

    def _close(self) -> None:
        connection, self._connection = self._connection, None
        if connection is None:
            return
        try:
            connection.execute("PRAGMA wal_checkpoint(PASSIVE)")
        finally:
            connection.close()
