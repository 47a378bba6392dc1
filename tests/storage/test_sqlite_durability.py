"""An MO whose transact() returned survives the process being killed (SIGKILL) after it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from smsgw.storage.sqlite import open_sqlite_store
from tests.storage.builders import at

WRITER = textwrap.dedent(
    """
    import asyncio, os, signal, sys
    from smsgw.storage.sqlite import open_sqlite_store
    from tests.storage.builders import inbound

    async def main(path: str, count: int) -> None:
        store = await open_sqlite_store(path)
        for i in range(count):
            key = f"k{i}"
            await store.transact(lambda tx: tx.insert_inbound(inbound(key)))
            print(key, flush=True)  # the "ack to the SMSC"
        os.kill(os.getpid(), signal.SIGKILL)  # no close, no checkpoint, no atexit

    asyncio.run(main(sys.argv[1], int(sys.argv[2])))
    """
)


@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs POSIX signals")
async def test_acknowledged_mos_survive_sigkill(tmp_path: Path) -> None:
    path = tmp_path / "db.sqlite3"
    root = Path(__file__).resolve().parents[2]
    killed = subprocess.run(
        [sys.executable, "-c", WRITER, str(path), "50"],
        capture_output=True,
        text=True,
        timeout=30,
        cwd=root,
        env={**os.environ, "PYTHONPATH": str(root)},
        check=False,
    )
    acked = killed.stdout.split()

    store = await open_sqlite_store(path)
    stored = await store.transact(lambda tx: tx.claim_inbound(at(1), "node", 60, 1000))
    await store.close()

    assert killed.returncode == -signal.SIGKILL, killed.stderr
    assert len(acked) == 50
    assert {s.sms.dedup_key for s in stored} >= set(acked)
