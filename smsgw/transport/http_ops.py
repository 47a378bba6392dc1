"""The operations API: health, readiness, metrics, plate lookup and a phone's overview.

    GET /health                 open: {"status": "ok"} while the process answers
    GET /ready                  token: 200 when storage and links are usable, else 503
    GET /metrics                token: Prometheus text
    GET /v1/plates/{plate}?zone=Z   token: {"plate", "zone", "paid", "until"}
    GET /v1/phones/{msisdn}     token: the phone's running sessions and parking account
    GET /v1/outbox/{outbox_id}  token: a reply's state and each part's message id and
                                receipt state (404 for an unknown id)

The token is sent as `Authorization: Bearer <token>`. With no token configured every
endpoint but /health refuses, so an unconfigured gateway never exposes plates or phones.
"""

from __future__ import annotations

import hmac
from collections.abc import Awaitable, Callable, Mapping
from datetime import datetime

import structlog
from aiohttp import web

from smsgw.commands.plates import PlateRules
from smsgw.domain.errors import UnknownZoneError
from smsgw.observability import Metrics
from smsgw.transport.http_common import (
    HttpError,
    InvalidFieldError,
    MissingFieldError,
    NotReadyError,
    UnauthorizedError,
    ZoneNotFoundError,
    json_response,
    normalise_msisdn,
)

log = structlog.get_logger(__name__)


class OutboxNotFoundError(HttpError):
    status = 404
    code = "unknown_outbox_id"


Clock = Callable[[], datetime]
PlateStatus = Callable[[str, str, datetime], Awaitable[Mapping[str, object] | None]]
PhoneOverview = Callable[[str], Awaitable[Mapping[str, object]]]
Ready = Callable[[], Awaitable[bool]]
OutboxView = Callable[[str], Awaitable[Mapping[str, object] | None]]

BEARER = "bearer "


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


class OpsEndpoints:
    def __init__(
        self,
        *,
        api_token: str,
        metrics: Metrics,
        plate_rules: PlateRules,
        ready: Ready,
        plate_status: PlateStatus,
        phone_overview: PhoneOverview,
        clock: Clock,
        outbox_view: OutboxView | None = None,
    ) -> None:
        self.outbox_view = outbox_view
        self.api_token = api_token
        self.metrics = metrics
        self.plate_rules = plate_rules
        self.ready = ready
        self.plate_status = plate_status
        self.phone_overview = phone_overview
        self.clock = clock

    def add_routes(self, app: web.Application) -> None:
        app.router.add_get("/health", self.health)
        app.router.add_get("/ready", self.readiness)
        app.router.add_get("/metrics", self.render_metrics)
        app.router.add_get("/v1/plates/{plate}", self.plate)
        app.router.add_get("/v1/phones/{msisdn}", self.phone)
        if self.outbox_view is not None:
            app.router.add_get("/v1/outbox/{outbox_id}", self.outbox)

    def _authorise(self, request: web.Request) -> None:
        if not bearer_token_matches(request.headers.get("Authorization"), self.api_token):
            raise UnauthorizedError("a valid bearer token is required")

    async def health(self, request: web.Request) -> web.Response:
        return json_response({"status": "ok"})

    async def readiness(self, request: web.Request) -> web.Response:
        self._authorise(request)
        try:
            ready = await self.ready()
        except Exception:
            log.exception("ready.check_failed")
            ready = False
        if not ready:
            raise NotReadyError("storage or links are not usable yet")
        return json_response({"status": "ready"})

    async def render_metrics(self, request: web.Request) -> web.Response:
        self._authorise(request)
        return web.Response(
            body=self.metrics.render(), headers={"Content-Type": Metrics.content_type}
        )

    async def plate(self, request: web.Request) -> web.Response:
        self._authorise(request)
        plate = self._canonical_plate(request.match_info["plate"])
        zone = request.query.get("zone", "").strip()
        if not zone:
            raise MissingFieldError("zone is required (?zone=<zone number>)")
        if not zone.isdigit():
            raise InvalidFieldError("zone must be a zone number")
        try:
            status = await self.plate_status(plate, zone, self.clock())
        except UnknownZoneError:
            raise ZoneNotFoundError(f"no zone {zone} is configured") from None
        paid = status is not None and bool(status.get("paid", True))
        until = _iso(status.get("until")) if paid and status is not None else None
        return json_response({"plate": plate, "zone": zone, "paid": paid, "until": until})

    async def phone(self, request: web.Request) -> web.Response:
        self._authorise(request)
        msisdn = normalise_msisdn(request.match_info["msisdn"], "msisdn")
        return json_response(await self.phone_overview(msisdn))

    async def outbox(self, request: web.Request) -> web.Response:
        self._authorise(request)
        assert self.outbox_view is not None  # the route exists only with a view
        view = await self.outbox_view(request.match_info["outbox_id"])
        if view is None:
            raise OutboxNotFoundError("no reply has that outbox id")
        return json_response(view)

    def _canonical_plate(self, raw: str) -> str:
        checked = self.plate_rules.check(raw)
        if isinstance(checked, str):
            return checked
        raise InvalidFieldError(f"not a valid plate; for example {self.plate_rules.example}")
