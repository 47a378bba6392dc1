"""`smsgw serve` runs the gateway; `smsgw check-config` checks a configuration and exits."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
import sys
from pathlib import Path
from typing import Any

from smsgw.config import AppConfig, load_config
from smsgw.domain.errors import ConfigError


def register(subparsers: Any) -> None:
    serve = subparsers.add_parser("serve", help="run the gateway (SMPP links, HTTP, scheduler)")
    serve.add_argument("--config", default="config.toml", help="path to config.toml")
    serve.set_defaults(handler=run_serve)
    check = subparsers.add_parser("check-config", help="check config.toml and operators/")
    check.add_argument("--config", default="config.toml", help="path to config.toml")
    check.set_defaults(handler=run_check_config)


def load_or_explain(path: str, command: str) -> AppConfig | None:
    try:
        return load_config(Path(path))
    except ConfigError as error:
        print(f"smsgw {command}: {error}", file=sys.stderr)
        return None


def run_check_config(args: argparse.Namespace) -> int:
    config = load_or_explain(args.config, "check-config")
    if config is None:
        return 2
    from smsgw.storage import SqliteTarget, parse_dsn

    storage = "sqlite" if isinstance(parse_dsn(config.storage_dsn), SqliteTarget) else "postgresql"
    print(
        f"{args.config}: ok — {len(config.zones)} zones, {len(config.operators)} operators, "
        f"{len(config.links)} links, storage {storage}"
    )
    return 0


def run_serve(args: argparse.Namespace) -> int:
    config = load_or_explain(args.config, "serve")
    if config is None:
        return 2
    from smsgw.observability import configure_logging

    configure_logging(
        config.logging.level, config.logging.json, log_message_text=config.logging.log_message_text
    )
    asyncio.run(serve_until_signalled(config))
    return 0


async def serve_until_signalled(config: AppConfig) -> None:
    from smsgw.bootstrap import start_gateway

    gateway = await start_gateway(config)
    print(f"smsgw serving: HTTP on {gateway.base_url}", flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(signum, stop.set)
    await stop.wait()
    await gateway.stop()
