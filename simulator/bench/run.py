"""`smsgw bench`: the gateway in a process of its own, the simulator and the load generator
in this one; prints throughput, latency, lost and duplicated answers.

    smsgw bench --max --duration 10 --mix status=50,bad=50        # MO→reply capacity
    smsgw bench --rate 1000 --duration 10                        # latency at a given rate
    smsgw bench --max --mix pay=1 --json                         # full paid sessions
    smsgw bench --against kannel --in-flight 700 --duration 20   # beside a Kannel relay

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
import os
import secrets
import shlex
import shutil
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final, TextIO

from simulator.bench.config import BENCH_ZONE, toml_text, world_gateway_config
from simulator.bench.driver import LoadGenerator, PhoneReassembler, bench_world
from simulator.bench.gateway import (
    DEFAULT_POSTGRES_DSN,
    POSTGRES_DSN_ENV,
    BenchError,
    GatewayProcess,
    gateway_command,
    operators_dir,
    storage_dsn,
)
from simulator.bench.report import ProgressPrinter, print_report
from simulator.bench.settings import LoadSettings
from simulator.bench.tally import LoadReport
from simulator.bench.texts import DEFAULT_MIX, Mix, MixError
from simulator.world import SimulatedWorld
from smsgw.smpp.constants import CommandId

RECEIVING_BINDS: Final = frozenset({CommandId.BIND_TRANSCEIVER, CommandId.BIND_RECEIVER})
START_TIMEOUT: Final = 30.0
STOP_TIMEOUT: Final = 20.0
BIND_POLL_SECONDS: Final = 0.02


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of `smsgw bench` (declared by smsgw/cli_bench.py)."""
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
        "--in-flight",
        type=int,
        default=None,
        help="open conversations at most (with --max; default 200, 700 with --against)",
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
    parser.add_argument(
        "--against",
        choices=("kannel",),
        default=None,
        help="the same SMSC-side load through a Kannel relay, then through smsgw; both "
        "printed with the ratio (text I; see --runs, --text)",
    )
    parser.add_argument(
        "--runs", type=int, default=1, help="with --against: runs of each, medians reported"
    )
    parser.add_argument(
        "--text", default="I", help="with --against: what the phones text (default I)"
    )


def run_bench(args: argparse.Namespace) -> int:
    if args.against is not None:
        from simulator.bench.against import run_against

        result: int = run_against(args)
        return result
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
    print_report(report, as_json=args.json)
    failed = report["lost"] or report["duplicated"] or report["refused"]
    return 1 if failed else 0


def _load_settings(args: argparse.Namespace, mix: Mix) -> LoadSettings:
    return LoadSettings(
        phones=args.phones,
        rate=args.rate,
        duration=args.duration,
        warmup=args.warmup,
        grace=args.grace,
        in_flight=200 if args.in_flight is None else args.in_flight,
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
        async with storage_dsn(options.storage, options.postgres_dsn, workdir) as dsn:
            return await _run_against(settings, options, workdir, dsn)
    finally:
        if options.keep:
            print(f"smsgw bench: kept {workdir}", file=sys.stderr)
        else:
            shutil.rmtree(workdir, ignore_errors=True)


async def _run_against(
    settings: LoadSettings, options: BenchOptions, workdir: Path, dsn: str
) -> dict[str, Any]:
    secret_of = {op: secrets.token_hex(16) for op in settings.operators}
    reassembler = PhoneReassembler()
    world = bench_world(settings.operators, secret_of, reassembler)
    printer = ProgressPrinter(options.progress) if options.progress is not None else None
    generator = LoadGenerator(world, settings, on_progress=printer, reassembler=reassembler)
    await world.start()
    try:
        config = workdir / "config.toml"
        document = world_gateway_config(world, secret_of, dsn, options.window).document()
        config.write_text(toml_text(document), "utf-8")
        (workdir / "operators").symlink_to(operators_dir())
        command = gateway_command(config, wrapper=options.wrapper, cprofile=options.cprofile)
        gateway = await GatewayProcess.start(command, workdir, wrapped=bool(options.wrapper))
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
        generator.unsubscribe()
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


async def _all_bound(world: SimulatedWorld, operators: Sequence[str]) -> None:
    """Return once every operator has a bind that takes deliver_sm (checked every 20 ms)."""
    while not all(world.smsc.is_bound(operator) for operator in operators):
        await asyncio.sleep(BIND_POLL_SECONDS)


def _difference(after: float | None, before: float | None) -> float | None:
    return None if after is None or before is None else after - before
