"""Logs and metrics: structlog set up for JSON lines, and the gateway's Prometheus collectors.

Phone numbers never reach a log line whole: code masks them with `mask_msisdn`, and a
processor masks the usual phone-number keys again as a safety net. Message text is
dropped from log lines unless the deployment turns `log_message_text` on.

`Metrics` keeps its collectors in its own `CollectorRegistry` rather than the process-wide
default one, so that tests (and several gateways in one process) each get a fresh set.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Sequence
from typing import Any

import orjson
import structlog
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from structlog.typing import EventDict, Processor

from smsgw.service.ports import StoreFigures

# --- masking -----------------------------------------------------------------------------

# Numbers up to this many digits are short codes or service numbers (7757, 7701): public.
SHORT_NUMBER_DIGITS = 6
MASK = "***"
_VISIBLE_EDGE = 4

# Keys whose values are phone numbers wherever they appear in a log event.
MSISDN_KEYS = frozenset({"msisdn", "sender", "receiver", "phone", "source", "destination"})
# Keys whose values are message text, dropped unless message text logging is on.
TEXT_KEYS = frozenset({"text", "message_text", "sms_text"})


def mask_msisdn(msisdn: str) -> str:
    """Hide the middle of a phone number: "79031234567" → "7903***4567".

    Short numbers are kept as they are. At least three characters are always hidden,
    and a leading "+" is kept outside the count.
    """
    plus, digits = ("+", msisdn[1:]) if msisdn.startswith("+") else ("", msisdn)
    if len(digits) <= SHORT_NUMBER_DIGITS or MASK in digits:
        return msisdn
    visible = min(_VISIBLE_EDGE, (len(digits) - len(MASK)) // 2)
    return f"{plus}{digits[:visible]}{MASK}{digits[-visible:]}"


def mask_phone_fields(_logger: Any, _method: str, event: EventDict) -> EventDict:
    """A structlog processor: mask every value under a phone-number key."""
    for key in MSISDN_KEYS & event.keys():
        value = event[key]
        if isinstance(value, str):
            event[key] = mask_msisdn(value)
    return event


def drop_message_text(_logger: Any, _method: str, event: EventDict) -> EventDict:
    """A structlog processor: replace message text by its length."""
    for key in TEXT_KEYS & event.keys():
        value = event[key]
        event[key] = f"<{len(value)} chars>" if isinstance(value, str) else "<hidden>"
    return event


# --- logging -----------------------------------------------------------------------------


def _orjson_text(obj: Any, **_kwargs: Any) -> str:
    return orjson.dumps(obj, default=str).decode("utf-8")


def _orjson_bytes(obj: Any, **_kwargs: Any) -> bytes:
    return orjson.dumps(obj, default=str)


def _shared_processors(log_message_text: bool) -> list[Processor]:
    processors: list[Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        mask_phone_fields,
    ]
    if not log_message_text:
        processors.append(drop_message_text)
    return processors


def _exception_processors(json: bool) -> list[Processor]:
    if not json:
        return []  # the console renderer prints the traceback itself
    # locals in a traceback could hold phone numbers, texts and secrets
    transformer = structlog.tracebacks.ExceptionDictTransformer(show_locals=False)
    return [structlog.processors.ExceptionRenderer(transformer)]


def configure_logging(level: str, json: bool, *, log_message_text: bool = False) -> None:
    """Set structlog up once at start: JSON lines on stdout (or a console view for people).

    The standard library's loggers (aiohttp, asyncio) go through the same processors, so
    their lines are JSON too.
    """
    numeric_level = logging.getLevelNamesMapping()[level.upper()]
    shared = _shared_processors(log_message_text)
    exceptions = _exception_processors(json)
    if json:
        structlog.configure(
            processors=[*shared, *exceptions, structlog.processors.JSONRenderer(_orjson_bytes)],
            wrapper_class=structlog.make_filtering_bound_logger(numeric_level),
            logger_factory=structlog.BytesLoggerFactory(sys.stdout.buffer),
            cache_logger_on_first_use=True,
        )
        renderer: Processor = structlog.processors.JSONRenderer(_orjson_text)
    else:
        # colour codes only for a terminal: in a file or a pipe they are noise
        renderer = structlog.dev.ConsoleRenderer(colors=sys.stdout.isatty())
        structlog.configure(
            processors=[*shared, renderer],
            wrapper_class=structlog.make_filtering_bound_logger(numeric_level),
            logger_factory=structlog.PrintLoggerFactory(sys.stdout),
            cache_logger_on_first_use=True,
        )
    _route_standard_logging(numeric_level, shared, exceptions, renderer)


def _route_standard_logging(
    level: int, shared: list[Processor], exceptions: list[Processor], renderer: Processor
) -> None:
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=[structlog.stdlib.add_logger_name, *shared],
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            *exceptions,
            renderer,
        ],
    )
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(formatter)
    # libraries log raw request bytes (numbers, texts, tokens): scrubbed before formatting
    from smsgw.log_masking import MaskingFilter

    handler.addFilter(MaskingFilter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)


# --- metrics -----------------------------------------------------------------------------

CHARGE_STAGES = (
    "requested",
    "accepted",
    "confirmed",
    "declined",
    "failed",
    "expired",
    "applied",
)

# from a fast local reply to one that waited on a slow SMSC
_REPLY_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)
# subscribers answer an operator's confirmation SMS within seconds to the 15-minute timeout
_CONFIRMATION_BUCKETS = (1.0, 5.0, 10.0, 20.0, 30.0, 60.0, 120.0, 300.0, 600.0, 900.0, 1800.0)
_HTTP_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0)


Labels = tuple[str, ...]


class Metrics:
    """The gateway's Prometheus collectors, in a registry of their own."""

    content_type = CONTENT_TYPE_LATEST

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.mo_received = self._counter("mo_received", "MO messages stored", ("link", "operator"))
        self.mt_sent = self._counter(
            "mt_sent", "MT send attempts by result", ("operator", "result")
        )
        self.command_outcomes = self._counter(
            "command_outcomes", "Commands by outcome", ("command", "outcome")
        )
        self.charge_funnel = self._counter(
            "charge_funnel", "Operator charges by stage", ("operator", "stage")
        )
        self.mo_to_reply_seconds = self._histogram(
            "mo_to_reply_seconds", "From storing an MO to queueing its reply", _REPLY_BUCKETS
        )
        self.charge_confirmation_seconds = self._histogram(
            "charge_confirmation_seconds",
            "From requesting a charge to its final answer",
            _CONFIRMATION_BUCKETS,
        )
        self.link_up = self._gauge("link_up", "1 while the link is bound", ("link",))
        self.http_requests = self._counter(
            "http_requests", "HTTP requests by route and status", ("method", "route", "status")
        )
        self.http_request_seconds = self._histogram(
            "http_request_seconds", "HTTP request handling time", _HTTP_BUCKETS, ("route",)
        )
        self.http_link_refusals = self._counter(
            "http_link_refusals",
            "MO and delivery-report requests refused: unknown link, credential, source",
            ("route", "reason"),
        )
        self.mo_duplicates = self._counter(
            "mo_duplicates",
            "MO dropped as redeliveries of a stored one (same link and dedup key)",
            ("link", "operator"),
        )

        # Read from the store at scrape time (see show_store_figures), not counted here: a
        # unit of work may roll back or be replayed after a count, and every node would
        # only see its own part. The database's totals are exact and survive restarts;
        # every node reports the same value, so aggregate them with max, not sum.
        self.money_charged_minor = self._gauge(
            "money_charged_minor",
            "Money operators confirmed charging from phones onto parking accounts, in minor units",
            ("operator", "currency"),
        )
        # refunds go from a zone's revenue back to the parking account, never to the
        # phone or its operator, so the ledger knows them per zone
        self.money_refunded_minor = self._gauge(
            "money_refunded_minor",
            "Unused parking money returned to parking accounts, in minor units",
            ("zone", "currency"),
        )
        self.active_sessions = self._gauge(
            "active_sessions", "Parking sessions active now", ("zone",)
        )
        # delivery receipts: matched to a part, held for a resp still to come, or
        # expired without ever finding their message
        self.receipts = self._counter(
            "receipts", "Delivery receipts by outcome", ("operator", "outcome")
        )
        # replies made final by their receipts; the delivery ratio of an operator is
        # delivered / (delivered + failed)
        self.mt_final = self._counter(
            "mt_final", "Replies made final by receipts", ("operator", "state")
        )
        self.smpp_mo_refused = self._counter(
            "smpp_mo_refused",
            "SMPP MO not taken as a new text: redelivery_dropped, bad_sender, bad_receiver,"
            " incomplete (parts expired)",
            ("link", "reason"),
        )

    # every collector lives in this registry
    def _counter(self, name: str, documentation: str, labels: Labels) -> Counter:
        return Counter(name, documentation, labels, registry=self.registry)

    def _gauge(self, name: str, documentation: str, labels: Labels) -> Gauge:
        return Gauge(name, documentation, labels, registry=self.registry)

    def _histogram(
        self, name: str, documentation: str, buckets: Sequence[float], labels: Labels = ()
    ) -> Histogram:
        return Histogram(name, documentation, labels, buckets=buckets, registry=self.registry)

    def show_store_figures(self, figures: StoreFigures) -> None:
        """Set the store-backed gauges to `figures`, dropping series no longer there."""
        for gauge in (self.money_charged_minor, self.money_refunded_minor, self.active_sessions):
            gauge.clear()
        for operator, amount in figures.charged:
            self.money_charged_minor.labels(operator=operator, currency=amount.currency).set(
                amount.minor
            )
        for zone, amount in figures.refunded:
            self.money_refunded_minor.labels(zone=zone, currency=amount.currency).set(amount.minor)
        for zone, count in figures.active_sessions:
            self.active_sessions.labels(zone=zone).set(count)

    def count_charge(self, operator: str, stage: str) -> None:
        """Count one charge reaching `stage` (one of CHARGE_STAGES)."""
        if stage not in CHARGE_STAGES:
            raise ValueError(f"unknown charge stage {stage!r}; known: {', '.join(CHARGE_STAGES)}")
        self.charge_funnel.labels(operator=operator, stage=stage).inc()

    def set_link_up(self, link: str, up: bool) -> None:
        self.link_up.labels(link=link).set(1 if up else 0)

    def render(self) -> bytes:
        """The Prometheus text exposition of every collector, for /metrics."""
        return generate_latest(self.registry)
