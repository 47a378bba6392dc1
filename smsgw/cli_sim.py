"""`smsgw sim`: the simulator on its own.

smsgw sim run FILE|FOLDER... [--gateway-config config.toml]
    runs scenario files (simulator/scenario.py) against the gateway in-process,
    each on a fresh stack with a settable clock; prints a pass/fail line per step;
    exit status 0 when every scenario passed, 1 when one failed, 2 when a file or
    the configuration is wrong.
smsgw sim serve [--config config.toml]
    runs the world (SMSC, operators' charging APIs, phones) and its control API on
    [simulator.control] (default 127.0.0.1:8090), for a gateway in another process
    (`smsgw serve`) and for benchmarks; stops on Ctrl+C or SIGTERM.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
import sys
import tomllib
from pathlib import Path
from typing import Any

from smsgw.domain.errors import ConfigError


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("sim", help="the simulator alone: scenario files, control API")
    commands = parser.add_subparsers(dest="sim_command", required=True, metavar="SIM_COMMAND")
    run = commands.add_parser("run", help="run scenario files against the gateway in-process")
    run.add_argument("paths", nargs="+", type=Path, help="scenario files or folders of them")
    run.add_argument(
        "--gateway-config", default="config.toml", type=Path, help="the gateway's config.toml"
    )
    run.set_defaults(handler=run_scenarios)
    serve = commands.add_parser("serve", help="run the simulated world and its control API")
    serve.add_argument("--config", default="config.toml", type=Path, help="path to config.toml")
    serve.set_defaults(handler=serve_world)


def run_scenarios(args: argparse.Namespace) -> int:
    from simulator.scenario import (
        ScenarioError,
        load_scenario,
        read_gateway_config,
        scenario_files,
    )

    try:
        raw, operator_files = read_gateway_config(args.gateway_config)
        scenarios = [load_scenario(path) for path in scenario_files(args.paths)]
    except (OSError, tomllib.TOMLDecodeError, ConfigError, ScenarioError) as error:
        print(f"smsgw sim run: {error}", file=sys.stderr)
        return 2
    if not scenarios:
        print("smsgw sim run: no scenario files found", file=sys.stderr)
        return 2
    _quiet_logs()
    try:
        passed = asyncio.run(_run_all(scenarios, raw, operator_files))
    except ConfigError as error:
        print(f"smsgw sim run: {args.gateway_config}: {error}", file=sys.stderr)
        return 2
    print(f"{passed} of {len(scenarios)} scenarios passed", flush=True)
    return 0 if passed == len(scenarios) else 1


async def _run_all(scenarios: list[Any], raw: Any, operator_files: Any) -> int:
    from simulator.scenario import run_scenario

    passed = 0
    for scenario in scenarios:
        report = await run_scenario(scenario, raw, operator_files)
        print(report.format(), flush=True)
        passed += report.passed
    return passed


def serve_world(args: argparse.Namespace) -> int:
    from simulator.config import SimulatorConfigError, control_settings_from_config
    from simulator.world import SimulatedWorld

    try:
        raw = tomllib.loads(args.config.read_text("utf-8"))
        world = SimulatedWorld.from_config(raw)
        control = control_settings_from_config(raw)
    except (OSError, tomllib.TOMLDecodeError, SimulatorConfigError) as error:
        print(f"smsgw sim serve: {args.config}: {error}", file=sys.stderr)
        return 2
    _quiet_logs()
    asyncio.run(_serve(world, control.host, control.port))
    return 0


async def _serve(world: Any, host: str, port: int) -> None:
    from aiohttp import web

    from simulator.control import create_control_app

    app = create_control_app(world)
    _add_web_phone(app)
    await world.start()
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, host, port)
    await site.start()
    address = runner.addresses[0]
    print(f"SMSC simulator listening on {world.smsc.settings.host}:{world.smsc.port}", flush=True)
    print(f"Control API on http://{address[0]}:{address[1]}/api/state", flush=True)
    for operator_id, operator in sorted(world.operators.items()):
        print(f"  operator {operator_id} charging API on {operator.base_url}", flush=True)
    print("Press Ctrl+C to stop.", flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(signum, stop.set)
    await stop.wait()
    await runner.cleanup()
    await world.close()
    print("Simulator stopped.", flush=True)


def _add_web_phone(app: Any) -> None:
    # the web phone page, when that module is there, beside the API it reads
    try:
        from simulator.webphone import add_webphone_routes
    except ImportError:
        return
    add_webphone_routes(app)


def _quiet_logs() -> None:
    from smsgw.observability import configure_logging

    configure_logging("error", json=False)
