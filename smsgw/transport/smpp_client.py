"""The asyncio ESME link: connect, bind, keep alive, submit within limits, reconnect.

`EsmeLink` owns one bind (transceiver) or two (transmitter + receiver), each a `Channel`
(smsgw/transport/smpp_channel.py) that reconnects until the link is closed. When to
reconnect, how long to pause after ESME_RTHROTTLED and how many segments may go are
decided by the link's sans-IO `LinkPacing` policy (smsgw/smpp/pacing.py): this module
only arms the one timer the policy asks for. Submissions wait for a bound transmitter,
a free slot in the session's window, the segment token bucket and the end of any
throttling pause; a submit_sm answered with ESME_RTHROTTLED pauses the whole link, then
is resent.

Incoming deliver_sm / data_sm go to ``on_deliver`` (receipts to ``on_receipt`` when
given); their return value is the command_status answered, so the application answers
ESME_ROK only once the message is stored. A request in flight when the connection drops
fails with `LinkLostError`: the SMSC may have accepted it, so resending is the caller's
decision.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable, Sequence
from typing import TypeVar

import structlog
from structlog.typing import FilteringBoundLogger

from smsgw.smpp.constants import CommandId, CommandStatus
from smsgw.smpp.events import DeliveryReceiptReceived
from smsgw.smpp.pacing import LinkPacing
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
from smsgw.transport.deadline_timer import DeadlineTimer, LinkTimer
from smsgw.transport.smpp_channel import Channel, EsmeProtocol
from smsgw.transport.smpp_link_config import (
    BindMode,
    EsmeLinkConfig,
    LinkState,
    LinkStats,
    bind_request,
    check_config,
    pacing_config,
)
from smsgw.transport.smpp_protocol import (
    LinkClosedError,
    Signal,
    SmppProtocol,
    status_of,
)

__all__ = [
    "AnswerHandler",
    "BindMode",
    "DeliverHandler",
    "EsmeLink",
    "EsmeLinkConfig",
    "LinkState",
    "LinkStats",
    "LinkTimer",
    "ReceiptHandler",
    "bind_request",
    "check_config",
]

log = structlog.get_logger(__name__)

DeliverHandler = Callable[[DeliverSm | DataSm], Awaitable[int]]
ReceiptHandler = Callable[[DeliveryReceiptReceived], Awaitable[int]]
AnswerHandler = Callable[[int, SubmitSmResp], Awaitable[None]]
Received = TypeVar("Received")


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
        timer: LinkTimer | None = None,
    ) -> None:
        check_config(config)
        self.config = config
        self.on_deliver = on_deliver
        self.on_receipt = on_receipt
        self.on_state = on_state
        self.stats = LinkStats()
        self.closing = False
        # None: the running event loop's clock and timers
        self._timer = timer
        self._deadline = DeadlineTimer(self._clock, self._on_deadline)
        # bound at start with the caller's context (link, operator), for the lines this
        # link writes from other tasks (a submitter's, the stopper's)
        self._log: FilteringBoundLogger = log
        self._state = LinkState.CONNECTING
        self._signal = Signal()
        self._send_lock = asyncio.Lock()
        if config.bind_mode is BindMode.TRANSCEIVER:
            self._channels = [Channel(self, 0, BindTransceiver)]
        else:
            self._channels = [Channel(self, 0, BindTransmitter), Channel(self, 1, BindReceiver)]
        # a bucket full at any start: tokens refill up to the burst whatever `now` was
        self.pacing = LinkPacing(
            pacing_config(config), binds=len(self._channels), random=random, now=0.0
        )

    # --- lifecycle -----------------------------------------------------------------------

    async def start(self) -> None:
        """Start connecting (returns at once; see `wait_bound`)."""
        self._log = log.bind(**structlog.contextvars.get_contextvars())
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
        self._deadline.cancel()
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
    def receiver_binds(self) -> int:
        """How many binds that receive deliver_sm the link has made so far."""
        return self.stats.receiver_binds

    @property
    def paused(self) -> bool:
        """True while a throttling pause holds all submissions."""
        return self.pacing.paused(self._now())

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
        if len(futures) == 1:
            # most replies are one part: no task and gathering future for it
            return [await self._settle(parts[0], futures[0], 0, on_answer)]
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
            self.pacing.accepted()
        if isinstance(response, SubmitSmResp):
            return response
        return SubmitSmResp(response.sequence_number, status_of(response))

    async def _ready_transmitter(self) -> EsmeProtocol:
        while True:
            if self.closing:
                raise LinkClosedError("link closed")
            protocol = self._channels[0].bound_protocol()
            if (
                protocol is not None
                and not self.pacing.paused(self._now())
                and protocol.session.can_send(CommandId.SUBMIT_SM)
            ):
                return protocol
            await self._signal.wait()

    async def _take_tokens(self, segments: int) -> None:
        while self.pacing.submit_delay(segments, self._now()) > 0:
            self._arm_timer()
            await self._signal.wait()
            if self.closing:
                raise LinkClosedError("link closed")
        self.pacing.take(segments, self._now())

    def _pause(self) -> None:
        pause = self.pacing.throttled(self._now())
        if pause is None:
            return  # the answers to one burst extend nothing: the pause is running
        self._log.info("esme.throttled", pause=pause)
        self._arm_timer()

    # --- receiving -----------------------------------------------------------------------

    async def answer_message(self, protocol: SmppProtocol, pdu: DeliverSm | DataSm) -> None:
        """Hand a deliver_sm / data_sm to ``on_deliver`` and answer with its status."""
        status = await self._handled(self.on_deliver, pdu, "esme.deliver_handler_failed")
        protocol.respond(pdu, status)

    async def answer_receipt(self, protocol: SmppProtocol, event: DeliveryReceiptReceived) -> None:
        """Hand a receipt to ``on_receipt`` (or ``on_deliver``) and answer with its status."""
        if self.on_receipt is None:
            assert isinstance(event.pdu, DeliverSm | DataSm)
            await self.answer_message(protocol, event.pdu)
            return
        status = await self._handled(self.on_receipt, event, "esme.receipt_handler_failed")
        protocol.respond(event.pdu, status)

    async def _handled(
        self, handler: Callable[[Received], Awaitable[int]], message: Received, failure: str
    ) -> int:
        """Count a received message and await its handler's status; a handler that
        raises is answered with a temporary error (ESME_RX_T_APPN), so it comes again."""
        self.stats.received += 1
        try:
            return await handler(message)
        except Exception:
            log.exception(failure)
            return CommandStatus.ESME_RX_T_APPN

    # --- state ---------------------------------------------------------------------------

    def channel_changed(self) -> None:
        """A bind's state changed: the link's may have too."""
        self._update_state()
        self._signal.notify()

    def activity(self) -> None:
        """Wake whatever waits on the link (a window slot, a bind, a close)."""
        self._signal.notify()

    # --- timing: the pacing policy's one timer ------------------------------------------

    def bind_up(self, index: int) -> None:
        self.pacing.bind_up(index)

    async def wait_to_reconnect(self, index: int) -> None:
        """Return once the pacing policy lets bind ``index`` try again."""
        self.pacing.bind_failed(index, self._now())
        self._arm_timer()
        while not self.closing and not self.pacing.may_connect(index, self._now()):
            await self._signal.wait()

    def _clock(self) -> LinkTimer:
        return self._timer if self._timer is not None else asyncio.get_running_loop()

    def _now(self) -> float:
        return self._clock().time()

    def _arm_timer(self) -> None:
        self._deadline.arm(self.pacing.get_timer())

    def _on_deadline(self, now: float) -> None:
        outcome = self.pacing.handle_timer(now)
        self._arm_timer()
        if outcome.retry_binds or outcome.may_submit:
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
