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

Bind states and what may be sent in each live in one table, `TRANSITIONS`, keyed by
(role, state, command_id, direction). Our own send that the table lacks raises
`InvalidSessionState` naming the state and the command; a request from the peer that it
lacks is answered with its `*_resp` carrying ESME_RINVBNDSTS (ESME_RALYBND for a bind
while bound). Error responses (non-zero status) are always allowed and never change state.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from enum import Enum
from typing import Any, Final

from smsgw.smpp.codec import Framer, decode, encode
from smsgw.smpp.constants import (
    ESM_DELIVERY_RECEIPT,
    ESM_TYPE_MASK,
    CommandId,
    CommandStatus,
    Tag,
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
    Bound,
    DeliveryReceiptReceived,
    Event,
    GenericNackReceived,
    LinkDead,
    PduReceived,
    ProtocolError,
    RequestTimedOut,
    ResponseReceived,
    Role,
    SessionState,
    Unbound,
    UnmatchedResponse,
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
from smsgw.smpp.receipts import parse_receipt_text
from smsgw.smpp.tlv import get_cstring, get_int

SEQUENCE_MIN: Final = 1
SEQUENCE_MAX: Final = 0x7FFFFFFF

# Control PDUs must get through a full window, or a busy link could never be checked or
# closed; only the traffic requests are counted against it.
_UNWINDOWED: Final = frozenset(
    {
        CommandId.BIND_TRANSMITTER,
        CommandId.BIND_RECEIVER,
        CommandId.BIND_TRANSCEIVER,
        CommandId.UNBIND,
        CommandId.ENQUIRE_LINK,
    }
)
_BIND_REQUESTS: Final = frozenset(
    {CommandId.BIND_TRANSMITTER, CommandId.BIND_RECEIVER, CommandId.BIND_TRANSCEIVER}
)
_BIND_RESPONSES: Final = frozenset(
    {
        CommandId.BIND_TRANSMITTER_RESP,
        CommandId.BIND_RECEIVER_RESP,
        CommandId.BIND_TRANSCEIVER_RESP,
    }
)


# --- errors raised at the owner for its own sends ----------------------------------------


class InvalidSessionState(IncorrectBindStatus):
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


# --- the transition table ----------------------------------------------------------------


class Direction(Enum):
    SEND = "send"
    RECEIVE = "receive"


TransitionKey = tuple[Role, SessionState, CommandId, Direction]

_S = SessionState
_BOUND: Final = (_S.BOUND_TX, _S.BOUND_RX, _S.BOUND_TRX)
_LIVE: Final = (_S.OPEN, *_BOUND, _S.UNBINDING)
_TRANSMITTING: Final = (_S.BOUND_TX, _S.BOUND_TRX)
_RECEIVING: Final = (_S.BOUND_RX, _S.BOUND_TRX)
# Requests an ESME may send when bound as a transmitter, and what an SMSC may send to a
# receiver (SMPP 3.4 table 2-1). data_sm goes both ways.
_ESME_TRANSMITTER_REQUESTS: Final = (
    CommandId.SUBMIT_SM,
    CommandId.SUBMIT_MULTI,
    CommandId.DATA_SM,
    CommandId.QUERY_SM,
    CommandId.CANCEL_SM,
    CommandId.REPLACE_SM,
)
_SMSC_TO_RECEIVER_REQUESTS: Final = (
    CommandId.DELIVER_SM,
    CommandId.DATA_SM,
    CommandId.ALERT_NOTIFICATION,
)


def _response_id(request_id: CommandId) -> CommandId | None:
    response_class = REQUEST_TO_RESPONSE.get(request_id)
    return None if response_class is None else response_class.command_id


def _build_transitions() -> dict[TransitionKey, SessionState]:
    table: dict[TransitionKey, SessionState] = {}

    def sent_by(
        sender: Role,
        command: CommandId,
        states: tuple[SessionState, ...],
        to: SessionState | None = None,
    ) -> None:
        receiver = Role.SMSC if sender is Role.ESME else Role.ESME
        for state in states:
            table[(sender, state, command, Direction.SEND)] = to or state
            table[(receiver, state, command, Direction.RECEIVE)] = to or state

    def either(
        command: CommandId, states: tuple[SessionState, ...], to: SessionState | None = None
    ) -> None:
        sent_by(Role.ESME, command, states, to)
        sent_by(Role.SMSC, command, states, to)

    binds = (
        (CommandId.BIND_TRANSMITTER, CommandId.BIND_TRANSMITTER_RESP, _S.BOUND_TX),
        (CommandId.BIND_RECEIVER, CommandId.BIND_RECEIVER_RESP, _S.BOUND_RX),
        (CommandId.BIND_TRANSCEIVER, CommandId.BIND_TRANSCEIVER_RESP, _S.BOUND_TRX),
    )
    for request, response, bound in binds:
        sent_by(Role.ESME, request, (_S.OPEN,))
        # Taken only by a response with status ESME_ROK (see module docstring).
        sent_by(Role.SMSC, response, (_S.OPEN,), to=bound)
    sent_by(Role.SMSC, CommandId.OUTBIND, (_S.OPEN,))

    for command in _ESME_TRANSMITTER_REQUESTS:
        sent_by(Role.ESME, command, _TRANSMITTING)
        answer = _response_id(command)
        if answer is not None:
            sent_by(Role.SMSC, answer, (*_TRANSMITTING, _S.UNBINDING))
    for command in _SMSC_TO_RECEIVER_REQUESTS:
        sent_by(Role.SMSC, command, _RECEIVING)
        answer = _response_id(command)
        if answer is not None:
            sent_by(Role.ESME, answer, (*_RECEIVING, _S.UNBINDING))

    either(CommandId.ENQUIRE_LINK, _LIVE)
    either(CommandId.ENQUIRE_LINK_RESP, _LIVE)
    either(CommandId.GENERIC_NACK, _LIVE)
    # Unbinds may cross on the wire: an unbind in UNBINDING is still answered.
    either(CommandId.UNBIND, (*_BOUND, _S.UNBINDING), to=_S.UNBINDING)
    either(CommandId.UNBIND_RESP, (_S.UNBINDING,), to=_S.CLOSED)
    return table


TRANSITIONS: Final[dict[TransitionKey, SessionState]] = _build_transitions()


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
        self.state = SessionState.OPEN
        self._framer = Framer()
        self._outgoing = bytearray()
        self._outstanding: dict[int, _Outstanding] = {}
        self._next_sequence = SEQUENCE_MIN
        self._last_received = now

    @property
    def closed(self) -> bool:
        return self.state is SessionState.CLOSED

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
        self.state = SessionState.CLOSED
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
            1 for entry in self._outstanding.values() if entry.request.command_id not in _UNWINDOWED
        )
        return max(0, self.config.window_size - used)

    def can_send(self, command_id: CommandId = CommandId.SUBMIT_SM) -> bool:
        """True when a ``command_id`` request is allowed now and the window has room."""
        key = (self.role, self.state, command_id, Direction.SEND)
        return key in TRANSITIONS and (command_id in _UNWINDOWED or self.window_free > 0)

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
            self.state = SessionState.CLOSED
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
            self.state = SessionState.CLOSED
            return LinkDead("enquire_link not answered in time")
        if command == CommandId.UNBIND:
            self.state = SessionState.CLOSED
            return Unbound(by_peer=False, acknowledged=False)
        if command in _BIND_REQUESTS:
            return BindFailed(request, None)
        return RequestTimedOut(request)

    # --- internals: sending --------------------------------------------------------------

    def _transition(self, command_id: CommandId, direction: Direction) -> SessionState | None:
        return TRANSITIONS.get((self.role, self.state, command_id, direction))

    def _refuse_own(self, pdu: Pdu) -> InvalidSessionState:
        return InvalidSessionState(
            f"{self.role.value} cannot send {pdu.command_id.name.lower()} "
            f"in state {self.state.name}"
        )

    def _send_request(self, pdu: Pdu, now: float) -> Pdu:
        new_state = self._transition(pdu.command_id, Direction.SEND)
        if new_state is None:
            raise self._refuse_own(pdu)
        if pdu.command_id not in _UNWINDOWED and self.window_free == 0:
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
        self.state = SessionState.CLOSED
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
        if isinstance(pdu, DeliverSm | DataSm) and _is_delivery_receipt(pdu.esm_class):
            return [_delivery_receipt(pdu)]
        return [PduReceived(pdu)]

    def _refuse_peer(self, pdu: Pdu) -> Event:
        if pdu.command_id in _BIND_REQUESTS and self.state.is_bound:
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
        if response.command_id != _response_id(request.command_id):
            return [UnmatchedResponse(response)]
        del self._outstanding[response.sequence_number]
        if response.command_status == CommandStatus.ESME_ROK:
            new_state = self._transition(response.command_id, Direction.RECEIVE)
            if new_state is not None:
                self.state = new_state
        return [self._answered(request, response)]

    def _answered(self, request: Pdu, response: Pdu) -> Event:
        if response.command_id in _BIND_RESPONSES:
            if response.command_status == CommandStatus.ESME_ROK and self.state.is_bound:
                return Bound(self.state, response)
            return BindFailed(request, response)
        if response.command_id == CommandId.UNBIND_RESP:
            self.state = SessionState.CLOSED
            return Unbound(by_peer=False, acknowledged=True)
        return ResponseReceived(request, response)

    def _nacked(self, request: Pdu, nack: GenericNack) -> list[Event]:
        events: list[Event] = [GenericNackReceived(request, nack)]
        if request.command_id in _BIND_REQUESTS:
            events.append(BindFailed(request, nack))
        elif request.command_id == CommandId.UNBIND:
            self.state = SessionState.CLOSED
            events.append(Unbound(by_peer=False, acknowledged=False))
        return events


# --- delivery receipts -------------------------------------------------------------------


def _is_delivery_receipt(esm_class: int) -> bool:
    return esm_class & ESM_TYPE_MASK == ESM_DELIVERY_RECEIPT


def _delivery_receipt(pdu: DeliverSm | DataSm) -> DeliveryReceiptReceived:
    """The receipt's message id and state: TLVs first, the receipt text as fallback."""
    if isinstance(pdu, DeliverSm) and pdu.short_message:
        body = pdu.short_message
    else:
        body = pdu.tlvs.get(Tag.MESSAGE_PAYLOAD, b"")
    # Receipt texts are ASCII by convention; latin-1 never fails on odd octets.
    text = parse_receipt_text(body.decode("latin-1")) if body else None
    message_id = get_cstring(pdu.tlvs, Tag.RECEIPTED_MESSAGE_ID)
    message_state = get_int(pdu.tlvs, Tag.MESSAGE_STATE)
    if text is not None:
        if message_id is None:
            message_id = text.message_id
        if message_state is None and text.state is not None:
            message_state = int(text.state)
    return DeliveryReceiptReceived(pdu, message_id, message_state, text)
