"""`smsgw serve` as a child process, the way an operator runs it: a config file in a temp
directory (with an `operators/` symlink beside it, as `load_config` expects), the HTTP
port read from the "smsgw.serving" JSON event on its stdout, SIGKILL or SIGTERM on demand.

    config = ServeConfig(storage_dsn=f"sqlite:///{tmp_path / 'gw.sqlite3'}", smsc_port=..., ...)
    gateway = await GatewayProcess.start(write_config(tmp_path, config))
    gateway.kill()                      # SIGKILL, now: no drain, no atexit
    await gateway.wait_exit()
    gateway = await GatewayProcess.start(write_config(tmp_path, config.on_port(gateway.port)))
    assert await gateway.stop() == 0    # SIGTERM: drains, then exits 0
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import os
import signal
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from simulator.bench.config import toml_text
from tests.e2e.rig import HTTP_LINK_SECRET, REPO, SHORT_NUMBER, TOKEN, secret_for

SERVING_EVENT = "smsgw.serving"
STARTUP_TIMEOUT = 30.0  # seconds: a guard only; the gateway starts in about one
STOP_TIMEOUT = 30.0
SMPP_PASSWORD = "pw"


class GatewayStartError(RuntimeError):
    """The child exited, or said nothing usable, before its "smsgw.serving" event."""


def system_id_for(operator: str) -> str:
    return f"gw-{operator}"


@dataclass(frozen=True, slots=True)
class ServeConfig:
    """What a test gateway process is configured with; `document()` is its config.toml."""

    storage_dsn: str
    smsc_port: int
    link_operators: Sequence[str]
    charging_urls: Mapping[str, str]
    zones: Sequence[Mapping[str, Any]]
    node_id: str = "e2e-node"
    http_port: int = 0
    default_language: str = "en"
    log_level: str = "warning"
    drain_seconds: int | None = None  # gateway.drain_seconds; None: the default
    # operators that also get a kannel link `<operator>-http` (HTTP_LINK_SECRET), for MO
    # posted over HTTP; its sendsms_url leads nowhere, so leave it out where replies count
    http_link_operators: Sequence[str] = ()

    def on_port(self, port: int) -> ServeConfig:
        """The same gateway bound to a fixed port: a restart keeps its address, which the
        operators hold in the callback URLs of the charges already requested."""
        return dataclasses.replace(self, http_port=port)

    def document(self) -> dict[str, Any]:
        return {
            "gateway": {
                "short_number": SHORT_NUMBER,
                "default_language": self.default_language,
                "node_id": self.node_id,
                **({} if self.drain_seconds is None else {"drain_seconds": self.drain_seconds}),
            },
            "storage": {"dsn": self.storage_dsn},
            "http": {"host": "127.0.0.1", "port": self.http_port, "api_token": TOKEN},
            "logging": {"level": self.log_level, "json": True},
            "links": [
                {
                    "id": f"{operator}-1",
                    "operator": operator,
                    "type": "smpp",
                    "host": "127.0.0.1",
                    "port": self.smsc_port,
                    "system_id": system_id_for(operator),
                    "password": SMPP_PASSWORD,
                    "window": 10,
                    "segments_per_second": 1000,
                }
                for operator in self.link_operators
            ]
            + [
                {
                    "id": f"{operator}-http",
                    "operator": operator,
                    "type": "kannel",
                    "sendsms_url": "http://127.0.0.1:9/cgi-bin/sendsms",
                    "secret": HTTP_LINK_SECRET,
                }
                for operator in self.http_link_operators
            ],
            "charging": {
                operator: {"url": url, "secret": secret_for(operator)}
                for operator, url in self.charging_urls.items()
            },
            "zones": list(self.zones),
        }


def write_config(directory: Path, config: ServeConfig, name: str = "config.toml") -> Path:
    """Write `name` into `directory` with the repository's operators/ linked beside it."""
    directory.mkdir(parents=True, exist_ok=True)
    operators = directory / "operators"
    if not operators.exists():
        operators.symlink_to(REPO / "operators")
    path = directory / name
    path.write_text(toml_text(config.document()), "utf-8")
    return path


# --- the process ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class FastClock:
    """A service clock running `speed` times faster since the Unix time `anchor`: the
    runs of one test given the same one share a single time line across restarts."""

    anchor: float
    speed: float


