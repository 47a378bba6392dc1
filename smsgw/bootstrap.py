"""The one place that wires configuration to implementations.

`start_gateway(config)` opens the store, builds the service, binds the HTTP listener
and the SMPP links, and returns a `RunningGateway` whose `stop()` drains: it stops
taking MO (HTTP closes, SMPP answers new deliver_sm with a temporary error so the SMSC
keeps them), finishes the work in flight, unbinds and closes the store.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import socket
from collections.abc import Awaitable, Callable, Coroutine, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import timedelta
from typing import Any
from urllib.parse import quote

import aiohttp
import structlog
from aiohttp import web

from smsgw.charging.callbacks import parse_callback
from smsgw.charging.http_client import HttpChargingClient
from smsgw.clock import Clock, SystemClock
from smsgw.commands import ParseSettings
from smsgw.commands.plates import plate_rules
from smsgw.config import AppConfig, LinkSettings
from smsgw.observability import Metrics
from smsgw.service.driver_account import DriverAccount
from smsgw.service.driver_actions import DriverActions
from smsgw.service.driver_auth import DriverAuth, DriverAuthPolicy
from smsgw.service.messages import OutboundSms
from smsgw.service.ports import ChargingApi, MtSender, PartAccepted, PartwiseSender
from smsgw.service.runtime import Service, build_service
from smsgw.service.scheduler import Retention
from smsgw.service.settings import Deployment, ServiceSettings
from smsgw.service.store_port import Store
from smsgw.smpp.session import SessionConfig
from smsgw.storage import open_store
from smsgw.transport.http_app import HttpOptions, create_app, serve_on_socket
from smsgw.transport.http_common import SECRET_PARAMETER, HttpLink
from smsgw.transport.http_driver import DriverApi
from smsgw.transport.http_limits import ConnectionLimits
from smsgw.transport.http_ops import LINK_DOWN, LINK_STATES, LINK_UP, LinkStatus
from smsgw.transport.http_sender import KannelSender
from smsgw.transport.smpp_client import BindMode, EsmeLink, EsmeLinkConfig, LinkTimer
from smsgw.transport.smpp_link import IntakePort, IntakeSettings, OperatorLink
from smsgw.transport.smpp_mo import SmppInbound

log = structlog.get_logger(__name__)

# after a cut-short drain, how long the links get to unbind before they are dropped
ABORT_GRACE_SECONDS = 1.0


@dataclass(slots=True)
class RunningGateway:
    config: AppConfig
    store: Store
    service: Service
    metrics: Metrics
    http_runner: web.AppRunner
    http_port: int
    client_session: aiohttp.ClientSession
    smpp_links: dict[str, OperatorLink] = field(default_factory=dict)

    @property
    def base_url(self) -> str:
        return f"http://{self.config.http.host}:{self.http_port}"

    @property
    def links(self) -> dict[str, EsmeLink]:
        """Each SMPP link's ESME side, by link id."""
        return {link_id: link.esme for link_id, link in self.smpp_links.items()}

    @property
    def inbound(self) -> list[SmppInbound]:
        """Each SMPP link's MO intake."""
        return [link.intake for link in self.smpp_links.values()]

    async def wait_links_bound(self) -> None:
        await asyncio.gather(*(link.wait_bound() for link in self.links.values()))

    async def stop(
        self, drain_seconds: float | None = None, hurry: asyncio.Event | None = None
    ) -> bool:
        """Drain: stop taking MO, finish in-flight work, unbind, close. True if the drain
        finished; False if it was cut short by its deadline (`gateway.drain_seconds`) or
        by `hurry` (a second signal). Either way the store is closed cleanly, and what was
        not done stays in it for the next start."""
        budget = self.config.gateway.drain_seconds if drain_seconds is None else drain_seconds
        log.info("gateway.draining", drain_seconds=budget)
        for link in self.smpp_links.values():
            link.drain()
        drained = await _within(self._drain(), budget, hurry)
        if not drained:
            cut = await self.service.abort()
            await _within(self._close_links(), ABORT_GRACE_SECONDS, None)
            log.warning(
                "gateway.drain_cut_short",
                reason="second signal" if hurry is not None and hurry.is_set() else "deadline",
                drain_seconds=budget,
                mo_in_flight=cut,
            )
        # after the unbinds: each intake records that its bind went down now
        await _within(self._close_intakes(), ABORT_GRACE_SECONDS, None)
        await self.client_session.close()
        await self.store.close()
        log.info("gateway.stopped", drained=drained)
        return drained

    async def _drain(self) -> None:
        await self.http_runner.cleanup()
        await self.service.stop()
        await self._close_links()

    async def _close_links(self) -> None:
        await asyncio.gather(*(link.close_link() for link in self.smpp_links.values()))

    async def _close_intakes(self) -> None:
        await asyncio.gather(*(link.close_intake() for link in self.smpp_links.values()))


