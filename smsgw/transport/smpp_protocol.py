"""The asyncio adapter around a sans-IO `Session`, shared by the ESME link and the SMSC.

It only moves bytes, arms the timer the session asks for and resolves futures keyed by
sequence number (aioquic's asyncio/protocol.py is the model). What to do with a request
from the peer is for subclasses (`event_received`); the application decides the answer.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any, ClassVar

import structlog

from smsgw.smpp.constants import CommandId, CommandStatus
from smsgw.smpp.events import (
    BindFailed,
    BindState,
    Bound,
    Event,
    GenericNackReceived,
    LinkDead,
    ProtocolError,
    RequestTimedOut,
    ResponseReceived,
    Role,
    Unbound,
)
from smsgw.smpp.pdu import Pdu, is_response
from smsgw.smpp.session import InvalidBindState, Session, SessionConfig
from smsgw.transport.deadline_timer import DeadlineTimer

log = structlog.get_logger(__name__)


class LinkError(Exception):
    """A request that got no response. ``maybe_delivered``: the peer may have acted on it,
    so resending could duplicate it."""

    maybe_delivered: ClassVar[bool] = True


class ResponseTimeoutError(LinkError):
    """No response within the session's response timeout."""


class LinkLostError(LinkError):
    """The connection went away while the request was outstanding."""


class LinkClosedError(LinkError):
    """The link is closed (or closing); the request was never sent."""

    maybe_delivered = False


class Signal:
    """Wakes every waiter at once; waiters re-check their condition (no lost wake-ups)."""

    def __init__(self) -> None:
        self._event = asyncio.Event()

    def notify(self) -> None:
        self._event.set()
        self._event = asyncio.Event()

    async def wait(self) -> None:
        await self._event.wait()


