"""`smsgw quote`: what a session in a zone would cost, as one JSON line.

    smsgw quote --zone 1001 --hours 2 [--start 2026-11-22T10:00] [--config config.toml]

`--zone` and `--hours` are required. `--start` is the zone's local time (an explicit
offset is accepted and converted); without it the session starts now, in the zone's
time zone, as a text sent now would.
The answer goes to stdout; a bad input prints `{"error": ..., "option": ...}` to stderr
and exits 2 (bad option) or 1 (unreadable or invalid configuration).
"""

from __future__ import annotations

import argparse
import json
import sys
import tomllib
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, ClassVar

from smsgw.domain.billing import Quote, end_for, price
from smsgw.domain.errors import ConfigError
from smsgw.domain.money import Money, minor_unit_digits
from smsgw.domain.tariffs import Zone, zones_from_config

EXIT_BAD_CONFIG = 1
EXIT_BAD_OPTION = 2
DEFAULT_CONFIG = "config.toml"


class QuoteInputError(Exception):
    """A bad option, raised as `QuoteInputError(option, message)`; ends in one JSON line."""

    exit_code: ClassVar[int] = EXIT_BAD_OPTION

    @property
    def option(self) -> str:
        return str(self.args[0])

    @property
    def message(self) -> str:
        return str(self.args[1])


class QuoteConfigError(QuoteInputError):
    """The configuration file cannot be read or holds a bad zone setting."""

    exit_code = EXIT_BAD_CONFIG


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "quote", help="price a parking session", description=__doc__.splitlines()[0]
    )
    # all validated in `run`, so that every bad input gets the same JSON error shape
    parser.add_argument("--zone", help="zone number, e.g. 1001 (required)")
    parser.add_argument("--hours", help="whole hours, 1 to the zone's maximum (required)")
    parser.add_argument(
        "--start",
        help="local start time, ISO 8601, e.g. 2026-11-22T10:00 "
        "(default: now in the zone's time zone)",
    )
    parser.add_argument("--config", default=DEFAULT_CONFIG, help="path to config.toml")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    try:
        quote = _quote(args)
    except QuoteInputError as error:
        report = {"error": f"{error.option}: {error.message}", "option": error.option}
        print(json.dumps(report, ensure_ascii=False), file=sys.stderr)
        return error.exit_code
    print(json.dumps(quote_json(quote), ensure_ascii=False))
    return 0


def quote_json(quote: Quote) -> dict[str, Any]:
    return {
        "zone": quote.zone,
        "start": quote.start.isoformat(),
        "end": quote.end.isoformat(),
        "paid_minutes": quote.paid_minutes,
        "amount_minor": quote.amount.minor,
        "currency": quote.amount.currency,
        "amount": decimal_text(quote.amount),
    }


def decimal_text(amount: Money) -> str:
    """Plain decimal text of an amount ("120.50"); people-facing formats live in replies."""
    digits = minor_unit_digits(amount.currency)
    sign = "-" if amount.is_negative else ""
    whole, fraction = divmod(abs(amount.minor), 10**digits)
    return f"{sign}{whole}.{fraction:0{digits}d}" if digits else f"{sign}{whole}"


def _quote(args: argparse.Namespace) -> Quote:
    zone = _zone(_zones(args.config), args.zone)
    hours = _hours(args.hours, zone)
    start = _start(args.start, zone)
    return price(zone, start, end_for(zone, start, hours))


def _zones(config_path: str) -> dict[str, Zone]:
    try:
        with Path(config_path).open("rb") as config_file:
            config = tomllib.load(config_file)
    except OSError as error:
        raise QuoteConfigError(
            "--config", f"cannot read {config_path}: {error.strerror}"
        ) from error
    except tomllib.TOMLDecodeError as error:
        raise QuoteConfigError("--config", f"{config_path} is not valid TOML: {error}") from error
    try:
        return zones_from_config(config)
    except ConfigError as error:
        raise QuoteConfigError("--config", f"{config_path}: {error}") from error


def _zone(zones: dict[str, Zone], number: str | None) -> Zone:
    if not number:
        raise QuoteInputError("--zone", "is required, e.g. --zone 1001")
    zone = zones.get(number.strip())
    if zone is None:
        known = ", ".join(sorted(zones)) or "none configured"
        raise QuoteInputError("--zone", f"unknown zone {number!r} (known: {known})")
    return zone


def _hours(text: str | None, zone: Zone) -> int:
    problem = f"must be a whole number from 1 to {zone.max_hours}"
    if not text:
        raise QuoteInputError("--hours", f"{problem}, e.g. --hours 2")
    stripped = text.strip()
    if not (stripped.isascii() and stripped.isdigit()) or not 1 <= int(stripped) <= zone.max_hours:
        raise QuoteInputError("--hours", f"{problem}, got {text!r}")
    return int(stripped)


def utc_now() -> datetime:
    """The moment a quote without --start starts (the CLI's only clock)."""
    return datetime.now(UTC)


def _start(text: str | None, zone: Zone) -> datetime:
    example = "e.g. --start 2026-11-22T10:00"
    if text is None:
        return utc_now().astimezone(zone.tz)
    if not text.strip():
        raise QuoteInputError("--start", f"is empty: leave it out for now, or {example}")
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError as error:
        raise QuoteInputError(
            "--start", f"must be an ISO 8601 local time, {example}, got {text!r}"
        ) from error
    if moment.tzinfo is None:
        return moment.replace(tzinfo=zone.tz)
    return moment.astimezone(zone.tz)
