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


class CommandModuleError(Exception):
    """A module in COMMAND_MODULES is missing or has no `register`: the install is broken.

    Offering the other commands and silently dropping this one would turn a packaging
    mistake into "invalid choice" for whoever runs the missing command, far from its cause.
    """

    def __init__(self, module_name: str, problem: str) -> None:
        super().__init__(f"command module {module_name} {problem}")
        self.module_name = module_name


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="smsgw", description=__doc__.splitlines()[0])
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for module_name in COMMAND_MODULES:
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as error:
            if error.name != module_name:
                raise  # the module is there but one of its own imports is not
            raise CommandModuleError(module_name, "is missing") from error
        register = getattr(module, "register", None)
        if not callable(register):
            raise CommandModuleError(module_name, "defines no register(subparsers)")
        register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    try:
        parser = build_parser()
    except CommandModuleError as error:
        print(f"smsgw: {error}", file=sys.stderr)
        return 2
    args = parser.parse_args(argv)
    handler = args.handler
    result: int = handler(args)
    return result


if __name__ == "__main__":
    sys.exit(main())
