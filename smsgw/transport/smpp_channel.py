"""One bind of an ESME link: its connection protocol and its connect-bind-serve loop.

A `Channel` connects, binds and, when the connection ends, waits as its link's pacing
policy says and starts again until the link closes. Its `EsmeProtocol` hands each
deliver_sm / data_sm to the link to answer, at most ``mo_in_flight`` at once: beyond
that the bind stops reading its socket until one is answered, so a flooding SMSC is
held back by TCP instead of filling memory. Both reach their link only through the
narrow `ChannelOwner` interface.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from collections.abc import Callable, Coroutine
from functools import partial
from typing import Any, Protocol

import structlog

from smsgw.smpp.constants import CommandStatus
from smsgw.smpp.events import BindRequest, DeliveryReceiptReceived, Event, PduReceived, Role
from smsgw.smpp.pdu import BindTransmitter, DataSm, DeliverSm
from smsgw.transport.smpp_link_config import EsmeLinkConfig, LinkState, LinkStats, bind_request
from smsgw.transport.smpp_protocol import LinkError, SmppProtocol, status_of

log = structlog.get_logger(__name__)

# A link that cannot connect or bind says so at warning on the first failure and then on
# every this many in a row (with the backoff, every few minutes); the retries in between
# are logged at debug, so six links down are six warnings, not a flood.
FAILURES_PER_WARNING = 10

Work = Callable[[], Coroutine[Any, Any, None]]


class ChannelOwner(Protocol):
    """What a bind needs from its link."""

    @property
    def config(self) -> EsmeLinkConfig: ...

    @property
    def stats(self) -> LinkStats: ...

    @property
    def closing(self) -> bool: ...

    async def answer_message(self, protocol: SmppProtocol, pdu: DeliverSm | DataSm) -> None:
        """Hand a deliver_sm / data_sm to the application and answer it."""

    async def answer_receipt(self, protocol: SmppProtocol, event: DeliveryReceiptReceived) -> None:
        """Hand a delivery receipt to the application and answer it."""

    def activity(self) -> None:
        """Something changed that a waiting submission may care for (a response, a close)."""

    def channel_changed(self) -> None:
        """A bind's state changed."""

    def bind_up(self, index: int) -> None:
        """The bind is up: its next failure waits the first delay again."""

    async def wait_to_reconnect(self, index: int) -> None:
        """The bind failed or ended: return once the pacing policy lets it try again."""


class EsmeProtocol(SmppProtocol):
    """The ESME side of one connection: requests from the SMSC go to the owner, bounded."""

    def __init__(self, owner: ChannelOwner) -> None:
        super().__init__(Role.ESME, owner.config.session)
        self._owner = owner
        # deliver_sm read in the same batch as the one that filled the bound: at most
        # one read's worth, as reading stops until the bound frees up
        self._waiting: deque[Work] = deque()
        self._in_flight = 0

    def event_received(self, event: Event) -> None:
        match event:
            case DeliveryReceiptReceived():
                self._take_request(partial(self._owner.answer_receipt, self, event))
            case PduReceived(pdu=DeliverSm() | DataSm() as pdu):
                self._take_request(partial(self._owner.answer_message, self, pdu))
            case PduReceived(pdu=pdu):
                # outbind, alert_notification: nothing to answer, nothing to do here.
                log.info("esme.ignored_request", command=pdu.command_id.name)
            case _:
                pass
        # Responses free window slots; any event may unblock a waiting submit.
        self._owner.activity()

    def connection_closed(self) -> None:
        # not answered, so the SMSC sends them again; nothing was stored for them
        self._waiting.clear()
        self._owner.activity()

    def _take_request(self, work: Work) -> None:
        """Handle a deliver_sm now if the bound allows, else hold it and stop reading."""
        if self._in_flight < self._owner.config.mo_in_flight and not self._waiting:
            self._start_request(work)
            return
        self._waiting.append(work)
        if self.stop_reading():
            self._owner.stats.reading_paused += 1

    def _start_request(self, work: Work) -> None:
        self._in_flight += 1
        stats = self._owner.stats
        stats.mo_in_flight_peak = max(stats.mo_in_flight_peak, self._in_flight)
        self.spawn(self._handle_request(work))

    async def _handle_request(self, work: Work) -> None:
        try:
            await work()
        finally:
            self._in_flight -= 1
            while self._waiting and self._in_flight < self._owner.config.mo_in_flight:
                self._start_request(self._waiting.popleft())
            if not self._waiting:
                self.start_reading()