class SmppProtocol(asyncio.Protocol):
    """One SMPP connection: a `Session` driven by the event loop's bytes and clock."""

    def __init__(self, role: Role, config: SessionConfig | None = None) -> None:
        self._loop = asyncio.get_running_loop()
        self.session = Session(role, config, now=self._loop.time())
        self.peer: tuple[Any, ...] | None = None
        self.closed: asyncio.Future[None] = self._loop.create_future()
        self._transport: asyncio.Transport | None = None
        self._deadline = DeadlineTimer(lambda: self._loop, self._on_deadline)
        self._pending: dict[int, asyncio.Future[Pdu]] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._writes_due = False  # a flush is scheduled for the end of this loop turn
        # Notified after every batch of events and on close: window slots may be free.
        self.changed = Signal()

    # --- asyncio.Protocol --------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self._transport = transport
        peer = transport.get_extra_info("peername")
        self.peer = tuple(peer) if peer is not None else None
        self._arm_timer()

    def data_received(self, data: bytes) -> None:
        self._process(self.session.receive_data(data, self._loop.time()))

    def connection_lost(self, exc: Exception | None) -> None:
        self.session.close()
        for future in self._pending.values():
            if not future.done():
                future.set_exception(LinkLostError(f"connection lost ({exc or 'closed'})"))
        self._pending.clear()
        self._deadline.cancel()
        self._transport = None
        if not self.closed.done():
            self.closed.set_result(None)
        self.changed.notify()
        self.connection_closed()

    # --- hooks for subclasses ----------------------------------------------------------

    def event_received(self, event: Event) -> None:
        """Called for each event after futures are settled; override to act on requests."""

    def connection_closed(self) -> None:
        """Called once when the connection is gone."""

    # --- sending -----------------------------------------------------------------------

    def send_request(self, pdu: Pdu) -> asyncio.Future[Pdu]:
        """Send a request now; the future gets its response (a GenericNack included).

        Raises the session's errors at once (`InvalidBindState`, `WindowFull`).
        """
        if is_response(pdu.command_id):
            raise ValueError("send_request takes requests; use respond for responses")
        if self._transport is None:
            raise LinkClosedError("not connected")
        sent = self.session.send(pdu, self._loop.time())
        future: asyncio.Future[Pdu] = self._loop.create_future()
        self._pending[sent.sequence_number] = future
        self._after_call()
        return future

    def respond(self, request: Pdu, command_status: int = 0, **fields: Any) -> bool:
        """Answer a request from the peer; False when the session can no longer answer.

        A missing answer is safe: the peer resends what it got no response for.
        """
        try:
            self.session.respond(request, command_status, **fields)
        except InvalidBindState:
            log.info("smpp.answer_dropped", command=request.command_id.name, state=self.state)
            return False
        self._after_call()
        return True

    def send_response(self, response: Pdu) -> bool:
        """Like `respond`, for a ready-made response carrying the request's sequence number."""
        try:
            self.session.send(response, self._loop.time())
        except InvalidBindState:
            log.info("smpp.answer_dropped", command=response.command_id.name, state=self.state)
            return False
        self._after_call()
        return True

    def unbind(self) -> None:
        """Start the unbind handshake; `closed` resolves when the connection is gone."""
        state = self.session.state
        if state.is_bound:
            self.session.unbind(self._loop.time())
            self._after_call()
        elif state is not BindState.UNBINDING and self._transport is not None:
            self._transport.close()

    def abort(self) -> None:
        if self._transport is not None:
            self._transport.abort()

    def stop_reading(self) -> bool:
        """Stop reading the socket (back-pressure); True if it was reading."""
        transport = self._transport
        if transport is None or not transport.is_reading():
            return False
        transport.pause_reading()
        return True

    def start_reading(self) -> None:
        transport = self._transport
        if transport is not None and not transport.is_reading():
            transport.resume_reading()

    @property
    def state(self) -> str:
        return self.session.state.name

    def spawn(self, coroutine: Coroutine[Any, Any, None]) -> None:
        """Run an application callback in the background, kept until done."""
        task = self._loop.create_task(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._task_done)

    async def drain_tasks(self) -> None:
        """Wait for the application callbacks started so far."""
        while self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)

    # --- internals ---------------------------------------------------------------------

    def _task_done(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("smpp.callback_failed", exc_info=task.exception())

    def _process(self, events: list[Event]) -> None:
        for event in events:
            self._settle(event)
            self.event_received(event)
        self._after_call()
        if events:
            self.changed.notify()

    def _after_call(self) -> None:
        """Write what the session has to send and re-arm its timer, once per loop turn:
        every answer and submit made in one turn (a group commit resolves hundreds at
        once) goes out in one write instead of a syscall each."""
        if not self._writes_due:
            self._writes_due = True
            self._loop.call_soon(self._write_due)

    def _write_due(self) -> None:
        self._writes_due = False
        self._flush()
        if self.session.closed and self._transport is not None:
            # close() writes what is buffered (e.g. unbind_resp, generic_nack) first.
            self._transport.close()
        self._arm_timer()

    def _flush(self) -> None:
        data = self.session.data_to_send()
        if data and self._transport is not None:
            self._transport.write(data)

    def _settle(self, event: Event) -> None:
        match event:
            case ResponseReceived(request=request, response=response):
                self._resolve(request.sequence_number, response)
            case Bound(response=response):
                self._resolve(response.sequence_number, response)
            case BindFailed(request=request, response=None):
                self._fail(request.sequence_number, ResponseTimeoutError("bind not answered"))
            case BindFailed(request=request, response=response) if response is not None:
                self._resolve(request.sequence_number, response)
            case GenericNackReceived(request=request, nack=nack) if request is not None:
                self._resolve(request.sequence_number, nack)
            case RequestTimedOut(request=request):
                self._fail(request.sequence_number, ResponseTimeoutError("no response in time"))
            case ProtocolError(error=error, request=request) if request is not None:
                self._fail(request.sequence_number, error)
            case ProtocolError(error=error, fatal=True):
                log.warning("smpp.protocol_error", error=str(error), fatal=True)
            case LinkDead(reason=reason):
                log.warning("smpp.link_dead", reason=reason)
                # A dead peer may never drain our writes: do not wait for it.
                self.abort()
            case Unbound(by_peer=by_peer, acknowledged=acknowledged):
                log.info("smpp.unbound", by_peer=by_peer, acknowledged=acknowledged)
                if not acknowledged:
                    self.abort()  # the peer is not answering: do not wait on our writes
            case _:
                pass

    def _resolve(self, sequence_number: int, response: Pdu) -> None:
        future = self._pending.pop(sequence_number, None)
        if future is not None and not future.done():
            future.set_result(response)

    def _fail(self, sequence_number: int, error: Exception) -> None:
        future = self._pending.pop(sequence_number, None)
        if future is not None and not future.done():
            future.set_exception(error)

    def _arm_timer(self) -> None:
        self._deadline.arm(self.session.get_timer())

    def _on_deadline(self, now: float) -> None:
        self._process(self.session.handle_timer(now))


def status_of(response: Pdu) -> int:
    """The command_status a response stands for; a generic_nack with status 0 is an error."""
    if response.command_id == CommandId.GENERIC_NACK and response.command_status == 0:
        return CommandStatus.ESME_RUNKNOWNERR
    return response.command_status
