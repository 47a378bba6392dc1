"""`smsgw bench`: the gateway in a process of its own, the simulator and the load generator
in this one; prints throughput, latency, lost and duplicated answers.

    smsgw bench --max --duration 10 --mix status=50,bad=50        # MO→reply capacity
    smsgw bench --rate 1000 --duration 10                        # latency at a given rate
    smsgw bench --max --mix pay=1 --json                         # full paid sessions

The gateway runs as `python -m smsgw.cli serve` on a generated configuration in a
temporary directory: a fresh SQLite file (or a fresh schema in PostgreSQL with
`--storage postgres`), HTTP on a free loopback port, one SMPP bind per operator to the
simulated SMSC, charging through the simulated operators (every phone confirms), one zone
paid around the clock so the figures do not depend on the hour, and warnings-only logs.
Everything listens on 127.0.0.1 only; the run is bounded by `--duration` and `--grace`.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import re
import secrets
import shlex
import signal
import sys
import tempfile
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final, TextIO

from smsgw.smpp.constants import CommandId

RECEIVING_BINDS: Final = frozenset({CommandId.BIND_TRANSCEIVER, CommandId.BIND_RECEIVER})

if TYPE_CHECKING:
    from simulator.loadgen import LoadReport, LoadSettings, Mix, Progress
    from simulator.world import SimulatedWorld

DEFAULT_POSTGRES_DSN: Final = "postgresql://postgres@127.0.0.1:5432/test"
POSTGRES_DSN_ENV: Final = "SMSGW_TEST_POSTGRES_DSN"
# the JSON event `smsgw serve` writes once it serves: {"event": "smsgw.serving", "url": …}
SERVING_LINE: Final = re.compile(r'"event":"smsgw\.serving"')
SERVING_URL: Final = re.compile(r'"url":"([^"]+)"')
BENCH_ZONE: Final = "1001"
BENCH_PRICE: Final = "30.00"
START_TIMEOUT: Final = 30.0
STOP_TIMEOUT: Final = 20.0
KEPT_LINES: Final = 20
BIND_POLL_SECONDS: Final = 0.02


class BenchError(RuntimeError):
    """The bench could not run (the gateway did not start, bind, or stop)."""


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "bench", help="load the gateway through the simulator and report throughput and latency"
    )
    parser.add_argument("--phones", type=int, default=1000, help="virtual phones (default 1000)")
    pace = parser.add_mutually_exclusive_group()
    pace.add_argument("--rate", type=float, help="texts per second offered")
    pace.add_argument(
        "--max", action="store_true", help="as fast as the gateway answers (the default)"
    )
    parser.add_argument("--duration", type=float, default=10.0, help="seconds measured")
    parser.add_argument("--warmup", type=float, default=1.0, help="seconds before measuring")
    parser.add_argument("--grace", type=float, default=10.0, help="seconds to wait for answers")
    parser.add_argument(
        "--mix",
        default=None,
        help="command weights, e.g. pay=30,extend=10,stop=15,status=30,bad=15",
    )
    parser.add_argument("--json", action="store_true", help="print the report as one JSON object")
    parser.add_argument("--storage", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument(
        "--postgres-dsn",
        default=os.environ.get(POSTGRES_DSN_ENV, DEFAULT_POSTGRES_DSN),
        help=f"server for --storage postgres (default ${POSTGRES_DSN_ENV} or the local test db)",
    )
    parser.add_argument(
        "--in-flight", type=int, default=200, help="open conversations at most (with --max)"
    )
    parser.add_argument("--window", type=int, default=100, help="gateway's submit_sm window")
    parser.add_argument(
        "--smsc-window", type=int, default=100, help="SMSC's deliver_sm window per bind"
    )
    parser.add_argument("--seed", type=int, default=1, help="seed of the command mix")
    parser.add_argument(
        "--gateway-wrapper",
        default="",
        help='command put before the gateway\'s, e.g. "py-spy record -o gw.svg --"',
    )
    parser.add_argument(
        "--gateway-cprofile", default="", help="run the gateway under cProfile, stats to FILE"
    )
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory")
    parser.set_defaults(handler=run_bench)


def run_bench(args: argparse.Namespace) -> int:
    from simulator.loadgen import DEFAULT_MIX, Mix, MixError

    try:
        settings = _load_settings(args, Mix.parse(args.mix or DEFAULT_MIX))
        options = BenchOptions.from_args(args)
    except (MixError, ValueError, BenchError) as error:
        print(f"smsgw bench: {error}", file=sys.stderr)
        return 2
    from smsgw.observability import configure_logging

    configure_logging("warning", json=False)  # the simulator's own logs: warnings only
    try:
        report = asyncio.run(bench(settings, options))
    except BenchError as error:
        print(f"smsgw bench: {error}", file=sys.stderr)
        return 2
    _print_report(report, as_json=args.json)
    failed = report["lost"] or report["duplicated"] or report["refused"]
    return 1 if failed else 0


def _load_settings(args: argparse.Namespace, mix: Mix) -> LoadSettings:
    from simulator.loadgen import LoadSettings

    return LoadSettings(
        phones=args.phones,
        rate=args.rate,
        duration=args.duration,
        warmup=args.warmup,
        grace=args.grace,
        in_flight=args.in_flight,
        smsc_window=args.smsc_window,
        mix=mix,
        zone=BENCH_ZONE,
        seed=args.seed,
    )


@dataclass(frozen=True, slots=True)
class BenchOptions:
    """How the gateway process is run (the load itself is `LoadSettings`)."""

    storage: str = "sqlite"
    postgres_dsn: str = DEFAULT_POSTGRES_DSN
    window: int = 100
    wrapper: tuple[str, ...] = ()
    cprofile: str = ""
    keep: bool = False
    progress: TextIO | None = field(default=None, compare=False)

    @classmethod
    def from_args(cls, args: argparse.Namespace) -> BenchOptions:
        if not 1 <= args.window <= 1000:
            raise BenchError("--window: must be 1..1000")
        return cls(
            storage=args.storage,
            postgres_dsn=args.postgres_dsn,
            window=args.window,
            wrapper=tuple(shlex.split(args.gateway_wrapper)),
            cprofile=args.gateway_cprofile,
            keep=args.keep,
            progress=sys.stderr,
        )


# --- the run -------------------------------------------------------------------------------


async def bench(settings: LoadSettings, options: BenchOptions) -> dict[str, Any]:
    """One bench run; the report as a JSON-ready dict."""
    workdir = Path(tempfile.mkdtemp(prefix="smsgw-bench-"))
    try:
        async with _storage(options, workdir) as dsn:
            return await _run_against(settings, options, workdir, dsn)
    finally:
        if options.keep:
            print(f"smsgw bench: kept {workdir}", file=sys.stderr)
        else:
            _remove_tree(workdir)


async def _run_against(
    settings: LoadSettings, options: BenchOptions, workdir: Path, dsn: str
) -> dict[str, Any]:
    from simulator.loadgen import LoadGenerator

    world, secrets_by_operator = _world(settings.operators)
    printer = ProgressPrinter(options.progress) if options.progress is not None else None
    generator = LoadGenerator(world, settings, on_progress=printer)
    await world.start()
    try:
        config = workdir / "config.toml"
        config.write_text(gateway_config(world, secrets_by_operator, dsn, options.window), "utf-8")
        (workdir / "operators").symlink_to(operators_dir())
        gateway = await GatewayProcess.start(
            _gateway_command(config, options), workdir, wrapped=bool(options.wrapper)
        )
        try:
            await gateway.wait_serving(START_TIMEOUT)
            await gateway.wait_for(
                _all_bound(world, settings.operators), START_TIMEOUT, "bind to the SMSC"
            )
            cpu_before = gateway.cpu_seconds()
            result = await generator.run()
            cpu_used = _difference(gateway.cpu_seconds(), cpu_before)
        finally:
            returncode = await gateway.stop(STOP_TIMEOUT)
            if printer is not None:
                printer.finish()
    finally:
        await world.close()
    return _report(result, options, gateway, cpu_used, returncode)


def _report(
    result: LoadReport,
    options: BenchOptions,
    gateway: GatewayProcess,
    cpu_used: float | None,
    returncode: int | None,
) -> dict[str, Any]:
    report = result.to_json()
    report["storage"] = options.storage
    cpu_per_s = None
    if cpu_used is not None and result.run_seconds > 0:
        cpu_per_s = round(cpu_used / result.run_seconds, 3)
    report["gateway"] = {
        "pid": gateway.pid,
        "cpu_per_s": cpu_per_s,
        "warnings": gateway.warning_count,
        "first_warnings": gateway.warnings[:5],
        "exit_code": returncode,
    }
    return report


def _world(operators: Sequence[str]) -> tuple[SimulatedWorld, dict[str, str]]:
    from simulator.config import SmscAccount, SmscSettings
    from simulator.world import OperatorEndpoint, SimulatedWorld

    accounts = tuple(SmscAccount(f"bench-{op}", "bench", op) for op in operators)
    secret_of = {op: secrets.token_hex(16) for op in operators}
    endpoints = [OperatorEndpoint(op, "127.0.0.1", 0, secret_of[op]) for op in operators]
    world = SimulatedWorld(SmscSettings("127.0.0.1", 0, accounts), endpoints)
    return world, secret_of


async def _all_bound(world: SimulatedWorld, operators: Sequence[str]) -> None:
    """Return once every operator has a bind that takes deliver_sm (checked every 20 ms:
    the SMSC's own bind hook belongs to the simulator)."""
    wanted = set(operators)
    while True:
        bound = {
            world.smsc.operator_of(connection)
            for connection in world.smsc.server.bound
            if connection.bind_type in RECEIVING_BINDS
        }
        if wanted <= bound:
            return
        await asyncio.sleep(BIND_POLL_SECONDS)


def _difference(after: float | None, before: float | None) -> float | None:
    return None if after is None or before is None else after - before


def _gateway_command(config: Path, options: BenchOptions) -> list[str]:
    python = [sys.executable]
    if options.cprofile:
        python += ["-m", "cProfile", "-o", str(Path(options.cprofile).resolve())]
    return [*options.wrapper, *python, "-m", "smsgw.cli", "serve", "--config", str(config)]


def operators_dir() -> Path:
    """The operator files of this checkout (operators/ beside the smsgw package)."""
    import smsgw

    directory = Path(smsgw.__file__).resolve().parents[1] / "operators"
    if not directory.is_dir():
        raise BenchError(f"no operator files at {directory}")
    return directory


def _remove_tree(path: Path) -> None:
    import shutil

    shutil.rmtree(path, ignore_errors=True)


# --- the gateway's configuration -----------------------------------------------------------


def gateway_config(world: SimulatedWorld, secret_of: dict[str, str], dsn: str, window: int) -> str:
    """config.toml for the gateway under test, wired to the started `world`."""
    lines = [
        "[gateway]",
        'short_number = "7757"',
        'default_language = "ru"',
        'node_id = "bench"',
        "",
        "[storage]",
        f"dsn = {_toml(dsn)}",
        "",
        "[http]",
        'host = "127.0.0.1"',
        "port = 0",
        f"api_token = {_toml(secrets.token_hex(16))}",
        "",
        "[logging]",
        'level = "warning"',
        "json = true",
        "",
    ]
    for account in world.smsc.settings.accounts:
        lines += [
            "[[links]]",
            f"id = {_toml(account.operator + '-1')}",
            f"operator = {_toml(account.operator)}",
            'type = "smpp"',
            'host = "127.0.0.1"',
            f"port = {world.smsc.port}",
            f"system_id = {_toml(account.system_id)}",
            f"password = {_toml(account.password)}",
            f"window = {window}",
            # the operator's cap is not what is measured here
            "segments_per_second = 100000",
            "",
        ]
    for operator, simulator in world.operators.items():
        lines += [
            f"[charging.{operator}]",
            f"url = {_toml(simulator.base_url)}",
            f"secret = {_toml(secret_of[operator])}",
            "",
        ]
    lines += [
        "[[zones]]",
        f"number = {_toml(BENCH_ZONE)}",
        'name = "Bench, paid around the clock"',
        'time_zone = "Europe/Moscow"',
        'currency = "RUB"',
        f"price_per_hour = {_toml(BENCH_PRICE)}",
        "billing_step_minutes = 1",
        "max_hours = 24",
        'paid = [{ days = "Mon-Sun", from = "00:00", to = "24:00" }]',
        "",
    ]
    return "\n".join(lines)


def _toml(value: str) -> str:
    return json.dumps(value)  # a JSON string is a TOML basic string for these values


# --- storage -------------------------------------------------------------------------------


@contextlib.asynccontextmanager
async def _storage(options: BenchOptions, workdir: Path) -> AsyncIterator[str]:
    """The gateway's DSN: a fresh SQLite file, or a fresh PostgreSQL schema dropped after."""
    if options.storage == "sqlite":
        yield f"sqlite:///{workdir / 'bench.sqlite3'}"
        return
    import asyncpg

    schema = f"smsgw_bench_{secrets.token_hex(6)}"
    try:
        connection = await asyncpg.connect(options.postgres_dsn)
    except (OSError, asyncpg.PostgresError) as error:
        raise BenchError(f"PostgreSQL at {options.postgres_dsn}: {error}") from error
    try:
        await connection.execute(f"CREATE SCHEMA {schema}")
        separator = "&" if "?" in options.postgres_dsn else "?"
        yield f"{options.postgres_dsn}{separator}search_path={schema}"
    finally:
        await connection.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
        await connection.close()


# --- the gateway process -------------------------------------------------------------------


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
        try:
            fields = Path(f"/proc/{self.pid}/stat").read_text().rpartition(")")[2].split()
        except OSError:
            return None
        ticks = os.sysconf("SC_CLK_TCK")
        return (int(fields[11]) + int(fields[12])) / ticks

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


# --- output --------------------------------------------------------------------------------


class ProgressPrinter:
    """One line a second: rewritten in place on a terminal, appended otherwise."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.in_place = stream.isatty()
        self._written = False

    def __call__(self, progress: Progress) -> None:
        phase = "measuring" if progress.measuring else "warm-up/drain"
        p99 = "-" if progress.p99_ms is None else f"{progress.p99_ms:.1f}"
        line = (
            f"{progress.elapsed:6.1f}s {phase:13} MO {progress.sent} ({progress.sent_per_s:.0f}/s)"
            f"  replies {progress.replies} ({progress.replies_per_s:.0f}/s)"
            f"  paid {progress.paid_sessions}  open {progress.in_flight}  p99 {p99} ms"
        )
        if self.in_place:
            self.stream.write("\r\x1b[2K" + line)
        else:
            self.stream.write(line + "\n")
        self.stream.flush()
        self._written = True

    def finish(self) -> None:
        if self.in_place and self._written:
            self.stream.write("\n")
            self.stream.flush()


def _print_report(report: dict[str, Any], *, as_json: bool) -> None:
    if as_json:
        print(json.dumps(report, ensure_ascii=False))
        return
    from simulator.loadgen import summarise

    for line in summarise(report):
        print(line)
    gateway = report["gateway"]
    print(
        f"gateway CPU {gateway['cpu_per_s']} cores, load generator CPU "
        f"{report['loadgen_cpu_per_s']} cores, storage {report['storage']}, "
        f"gateway warnings {gateway['warnings']}"
    )


__all__ = ["BenchError", "BenchOptions", "bench", "gateway_config", "register", "run_bench"]
