"""`smsgw demo` (what `make run` starts): the gateway and the bundled simulator together,
on the embedded SQLite default, with config.toml — the SMSC every link binds to, each
operator's charging API, virtual phones created on first use, and the simulator's control
API with the web phone.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from smsgw.cli_serve import StopSignals
from smsgw.config import AppConfig, load_config
from smsgw.config_strict import reject_unknown_keys
from smsgw.domain.errors import ConfigError

if TYPE_CHECKING:
    from simulator.config import ControlSettings
    from simulator.world import SimulatedWorld


EXAMPLE_ZONE = "1001"
EXAMPLE_PLATE = "A123BC77"
EXAMPLE_PAY = f"{EXAMPLE_ZONE}*{EXAMPLE_PLATE}*2"
MAX_SPEED = 3600.0  # an hour a second: faster, and the operators' answers lag behind
CONTROL_SHUTDOWN_SECONDS = 2.0

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
    parser.add_argument(
        "--clock",
        default=None,
        metavar="YYYY-MM-DDTHH:MM",
        help="start the simulated time here, in the time zone of the first [[zones]] "
        "(or with an explicit +HH:MM offset); default: now (the wall clock)",
    )
    parser.add_argument(
        "--speed",
        type=float,
        default=1.0,
        help="simulated seconds per real second (default 1)",
    )
    parser.set_defaults(handler=run_demo)


def run_demo(args: argparse.Namespace) -> int:
    from simulator.config import SimulatorConfigError, control_settings_from_config
    from simulator.world import SimulatedWorld

    try:
        raw = tomllib.loads(Path(args.config).read_text("utf-8"))
        config = load_config(Path(args.config))
        reject_unknown_simulator_settings(raw)
        clock = demo_clock(args.clock, args.speed, deployment_time_zone(config))
        world = SimulatedWorld.from_config(raw, clock=clock.now)
        control = control_settings_from_config(raw)
    except (OSError, tomllib.TOMLDecodeError, ConfigError, SimulatorConfigError) as error:
        print(f"smsgw demo: {args.config}: {error}", file=sys.stderr)
        return 2
    from smsgw.observability import configure_logging

    # the deployment's logging, as `smsgw serve` has it: JSON lines, one per MO
    configure_logging(
        config.logging.level, config.logging.json, log_message_text=config.logging.log_message_text
    )
    asyncio.run(_serve(config, world, control, clock))
    return 0


# --- the demo's clock -------------------------------------------------------------------


@dataclass(slots=True)
class DemoClock:
    """Simulated time: `start` when the demo starts, then `speed` simulated seconds per
    real second. The gateway and the simulator share it, so signatures, confirmation
    timeouts, reminders and the web phone all see one time."""

    start: datetime
    speed: float = 1.0
    time_zone: ZoneInfo = field(default_factory=lambda: ZoneInfo("UTC"))
    monotonic: Callable[[], float] = time.monotonic
    _origin: float = field(init=False, default=0.0)

    def __post_init__(self) -> None:
        self._origin = self.monotonic()

    def now(self) -> datetime:
        elapsed = (self.monotonic() - self._origin) * self.speed
        return (self.start + timedelta(seconds=elapsed)).astimezone(UTC)


def deployment_time_zone(config: AppConfig) -> ZoneInfo:
    """The time zone `--clock` is read in: the first zone's (the README's zone 1001)."""
    for zone in config.zones.values():
        return zone.tz
    return ZoneInfo("UTC")


def demo_clock(value: str | None, speed: float, time_zone: ZoneInfo) -> DemoClock:
    if not speed > 0 or speed > MAX_SPEED:
        raise ConfigError("--speed", f"must be above 0 and at most {MAX_SPEED:g}, got {speed:g}")
    if value is None or value == "now":
        return DemoClock(datetime.now(UTC), speed, time_zone)
    try:
        start = datetime.fromisoformat(value)
    except ValueError:
        raise ConfigError(
            "--clock", f"must be a date and time like 2026-12-01T10:00, got {value!r}"
        ) from None
    if start.tzinfo is None:
        start = start.replace(tzinfo=time_zone)
    return DemoClock(start.astimezone(UTC), speed, time_zone)


def reject_unknown_simulator_settings(raw: Mapping[str, Any]) -> None:
    """The `[simulator.*]` tables the demo reads, checked as strictly as the gateway's."""
    from simulator.config import ControlSettings, SmscAccount, SmscSettings

    simulator = raw.get("simulator", {})
    if not isinstance(simulator, Mapping):
        return  # the simulator's own reader names it
    reject_unknown_keys(simulator, ("control", "smsc"), "simulator")
    for name, settings in (("control", ControlSettings), ("smsc", SmscSettings)):
        table = simulator.get(name, {})
        if isinstance(table, Mapping):
            known = [f.name for f in fields(settings)]
            reject_unknown_keys(table, known, f"simulator.{name}")
    accounts = simulator.get("smsc", {}).get("accounts", [])
    for index, account in enumerate(accounts if isinstance(accounts, list) else []):
        if isinstance(account, Mapping):
            known = [f.name for f in fields(SmscAccount)]
            reject_unknown_keys(account, known, f"simulator.smsc.accounts[{index}]")


