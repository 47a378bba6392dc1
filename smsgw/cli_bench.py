"""`smsgw bench`: declared here, run by the simulator's bench harness (simulator/bench/),
which the product package does not hold. See bench/README.md."""

from __future__ import annotations

import argparse
from typing import Any


def register(subparsers: Any) -> None:
    from simulator.bench.run import add_arguments

    parser = subparsers.add_parser(
        "bench", help="load the gateway through the simulator and report throughput and latency"
    )
    add_arguments(parser)
    parser.set_defaults(handler=run_bench)


def run_bench(args: argparse.Namespace) -> int:
    from simulator.bench.run import run_bench as run

    return run(args)