async def python_module(
    module: str, *args: str, stderr: int = asyncio.subprocess.STDOUT
) -> asyncio.subprocess.Process:
    """`python -m module args` run from the repository, its stdout piped and unbuffered
    (so each line arrives as it is written); stderr joins stdout unless told otherwise."""
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        module,
        *args,
        stdout=asyncio.subprocess.PIPE,
        stderr=stderr,
        cwd=REPO,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )


class GatewayProcess:
    """A running `python -m smsgw.cli serve`; its stdout (JSON logs) is kept in `output`."""

    def __init__(
        self,
        process: asyncio.subprocess.Process,
        reader: asyncio.Task[None],
        port: int,
        output: list[str],
    ) -> None:
        self.process = process
        self.port = port
        self.output = output
        self._reader = reader

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @classmethod
    async def start(
        cls,
        config: Path,
        *,
        timeout: float = STARTUP_TIMEOUT,
        ahead_seconds: float = 0.0,
        link_speed: float = 1.0,
        fast_clock: FastClock | None = None,
    ) -> GatewayProcess:
        """`ahead_seconds`: run the service on a clock that much ahead of the wall clock,
        so retries a previous run scheduled are due at once; `link_speed`: run the SMPP
        links' timing that many times faster; `fast_clock`: the service's clock runs
        faster (all through tests/e2e/serve_ahead.py)."""
        moved = ["--ahead-seconds", repr(ahead_seconds), "--link-speed", repr(link_speed)]
        if fast_clock is not None:
            moved += ["--clock-anchor", repr(fast_clock.anchor)]
            moved += ["--clock-speed", repr(fast_clock.speed)]
        command = (
            ("tests.e2e.serve_ahead", *moved)
            if ahead_seconds or link_speed != 1.0 or fast_clock is not None
            else ("smsgw.cli", "serve")
        )
        process = await python_module(*command, "--config", str(config))
        output: list[str] = []
        port: asyncio.Future[int] = asyncio.get_running_loop().create_future()
        reader = asyncio.create_task(_read_output(process, output, port))
        try:
            bound = await asyncio.wait_for(asyncio.shield(port), timeout)
        except (GatewayStartError, TimeoutError) as error:
            with contextlib.suppress(ProcessLookupError):
                process.kill()
            await process.wait()
            await reader
            raise GatewayStartError(f"{error}; its output:\n" + "\n".join(output)) from error
        return cls(process, reader, bound, output)

    @property
    def running(self) -> bool:
        return self.process.returncode is None

    def kill(self) -> None:
        """SIGKILL, delivered before this returns: the process gets no chance to react."""
        if self.running:
            self.process.kill()

    async def wait_exit(self, timeout: float = STOP_TIMEOUT) -> int:
        code = await asyncio.wait_for(self.process.wait(), timeout)
        await self._reader
        return code

    async def stop(self, timeout: float = STOP_TIMEOUT) -> int:
        """SIGTERM (a clean drain) and the exit status."""
        if self.running:
            self.process.send_signal(signal.SIGTERM)
        return await self.wait_exit(timeout)

    async def ensure_gone(self) -> None:
        """For `finally`: whatever happened, leave no child behind."""
        self.kill()
        with contextlib.suppress(TimeoutError):
            await self.wait_exit()

    def tail(self, lines: int = 40) -> str:
        return "\n".join(self.output[-lines:])


async def _read_output(
    process: asyncio.subprocess.Process, output: list[str], port: asyncio.Future[int]
) -> None:
    assert process.stdout is not None
    async for raw in process.stdout:
        line = raw.decode("utf-8", "replace").rstrip("\n")
        output.append(line)
        served = serving_port(line)
        if served is not None and not port.done():
            port.set_result(served)
    if not port.done():
        code = await process.wait()
        port.set_exception(GatewayStartError(f"smsgw serve exited with {code} before serving"))


def serving_port(line: str) -> int | None:
    """The HTTP port of a `{"event": "smsgw.serving", "http_port": …}` log line."""
    try:
        event = json.loads(line)
    except ValueError:
        return None
    if not isinstance(event, dict) or event.get("event") != SERVING_EVENT:
        return None
    port = event.get("http_port")
    return port if isinstance(port, int) else None
