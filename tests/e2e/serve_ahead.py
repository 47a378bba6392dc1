"""`smsgw serve` with its time moved: what `python -m smsgw.cli serve` does, but the
service reads a clock `--ahead-seconds` later than now (and, with `--clock-speed`,
running that many times faster since the wall-clock instant `--clock-anchor`: two runs
given the same anchor share one fast time line), and the SMPP links' timing
(reconnect back-off, throttling pauses) runs `--link-speed` times faster.

A restarted gateway then finds the retries its predecessor scheduled (a charge's or a
reply's back-off) already due, and a link that cannot connect retries in a fraction of
its back-off, instead of the test waiting them out on the wall clock. Everything else
is the real process: the config file, the signals, the drain.

    python -m tests.e2e.serve_ahead --config config.toml --ahead-seconds 60 --link-speed 10
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from datetime import UTC, datetime, timedelta

from smsgw.cli_serve import load_or_explain, serve_until_signalled
from smsgw.clock import SystemClock
from smsgw.config import AppConfig
from smsgw.observability import configure_logging
from tests.transport.fast_timer import FastLinkTimer


class AheadClock:
    """The wall clock, moved on by a fixed amount, and running `speed` times faster
    since `anchor` (speed 1: the wall clock plus `ahead`)."""

    def __init__(self, ahead: timedelta, *, anchor: datetime, speed: float = 1.0) -> None:
        self._wall = SystemClock()
        self._ahead = ahead
        self._anchor = anchor
        self._speed = speed

    def now(self) -> datetime:
        return self._anchor + (self._wall.now() - self._anchor) * self._speed + self._ahead


async def serve(config: AppConfig, clock: AheadClock, link_speed: float) -> None:
    await serve_until_signalled(config, clock=clock, link_timer=FastLinkTimer(link_speed))


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="serve_ahead")
    parser.add_argument("--config", required=True)
    parser.add_argument("--ahead-seconds", type=float, default=0.0)
    parser.add_argument("--link-speed", type=float, default=1.0)
    parser.add_argument("--clock-speed", type=float, default=1.0)
    parser.add_argument("--clock-anchor", type=float, default=None, help="a Unix time")
    args = parser.parse_args(argv)
    config = load_or_explain(args.config, "serve")
    if config is None:
        return 2
    configure_logging(
        config.logging.level, config.logging.json, log_message_text=config.logging.log_message_text
    )
    anchor = (
        SystemClock().now()
        if args.clock_anchor is None
        else datetime.fromtimestamp(args.clock_anchor, UTC)
    )
    clock = AheadClock(timedelta(seconds=args.ahead_seconds), anchor=anchor, speed=args.clock_speed)
    asyncio.run(serve(config, clock, args.link_speed))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
