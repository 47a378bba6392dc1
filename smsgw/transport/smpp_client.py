"""The asyncio ESME link: connect, bind, keep alive, submit within limits, reconnect.

`EsmeLink` owns one bind (transceiver) or two (transmitter + receiver). Each bind is a
`_Channel` that connects, binds and, when the connection ends, backs off with jitter and
starts again until the link is closed. Submissions wait for a bound transmitter, a free
slot in the session's window, the segment token bucket and the end of any throttling
pause; a submit_sm answered with ESME_RTHROTTLED pauses the whole link, then is resent.

Incoming deliver_sm / data_sm go to ``on_deliver`` (receipts to ``on_receipt`` when
given); their return value is the command_status answered, so the application answers
ESME_ROK only once the message is stored. At most ``mo_in_flight`` of them are handled
at once per bind: beyond that the bind stops reading its socket until one is answered,
so a flooding SMSC is held back by TCP instead of filling memory. A request in flight
when the connection drops fails with `LinkLostError`: the SMSC may have accepted it, so
resending is the caller's decision.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections import deque
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from dataclasses import dataclass, field
from enum import Enum
from functools import partial
from typing import Any

import structlog
from structlog.typing import FilteringBoundLogger

from smsgw.smpp.codec import encode
from smsgw.smpp.constants import CommandId, CommandStatus
from smsgw.smpp.errors import SmppError
from smsgw.smpp.events import (
    BindRequest,
    DeliveryReceiptReceived,
    Event,
    PduReceived,
    Role,
)
from smsgw.smpp.pdu import (
    BindReceiver,
    BindTransceiver,
    BindTransmitter,
    DataSm,
    DeliverSm,
    Pdu,
    SubmitSm,
    SubmitSmResp,
)
from smsgw.smpp.session import SessionConfig
from smsgw.transport.smpp_protocol import (
    LinkClosedError,
    LinkError,
    Signal,
    SmppProtocol,
    status_of,
)
from smsgw.transport.throttle import Backoff, TokenBucket

log = structlog.get_logger(__name__)

# A link that cannot connect or bind says so at warning on the first failure and then on
# every this many in a row (with the backoff, every few minutes); the retries in between
# are logged at debug, so six links down are six warnings, not a flood.
FAILURES_PER_WARNING = 10

DeliverHandler = Callable[[DeliverSm | DataSm], Awaitable[int]]
ReceiptHandler = Callable[[DeliveryReceiptReceived], Awaitable[int]]
AnswerHandler = Callable[[int, SubmitSmResp], Awaitable[None]]


class BindMode(Enum):
    TRANSCEIVER = "transceiver"
    TRANSMITTER_RECEIVER = "transmitter+receiver"


class LinkState(Enum):
    CONNECTING = "connecting"
    BOUND = "bound"
    BACKING_OFF = "backing_off"
    CLOSED = "closed"


@dataclass(frozen=True, slots=True)
class EsmeLinkConfig:
    host: str
    port: int
    system_id: str
    password: str
    system_type: str = ""
    address_range: str = ""
    bind_mode: BindMode = BindMode.TRANSCEIVER
    session: SessionConfig = field(default_factory=SessionConfig)
    connect_timeout: float = 10.0
    # The operator's cap, in segments (SMS parts) per second, and the burst allowed.
    segments_per_second: float = 50.0
    segment_burst: int = 10
    reconnect_initial_delay: float = 1.0
    reconnect_max_delay: float = 60.0
    reconnect_jitter: float = 0.2
    throttle_initial_pause: float = 1.0
    throttle_max_pause: float = 30.0
    # After this many ESME_RTHROTTLED answers in a row the throttled answer is returned.
    throttle_max_resends: int = 20
    # deliver_sm / data_sm being handled at once per bind; beyond it the bind stops
    # reading its socket until one is answered (TCP then holds the SMSC back)
    mo_in_flight: int = 64


@dataclass(slots=True)
class LinkStats:
    """Counters for metrics."""

    connects: int = 0
    bind_failures: int = 0
    segments_submitted: int = 0
    throttled: int = 0
    received: int = 0
    mo_in_flight_peak: int = 0  # the most deliver_sm ever handled at once on one bind
    receiver_binds: int = 0  # binds made that receive deliver_sm (transceiver, receiver)
    reading_paused: int = 0  # how often a bind stopped reading for back-pressure


class _EsmeProtocol(SmppProtocol):
    def __init__(self, link: EsmeLink) -> None:
        super().__init__(Role.ESME, link.config.session)
        self._link = link
        # deliver_sm read in the same batch as the one that filled the bound: at most
        # one read's worth, as reading stops until the bound frees up
        self._waiting: deque[Callable[[], Coroutine[Any, Any, None]]] = deque()
        self._in_flight = 0

    def event_received(self, event: Event) -> None:
        match event:
            case DeliveryReceiptReceived():
                self._take_request(partial(self._link._answer_receipt, self, event))
            case PduReceived(pdu=DeliverSm() | DataSm() as pdu):
                self._take_request(partial(self._link._answer_message, self, pdu))
            case PduReceived(pdu=pdu):
                # outbind, alert_notification: nothing to answer, nothing to do here.
                log.info("esme.ignored_request", command=pdu.command_id.name)
            case _:
                pass
        # Responses free window slots; any event may unblock a waiting submit.
        self._link._signal.notify()

    def connection_closed(self) -> None:
        # not answered, so the SMSC sends them again; nothing was stored for them
        self._waiting.clear()
        self._link._signal.notify()

    def _take_request(self, work: Callable[[], Coroutine[Any, Any, None]]) -> None:
        """Handle a deliver_sm now if the bound allows, else hold it and stop reading."""
        if self._in_flight < self._link.config.mo_in_flight and not self._waiting:
            self._start_request(work)
            return
        self._waiting.append(work)
        if self.stop_reading():
            self._link.stats.reading_paused += 1

    def _start_request(self, work: Callable[[], Coroutine[Any, Any, None]]) -> None:
        self._in_flight += 1
        stats = self._link.stats
        stats.mo_in_flight_peak = max(stats.mo_in_flight_peak, self._in_flight)
        self.spawn(self._handle_request(work))

    async def _handle_request(self, work: Callable[[], Coroutine[Any, Any, None]]) -> None:
        try:
            await work()
        finally:
            self._in_flight -= 1
            while self._waiting and self._in_flight < self._link.config.mo_in_flight:
                self._start_request(self._waiting.popleft())
            if not self._waiting:
                self.start_reading()


class _Channel:
    """One connection and bind of the link, re-established until the link closes."""

    def __init__(self, link: EsmeLink, bind_class: type[BindRequest]) -> None:
        config = link.config
        self.link = link
        self.bind_class = bind_class
        self.state = LinkState.CONNECTING
        self.protocol: _EsmeProtocol | None = None
        self.backoff = Backoff(
            config.reconnect_initial_delay,
            config.reconnect_max_delay,
            jitter=config.reconnect_jitter,
            random=link.random,
        )
        self.task: asyncio.Task[None] | None = None
        self.failures = 0  # connects or binds failed in a row

    def start(self) -> None:
        self.task = asyncio.get_running_loop().create_task(self._run())

    @property
    def receives(self) -> bool:
        return self.bind_class is not BindTransmitter

    def bound_protocol(self) -> _EsmeProtocol | None:
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
        while not self.link.closing:
            self._set_state(LinkState.CONNECTING)
            try:
                await self._connect_and_serve()
            except Exception:
                # Whatever went wrong, this bind must come back: log it and back off.
                log.exception("esme.channel_failed", bind=self.bind_class.__name__)
                if self.protocol is not None:
                    self.protocol.abort()
            if self.link.closing:
                break
            self._set_state(LinkState.BACKING_OFF)
            await asyncio.sleep(self.backoff.next_delay())

    async def _connect_and_serve(self) -> None:
        protocol = await self._connect_and_bind()
        if protocol is None:
            return
        self.backoff.reset()
        if self.failures:
            log.info("esme.recovered", bind=self.bind_class.__name__, failures=self.failures)
        self.failures = 0
        if self.receives:
            self.link.stats.receiver_binds += 1
        self._set_state(LinkState.BOUND)
        await protocol.closed
        # the link's own esme.link_down warning tells the news; this names the bind
        log.info("esme.disconnected", bind=self.bind_class.__name__)

    async def _connect_and_bind(self) -> _EsmeProtocol | None:
        config = self.link.config
        loop = asyncio.get_running_loop()
        try:
            _, protocol = await asyncio.wait_for(
                loop.create_connection(lambda: _EsmeProtocol(self.link), config.host, config.port),
                config.connect_timeout,
            )
        except (OSError, TimeoutError) as error:
            self._failed(
                "esme.connect_failed", host=config.host, port=config.port, error=str(error)
            )
            return None
        self.protocol = protocol
        self.link.stats.connects += 1
        try:
            response = await protocol.send_request(bind_request(config, self.bind_class))
        except LinkError as error:
            self._failed("esme.bind_unanswered", error=str(error))
            protocol.abort()
            return None
        if response.command_status != CommandStatus.ESME_ROK or not protocol.session.state.is_bound:
            self.link.stats.bind_failures += 1
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
            self.link._channel_changed()


def bind_request(config: EsmeLinkConfig, bind_class: type[BindRequest]) -> BindRequest:
    return bind_class(
        system_id=config.system_id,
        password=config.password,
        system_type=config.system_type,
        address_range=config.address_range,
    )


def check_config(config: EsmeLinkConfig) -> None:
    """Raise ValueError naming the setting that cannot work, before any connection."""
    try:
        encode(bind_request(config, BindTransceiver))
    except SmppError as error:
        raise ValueError(f"SMPP bind settings: {error}") from None
    positive = {
        "segments_per_second": config.segments_per_second,
        "connect_timeout": config.connect_timeout,
        "reconnect_max_delay": config.reconnect_max_delay,
        "throttle_max_pause": config.throttle_max_pause,
    }
    for name, value in positive.items():
        if value <= 0:
            raise ValueError(f"{name} must be positive, not {value}")
    if config.mo_in_flight < 1:
        raise ValueError(f"mo_in_flight must be at least 1, not {config.mo_in_flight}")
    if config.segment_burst < 1:
        raise ValueError(f"segment_burst must be at least 1, not {config.segment_burst}")
    if not 0.0 <= config.reconnect_jitter <= 1.0:
        raise ValueError(f"reconnect_jitter must be within 0..1, not {config.reconnect_jitter}")


class EsmeLink:
    """An SMPP client link to one SMSC account (see the module docstring)."""

    def __init__(
        self,
        config: EsmeLinkConfig,
        *,
        on_deliver: DeliverHandler,
        on_receipt: ReceiptHandler | None = None,
        on_state: Callable[[LinkState], None] | None = None,
        random: Callable[[], float] = random.random,
    ) -> None:
        check_config(config)
        self.config = config
        self.on_deliver = on_deliver
        self.on_receipt = on_receipt
        self.on_state = on_state
        self.random = random
        self.stats = LinkStats()
        self.closing = False
        # bound at start with the caller's context (link, operator), for the lines this
        # link writes from other tasks (a submitter's, the stopper's)
        self._log: FilteringBoundLogger = log
        self._state = LinkState.CONNECTING
        self._signal = Signal()
        self._send_lock = asyncio.Lock()
        self._paused_until = 0.0
        self._throttle_backoff = Backoff(
            config.throttle_initial_pause,
            config.throttle_max_pause,
            jitter=config.reconnect_jitter,
            random=random,
        )
        self._bucket: TokenBucket | None = None
        if config.bind_mode is BindMode.TRANSCEIVER:
            self._channels = [_Channel(self, BindTransceiver)]
        else:
            self._channels = [_Channel(self, BindTransmitter), _Channel(self, BindReceiver)]

    # --- lifecycle -----------------------------------------------------------------------

    async def start(self) -> None:
        """Start connecting (returns at once; see `wait_bound`)."""
        loop = asyncio.get_running_loop()
        self._log = log.bind(**structlog.contextvars.get_contextvars())
        self._bucket = TokenBucket(
            self.config.segments_per_second, self.config.segment_burst, loop.time()
        )
        for channel in self._channels:
            channel.start()

    async def wait_bound(self) -> None:
        """Return once every bind of the link is up."""
        while self._state is not LinkState.BOUND:
            if self.closing:
                raise LinkClosedError("link closed")
            await self._signal.wait()

    async def close(self) -> None:
        """Answer what is in hand, unbind cleanly, and stop reconnecting."""
        if self.closing:
            return
        self.closing = True
        self._signal.notify()
        await asyncio.gather(*(channel.stop() for channel in self._channels))
        self._update_state()

    @property
    def state(self) -> LinkState:
        return self._state

    @property
    def receiving(self) -> bool:
        """True while the bind that receives deliver_sm is up."""
        return any(
            channel.receives and channel.state is LinkState.BOUND for channel in self._channels
        )

    @property
    def paused(self) -> bool:
        """True while a throttling pause holds all submissions."""
        return asyncio.get_running_loop().time() < self._paused_until

    # --- submitting ----------------------------------------------------------------------

    async def submit(self, pdu: SubmitSm) -> SubmitSmResp:
        """Submit one segment; returns the SMSC's answer, whatever its status."""
        (response,) = await self.submit_message([pdu])
        return response

    async def submit_message(
        self, parts: Sequence[SubmitSm], on_answer: AnswerHandler | None = None
    ) -> list[SubmitSmResp]:
        """Submit the parts of one message back to back; answers in the same order.

        The throughput cap counts every part. Raises `LinkError` subclasses for parts that
        got no answer (timeout, link lost) or when the link is closed. `on_answer(index,
        resp)` is awaited for each part as soon as its final answer comes, before the
        other parts' (a receipt may follow a resp at once).
        """
        if not parts:
            return []
        futures: list[asyncio.Future[Pdu]] = []
        try:
            async with self._send_lock:
                # Tokens are taken once the link can send, so a long outage does not
                # bank tokens that would then be spent in one burst.
                await self._ready_transmitter()
                await self._take_tokens(len(parts))
                for part in parts:
                    protocol = await self._ready_transmitter()
                    futures.append(protocol.send_request(part))
                    self.stats.segments_submitted += 1
        except BaseException:
            for future in futures:
                future.add_done_callback(_consume_result)
            raise
        results = await asyncio.gather(
            *(
                self._settle(part, future, index, on_answer)
                for index, (part, future) in enumerate(zip(parts, futures, strict=True))
            ),
            return_exceptions=True,
        )
        for result in results:
            if isinstance(result, BaseException):
                raise result
        return [result for result in results if isinstance(result, SubmitSmResp)]

    async def _settle(
        self,
        part: SubmitSm,
        future: asyncio.Future[Pdu],
        index: int = 0,
        on_answer: AnswerHandler | None = None,
    ) -> SubmitSmResp:
        answer = await self._settle_throttled(part, future)
        if on_answer is not None:
            await on_answer(index, answer)
        return answer

    async def _settle_throttled(self, part: SubmitSm, future: asyncio.Future[Pdu]) -> SubmitSmResp:
        response = await future
        resends = 0
        while (
            status_of(response) == CommandStatus.ESME_RTHROTTLED
            and resends < self.config.throttle_max_resends
        ):
            self.stats.throttled += 1
            self._pause()
            async with self._send_lock:
                await self._ready_transmitter()
                await self._take_tokens(1)
                protocol = await self._ready_transmitter()
                future = protocol.send_request(part)
                self.stats.segments_submitted += 1
            resends += 1
            response = await future
        if status_of(response) != CommandStatus.ESME_RTHROTTLED:
            self._throttle_backoff.reset()
        if isinstance(response, SubmitSmResp):
            return response
        return SubmitSmResp(response.sequence_number, status_of(response))

    async def _ready_transmitter(self) -> _EsmeProtocol:
        loop = asyncio.get_running_loop()
        while True:
            if self.closing:
                raise LinkClosedError("link closed")
            protocol = self._channels[0].bound_protocol()
            if (
                protocol is not None
                and loop.time() >= self._paused_until
                and protocol.session.can_send(CommandId.SUBMIT_SM)
            ):
                return protocol
            await self._signal.wait()

    async def _take_tokens(self, segments: int) -> None:
        bucket = self._bucket
        if bucket is None:
            raise LinkClosedError("link not started")
        loop = asyncio.get_running_loop()
        while (delay := bucket.delay_until_available(segments, loop.time())) > 0:
            await asyncio.sleep(delay)
        bucket.take(segments, loop.time())

    def _pause(self) -> None:
        loop = asyncio.get_running_loop()
        now = loop.time()
        if now < self._paused_until:
            return  # the answers to one burst extend nothing: the pause is running
        self._paused_until = now + self._throttle_backoff.next_delay()
        self._log.info("esme.throttled", pause=self._paused_until - now)
        loop.call_at(self._paused_until, self._signal.notify)

    # --- receiving -----------------------------------------------------------------------

    async def _answer_message(self, protocol: SmppProtocol, pdu: DeliverSm | DataSm) -> None:
        self.stats.received += 1
        try:
            status = await self.on_deliver(pdu)
        except Exception:
            log.exception("esme.deliver_handler_failed")
            status = CommandStatus.ESME_RX_T_APPN
        protocol.respond(pdu, status)

    async def _answer_receipt(self, protocol: SmppProtocol, event: DeliveryReceiptReceived) -> None:
        if self.on_receipt is None:
            assert isinstance(event.pdu, DeliverSm | DataSm)
            await self._answer_message(protocol, event.pdu)
            return
        self.stats.received += 1
        try:
            status = await self.on_receipt(event)
        except Exception:
            log.exception("esme.receipt_handler_failed")
            status = CommandStatus.ESME_RX_T_APPN
        protocol.respond(event.pdu, status)

    # --- state ---------------------------------------------------------------------------

    def _channel_changed(self) -> None:
        self._update_state()
        self._signal.notify()

    def _update_state(self) -> None:
        states = {channel.state for channel in self._channels}
        if self.closing:
            # While unbinding, the link stays as it was until every bind is gone.
            state = LinkState.CLOSED if states == {LinkState.CLOSED} else self._state
        elif states == {LinkState.BOUND}:
            state = LinkState.BOUND
        elif LinkState.BACKING_OFF in states:
            state = LinkState.BACKING_OFF
        else:
            state = LinkState.CONNECTING
        if state is not self._state:
            previous, self._state = self._state, state
            self._log_state(previous, state)
            if self.on_state is not None:
                self.on_state(state)

    def _log_state(self, previous: LinkState, state: LinkState) -> None:
        # up and down are news; the connecting/backing-off churn of a retry is not
        if state is LinkState.BOUND:
            self._log.info("esme.link_up")
        elif previous is LinkState.BOUND and state is not LinkState.CLOSED:
            self._log.warning("esme.link_down", state=state.value)
        elif state is LinkState.CLOSED:
            self._log.info("esme.link_closed")
        else:
            self._log.debug("esme.link_state", state=state.value)


def _consume_result(future: asyncio.Future[Pdu]) -> None:
    # The caller gave up on these parts; read the outcome so asyncio does not warn.
    if not future.cancelled():
        future.exception()
