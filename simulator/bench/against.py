"""`smsgw bench --against kannel`: the same SMSC-side load through a Kannel relay, then
through smsgw, one after the other in one run; both reported, with the ratio.

Each side gets a fresh lean load generator (`simulator.bench.smscload`, a process of its
own) that listens as the SMSC:

- kannel: bearerbox binds to it (one transceiver), smsbox relays each MO to a minimal
  reply app (`simulator.bench.replyapp`) whose answer Kannel sends back as the reply;
- smsgw: `smsgw serve` (a fresh SQLite file) binds to it with one SMPP link, and answers
  the status command the phones text (`--text`, default `I`).

The CPU of every process (gateway, bearerbox, smsbox, reply app, load generator) is read
from /proc/<pid>/stat over the loaded part of the run, as seconds and as cores. With
`--runs N` each side runs N times (alternating) and the figures are the medians. All on
127.0.0.1, ports from the OS, every step bounded in time, every process stopped.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import secrets
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from simulator.bench.config import GatewayConfig, toml_text
from simulator.bench.gateway import (
    BenchError,
    GatewayProcess,
    cpu_seconds,
    gateway_command,
    operators_dir,
)
from simulator.bench.kannel import (
    KannelBinaries,
    KannelError,
    RelaySetup,
    find_kannel,
    free_ports,
    running_relay,
    terminate,
)
from simulator.bench.smscload import offered_load
from simulator.config import SmscAccount

DEFAULT_IN_FLIGHT: Final = 700
# what the reply app answers (about the length of the gateway's answer to a status)
KANNEL_REPLY: Final = "No parking sessions. Balance 0.00 RUB"
SYSTEM_ID: Final = "bench"
START_TIMEOUT: Final = 30.0
STOP_TIMEOUT: Final = 20.0
EVENT_SLACK: Final = 30.0  # beyond the load's own duration, before a step is given up


@dataclass(frozen=True, slots=True)
class AgainstPlan:
    in_flight: int | None
    rate: float | None
    duration: float
    warmup: float
    grace: float
    phones: int
    text: str
    window: int
    runs: int
    keep: bool = False

    def generator_args(self, password: str) -> list[str]:
        pace = (
            ["--rate", str(self.rate)]
            if self.rate is not None
            else ["--in-flight", str(self.in_flight or DEFAULT_IN_FLIGHT)]
        )
        return [
            *pace,
            *("--duration", str(self.duration), "--warmup", str(self.warmup)),
            *("--grace", str(self.grace), "--phones", str(self.phones)),
            *("--text", self.text, "--system-id", SYSTEM_ID, "--password", password),
        ]


def plan_from_args(args: argparse.Namespace) -> AgainstPlan:
    if args.runs < 1 or args.runs > 50:
        raise BenchError("--runs: must be 1..50")
    if not 0.1 <= args.duration <= 3600 or not 0 <= args.warmup <= 3600:
        raise BenchError("--duration: 0.1..3600 s, --warmup: 0..3600 s")
    if not 0 <= args.grace <= 3600:
        raise BenchError("--grace: 0..3600 s")
    if args.in_flight is not None and not 1 <= args.in_flight <= 10_000:
        raise BenchError("--in-flight: must be 1..10000")
    if args.rate is not None and not 0.1 <= args.rate <= 100_000:
        raise BenchError("--rate: must be 0.1..100000")
    if not 1 <= args.window <= 1000:
        raise BenchError("--window: must be 1..1000")
    if not args.text.strip() or '"' in args.text:
        raise BenchError("--text: a non-empty text without double quotes")
    in_flight = None if args.rate is not None else (args.in_flight or DEFAULT_IN_FLIGHT)
    return AgainstPlan(
        in_flight=in_flight,
        rate=args.rate,
        duration=args.duration,
        warmup=args.warmup,
        grace=args.grace,
        phones=max(args.phones, 10 * (in_flight or 100)),
        text=args.text,
        window=args.window,
        runs=args.runs,
        keep=args.keep,
    )


def run_against(args: argparse.Namespace) -> int:
    try:
        plan = plan_from_args(args)
        binaries = find_kannel()
        if binaries is None:
            raise BenchError(
                "--against kannel: bearerbox and smsbox not found (apt install kannel)"
            )
        report = asyncio.run(compare(plan, binaries, progress=_progress_to_stderr))
    except (BenchError, KannelError) as error:
        print(f"smsgw bench: {error}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(report, ensure_ascii=False))
    else:
        for line in summarise(report):
            print(line)
    failed = any(side["lost"] or side["duplicated"] for side in report["sides"].values())
    return 1 if failed else 0


def _progress_to_stderr(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


# --- the comparison ------------------------------------------------------------------------


async def compare(
    plan: AgainstPlan, binaries: KannelBinaries, progress: Callable[[str], None] | None = None
) -> dict[str, Any]:
    """Kannel then smsgw, `plan.runs` times; the medians of each and the ratio."""
    runs: dict[str, list[dict[str, Any]]] = {"kannel": [], "smsgw": []}
    workdir = Path(tempfile.mkdtemp(prefix="smsgw-bench-against-"))
    try:
        for number in range(plan.runs):
            for side in ("kannel", "smsgw"):
                directory = workdir / f"{side}-{number + 1}"
                directory.mkdir()
                if side == "kannel":
                    result = await run_kannel_side(plan, binaries, directory)
                else:
                    result = await run_smsgw_side(plan, directory)
                runs[side].append(result)
                if progress is not None:
                    progress(f"run {number + 1}/{plan.runs} {side}: " + _one_line(result))
    finally:
        if plan.keep:
            print(f"smsgw bench: kept {workdir}", file=sys.stderr)
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    sides = {side: median_side(results) for side, results in runs.items()}
    kannel_rate, smsgw_rate = sides["kannel"]["replies_per_s"], sides["smsgw"]["replies_per_s"]
    return {
        "against": "kannel",
        **offered_load(plan),
        "warmup_s": plan.warmup,
        "text": plan.text,
        "runs": plan.runs,
        "sides": sides,
        "ratio": round(smsgw_rate / kannel_rate, 3) if kannel_rate else None,
        "each_run": runs,
    }


async def run_kannel_side(
    plan: AgainstPlan, binaries: KannelBinaries, directory: Path
) -> dict[str, Any]:
    password = secrets.token_hex(4)  # SMPP 3.4 passwords are at most 8 octets
    async with (
        load_generator(plan, password, directory) as generator,
        json_child(
            [sys.executable, "-m", "simulator.bench.replyapp", "--reply", KANNEL_REPLY],
            directory / "replyapp.stderr",
        ) as reply_app,
    ):
        reply_port = (await reply_app.event("listening", START_TIMEOUT))["port"]
        admin, smsbox, sendsms = free_ports(3)
        setup = RelaySetup(
            smsc_port=generator.port,
            system_id=SYSTEM_ID,
            password=password,
            reply_url=f"http://127.0.0.1:{reply_port}/reply",
            directory=directory,
            window=plan.window,
            admin_port=admin,
            smsbox_port=smsbox,
            sendsms_port=sendsms,
        )
        async with running_relay(binaries, setup) as relay:
            await generator.event("bound", START_TIMEOUT)
            pids = {**relay.pids(), "reply_app": reply_app.pid}
            return await measure(plan, generator, pids)


UNUSED_CHARGING_URL = "http://127.0.0.1:9/"  # the discard port: nobody answers there


async def run_smsgw_side(plan: AgainstPlan, directory: Path) -> dict[str, Any]:
    password = secrets.token_hex(4)
    async with load_generator(plan, password, directory) as generator:
        config = GatewayConfig(
            storage_dsn=f"sqlite:///{directory / 'bench.sqlite3'}",
            smsc_port=generator.port,
            links=[SmscAccount(SYSTEM_ID, password, "mts")],
            # the load only asks for status (`I`): nothing is charged, but a paying
            # operator's link needs its charging section; this one leads nowhere
            charging={"mts": (UNUSED_CHARGING_URL, secrets.token_hex(16))},
            window=plan.window,
        )
        path = directory / "config.toml"
        path.write_text(toml_text(config.document()), "utf-8")
        (directory / "operators").symlink_to(operators_dir())
        gateway = await GatewayProcess.start(gateway_command(path), directory, wrapped=False)
        try:
            await gateway.wait_serving(START_TIMEOUT)
            await gateway.wait_for(generator.event("bound", START_TIMEOUT), START_TIMEOUT, "bind")
            result = await measure(plan, generator, {"gateway": gateway.pid})
        finally:
            exit_code = await gateway.stop(STOP_TIMEOUT)
        result["gateway"] = {
            "warnings": gateway.warning_count,
            "first_warnings": gateway.warnings[:5],
            "exit_code": exit_code,
        }
        return result


async def measure(
    plan: AgainstPlan, generator: JsonChild, pids: Mapping[str, int]
) -> dict[str, Any]:
    """Start the load; the generator's report with each process's CPU while loaded."""
    every = {**pids, "load_generator": generator.pid}
    before = {name: cpu_seconds(pid) for name, pid in every.items()}
    started = time.perf_counter()
    generator.send_line("go")
    await generator.event("sent", plan.warmup + plan.duration + EVENT_SLACK)
    loaded = time.perf_counter() - started
    after = {name: cpu_seconds(pid) for name, pid in every.items()}
    report = await generator.event("report", plan.grace + EVENT_SLACK)
    report.pop("event", None)
    report["cpu"] = {name: _cpu(before[name], after[name], loaded) for name in every}
    return report


def _cpu(before: float | None, after: float | None, seconds: float) -> dict[str, float | None]:
    if before is None or after is None:
        return {"seconds": None, "cores": None}
    used = after - before
    return {"seconds": round(used, 2), "cores": round(used / seconds, 3) if seconds else None}


# --- child processes that speak JSON lines -------------------------------------------------


class JsonChild:
    """A child whose stdout is JSON lines (`{"event": ...}`); stderr goes to a file."""

    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self.process = process
        self.pid = process.pid
        self.port = 0
        self._events: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self._reader = asyncio.create_task(self._read())

    async def _read(self) -> None:
        assert self.process.stdout is not None
        while line := await self.process.stdout.readline():
            with contextlib.suppress(ValueError):
                event = json.loads(line)
                if isinstance(event, dict):
                    self._events.put_nowait(event)
        self._events.put_nowait({"event": "exited"})

    async def event(self, name: str, timeout: float) -> dict[str, Any]:
        """The next event called `name` (earlier ones of other names are passed over)."""
        try:
            async with asyncio.timeout(timeout):
                while True:
                    event = await self._events.get()
                    if event.get("event") == name:
                        return event
                    if event.get("event") in ("exited", "error"):
                        raise BenchError(f"pid {self.pid} ended waiting for {name!r}: {event}")
        except TimeoutError:
            raise BenchError(f"pid {self.pid}: no {name!r} within {timeout:g} s") from None

    def send_line(self, line: str) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(line.encode() + b"\n")

    async def close(self) -> None:
        await terminate(self.process)
        self._reader.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._reader


@contextlib.asynccontextmanager
async def json_child(command: Sequence[str], stderr: Path) -> AsyncIterator[JsonChild]:
    with stderr.open("wb") as errors:
        process = await asyncio.create_subprocess_exec(
            *command,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=errors,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
    child = JsonChild(process)
    try:
        yield child
    finally:
        await child.close()


@contextlib.asynccontextmanager
async def load_generator(
    plan: AgainstPlan, password: str, directory: Path
) -> AsyncIterator[JsonChild]:
    command = [sys.executable, "-m", "simulator.bench.smscload", *plan.generator_args(password)]
    async with json_child(command, directory / "smscload.stderr") as generator:
        generator.port = (await generator.event("listening", START_TIMEOUT))["port"]
        yield generator


# --- the figures ---------------------------------------------------------------------------


def median_side(results: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """The medians of one side's runs; lost and duplicated summed over them."""

    def median(values: list[float | None]) -> float | None:
        present = [value for value in values if value is not None]
        return round(statistics.median(present), 3) if present else None

    names = sorted({name for result in results for name in result["cpu"]})
    return {
        "replies_per_s": median([r["replies_per_s"] for r in results]) or 0.0,
        "mo_per_s": median([r["mo_per_s"] for r in results]),
        "p50_ms": median([r["latency_ms"]["p50"] for r in results]),
        "p99_ms": median([r["latency_ms"]["p99"] for r in results]),
        "lost": sum(r["lost"] for r in results),
        "duplicated": sum(r["duplicated"] for r in results),
        "refused": sum(r["refused"] for r in results),
        "skipped": sum(r["skipped"] for r in results),
        "cpu_cores": {
            name: median([r["cpu"].get(name, {}).get("cores") for r in results]) for name in names
        },
        "cpu_seconds": {
            name: median([r["cpu"].get(name, {}).get("seconds") for r in results]) for name in names
        },
    }


