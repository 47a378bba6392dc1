"""`smsgw demo` (what `make run` starts): the gateway and the bundled simulator together,
on the embedded SQLite default, with config.toml — the SMSC every link binds to, each
operator's charging API, and virtual phones created on first use.
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

from smsgw.config import AppConfig, load_config
from smsgw.domain.errors import ConfigError


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "demo", help="run the gateway with the bundled simulator (what `make run` starts)"
    )
    parser.add_argument("--config", default="config.toml", help="path to config.toml")
    parser.set_defaults(handler=run_demo)


def run_demo(args: argparse.Namespace) -> int:
    from simulator.config import SimulatorConfigError

    try:
        raw = tomllib.loads(Path(args.config).read_text("utf-8"))
        config = load_config(Path(args.config))
        from simulator.world import SimulatedWorld

        world = SimulatedWorld.from_config(raw)
    except (OSError, tomllib.TOMLDecodeError, ConfigError, SimulatorConfigError) as error:
        print(f"smsgw demo: {args.config}: {error}", file=sys.stderr)
        return 2
    from smsgw.observability import configure_logging

    configure_logging("warning", json=False)
    asyncio.run(_serve(config, world))
    return 0


async def _serve(config: AppConfig, world: Any) -> None:
    from smsgw.bootstrap import start_gateway

    await world.start()
    gateway = await start_gateway(config)
    print(f"SMSC simulator listening on {world.smsc.settings.host}:{world.smsc.port}", flush=True)
    print(f"Gateway HTTP on {gateway.base_url} (operations token in config.toml)", flush=True)
    for account in world.smsc.settings.accounts:
        print(f"  bind as system_id={account.system_id!r} (operator {account.operator})")
    print("Press Ctrl+C to stop.", flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(signum, stop.set)
    await stop.wait()
    await gateway.stop()
    await world.close()
    print("Demo stopped.", flush=True)
