"""The hot path's queries use the index meant for them (SQLite's planner chooses by its
own cost model, which a test of results alone would never notice)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from smsgw.storage.sqlite import open_sqlite_store
from smsgw.storage.sqlite_tx import SqliteTx


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