def _one_line(result: Mapping[str, Any]) -> str:
    latency = result["latency_ms"]
    cores = ", ".join(f"{name} {cpu['cores']}" for name, cpu in result["cpu"].items())
    return (
        f"{result['replies_per_s']} replies/s, p50 {latency['p50']} ms, p99 {latency['p99']} ms,"
        f" lost {result['lost']}, duplicated {result['duplicated']}; cores: {cores}"
    )


def summarise(report: Mapping[str, Any]) -> list[str]:
    pace = (
        f"closed loop, {report['in_flight']} in flight"
        if report["mode"] == "closed"
        else f"open loop at {report['rate']}/s"
    )
    lines = [
        f"{pace}, {report['duration_s']} s measured, text {report['text']!r}, "
        f"median of {report['runs']} run(s)"
    ]
    for name, side in report["sides"].items():
        cores = ", ".join(f"{process} {value}" for process, value in side["cpu_cores"].items())
        lines.append(
            f"{name:7} {side['replies_per_s']:>9.1f} replies/s  p50 {side['p50_ms']} ms"
            f"  p99 {side['p99_ms']} ms  lost {side['lost']}  duplicated {side['duplicated']}"
            f"  skipped {side['skipped']}"
        )
        lines.append(f"        CPU cores: {cores}")
    lines.append(f"smsgw / kannel replies/s: {report['ratio']}")
    return lines
