"""The HTTP listener: one aiohttp application with every endpoint the gateway serves.

    /mo/kannel/{link}, /mo/json/{link}      MO in (http_mo)
    /dlr/kannel/{link}                      Kannel delivery reports (http_dlr)
    /charging/{operator}/callback           operator charge results (http_callbacks)
    /health /ready /metrics /v1/...         operations API (http_ops)
    /v1/driver/...                          the driver API, when enabled (http_driver,
                                            http_driver_actions)
    /cabinet/                               the driver's web cabinet, when enabled

The handlers only parse, validate and call the service through `ServiceApi`; every
refusal is answered as JSON `{"error", "message"}` by the error middleware, including
aiohttp's own 404, 405 and 413. MO and delivery-report endpoints exist only for HTTP
links and check each link's credential (http_common.authorised_link); refusals are
counted in `http_link_refusals`. Serve it with `start_http_server` (or
`serve_on_socket`), which turns aiohttp's access log off (request lines carry phone
numbers and message text) and puts the read deadline and connection cap of
http_limits in front of it. A client that hangs up mid-request is a debug line.
"""

from __future__ import annotations

import asyncio
import logging
import socket
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http import HTTPStatus
from typing import Any, Protocol, cast, runtime_checkable

import structlog
from aiohttp import web
from aiohttp.http_exceptions import HttpProcessingError
from aiohttp.typedefs import Middleware
from prometheus_client import Counter

from smsgw.commands.plates import DEFAULT_COUNTRIES, plate_rules
from smsgw.observability import Metrics
from smsgw.service.messages import InboundSms
from smsgw.service.ports import CallbackAnswer, OutboxState, StoreFigures
from smsgw.transport.cabinet_page import CabinetPage
from smsgw.transport.http_callbacks import DEFAULT_CALLBACK_MAX_BYTES, CallbackEndpoints
from smsgw.transport.http_common import HttpError, HttpLink, LinkRefusedError, json_error
from smsgw.transport.http_dlr import DlrEndpoints
from smsgw.transport.http_driver import DriverApi, DriverEndpoints, authenticated_phone
from smsgw.transport.http_driver_actions import DriverActionRoutes
from smsgw.transport.http_limits import (
    ConnectionGuard,
    ConnectionLimits,
    GuardedSockSite,
)
from smsgw.transport.http_mo import KannelMoFields, MoEndpoints
from smsgw.transport.http_ops import OpsEndpoints

log = structlog.get_logger(__name__)

Clock = Callable[[], datetime]
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class ServiceApi(Protocol):
    """What the HTTP listener needs from the service."""

    async def accept_mo(self, sms: InboundSms) -> bool:
        """True once the MO is stored durably (a duplicate too). False or an exception:
        not stored, and the sender is told to retry (503)."""

    async def accept_receipt(self, operator_id: str, message_id: str, state: OutboxState) -> bool:
        """Record a final delivery report; False when no sent message has that id."""

    async def accept_charge_callback(
        self, operator_id: str, headers: Mapping[str, str], body: bytes
    ) -> CallbackAnswer:
        """Verify and apply an operator's charge result; what became of it (the listener
        picks the status). `headers` is case-insensitive; `body` is the exact bytes."""

    async def plate_status(
        self, plate: str, zone: str, now: datetime
    ) -> Mapping[str, object] | None:
        """None when the canonical `plate` is not paid in `zone` at `now`; else at least
        {"until": aware datetime}. `{"paid": False}` also means not paid. Raises
        smsgw.domain.errors.UnknownZoneError for a zone that is not configured."""

    async def phone_overview(self, msisdn: str) -> Mapping[str, object]:
        """The phone's running sessions and parking account, JSON-serialisable (orjson:
        datetimes and dataclasses such as Money are fine)."""

    async def ready(self) -> bool:
        """True when storage answers and the gateway can take traffic."""

    async def plate_everywhere(self, plate: str, now: datetime) -> Mapping[str, object]:
        """Where the canonical `plate` is paid at `now`: {"plate", "paid", "zone", "until",
        "zones": [{"zone", "name", "paid", "since", "until"}, ...]} over every zone."""

    async def phone_history(
        self, msisdn: str, limit: int, before: str | None
    ) -> Mapping[str, object]:
        """One page of the phone's history, newest first: {"msisdn", "items",
        "next_before"}. Raises ValueError for a limit or cursor it does not accept."""

    async def store_figures(self) -> StoreFigures:
        """Totals from the store that /metrics shows (money charged and refunded, active
        sessions), read at scrape time."""


