"""`smsgw serve` runs the gateway; `smsgw check-config` checks a configuration and exits."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import signal
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import structlog

from smsgw.clock import Clock
from smsgw.config import AppConfig, load_config
from smsgw.config_secrets import production_secret_problems
from smsgw.domain.errors import ConfigError

if TYPE_CHECKING:
    from smsgw.transport.smpp_client import LinkTimer

log = structlog.get_logger(__name__)


def register(subparsers: Any) -> None:
    serve = subparsers.add_parser("serve", help="run the gateway (SMPP links, HTTP, scheduler)")
    serve.add_argument("--config", default="config.toml", help="path to config.toml")
    serve.set_defaults(handler=run_serve)
    check = subparsers.add_parser("check-config", help="check config.toml and operators/")
    check.add_argument("--config", default="config.toml", help="path to config.toml")
    check.add_argument(
        "--demo",
        action="store_true",
        help="check it as `smsgw demo` runs it: the published demo secrets are allowed",
    )
    check.set_defaults(handler=run_check_config)


def load_or_explain(path: str, command: str, *, demo: bool = False) -> AppConfig | None:
    try:
        config = load_config(Path(path))
    except ConfigError as error:
        print(f"smsgw {command}: {error}", file=sys.stderr)
        return None
    # serving real traffic on the published demo secrets would let anyone in
    problems = [] if demo else production_secret_problems(config)
    for problem in problems:
        print(f"smsgw {command}: {problem}", file=sys.stderr)
    return None if problems else config


def run_check_config(args: argparse.Namespace) -> int:
    config = load_or_explain(args.config, "check-config", demo=args.demo)
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


async def serve_until_signalled(
    config: AppConfig, *, clock: Clock | None = None, link_timer: LinkTimer | None = None
) -> None:
    """Serve until SIGTERM or SIGINT, then drain within `gateway.drain_seconds`; a second
    signal cuts the drain short (the store is still closed cleanly). `clock` (the
    service's) and `link_timer` (the SMPP links') default to real time: tests move them
    instead of waiting."""
    from smsgw.bootstrap import start_gateway

    with StopSignals() as signals:
        gateway = await start_gateway(config, clock=clock, link_timer=link_timer)
        announce("smsgw.serving", url=gateway.base_url, http_port=gateway.http_port)
        await signals.stop.wait()
        await gateway.stop(hurry=signals.hurry)
    announce("smsgw.stopped")


class StopSignals:
    """SIGTERM and SIGINT while in the `with`: the first sets `stop` (drain), a second
    sets `hurry` (stop now). Installed before anything starts, so a signal during the
    start is not the default exit."""

    def __init__(self) -> None:
        self.stop = asyncio.Event()
        self.hurry = asyncio.Event()
        self._handled: list[signal.Signals] = []

    def __enter__(self) -> StopSignals:
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError):
                loop.add_signal_handler(signum, self._on_signal, signum)
                self._handled.append(signum)
        return self

    def __exit__(self, *_exc: object) -> None:
        loop = asyncio.get_running_loop()
        for signum in self._handled:
            loop.remove_signal_handler(signum)

    def _on_signal(self, signum: signal.Signals) -> None:
        if self.stop.is_set():
            log.warning("gateway.stop_now", signal=signum.name)
            self.hurry.set()
        else:
            log.info("gateway.stop_requested", signal=signum.name)
            self.stop.set()


def announce(event: str, **fields: Any) -> None:
    """A lifecycle line (serving, stopped) written whatever `logging.level` says: the
    people and supervisors starting the gateway wait for it."""
    structlog.wrap_logger(
        None, wrapper_class=structlog.make_filtering_bound_logger(logging.NOTSET)
    ).info(event, **fields)