async def _within(
    work: Coroutine[Any, Any, None], seconds: float, hurry: asyncio.Event | None
) -> bool:
    """Run `work` until it ends (True), or cancel it after `seconds` or once `hurry` is
    set (False)."""
    task = asyncio.ensure_future(work)
    waiters: set[asyncio.Future[Any]] = {task}
    if hurry is not None:
        waiters.add(asyncio.ensure_future(hurry.wait()))
    await asyncio.wait(waiters, timeout=max(0.0, seconds), return_when=asyncio.FIRST_COMPLETED)
    for waiter in waiters - {task}:
        waiter.cancel()
    if task.done():
        if not task.cancelled() and task.exception() is not None:
            # the drain is over all the same: the store still gets closed
            log.error("gateway.drain_failed", error=repr(task.exception()))
        return True
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError, Exception):
        await task
    return False


class OperatorSenders:
    """An operator's ways out in turn (several binds share the load)."""

    def __init__(self, senders: Sequence[MtSender]) -> None:
        # what each sender can do is known once, not asked per reply (a runtime Protocol
        # check walks the protocol's attributes every time)
        self._senders = list(senders)
        self._ways = [_parts_way(sender) for sender in self._senders]
        self._next = 0

    async def send(self, sms: OutboundSms) -> str:
        sender = self._senders[self._next % len(self._senders)]
        self._next += 1
        return await sender.send(sms)

    async def send_parts(self, sms: OutboundSms, on_part: PartAccepted) -> str:
        """As `send`, passing each part's message id on (SMPP links report them)."""
        way = self._ways[self._next % len(self._ways)]
        self._next += 1
        return await way(sms, on_part)


SendParts = Callable[[OutboundSms, PartAccepted], Awaitable[str]]


def _parts_way(sender: MtSender) -> SendParts:
    if isinstance(sender, PartwiseSender):
        return sender.send_parts

    async def whole(sms: OutboundSms, on_part: PartAccepted) -> str:
        return await sender.send(sms)  # an HTTP sender reports no parts

    return whole


def node_id(config: AppConfig) -> str:
    # stable across restarts, so a restarted node takes back what it had leased;
    # several nodes on one host must each set gateway.node_id
    return config.gateway.node_id or socket.gethostname()


def service_settings(config: AppConfig, public_url: str) -> ServiceSettings:
    gateway = config.gateway
    return ServiceSettings(
        default_language=gateway.default_language,
        short_number=gateway.short_number,
        reminder_minutes=gateway.reminder_minutes,
        confirmation_timeout=timedelta(minutes=gateway.confirmation_timeout_minutes),
        parse=ParseSettings(plates=plate_rules(gateway.plate_formats), max_hours=gateway.max_hours),
        callback_base_url=public_url,
        node_id=node_id(config),
        charging_secrets={op: s.secret for op, s in config.charging.items()},
        operator_numbers={
            op: s.service_number for op, s in config.charging.items() if s.service_number
        },
    )