async def _serve(
    config: AppConfig, world: SimulatedWorld, control: ControlSettings, clock: DemoClock
) -> None:
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
        gateway = await start_gateway(config, clock=clock)
        app = create_control_app(world)
        add_webphone_routes(app, clock=clock_reader(clock))
        # the web phone keeps event streams open: a stop waits for them only briefly
        runner = web.AppRunner(app, access_log=None, shutdown_timeout=CONTROL_SHUTDOWN_SECONDS)
        await runner.setup()
        site = web.TCPSite(runner, control.host, control.port)
        await site.start()
        control_port = runner.addresses[0][1]
        web_phone = f"http://{control.host}:{control_port}/"
        print(f"Web phone: {web_phone}", flush=True)
        print(f"Gateway HTTP on {gateway.base_url} (operations token in config.toml)", flush=True)
        if config.driver.enabled:
            print(f"Driver cabinet: {gateway.base_url}/cabinet/", flush=True)
        local = clock.now().astimezone(clock.time_zone)
        print(
            f"Simulated time: {local:%Y-%m-%d %H:%M} {clock.time_zone.key}, "
            f"{clock.speed:g}x real time",
            flush=True,
        )
        print(example_commands(web_phone, gateway.base_url, config), flush=True)
        await signals.stop.wait()
        await runner.cleanup()
        await gateway.stop(hurry=signals.hurry)
        await world.close()
    print("Demo stopped.", flush=True)


def clock_reader(clock: DemoClock) -> Callable[[], Mapping[str, object]]:
    """What the web phone shows of the simulated time."""

    def read() -> Mapping[str, object]:
        return {
            "now": clock.now().isoformat(),
            "speed": clock.speed,
            "time_zone": clock.time_zone.key,
        }

    return read


def example_commands(web_phone: str, gateway_url: str, config: AppConfig) -> str:
    """The three commands the README shows: pay for two hours, read the phone's inbox,
    and look the plate up as an inspector would."""
    api = web_phone + "api"
    phone = DEMO_PHONES[0][0]
    auth = f"Authorization: Bearer {config.http.api_token}"
    plates = f"{gateway_url}/v1/plates/{EXAMPLE_PLATE}?zone={EXAMPLE_ZONE}"
    return f"""
Open the web phone, pick a number and text {config.gateway.short_number}: {EXAMPLE_PAY}
Or from a shell:
  curl -s -X POST {api}/phones/{phone}/texts -d '{{"text": "{EXAMPLE_PAY}"}}'
  curl -s {api}/phones/{phone}/inbox
  curl -s -H '{auth}' '{plates}'
Press Ctrl+C to stop."""