@runtime_checkable
class OutboxViewer(Protocol):
    """An API that also shows a reply's parts and their receipts (GET /v1/outbox/…)."""

    async def outbox_view(self, outbox_id: str) -> Mapping[str, object] | None: ...


@dataclass(frozen=True, slots=True)
class HttpOptions:
    links: Mapping[str, HttpLink]  # HTTP link id (the {link} in MO and DLR paths) → link
    api_token: str = ""  # empty: the operations API refuses everything but /health
    max_body_bytes: int = 64 * 1024
    callback_max_bytes: int = DEFAULT_CALLBACK_MAX_BYTES
    plate_countries: tuple[str, ...] = DEFAULT_COUNTRIES
    mo_fields: KannelMoFields = field(default_factory=KannelMoFields)
    driver: DriverApi | None = None  # None: the driver channel is off, its paths 404


def _utc_now() -> datetime:
    return datetime.now(UTC)


def create_app(
    api: ServiceApi, options: HttpOptions, metrics: Metrics, *, clock: Clock = _utc_now
) -> web.Application:
    app = web.Application(
        client_max_size=options.max_body_bytes,
        middlewares=[metrics_middleware(metrics), errors_middleware],
    )
    app[LINK_REFUSALS] = metrics.http_link_refusals
    MoEndpoints(
        api.accept_mo,
        options.links,
        fields=options.mo_fields,
        clock=clock,
        max_body_bytes=options.max_body_bytes,
    ).add_routes(app)
    DlrEndpoints(api.accept_receipt, options.links).add_routes(app)
    CallbackEndpoints(
        api.accept_charge_callback, max_body_bytes=options.callback_max_bytes
    ).add_routes(app)
    OpsEndpoints(
        api_token=options.api_token,
        metrics=metrics,
        plate_rules=plate_rules(options.plate_countries),
        ready=api.ready,
        plate_status=api.plate_status,
        phone_overview=api.phone_overview,
        clock=clock,
        plate_everywhere=api.plate_everywhere,
        phone_history=api.phone_history,
        store_figures=api.store_figures,
        outbox_view=api.outbox_view if isinstance(api, OutboxViewer) else None,
    ).add_routes(app)
    if options.driver is not None:
        DriverEndpoints(options.driver).add_routes(app)
        if options.driver.actions is not None:
            DriverActionRoutes(options.driver.actions, _driver_phone).add_routes(app)
    CabinetPage(enabled=options.driver is not None).add_routes(app)
    return app


async def _driver_phone(request: web.Request, state_changing: bool) -> str:
    return await authenticated_phone(request, state_changing=state_changing)


# --- middlewares ---------------------------------------------------------------------------

_ERROR_CODES = {
    404: "not_found",
    405: "method_not_allowed",
    413: "payload_too_large",
}
_KNOWN_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


LINK_REFUSALS = web.AppKey("link_refusals", Counter)
GUARD = web.AppKey("connection_guard", ConnectionGuard)
# the status counted for a request whose client hung up before its answer (nginx's 499)
CLIENT_GONE = 499


