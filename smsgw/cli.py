"""The `smsgw` command line: one sub-command per module, registered here.

Each sub-command lives in its own module exposing `register(subparsers)`, so the
modules that need heavy imports (aiohttp, the simulator) are only imported when
their command runs.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

# module path of each sub-command; each defines `register(subparsers) -> None`
# which adds its parser and sets `handler` (argparse.Namespace -> int).
COMMAND_MODULES: tuple[str, ...] = (
    "smsgw.cli_parse",
    "smsgw.cli_quote",
    "smsgw.cli_demo",
    "smsgw.cli_serve",
    "smsgw.cli_sim",
    "smsgw.cli_bench",
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="smsgw", description=__doc__.splitlines()[0])
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for module_name in COMMAND_MODULES:
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as error:
            if error.name != module_name:
                raise
            continue  # a command not built yet is simply not offered
        module.register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    handler = args.handler
    result: int = handler(args)
    return result


if __name__ == "__main__":
    sys.exit(main())
