"""`smsgw demo`: the one-command local run (`make run`).

For now it starts the bundled simulator's SMSC listener with the bind credentials of
config.toml, so an ESME (smsgw's own link, smpplib, an SMPP test client) can bind to it.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import signal
import sys
import tomllib
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from simulator.config import SmscSettings


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "demo", help="run the bundled simulator's SMSC listener (what `make run` starts)"
    )
    parser.add_argument("--config", default="config.toml", help="path to config.toml")
    parser.add_argument("--port", type=int, default=None, help="override simulator.smsc.port")
    parser.set_defaults(handler=run_demo)


def run_demo(args: argparse.Namespace) -> int:
    from simulator.config import SimulatorConfigError, smsc_settings_from_config

    try:
        config = tomllib.loads(Path(args.config).read_text("utf-8"))
        settings = smsc_settings_from_config(config)
    except (OSError, tomllib.TOMLDecodeError, SimulatorConfigError) as error:
        print(f"smsgw demo: {args.config}: {error}", file=sys.stderr)
        return 2
    if args.port is not None:
        settings = dataclasses.replace(settings, port=args.port)
    asyncio.run(_serve(settings))
    return 0


async def _serve(settings: SmscSettings) -> None:
    from simulator.smsc import SimulatedSmsc

    smsc = SimulatedSmsc(settings)
    await smsc.start()
    print(f"SMSC simulator listening on {settings.host}:{smsc.port}", flush=True)
    for account in settings.accounts:
        print(
            f"  bind as system_id={account.system_id!r} password={account.password!r}"
            f" (operator {account.operator})",
            flush=True,
        )
    print("Press Ctrl+C to stop.", flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(signum, stop.set)
    await stop.wait()
    await smsc.close()
    print("SMSC simulator stopped.", flush=True)