@web.middleware
async def errors_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Every refusal as JSON {"error", "message"}, whoever raised it."""
    guard = request.app.get(GUARD)
    if guard is not None:
        guard.request_started(request)
    try:
        return await _answer(request, handler)
    finally:
        if guard is not None:
            guard.request_finished(request)


async def _answer(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        return await handler(request)
    except LinkRefusedError as refusal:
        counter = request.app.get(LINK_REFUSALS)
        if counter is not None:
            counter.labels(route=_route_of(request), reason=refusal.reason).inc()
        log.info("http.link_refused", route=_route_of(request), reason=refusal.reason)
        return refusal.error.answer()
    except HttpError as error:
        return error.answer()
    except ConnectionError:
        # the client hung up (or was cut off by the read deadline) mid-request: nobody is
        # left to answer, and nothing went wrong on our side
        log.debug("http.client_gone", route=_route_of(request), method=request.method)
        return web.Response(status=CLIENT_GONE)
    except web.HTTPException as error:
        if error.status < 400:
            raise  # redirects and the like are not errors
        return _json_for_aiohttp(error)
    except Exception:
        # the route, not the path: a path may hold a phone number
        log.exception("http.unhandled", route=_route_of(request), method=request.method)
        return json_error(500, "internal_error", "the request could not be handled")


def _json_for_aiohttp(error: web.HTTPException) -> web.Response:
    status = error.status
    code = _ERROR_CODES.get(status) or _code_for_status(status)
    headers = {name: value for name, value in error.headers.items() if name.lower() == "allow"}
    return json_error(status, code, error.reason, headers)


def _code_for_status(status: int) -> str:
    try:
        return HTTPStatus(status).phrase.lower().replace(" ", "_").replace("-", "_")
    except ValueError:
        return f"http_{status}"


def metrics_middleware(metrics: Metrics) -> Middleware:
    """Counts requests by method, route and status and times them by route."""

    @web.middleware
    async def count_and_time(request: web.Request, handler: Handler) -> web.StreamResponse:
        started = time.perf_counter()
        status = 500
        try:
            response = await handler(request)
            status = response.status
            return response
        except web.HTTPException as error:
            status = error.status
            raise
        finally:
            route = _route_of(request)
            method = request.method if request.method in _KNOWN_METHODS else "other"
            metrics.http_requests.labels(method=method, route=route, status=str(status)).inc()
            metrics.http_request_seconds.labels(route=route).observe(time.perf_counter() - started)

    return count_and_time


def _route_of(request: web.Request) -> str:
    """The route pattern (`/mo/kannel/{link}`), never the raw path: bounded label values."""
    resource = request.match_info.route.resource
    return "unmatched" if resource is None else resource.canonical


# --- serving -------------------------------------------------------------------------------


@dataclass(slots=True)
class RunningHttpServer:
    runner: web.AppRunner
    host: str
    port: int  # the bound port (useful when asked for port 0)

    @property
    def base_url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    async def close(self) -> None:
        await self.runner.cleanup()


async def start_http_server(
    app: web.Application, host: str, port: int, limits: ConnectionLimits | None = None
) -> RunningHttpServer:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
        sock.listen(512)
        sock.setblocking(False)
    except BaseException:
        sock.close()
        raise
    runner = await serve_on_socket(app, sock, limits or ConnectionLimits())
    return RunningHttpServer(runner=runner, host=host, port=sock.getsockname()[1])


class _ServerLog(logging.LoggerAdapter[logging.Logger]):
    """aiohttp's server logger, with requests it cannot parse logged as one warning line.

    aiohttp logs every unparseable request as an ERROR with a traceback: anyone reaching
    the port could fill the log with them. The client's mistake is a warning (its text,
    which quotes the raw bytes, is masked by the handler's filter); real errors stay
    errors.
    """

    def __init__(self) -> None:
        super().__init__(logging.getLogger("aiohttp.server"), {})

    def exception(  # aiohttp passes exc_info by keyword
        self, msg: object, *args: object, exc_info: object = True, **kwargs: Any
    ) -> None:
        if isinstance(exc_info, HttpProcessingError):
            self.warning("%s: %s", str(msg) % args, exc_info.message, **kwargs)
            return
        self.error(msg, *args, exc_info=exc_info, **kwargs)  # type: ignore[arg-type]


async def serve_on_socket(
    app: web.Application,
    sock: socket.socket,
    limits: ConnectionLimits,
    *,
    shutdown_timeout: float = 60.0,
) -> web.AppRunner:
    """Serve `app` on a bound, listening socket behind the read deadline and the cap;
    on cleanup, requests in hand get `shutdown_timeout` seconds to finish."""
    # no access log: a Kannel MO request line holds the sender and the text
    runner = web.AppRunner(
        app,
        access_log=None,
        logger=cast(logging.Logger, _ServerLog()),
        shutdown_timeout=shutdown_timeout,
    )

    def protocol() -> asyncio.Protocol:
        assert runner.server is not None  # set by setup(), before the first connection
        return runner.server()

    guard = ConnectionGuard(protocol, limits)
    app[GUARD] = guard  # before setup() freezes the application
    await runner.setup()
    try:
        await GuardedSockSite(runner, sock, guard).start()
    except BaseException:
        await runner.cleanup()
        raise
    return runner
