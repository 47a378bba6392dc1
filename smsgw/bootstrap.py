"""The one place that wires configuration to implementations.

`start_gateway(config)` opens the store, builds the service, binds the HTTP listener
and the SMPP links, and returns a `RunningGateway` whose `stop()` drains: it stops
taking MO (HTTP closes, SMPP answers new deliver_sm with a temporary error so the SMSC
keeps them), finishes the work in flight, unbinds and closes the store.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import timedelta

import aiohttp
import structlog
from aiohttp import web

from smsgw.charging.http_client import HttpChargingGateway
from smsgw.commands import ParseSettings
from smsgw.commands.plates import plate_rules
from smsgw.config import AppConfig, LinkSettings
from smsgw.observability import Metrics
from smsgw.service.messages import OutboundSms
from smsgw.service.pipeline import Gateway
from smsgw.service.ports import ChargingGateway, MtSender, Store
from smsgw.service.runtime import Service, build_service
from smsgw.service.settings import Clock, Deployment, ServiceSettings, SystemClock
from smsgw.smpp.session import SessionConfig
from smsgw.storage import open_store
from smsgw.transport.http_app import HttpOptions, create_app
from smsgw.transport.http_sender import KannelSender
from smsgw.transport.smpp_client import BindMode, EsmeLink, EsmeLinkConfig, LinkState
from smsgw.transport.smpp_mo import SmppInbound
from smsgw.transport.smpp_sender import SmppSender

log = structlog.get_logger(__name__)


@dataclass(slots=True)
class RunningGateway:
    config: AppConfig
    store: Store
    service: Service
    metrics: Metrics
    http_runner: web.AppRunner
    http_port: int
    client_session: aiohttp.ClientSession
    links: dict[str, EsmeLink] = field(default_factory=dict)
    inbound: list[SmppInbound] = field(default_factory=list)

    @property
    def base_url(self) -> str:
        return f"http://{self.config.http.host}:{self.http_port}"

    async def wait_links_bound(self) -> None:
        await asyncio.gather(*(link.wait_bound() for link in self.links.values()))

    async def stop(self) -> None:
        """Drain: stop taking MO, finish in-flight work, unbind, close."""
        for inbound in self.inbound:
            inbound.draining = True
        await self.http_runner.cleanup()
        await self.service.stop()
        await asyncio.gather(*(link.close() for link in self.links.values()))
        # after the unbinds: each intake records that its bind went down now
        await asyncio.gather(*(inbound.close() for inbound in self.inbound))
        await self.client_session.close()
        await self.store.close()
        log.info("gateway.stopped")


class OperatorSenders:
    """An operator's ways out in turn (several binds share the load)."""

    def __init__(self, senders: Sequence[MtSender]) -> None:
        self._senders = list(senders)
        self._next = 0

    async def send(self, sms: OutboundSms) -> str:
        sender = self._senders[self._next % len(self._senders)]
        self._next += 1
        return await sender.send(sms)


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


async def start_gateway(config: AppConfig, *, clock: Clock | None = None) -> RunningGateway:
    clock = clock or SystemClock()
    sock = _listening_socket(config.http.host, config.http.port)
    http_port = sock.getsockname()[1]
    public_url = config.http.public_url or f"http://{config.http.host}:{http_port}"
    store = await open_store(config.storage_dsn)
    metrics = Metrics()
    session = aiohttp.ClientSession()
    deployment = Deployment(config.zones, config.operators, service_settings(config, public_url))
    charging: dict[str, ChargingGateway] = {
        operator: HttpChargingGateway(s.url, s.secret, session, s.timeout_seconds, clock=clock.now)
        for operator, s in config.charging.items()
    }
    # filled once the links exist; the outbox reads it at send time
    senders: dict[str, MtSender] = {}
    service = build_service(store, deployment, clock, charging, senders, metrics)
    links: dict[str, EsmeLink] = {}
    inbound: list[SmppInbound] = []
    by_operator: dict[str, list[MtSender]] = {}
    for link in config.links:
        sender: MtSender
        if link.kind == "smpp":
            esme, intake = _smpp_link(link, config, store, service.gateway, clock, metrics)
            links[link.id] = esme
            inbound.append(intake)
            sender = SmppSender(esme)
        else:
            sender = _kannel_sender(link, session, public_url)
        by_operator.setdefault(link.operator, []).append(sender)
    senders.update({operator: OperatorSenders(s) for operator, s in by_operator.items()})
    app = create_app(service.gateway, _http_options(config), metrics, clock=clock.now)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.SockSite(runner, sock).start()
    # work this node had claimed before a crash is taken back now, not when its leases expire
    freed = await store.transact(lambda tx: tx.release_leases(node_id(config)))
    await service.start()
    for esme in links.values():
        await esme.start()
    for intake in inbound:
        intake.start()
    log.info("gateway.started", http_port=http_port, node=node_id(config), leases_taken_back=freed)
    return RunningGateway(
        config, store, service, metrics, runner, http_port, session, links, inbound
    )


def _http_options(config: AppConfig) -> HttpOptions:
    # every configured link may carry HTTP MO/DLR for its operator (Kannel or JSON)
    return HttpOptions(
        links={link.id: link.operator for link in config.links},
        api_token=config.http.api_token,
        max_body_bytes=config.http.max_body_bytes,
        plate_countries=config.gateway.plate_formats,
    )


def _smpp_link(
    link: LinkSettings,
    app: AppConfig,
    store: Store,
    gateway: Gateway,
    clock: Clock,
    metrics: Metrics,
) -> tuple[EsmeLink, SmppInbound]:
    inbound = SmppInbound(
        link_id=link.id,
        operator_id=link.operator,
        store=store,
        admission=gateway,
        accept_receipt=gateway.accept_receipt,
        short_numbers=app.gateway.all_short_numbers,
        clock=clock.now,
        parts_timeout=float(app.gateway.mo_parts_timeout_seconds),
        metrics=metrics,
    )
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

    def on_state(state: LinkState) -> None:
        metrics.set_link_up(link.id, state is LinkState.BOUND)

    esme = EsmeLink(
        config, on_deliver=inbound.on_deliver, on_receipt=inbound.on_receipt, on_state=on_state
    )
    # a new receiving bind is what makes an SMSC redeliver: the MO intake needs to know
    inbound.connection_generation = lambda: esme.stats.receiver_binds
    inbound.is_bound = lambda: esme.receiving
    return esme, inbound


def _kannel_sender(
    link: LinkSettings, session: aiohttp.ClientSession, public_url: str
) -> KannelSender:
    dlr = f"{public_url}/dlr/kannel/{link.id}?id={{outbox_id}}&type=%d"
    return KannelSender(link.sendsms_url, link.username, link.password, link.smsc, session, dlr)
