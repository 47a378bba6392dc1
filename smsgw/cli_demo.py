"""`smsgw demo` (what `make run` starts): the gateway and the bundled simulator together,
on the embedded SQLite default, with config.toml — the SMSC every link binds to, each
operator's charging API, virtual phones created on first use, and the simulator's control
API with the web phone.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tomllib
from pathlib import Path
from typing import TYPE_CHECKING, Any

from smsgw.cli_serve import StopSignals
from smsgw.config import AppConfig, load_config
from smsgw.domain.errors import ConfigError

if TYPE_CHECKING:
    from simulator.config import ControlSettings
    from simulator.world import SimulatedWorld


# one phone per operator, ready in the web phone's list
DEMO_PHONES = (
    ("79161234567", "mts"),
    ("79261234567", "megafon"),
    ("79031234567", "beeline"),
    ("79501234567", "t2"),
    ("77011234567", "kcell"),
    ("79991234567", "yota"),
)


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "demo", help="run the gateway with the bundled simulator (what `make run` starts)"
    )
    parser.add_argument("--config", default="config.toml", help="path to config.toml")
    parser.set_defaults(handler=run_demo)


def run_demo(args: argparse.Namespace) -> int:
    from simulator.config import SimulatorConfigError, control_settings_from_config
    from simulator.world import SimulatedWorld

    try:
        raw = tomllib.loads(Path(args.config).read_text("utf-8"))
        config = load_config(Path(args.config))
        world = SimulatedWorld.from_config(raw)
        control = control_settings_from_config(raw)
    except (OSError, tomllib.TOMLDecodeError, ConfigError, SimulatorConfigError) as error:
        print(f"smsgw demo: {args.config}: {error}", file=sys.stderr)
        return 2
    from smsgw.observability import configure_logging

    # the deployment's logging, as `smsgw serve` has it: JSON lines, one per MO
    configure_logging(
        config.logging.level, config.logging.json, log_message_text=config.logging.log_message_text
    )
    asyncio.run(_serve(config, world, control))
    return 0


async def _serve(config: AppConfig, world: SimulatedWorld, control: ControlSettings) -> None:
    from aiohttp import web

    from simulator.control import create_control_app
    from simulator.webphone import add_webphone_routes
    from smsgw.bootstrap import start_gateway

    with StopSignals() as signals:
        await world.start()
        print(
            f"SMSC simulator listening on {world.smsc.settings.host}:{world.smsc.port}",
            flush=True,
        )
        for msisdn, operator in DEMO_PHONES:
            if operator in world.operator_ids:
                world.phone(msisdn, operator)
        gateway = await start_gateway(config)
        app = create_control_app(world)
        add_webphone_routes(app)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, control.host, control.port)
        await site.start()
        control_port = runner.addresses[0][1]
        web_phone = f"http://{control.host}:{control_port}/"
        print(f"Web phone: {web_phone}", flush=True)
        print(f"Gateway HTTP on {gateway.base_url} (operations token in config.toml)", flush=True)
        _print_examples(web_phone, world.short_number)
        await signals.stop.wait()
        await runner.cleanup()
        await gateway.stop(hurry=signals.hurry)
        await world.close()
    print("Demo stopped.", flush=True)


def _print_examples(web_phone: str, short_number: str) -> None:
    api = web_phone + "api"
    print(
        f"""
Open the web phone, pick a number and text {short_number}: 1001*A123BC77*2
Or from a shell:
  curl -s -X POST {api}/phones/79161234567/texts -d '{{"text": "1001*A123BC77*2"}}'
  curl -s -X POST {api}/phones/79161234567/texts -d '{{"text": "I"}}'
  curl -s {api}/phones/79161234567/inbox
Press Ctrl+C to stop.""",
        flush=True,
    )