def _listening_socket(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(512)
    sock.setblocking(False)
    return sock


async def start_gateway(
    config: AppConfig, *, clock: Clock | None = None, link_timer: LinkTimer | None = None
) -> RunningGateway:
    """Open the store, build the links, the service and the HTTP listener, then start.

    ``link_timer`` moves the SMPP links' timing (reconnects, throttling pauses, the
    segment bucket); by default the event loop's clock.
    """
    clock = clock or SystemClock()
    sock = _listening_socket(config.http.host, config.http.port)
    http_port = sock.getsockname()[1]
    public_url = config.http.public_url or f"http://{config.http.host}:{http_port}"
    store = await open_store(config.storage_dsn)
    metrics = Metrics()
    session = aiohttp.ClientSession()
    deployment = Deployment(config.zones, config.operators, service_settings(config, public_url))
    charging: dict[str, ChargingApi] = {
        operator: HttpChargingClient(s.url, s.secret, session, s.timeout_seconds, clock=clock.now)
        for operator, s in config.charging.items()
    }
    # the links need the service for their MO and the service their senders: the links
    # get the port, which is connected to the service as soon as it exists
    intake = IntakePort()
    smpp_links = {
        link.id: _smpp_link(link, config, store, intake, clock, metrics, link_timer)
        for link in config.links
        if link.kind == "smpp"
    }
    senders = _senders(config.links, smpp_links, session, public_url)
    service = build_service(
        store,
        deployment,
        clock,
        charging,
        senders,
        metrics,
        retention=_retention(config),
        verify_callback=parse_callback,
    )
    intake.connect(service.messages)
    options = replace(_http_options(config), driver=_driver_api(config, service, deployment, clock))
    app = create_app(service.messages, options, metrics, clock=clock.now)
    limits = ConnectionLimits(config.http.read_timeout_seconds, config.http.max_connections)
    app[LINK_STATES] = _link_states(config.links, smpp_links)
    # requests in hand get the drain's time to finish, never more
    runner = await serve_on_socket(
        app, sock, limits, shutdown_timeout=float(config.gateway.drain_seconds)
    )
    # work this node had claimed before a crash is taken back now, not when its leases expire
    freed = await store.transact(lambda tx: tx.release_leases(node_id(config)))
    await service.start()
    for smpp_link in smpp_links.values():
        await smpp_link.start()
    log.info("gateway.started", http_port=http_port, node=node_id(config), leases_taken_back=freed)
    return RunningGateway(config, store, service, metrics, runner, http_port, session, smpp_links)


def _senders(
    configured: Sequence[LinkSettings],
    smpp_links: Mapping[str, OperatorLink],
    session: aiohttp.ClientSession,
    public_url: str,
) -> dict[str, MtSender]:
    """Each operator's ways out, in the order its links are configured."""
    by_operator: dict[str, list[MtSender]] = {}
    for link in configured:
        sender: MtSender
        if link.id in smpp_links:
            sender = smpp_links[link.id].sender
        else:
            sender = _kannel_sender(link, session, public_url)
        by_operator.setdefault(link.operator, []).append(sender)
    return {operator: OperatorSenders(s) for operator, s in by_operator.items()}


def _retention(config: AppConfig) -> Retention:
    keep = config.retention
    return Retention(
        inbound=timedelta(days=keep.inbound_days),
        outbox=timedelta(days=keep.outbox_days),
        charges=timedelta(days=keep.charges_days),
        batch_rows=keep.batch_rows,
        interval=timedelta(minutes=keep.interval_minutes),
    )


def _link_states(
    configured: Sequence[LinkSettings], smpp_links: Mapping[str, OperatorLink]
) -> Callable[[], dict[str, LinkStatus]]:
    """What /ready reports per link: an SMPP link is up while bound; an HTTP (Kannel)
    link has no connection of its own to lose, so it counts as up."""

    def up(link: LinkSettings) -> bool:
        smpp_link = smpp_links.get(link.id)
        return smpp_link is None or smpp_link.is_up

    def states() -> dict[str, LinkStatus]:
        return {
            link.id: LinkStatus(link.operator, LINK_UP if up(link) else LINK_DOWN)
            for link in configured
        }

    return states


def _http_options(config: AppConfig) -> HttpOptions:
    # only kannel links take MO and reports over HTTP, each with its own secret
    return HttpOptions(
        links={
            link.id: HttpLink(
                link.operator,
                link.secret,
                tuple(ipaddress.ip_network(net, strict=False) for net in link.allowed_networks),
            )
            for link in config.links
            if link.kind == "kannel"
        },
        api_token=config.http.api_token,
        max_body_bytes=config.http.max_body_bytes,
        plate_countries=config.gateway.plate_formats,
    )


def _driver_api(
    config: AppConfig, service: Service, deployment: Deployment, clock: Clock
) -> DriverApi | None:
    """The driver API's services, or None while `[driver] enabled` is false."""
    settings = config.driver
    if not settings.enabled:
        return None
    policy = DriverAuthPolicy(
        secret=settings.secret.encode("utf-8"),
        code_ttl=timedelta(seconds=settings.code_ttl_seconds),
        token_ttl=timedelta(hours=settings.token_ttl_hours),
        resend_after=timedelta(seconds=settings.code_resend_seconds),
        codes_per_phone_per_hour=settings.codes_per_phone_per_hour,
        codes_per_source_per_hour=settings.codes_per_source_per_hour,
        code_attempts=settings.code_attempts,
    )
    account = DriverAccount(
        service.runner.store,
        deployment,
        clock,
        plate_rules(config.gateway.plate_formats),
        max_vehicles=settings.max_vehicles,
    )
    auth = DriverAuth(service.runner, deployment, policy)
    actions = DriverActions(service.runner, deployment, service.messages.flow.can_charge)
    return DriverApi(auth, account, config.gateway.default_language, actions)


def _smpp_link(
    link: LinkSettings,
    app: AppConfig,
    store: Store,
    intake: IntakePort,
    clock: Clock,
    metrics: Metrics,
    timer: LinkTimer | None,
) -> OperatorLink:
    config = EsmeLinkConfig(
        host=link.host,
        port=link.port,
        system_id=link.system_id,
        password=link.password,
        system_type=link.system_type,
        bind_mode=BindMode.TRANSCEIVER
        if link.bind_mode == "transceiver"
        else BindMode.TRANSMITTER_RECEIVER,
        session=SessionConfig(
            window_size=link.window, enquire_link_interval=link.enquire_link_seconds
        ),
        segments_per_second=link.segments_per_second,
        mo_in_flight=link.mo_in_flight,
    )
    settings = IntakeSettings(
        short_numbers=app.gateway.all_short_numbers,
        parts_timeout=float(app.gateway.mo_parts_timeout_seconds),
    )
    return OperatorLink(
        link.id,
        link.operator,
        config,
        settings,
        store=store,
        service=intake,
        clock=clock,
        metrics=metrics,
        timer=timer,
    )


def _kannel_sender(
    link: LinkSettings, session: aiohttp.ClientSession, public_url: str
) -> KannelSender:
    secret = quote(link.secret, safe="")
    dlr = f"{public_url}/dlr/kannel/{link.id}?{SECRET_PARAMETER}={secret}&id={{outbox_id}}&type=%d"
    return KannelSender(link.sendsms_url, link.username, link.password, link.smsc, session, dlr)
