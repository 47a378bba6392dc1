"""The SMPP 3.4 session state machine, sans-IO, for both roles (ESME and SMSC).

Feed it what the socket read with `receive_data(data, now)`; it returns events and queues
whatever must go back (automatic answers: enquire_link_resp, unbind_resp, generic_nack,
`*_resp` with ESME_RINVBNDSTS). Everything the owner sends goes through `send` or the
builders (`bind`, `submit`, `respond`, `unbind`, `enquire_link`, `accept_bind`,
`reject_bind`), which also only queue. `data_to_send()` drains the queued bytes: call it
after every call into the session and write the result to the socket.

Time is an argument: `get_timer()` says when to call `handle_timer(now)` next (response
timeouts, enquire_link when idle, inactivity). A CLOSED session ignores input; the owner
closes the connection.

Bind states and what may be sent in each live in one table, `TRANSITIONS`
(smsgw/smpp/transitions.py), keyed by (role, state, command_id, direction). Our own
send that the table lacks raises `InvalidBindState` naming the state and the command;
a request from the peer that it lacks is answered with its `*_resp` carrying
ESME_RINVBNDSTS (ESME_RALYBND for a bind while bound). Error responses (non-zero status)
are always allowed and never change state.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, Final

from smsgw.smpp.codec import Framer, decode, encode
from smsgw.smpp.constants import (
    CommandId,
    CommandStatus,
)
from smsgw.smpp.errors import (
    IncorrectBindStatus,
    InvalidCommandLength,
    MessageQueueFull,
    SmppError,
)
from smsgw.smpp.events import (
    BindFailed,
    BindRequest,
    BindRequested,
    BindState,
    Bound,
    Event,
    GenericNackReceived,
    LinkDead,
    PduReceived,
    ProtocolError,
    RequestTimedOut,
    ResponseReceived,
    Role,
    Unbound,
    UnmatchedResponse,
    delivery_receipt,
    is_delivery_receipt,
)
from smsgw.smpp.pdu import (
    REQUEST_TO_RESPONSE,
    BindReceiver,
    BindTransceiver,
    BindTransmitter,
    DataSm,
    DeliverSm,
    EnquireLink,
    GenericNack,
    Pdu,
    SubmitSm,
    Unbind,
    error_response,
    is_response,
    make_response,
)
from smsgw.smpp.transitions import (
    BIND_REQUESTS,
    BIND_RESPONSES,
    TRANSITIONS,
    UNWINDOWED,
    Direction,
    response_id,
)

SEQUENCE_MIN: Final = 1
SEQUENCE_MAX: Final = 0x7FFFFFFF

# --- errors raised at the owner for its own sends ----------------------------------------


class InvalidBindState(IncorrectBindStatus):
    """The owner tried to send a PDU that the current bind state does not allow."""


class WindowFull(MessageQueueFull):
    """The window of outstanding requests is full; wait for a response first."""


# --- configuration -----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SessionConfig:
    """Limits and timers, in seconds; None switches a timer off."""

    window_size: int = 10
    response_timeout: float = 10.0
    enquire_link_interval: float | None = 30.0
    inactivity_timeout: float | None = 120.0

    def __post_init__(self) -> None:
        if self.window_size < 1:
            raise ValueError("window_size must be at least 1")
        if self.response_timeout <= 0:
            raise ValueError("response_timeout must be positive")


# --- the session -------------------------------------------------------------------------


@dataclass(slots=True)
class _Outstanding:
    request: Pdu
    deadline: float


class Session:
    """One SMPP connection's protocol state, for the ESME or the SMSC side.

    ``now`` is the time the connection was made (inactivity counts from it).
    """

    def __init__(self, role: Role, config: SessionConfig | None = None, *, now: float = 0.0):
        self.role = role
        self.config = config or SessionConfig()
        self.state = BindState.OPEN
        self._framer = Framer()
        self._outgoing = bytearray()
        self._outstanding: dict[int, _Outstanding] = {}
        self._next_sequence = SEQUENCE_MIN
        self._last_received = now

    @property
    def closed(self) -> bool:
        return self.state is BindState.CLOSED

    @property
    def next_sequence(self) -> int:
        """The sequence number the next request gets (unless still outstanding)."""
        return self._next_sequence

    @next_sequence.setter
    def next_sequence(self, value: int) -> None:
        # Settable to continue a numbering, and so tests can reach the wrap quickly.
        if not SEQUENCE_MIN <= value <= SEQUENCE_MAX:
            raise ValueError(f"sequence numbers run {SEQUENCE_MIN}..{SEQUENCE_MAX}")
        self._next_sequence = value

    # --- I/O -----------------------------------------------------------------------------

    def data_to_send(self) -> bytes:
        """The bytes queued for the peer since the last call (and forget them)."""
        data = bytes(self._outgoing)
        self._outgoing.clear()
        return data

    def receive_data(self, data: bytes, now: float) -> list[Event]:
        """Process bytes read from the connection; returns the resulting events."""
        if self.closed or not data:
            return []
        try:
            frames = self._framer.feed(data)
        except InvalidCommandLength as error:
            return self._stream_broken(error)
        events: list[Event] = []
        for frame in frames:
            if self.closed:
                break
            self._last_received = now
            events.extend(self._receive_frame(frame))
        return events

    def close(self) -> list[Pdu]:
        """Mark the session CLOSED (connection gone); returns the unanswered requests."""
        self.state = BindState.CLOSED
        abandoned = [entry.request for entry in self._outstanding.values()]
        self._outstanding.clear()
        return abandoned

    # --- sending -------------------------------------------------------------------------

    def send(self, pdu: Pdu, now: float) -> Pdu:
        """Queue ``pdu``. A request gets the next sequence number: the sent copy is returned.

        A response is sent as given (use `respond` to build one from its request).
        """
        if is_response(pdu.command_id):
            self._send_response(pdu)
            return pdu
        return self._send_request(pdu, now)

    def bind(
        self,
        system_id: str,
        password: str,
        now: float,
        *,
        bind_class: type[BindRequest] = BindTransceiver,
        system_type: str = "",
        address_range: str = "",
    ) -> Pdu:
        request = bind_class(
            system_id=system_id,
            password=password,
            system_type=system_type,
            address_range=address_range,
        )
        return self._send_request(request, now)

    def submit(self, pdu: SubmitSm, now: float) -> Pdu:
        return self._send_request(pdu, now)

    def enquire_link(self, now: float) -> Pdu:
        return self._send_request(EnquireLink(), now)

    def unbind(self, now: float) -> Pdu:
        """Start the unbind handshake; CLOSED on unbind_resp or its timeout."""
        return self._send_request(Unbind(), now)

    def respond(self, request: Pdu, command_status: int = 0, **fields: Any) -> Pdu:
        """Queue the response to a request received from the peer."""
        response = make_response(request, command_status, **fields)
        self._send_response(response)
        return response

    def accept_bind(self, request: BindRequest, system_id: str = "") -> Pdu:
        """SMSC role: bind the peer as it asked; ``system_id`` names this SMSC."""
        return self.respond(request, CommandStatus.ESME_ROK, system_id=system_id)

    def reject_bind(self, request: BindRequest, command_status: int) -> Pdu:
        """SMSC role: refuse the bind (e.g. ESME_RINVPASWD); the session stays OPEN."""
        if command_status == CommandStatus.ESME_ROK:
            raise ValueError("a rejection needs an error status")
        return self.respond(request, command_status)

    # --- window --------------------------------------------------------------------------

    @property
    def window_free(self) -> int:
        """How many more traffic requests may be outstanding right now."""
        used = sum(
            1 for entry in self._outstanding.values() if entry.request.command_id not in UNWINDOWED
        )
        return max(0, self.config.window_size - used)

    def can_send(self, command_id: CommandId = CommandId.SUBMIT_SM) -> bool:
        """True when a ``command_id`` request is allowed now and the window has room."""
        key = (self.role, self.state, command_id, Direction.SEND)
        return key in TRANSITIONS and (command_id in UNWINDOWED or self.window_free > 0)

    @property
    def outstanding_requests(self) -> list[Pdu]:
        return [entry.request for entry in self._outstanding.values()]

    # --- timers --------------------------------------------------------------------------

    def get_timer(self) -> float | None:
        """When `handle_timer` must run next, or None when nothing is pending."""
        if self.closed:
            return None
        deadlines = [entry.deadline for entry in self._outstanding.values()]
        enquire_due = self._enquire_link_due()
        if enquire_due is not None:
            deadlines.append(enquire_due)
        if self.config.inactivity_timeout is not None:
            deadlines.append(self._last_received + self.config.inactivity_timeout)
        return min(deadlines, default=None)

    def handle_timer(self, now: float) -> list[Event]:
        """Expire what is due at ``now``: response timeouts, idleness, enquire_link."""
        if self.closed:
            return []
        events = self._expire_requests(now)
        if self.closed:
            return events
        inactivity = self.config.inactivity_timeout
        if inactivity is not None and now >= self._last_received + inactivity:
            self.state = BindState.CLOSED
            events.append(LinkDead(f"nothing received from the peer for {inactivity:g} s"))
            return events
        enquire_due = self._enquire_link_due()
        if enquire_due is not None and now >= enquire_due:
            self.enquire_link(now)
        return events

    def _enquire_link_due(self) -> float | None:
        interval = self.config.enquire_link_interval
        if interval is None or not self.state.is_bound or self._enquire_link_outstanding():
            return None
        return self._last_received + interval

    def _enquire_link_outstanding(self) -> bool:
        return any(
            entry.request.command_id == CommandId.ENQUIRE_LINK
            for entry in self._outstanding.values()
        )

    def _expire_requests(self, now: float) -> list[Event]:
        expired = sorted(
            (entry for entry in self._outstanding.values() if entry.deadline <= now),
            key=lambda entry: entry.deadline,
        )
        events: list[Event] = []
        for entry in expired:
            del self._outstanding[entry.request.sequence_number]
            events.append(self._request_expired(entry.request))
            if self.closed:
                break
        return events

    def _request_expired(self, request: Pdu) -> Event:
        command = request.command_id
        if command == CommandId.ENQUIRE_LINK:
            self.state = BindState.CLOSED
            return LinkDead("enquire_link not answered in time")
        if command == CommandId.UNBIND:
            self.state = BindState.CLOSED
            return Unbound(by_peer=False, acknowledged=False)
        if command in BIND_REQUESTS:
            return BindFailed(request, None)
        return RequestTimedOut(request)

    # --- internals: sending --------------------------------------------------------------

    def _transition(self, command_id: CommandId, direction: Direction) -> BindState | None:
        return TRANSITIONS.get((self.role, self.state, command_id, direction))

    def _refuse_own(self, pdu: Pdu) -> InvalidBindState:
        return InvalidBindState(
            f"{self.role.value} cannot send {pdu.command_id.name.lower()} "
            f"in state {self.state.name}"
        )

    def _send_request(self, pdu: Pdu, now: float) -> Pdu:
        new_state = self._transition(pdu.command_id, Direction.SEND)
        if new_state is None:
            raise self._refuse_own(pdu)
        if pdu.command_id not in UNWINDOWED and self.window_free == 0:
            raise WindowFull(f"window of {self.config.window_size} outstanding requests is full")
        request = dataclasses.replace(pdu, sequence_number=self._allocate_sequence())
        self._outgoing += encode(request)
        if pdu.command_id in REQUEST_TO_RESPONSE:
            deadline = now + self.config.response_timeout
            self._outstanding[request.sequence_number] = _Outstanding(request, deadline)
        self.state = new_state
        return request

    def _send_response(self, response: Pdu) -> None:
        if self.closed:
            raise self._refuse_own(response)
        new_state = self._transition(response.command_id, Direction.SEND)
        if response.command_status != CommandStatus.ESME_ROK:
            self._outgoing += encode(response)
            return
        if new_state is None:
            raise self._refuse_own(response)
        self._outgoing += encode(response)
        self.state = new_state

    def _allocate_sequence(self) -> int:
        # After a wrap, skip numbers still awaiting a response so matching stays unique.
        while True:
            sequence = self._next_sequence
            self._next_sequence = SEQUENCE_MIN if sequence >= SEQUENCE_MAX else sequence + 1
            if sequence not in self._outstanding:
                return sequence

    # --- internals: receiving ------------------------------------------------------------

    def _stream_broken(self, error: InvalidCommandLength) -> list[Event]:
        # The stream cannot be resynchronised: say why, then stop. The nack echoes the
        # frame's sequence number; when not even that could be read there is nothing to
        # answer (0 is outside 3.4's 1..0x7FFFFFFF), so the connection just closes.
        if error.sequence_number is not None:
            nack = GenericNack(error.sequence_number, error.command_status)
            self._outgoing += encode(nack)
        self.state = BindState.CLOSED
        return [ProtocolError(error, fatal=True)]

    def _receive_frame(self, frame: bytes) -> list[Event]:
        try:
            pdu = decode(frame)
        except SmppError as error:
            return [self._undecodable(error)]
        if is_response(pdu.command_id):
            return self._receive_response(pdu)
        return self._receive_request(pdu)

    def _undecodable(self, error: SmppError) -> Event:
        if error.command_id is not None and is_response(error.command_id):
            # A response is never answered; the request it meant to answer is settled.
            entry = self._outstanding.pop(error.sequence_number or 0, None)
            request = None if entry is None else entry.request
            return ProtocolError(error, fatal=False, request=request)
        self._outgoing += encode(error_response(error))
        return ProtocolError(error, fatal=False)

    def _receive_request(self, pdu: Pdu) -> list[Event]:
        new_state = self._transition(pdu.command_id, Direction.RECEIVE)
        if new_state is None:
            return [self._refuse_peer(pdu)]
        self.state = new_state
        command = pdu.command_id
        if command == CommandId.ENQUIRE_LINK:
            self.respond(pdu)
            return []
        if command == CommandId.UNBIND:
            self.respond(pdu)
            return [Unbound(by_peer=True, acknowledged=True)]
        if isinstance(pdu, BindTransmitter | BindReceiver | BindTransceiver):
            return [BindRequested(pdu)]
        if isinstance(pdu, DeliverSm | DataSm) and is_delivery_receipt(pdu.esm_class):
            return [delivery_receipt(pdu)]
        return [PduReceived(pdu)]

    def _refuse_peer(self, pdu: Pdu) -> Event:
        if pdu.command_id in BIND_REQUESTS and self.state.is_bound:
            status = CommandStatus.ESME_RALYBND
        else:
            status = CommandStatus.ESME_RINVBNDSTS
        if pdu.command_id in REQUEST_TO_RESPONSE:
            self._outgoing += encode(make_response(pdu, status))
        else:
            self._outgoing += encode(GenericNack(pdu.sequence_number, status))
        error = IncorrectBindStatus(
            f"peer sent {pdu.command_id.name.lower()} in state {self.state.name}"
        )
        error.sequence_number = pdu.sequence_number
        error.command_id = pdu.command_id
        return ProtocolError(error, fatal=False)

    def _receive_response(self, response: Pdu) -> list[Event]:
        entry = self._outstanding.get(response.sequence_number)
        if entry is None:
            if isinstance(response, GenericNack):
                return [GenericNackReceived(None, response)]
            return [UnmatchedResponse(response)]
        request = entry.request
        if isinstance(response, GenericNack):
            del self._outstanding[response.sequence_number]
            return self._nacked(request, response)
        if response.command_id != response_id(request.command_id):
            return [UnmatchedResponse(response)]
        del self._outstanding[response.sequence_number]
        if response.command_status == CommandStatus.ESME_ROK:
            new_state = self._transition(response.command_id, Direction.RECEIVE)
            if new_state is not None:
                self.state = new_state
        return [self._answered(request, response)]

    def _answered(self, request: Pdu, response: Pdu) -> Event:
        if response.command_id in BIND_RESPONSES:
            if response.command_status == CommandStatus.ESME_ROK and self.state.is_bound:
                return Bound(self.state, response)
            return BindFailed(request, response)
        if response.command_id == CommandId.UNBIND_RESP:
            self.state = BindState.CLOSED
            return Unbound(by_peer=False, acknowledged=True)
        return ResponseReceived(request, response)

    def _nacked(self, request: Pdu, nack: GenericNack) -> list[Event]:
        events: list[Event] = [GenericNackReceived(request, nack)]
        if request.command_id in BIND_REQUESTS:
            events.append(BindFailed(request, nack))
        elif request.command_id == CommandId.UNBIND:
            self.state = BindState.CLOSED
            events.append(Unbound(by_peer=False, acknowledged=False))
        return events
