"""The gateway under test as a child process (`python -m smsgw.cli serve`), exactly as
in production: its address, its CPU time, its warnings; and its storage (a fresh SQLite
file, or a fresh PostgreSQL schema dropped afterwards)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import secrets
import signal
import sys
from collections.abc import AsyncIterator, Sequence
from pathlib import Path
from typing import Any, Final

DEFAULT_POSTGRES_DSN: Final = "postgresql://postgres@127.0.0.1:5432/test"
POSTGRES_DSN_ENV: Final = "SMSGW_TEST_POSTGRES_DSN"
# the JSON event `smsgw serve` writes once it serves: {"event": "smsgw.serving", "url": …}
SERVING_LINE: Final = re.compile(r'"event":"smsgw\.serving"')
SERVING_URL: Final = re.compile(r'"url":"([^"]+)"')
KEPT_LINES: Final = 20


class BenchError(RuntimeError):
    """The bench could not run (the gateway did not start, bind, or stop)."""


def cpu_seconds(pid: int) -> float | None:
    """User + system CPU time of process `pid` so far (Linux /proc); None elsewhere."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    except OSError:
        return None
    ticks = os.sysconf("SC_CLK_TCK")
    return (int(fields[11]) + int(fields[12])) / ticks


def gateway_command(config: Path, *, wrapper: Sequence[str] = (), cprofile: str = "") -> list[str]:
    python = [sys.executable]
    if cprofile:
        python += ["-m", "cProfile", "-o", str(Path(cprofile).resolve())]
    return [*wrapper, *python, "-m", "smsgw.cli", "serve", "--config", str(config)]


def operators_dir() -> Path:
    """The operator files of this checkout (operators/ beside the smsgw package)."""
    import smsgw

    directory = Path(smsgw.__file__).resolve().parents[1] / "operators"
    if not directory.is_dir():
        raise BenchError(f"no operator files at {directory}")
    return directory


@contextlib.asynccontextmanager
async def storage_dsn(storage: str, postgres_dsn: str, workdir: Path) -> AsyncIterator[str]:
    """The gateway's DSN: a fresh SQLite file, or a fresh PostgreSQL schema dropped after."""
    if storage == "sqlite":
        yield f"sqlite:///{workdir / 'bench.sqlite3'}"
        return
    import asyncpg

    schema = f"smsgw_bench_{secrets.token_hex(6)}"
    try:
        connection = await asyncpg.connect(postgres_dsn)
    except (OSError, asyncpg.PostgresError) as error:
        raise BenchError(f"PostgreSQL at {postgres_dsn}: {error}") from error
    try:
        await connection.execute(f"CREATE SCHEMA {schema}")
        separator = "&" if "?" in postgres_dsn else "?"
        yield f"{postgres_dsn}{separator}search_path={schema}"
    finally:
        await connection.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
        await connection.close()


class GatewayProcess:
    """`smsgw serve` as a child process: its address, its CPU time, its warnings."""

    def __init__(self, process: asyncio.subprocess.Process, *, wrapped: bool = False) -> None:
        self.process = process
        self.pid = process.pid
        self.wrapped = wrapped
        self.warning_count = 0
        self.warnings: list[str] = []
        self.other_output: list[str] = []
        self.base_url: asyncio.Future[str] = asyncio.get_running_loop().create_future()
        self._readers = [
            asyncio.create_task(self._read(process.stdout)),
            asyncio.create_task(self._read(process.stderr)),
        ]

    @classmethod
    async def start(cls, command: list[str], workdir: Path, *, wrapped: bool) -> GatewayProcess:
        process = await asyncio.create_subprocess_exec(
            *command,
            cwd=workdir,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
            # a process group of its own: a wrapper (a profiler) and the gateway under it
            # are stopped together, as by Ctrl+C in a terminal
            start_new_session=True,
        )
        return cls(process, wrapped=wrapped)

    async def wait_serving(self, timeout: float) -> str:
        url: str = await self.wait_for(asyncio.shield(self.base_url), timeout, "start serving")
        return url

    async def wait_for(self, awaitable: Any, timeout: float, what: str) -> Any:
        """`awaitable`, unless the gateway exits first or `timeout` runs out."""
        waiting = asyncio.ensure_future(awaitable)
        exited = asyncio.ensure_future(self.process.wait())
        done, _ = await asyncio.wait(
            {waiting, exited}, timeout=timeout, return_when=asyncio.FIRST_COMPLETED
        )
        exited.cancel()
        if waiting in done:
            return waiting.result()
        waiting.cancel()
        await asyncio.gather(*self._readers, return_exceptions=True)
        output = "\n".join(self.other_output[-KEPT_LINES:] + self.warnings[-KEPT_LINES:])
        state = "exited" if exited in done else f"did not {what} in {timeout:.0f} s"
        raise BenchError(f"the gateway {state} (pid {self.pid}):\n{output}")

    def cpu_seconds(self) -> float | None:
        """User + system CPU time of the gateway so far (Linux /proc); None elsewhere."""
        return cpu_seconds(self.pid)

    async def stop(self, timeout: float) -> int | None:
        """Stop the gateway (it drains and exits); kill it if it does not within `timeout`.

        A wrapped gateway gets SIGINT with its wrapper, as from Ctrl+C: a profiler then
        writes its output once the gateway is gone."""
        if self.process.returncode is None:
            self._signal(signal.SIGINT if self.wrapped else signal.SIGTERM)
            try:
                await asyncio.wait_for(self.process.wait(), timeout)
            except TimeoutError:
                self._signal(signal.SIGKILL)
                await self.process.wait()
        # a grandchild left behind could hold the pipes open: do not wait on it forever
        _, pending = await asyncio.wait(self._readers, timeout=timeout)
        for reader in pending:
            reader.cancel()
        return self.process.returncode

    def _signal(self, signum: int) -> None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            if self.wrapped or signum == signal.SIGKILL:
                os.killpg(self.pid, signum)  # the group started with the process
            else:
                self.process.send_signal(signum)

    async def _read(self, stream: asyncio.StreamReader | None) -> None:
        if stream is None:
            return
        while line := await stream.readline():
            self._take(line.decode("utf-8", "replace").rstrip("\n"))

    def _take(self, line: str) -> None:
        if not self.base_url.done():
            match = SERVING_URL.search(line) if SERVING_LINE.search(line) else None
            if match is not None:
                self.base_url.set_result(match.group(1))
                return
        level = _log_level(line)
        if level in ("warning", "error", "critical"):
            self.warning_count += 1
            if len(self.warnings) < KEPT_LINES:
                self.warnings.append(line)
        elif level is None and line.strip():
            self.other_output = [*self.other_output[-KEPT_LINES:], line]


def _log_level(line: str) -> str | None:
    if not line.startswith("{"):
        return None
    try:
        event = json.loads(line)
    except ValueError:
        return None
    level = event.get("level") if isinstance(event, dict) else None
    return level if isinstance(level, str) else None
