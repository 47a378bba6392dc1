"""The operations API: health, readiness, metrics, plate lookup and a phone's overview.

    GET /health                 open: {"status": "ok"} while the process answers
    GET /ready                  token: 200 when the store answers and each operator with
                                links has one up, else 503; per-link states in the body
    GET /metrics                token: Prometheus text
    GET /v1/plates/{plate}?zone=Z   token: {"plate", "zone", "paid", "until"}
    GET /v1/plates/{plate}      token: the same over every zone, with "zones": [...]
    GET /v1/phones/{msisdn}     token: the phone's running sessions and parking account
    GET /v1/phones/{msisdn}/history?limit=N&before=C   token: its history, newest first
    GET /ops/                   open: the support page (static; its data needs the token)
    GET /v1/outbox/{outbox_id}  token: a reply's state and each part's message id and
                                receipt state (404 for an unknown id)

The token is sent as `Authorization: Bearer <token>`. With no token configured every
endpoint but /health refuses, so an unconfigured gateway never exposes plates or phones.
"""

from __future__ import annotations

import hmac
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import datetime

import structlog
from aiohttp import web

from smsgw.commands.plates import PlateRules
from smsgw.domain.errors import UnknownZoneError
from smsgw.observability import Metrics
from smsgw.service.ports import StoreFigures
from smsgw.transport.http_common import (
    INVALID_FIELD,
    MISSING_FIELD,
    NOT_READY,
    UNAUTHORIZED,
    UNKNOWN_OUTBOX_ID,
    UNKNOWN_ZONE,
    HttpError,
    json_response,
    normalise_msisdn,
)
from smsgw.transport.ops_page import add_ops_page_routes

log = structlog.get_logger(__name__)


Clock = Callable[[], datetime]
PlateStatus = Callable[[str, str, datetime], Awaitable[Mapping[str, object] | None]]
PhoneOverview = Callable[[str], Awaitable[Mapping[str, object]]]
Ready = Callable[[], Awaitable[bool]]
PlateEverywhere = Callable[[str, datetime], Awaitable[Mapping[str, object]]]
PhoneHistory = Callable[[str, int, str | None], Awaitable[Mapping[str, object]]]
ReadFigures = Callable[[], Awaitable[StoreFigures]]

MAX_HISTORY_LIMIT = 200
DEFAULT_HISTORY_LIMIT = 50
OutboxView = Callable[[str], Awaitable[Mapping[str, object] | None]]

BEARER = "bearer "
LINK_UP = "up"
LINK_DOWN = "down"


@dataclass(frozen=True, slots=True)
class LinkStatus:
    """One configured link as /ready reports it."""

    operator: str
    state: str  # LINK_UP or LINK_DOWN

    @property
    def up(self) -> bool:
        return self.state == LINK_UP


# Set on the app by whoever owns the links (the bootstrap): each link's status by id.
# Without it /ready judges the store alone.
LINK_STATES: web.AppKey[Callable[[], Mapping[str, LinkStatus]]] = web.AppKey("smsgw_link_states")


def operators_without_a_link_up(links: Mapping[str, LinkStatus]) -> list[str]:
    """The operators that have links configured and none of them up, sorted."""
    operators = {status.operator for status in links.values()}
    up = {status.operator for status in links.values() if status.up}
    return sorted(operators - up)


def bearer_token_matches(authorization: str | None, expected: str) -> bool:
    """True when the header carries exactly the expected token (compared in constant
    time); always False when no token is configured."""
    if not expected or not authorization or not authorization.lower().startswith(BEARER):
        return False
    given = authorization[len(BEARER) :].strip()
    return hmac.compare_digest(given.encode("utf-8"), expected.encode("utf-8"))


def _iso(value: object) -> str | None:
    if isinstance(value, datetime):
        return value.isoformat()
    return None if value is None else str(value)


