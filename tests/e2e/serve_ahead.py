"""`smsgw serve` on a clock set ahead of the wall clock: what `python -m smsgw.cli serve`
does, but the service reads a clock `--ahead-seconds` later than now.

A restarted gateway then finds the retries its predecessor scheduled (a charge's or a
reply's back-off) already due, instead of the test waiting the back-off out on the wall
clock. Everything else is the real process: the config file, the signals, the drain.

    python -m tests.e2e.serve_ahead --config config.toml --ahead-seconds 60
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from datetime import datetime, timedelta

from smsgw.cli_serve import load_or_explain, serve_until_signalled
from smsgw.clock import SystemClock
from smsgw.observability import configure_logging


class AheadClock:
    """The wall clock, moved on by a fixed amount."""

    def __init__(self, ahead: timedelta) -> None:
        self._wall = SystemClock()
        self._ahead = ahead

    def now(self) -> datetime:
        return self._wall.now() + self._ahead


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="serve_ahead")
    parser.add_argument("--config", required=True)
    parser.add_argument("--ahead-seconds", type=float, required=True)
    args = parser.parse_args(argv)
    config = load_or_explain(args.config, "serve")
    if config is None:
        return 2
    configure_logging(
        config.logging.level, config.logging.json, log_message_text=config.logging.log_message_text
    )
    clock = AheadClock(timedelta(seconds=args.ahead_seconds))
    asyncio.run(serve_until_signalled(config, clock=clock))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
