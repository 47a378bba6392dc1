"""`smsgw parse TEXT`: show what the gateway makes of an SMS text, as one JSON object."""

from __future__ import annotations

import argparse
import json
from typing import Any

from smsgw.commands import Command, ParseError, parse_command, plate_rules
from smsgw.commands.plates import DEFAULT_COUNTRIES
from smsgw.language import Language
from smsgw.replies import render


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "parse",
        help="parse one SMS text and print the command (or the reply to it) as JSON",
        description=(
            "Print the command in TEXT as JSON, e.g. "
            '{"command": "pay", "zone": "1001", "plate": "A123BC77", "hours": 2}; '
            'for a text that is not a command print {"error": KEY, "reply": TEXT} '
            "and exit with status 1."
        ),
    )
    parser.add_argument("text", metavar="TEXT", help="the SMS text, e.g. '1001*A123BC77*2'")
    parser.add_argument(
        "--lang",
        choices=[language.value for language in Language],
        default=Language.RU.value,
        help="language of the reply to a bad text (default: ru)",
    )
    parser.add_argument(
        "--plates",
        default=",".join(DEFAULT_COUNTRIES),
        type=_countries,
        help="national plate formats to accept, comma-separated (default: ru,kz)",
    )
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    result = parse_command(args.text, plate_formats=args.plates)
    if isinstance(result, ParseError):
        reply = render(result.reply_key, Language(args.lang), **result.facts)
        _print({"error": result.reply_key, "reply": reply})
        return 1
    _print(command_fields(result))
    return 0


def command_fields(command: Command) -> dict[str, Any]:
    """The command's name and its given fields, as plain JSON values."""
    fields: dict[str, Any] = {"command": command.name}
    for name in ("zone", "plate", "hours", "language"):
        value = getattr(command, name, None)
        if value is not None:
            fields[name] = value.value if isinstance(value, Language) else value
    return fields


def _countries(text: str) -> tuple[str, ...]:
    codes = tuple(code.strip().lower() for code in text.split(",") if code.strip())
    try:
        plate_rules(codes)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from error
    return codes


def _print(document: dict[str, Any]) -> None:
    print(json.dumps(document, ensure_ascii=False))