@dataclass(kw_only=True, eq=False)
class OpsEndpoints:
    """The ops API's handlers: health, readiness, metrics and the support look-ups."""

    api_token: str
    metrics: Metrics
    plate_rules: PlateRules
    ready: Ready
    plate_status: PlateStatus
    phone_overview: PhoneOverview
    clock: Clock
    plate_everywhere: PlateEverywhere
    phone_history: PhoneHistory
    store_figures: ReadFigures
    outbox_view: OutboxView | None = None

    def add_routes(self, app: web.Application) -> None:
        app.router.add_get("/health", self.health)
        app.router.add_get("/ready", self.readiness)
        app.router.add_get("/metrics", self.render_metrics)
        app.router.add_get("/v1/plates/{plate}", self.plate)
        app.router.add_get("/v1/phones/{msisdn}", self.phone)
        app.router.add_get("/v1/phones/{msisdn}/history", self.history)
        add_ops_page_routes(app)
        if self.outbox_view is not None:
            app.router.add_get("/v1/outbox/{outbox_id}", self.outbox)

    def _authorise(self, request: web.Request) -> None:
        if not bearer_token_matches(request.headers.get("Authorization"), self.api_token):
            raise HttpError(UNAUTHORIZED, "a valid bearer token is required")

    async def health(self, request: web.Request) -> web.Response:
        return json_response({"status": "ok"})

    async def readiness(self, request: web.Request) -> web.Response:
        """200 when the store answers and every operator with links has one up; else
        503. The body says which part is not: {"ready", "links": {id: "up"|"down"},
        "store": "ok"|"down"} (and {"error", "message"} with a 503)."""
        self._authorise(request)
        try:
            store_ok = await self.ready()
        except Exception:
            log.exception("ready.check_failed")
            store_ok = False
        report = request.app.get(LINK_STATES)
        links = report() if report is not None else {}
        down = operators_without_a_link_up(links)
        ready = store_ok and not down
        body: dict[str, object] = {
            "ready": ready,
            "links": {link: status.state for link, status in links.items()},
            "store": "ok" if store_ok else "down",
        }
        if ready:
            return json_response(body)
        problem = "the store does not answer" if not store_ok else ""
        if down:
            problem = "; ".join(filter(None, (problem, f"no link up for {', '.join(down)}")))
        return json_response(
            {**body, "error": NOT_READY.code, "message": problem}, status=NOT_READY.status
        )

    async def render_metrics(self, request: web.Request) -> web.Response:
        self._authorise(request)
        await self._refresh_store_figures()
        return web.Response(
            body=self.metrics.render(), headers={"Content-Type": Metrics.content_type}
        )

    async def _refresh_store_figures(self) -> None:
        # read at scrape time: the totals are the database's, the same on every node
        try:
            figures = await self.store_figures()
        except Exception:
            log.exception("metrics.store_figures_failed")
            return  # the process's own metrics are still worth answering with
        self.metrics.show_store_figures(figures)

    async def plate(self, request: web.Request) -> web.Response:
        self._authorise(request)
        plate = self._canonical_plate(request.match_info["plate"])
        if "zone" not in request.query:
            return json_response(await self.plate_everywhere(plate, self.clock()))
        zone = request.query["zone"].strip()
        if not zone:
            raise HttpError(MISSING_FIELD, "zone is empty: give a zone number, or leave zone out")
        if not zone.isdigit():
            raise HttpError(INVALID_FIELD, "zone must be a zone number")
        try:
            status = await self.plate_status(plate, zone, self.clock())
        except UnknownZoneError:
            raise HttpError(UNKNOWN_ZONE, f"no zone {zone} is configured") from None
        paid = status is not None and bool(status.get("paid", True))
        until = _iso(status.get("until")) if paid and status is not None else None
        return json_response({"plate": plate, "zone": zone, "paid": paid, "until": until})

    async def phone(self, request: web.Request) -> web.Response:
        self._authorise(request)
        msisdn = normalise_msisdn(request.match_info["msisdn"], "msisdn")
        return json_response(await self.phone_overview(msisdn))

    async def history(self, request: web.Request) -> web.Response:
        self._authorise(request)
        msisdn = normalise_msisdn(request.match_info["msisdn"], "msisdn")
        limit = history_limit(request.query.get("limit"))
        before = request.query.get("before") or None
        try:
            page = await self.phone_history(msisdn, limit, before)
        except ValueError as error:  # a cursor this gateway did not hand out
            raise HttpError(INVALID_FIELD, str(error)) from None
        return json_response(page)

    async def outbox(self, request: web.Request) -> web.Response:
        self._authorise(request)
        assert self.outbox_view is not None  # the route exists only with a view
        view = await self.outbox_view(request.match_info["outbox_id"])
        if view is None:
            raise HttpError(UNKNOWN_OUTBOX_ID, "no reply has that outbox id")
        return json_response(view)

    def _canonical_plate(self, raw: str) -> str:
        checked = self.plate_rules.check(raw)
        if isinstance(checked, str):
            return checked
        raise HttpError(INVALID_FIELD, f"not a valid plate; for example {self.plate_rules.example}")


def history_limit(raw: str | None) -> int:
    """A history page's `limit` query value, checked (the ops and driver APIs)."""
    if raw is None or not raw.strip():
        return DEFAULT_HISTORY_LIMIT
    if not raw.strip().isdigit() or not 1 <= int(raw) <= MAX_HISTORY_LIMIT:
        raise HttpError(
            INVALID_FIELD, f"limit must be a whole number from 1 to {MAX_HISTORY_LIMIT}"
        )
    return int(raw)