class Channel:
    """One connection and bind of the link, re-established until the link closes."""

    def __init__(self, owner: ChannelOwner, index: int, bind_class: type[BindRequest]) -> None:
        self.owner = owner
        self.index = index  # the bind's number in the link's pacing policy
        self.bind_class = bind_class
        self.state = LinkState.CONNECTING
        self.protocol: EsmeProtocol | None = None
        self.task: asyncio.Task[None] | None = None
        self.failures = 0  # connects or binds failed in a row

    def start(self) -> None:
        self.task = asyncio.get_running_loop().create_task(self._run())

    @property
    def receives(self) -> bool:
        return self.bind_class is not BindTransmitter

    def bound_protocol(self) -> EsmeProtocol | None:
        protocol = self.protocol
        if self.state is LinkState.BOUND and protocol is not None and not protocol.closed.done():
            return protocol
        return None

    async def stop(self) -> None:
        protocol = self.protocol
        if protocol is not None and self.state is LinkState.BOUND:
            await protocol.drain_tasks()
            protocol.unbind()
            await protocol.closed
        if self.task is not None:
            self.task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self.task
        if self.protocol is not None:
            self.protocol.abort()
        self._set_state(LinkState.CLOSED)

    async def _run(self) -> None:
        while not self.owner.closing:
            self._set_state(LinkState.CONNECTING)
            try:
                await self._connect_and_serve()
            except Exception:
                # Whatever went wrong, this bind must come back: log it and back off.
                log.exception("esme.channel_failed", bind=self.bind_class.__name__)
                if self.protocol is not None:
                    self.protocol.abort()
            if self.owner.closing:
                break
            self._set_state(LinkState.BACKING_OFF)
            await self.owner.wait_to_reconnect(self.index)

    async def _connect_and_serve(self) -> None:
        protocol = await self._connect_and_bind()
        if protocol is None:
            return
        self.owner.bind_up(self.index)
        if self.failures:
            log.info("esme.recovered", bind=self.bind_class.__name__, failures=self.failures)
        self.failures = 0
        if self.receives:
            self.owner.stats.receiver_binds += 1
        self._set_state(LinkState.BOUND)
        await protocol.closed
        # the link's own esme.link_down warning tells the news; this names the bind
        log.info("esme.disconnected", bind=self.bind_class.__name__)

    async def _connect_and_bind(self) -> EsmeProtocol | None:
        config = self.owner.config
        loop = asyncio.get_running_loop()
        try:
            _, protocol = await asyncio.wait_for(
                loop.create_connection(lambda: EsmeProtocol(self.owner), config.host, config.port),
                config.connect_timeout,
            )
        except (OSError, TimeoutError) as error:
            self._failed(
                "esme.connect_failed", host=config.host, port=config.port, error=str(error)
            )
            return None
        self.protocol = protocol
        self.owner.stats.connects += 1
        try:
            response = await protocol.send_request(bind_request(config, self.bind_class))
        except LinkError as error:
            self._failed("esme.bind_unanswered", error=str(error))
            protocol.abort()
            return None
        if response.command_status != CommandStatus.ESME_ROK or not protocol.session.state.is_bound:
            self.owner.stats.bind_failures += 1
            self._failed("esme.bind_refused", status=status_of(response))
            protocol.abort()
            return None
        return protocol

    def _failed(self, event: str, **fields: object) -> None:
        """Log a failed connect or bind: warning on the first and every
        FAILURES_PER_WARNING-th in a row, debug in between."""
        self.failures += 1
        loud = self.failures == 1 or self.failures % FAILURES_PER_WARNING == 0
        level = logging.WARNING if loud else logging.DEBUG
        log.log(level, event, bind=self.bind_class.__name__, failures=self.failures, **fields)

    def _set_state(self, state: LinkState) -> None:
        if state is not self.state:
            self.state = state
            self.owner.channel_changed()
