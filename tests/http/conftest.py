"""The HTTP listener on an OS-chosen port, in front of an in-test `ServiceApi`."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Protocol

import aiohttp
import pytest
from aiohttp import hdrs

from smsgw.domain.errors import UnknownZoneError
from smsgw.observability import Metrics
from smsgw.service.messages import InboundSms
from smsgw.service.ports import CallbackAnswer, CallbackVerdict, OutboxState, StoreFigures
from smsgw.transport.http_app import (
    HttpOptions,
    RunningHttpServer,
    create_app,
    start_http_server,
)
from smsgw.transport.http_common import HttpLink

NOW = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
TOKEN = "ops-token-0123456789"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
# each HTTP link has its own secret, as Kannel's get-url and dlr-url carry it
LINK_SECRETS = {"mts-kannel": "mts-kannel-secret-0123", "beeline-http": "beeline-http-secret-0123"}
LINKS = {
    "mts-kannel": HttpLink("mts", LINK_SECRETS["mts-kannel"]),
    "beeline-http": HttpLink("beeline", LINK_SECRETS["beeline-http"]),
}
OPTIONS = HttpOptions(links=LINKS, api_token=TOKEN)


class StoreDownError(Exception):
    pass


@dataclass
class FakeServiceApi:
    """A `ServiceApi` that records every call and answers as the test sets it up."""

    mo_answer: bool | None = True  # None: raise, as a store that is down would
    receipt_answer: bool | None = True
    ready_answer: bool | None = True
    callback_answer: CallbackAnswer = field(
        default_factory=lambda: CallbackAnswer(CallbackVerdict.STORED, result="applied")
    )
    paid_until: Mapping[tuple[str, str], datetime] = field(default_factory=dict)
    zones: frozenset[str] = frozenset({"1001", "1002"})
    overview: Mapping[str, object] = field(default_factory=dict)
    mos: list[InboundSms] = field(default_factory=list)
    receipts: list[tuple[str, str, OutboxState]] = field(default_factory=list)
    callbacks: list[tuple[str, dict[str, str], bytes]] = field(default_factory=list)
    plate_queries: list[tuple[str, str, datetime]] = field(default_factory=list)
    phone_queries: list[str] = field(default_factory=list)
    history_queries: list[tuple[str, int, str | None]] = field(default_factory=list)
    figures: StoreFigures = field(default_factory=lambda: StoreFigures([], [], []))

    async def accept_mo(self, sms: InboundSms) -> bool:
        if self.mo_answer is None:
            raise StoreDownError("database is down")
        if self.mo_answer:
            self.mos.append(sms)
        return self.mo_answer

    async def accept_receipt(self, operator_id: str, message_id: str, state: OutboxState) -> bool:
        if self.receipt_answer is None:
            raise StoreDownError("database is down")
        self.receipts.append((operator_id, message_id, state))
        return self.receipt_answer

    async def accept_charge_callback(
        self, operator_id: str, headers: Mapping[str, str], body: bytes
    ) -> CallbackAnswer:
        self.callbacks.append((operator_id, dict(headers), body))
        return self.callback_answer

    async def plate_status(
        self, plate: str, zone: str, now: datetime
    ) -> Mapping[str, object] | None:
        self.plate_queries.append((plate, zone, now))
        if zone not in self.zones:
            raise UnknownZoneError(zone=zone)
        until = self.paid_until.get((plate, zone))
        return None if until is None else {"until": until}

    async def phone_overview(self, msisdn: str) -> Mapping[str, object]:
        self.phone_queries.append(msisdn)
        return {"msisdn": msisdn, **self.overview}

    async def ready(self) -> bool:
        if self.ready_answer is None:
            raise StoreDownError("database is down")
        return self.ready_answer

    async def plate_everywhere(self, plate: str, now: datetime) -> Mapping[str, object]:
        self.plate_queries.append((plate, "", now))
        paid = [(zone, until) for (p, zone), until in self.paid_until.items() if p == plate]
        return {
            "plate": plate,
            "paid": bool(paid),
            "zone": paid[0][0] if paid else None,
            "until": paid[0][1] if paid else None,
            "zones": [
                {"zone": zone, "paid": (plate, zone) in self.paid_until}
                for zone in sorted(self.zones)
            ],
        }

    async def phone_history(
        self, msisdn: str, limit: int, before: str | None
    ) -> Mapping[str, object]:
        self.history_queries.append((msisdn, limit, before))
        if before == "bad":
            raise ValueError("before is not a cursor from a previous page")
        return {"msisdn": msisdn, "items": [], "next_before": None}

    async def store_figures(self) -> StoreFigures:
        return self.figures


class StartServer(Protocol):
    def __call__(self, options: HttpOptions = OPTIONS) -> Awaitable[RunningHttpServer]: ...


@pytest.fixture
def gateway() -> FakeServiceApi:
    return FakeServiceApi()


@pytest.fixture
def metrics() -> Metrics:
    return Metrics()


@pytest.fixture
async def start_server(gateway: FakeServiceApi, metrics: Metrics) -> AsyncIterator[StartServer]:
    """Starts a listener (OPTIONS unless told otherwise), closed at the end of the test."""
    servers: list[RunningHttpServer] = []

    async def start(options: HttpOptions = OPTIONS) -> RunningHttpServer:
        app = create_app(gateway, options, metrics, clock=lambda: NOW)
        server = await start_http_server(app, "127.0.0.1", 0)
        servers.append(server)
        return server

    yield start
    for server in servers:
        await server.close()


@pytest.fixture
async def server(start_server: StartServer) -> RunningHttpServer:
    return await start_server()


async def _link_credential(
    request: aiohttp.ClientRequest, handler: aiohttp.ClientHandlerType
) -> aiohttp.ClientResponse:
    """What a configured Kannel does: every MO and report carries its link's secret (here
    as basic auth, so the URL a test builds goes on the wire untouched)."""
    parts = request.url.path.split("/")
    if parts[1:2] in (["mo"], ["dlr"]) and hdrs.AUTHORIZATION not in request.headers:
        secret = LINK_SECRETS.get(parts[-1])
        if secret is not None:
            request.headers[hdrs.AUTHORIZATION] = aiohttp.encode_basic_auth("kannel", secret)
    return await handler(request)


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    """A client as the link's Kannel: MO and reports carry the link's secret."""
    async with aiohttp.ClientSession(
        timeout=aiohttp.ClientTimeout(total=5), middlewares=(_link_credential,)
    ) as session:
        yield session


@pytest.fixture
async def anonymous() -> AsyncIterator[aiohttp.ClientSession]:
    """A client without any link's credential: whoever reaches the port."""
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=5)) as session:
        yield session
