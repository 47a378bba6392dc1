"""What an SMPP session tells its owner: roles, bind states and events.

`Session.receive_data` and `Session.handle_timer` return lists of these frozen events; the
owner (the asyncio adapter, the simulator, a test) reacts to them. Requests from the peer
that need an application decision (`BindRequested`, `PduReceived`,
`DeliveryReceiptReceived`) are *not* answered by the session: the owner answers them with
`Session.respond`, because deliver_sm_resp must wait until the message is stored.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from smsgw.smpp.constants import ESM_DELIVERY_RECEIPT, ESM_TYPE_MASK, Tag
from smsgw.smpp.errors import SmppError
from smsgw.smpp.pdu import (
    BindReceiver,
    BindTransceiver,
    BindTransmitter,
    DataSm,
    DeliverSm,
    GenericNack,
    Pdu,
)
from smsgw.smpp.receipts import ReceiptText, message_ids_equal, parse_receipt_text
from smsgw.smpp.tlv import get_cstring, get_int


class Role(Enum):
    ESME = "esme"
    SMSC = "smsc"


class BindState(Enum):
    """Bind states of SMPP 3.4 section 2.2, plus UNBINDING while an unbind is answered.

    Not a parking session's state (that is smsgw.domain.parking.SessionState): this is
    the state of one SMPP link.
    """

    OPEN = "open"
    BOUND_TX = "bound_tx"
    BOUND_RX = "bound_rx"
    BOUND_TRX = "bound_trx"
    UNBINDING = "unbinding"
    CLOSED = "closed"

    @property
    def is_bound(self) -> bool:
        return self in _BOUND_STATES


_BOUND_STATES = frozenset({BindState.BOUND_TX, BindState.BOUND_RX, BindState.BOUND_TRX})

BindRequest = BindTransmitter | BindReceiver | BindTransceiver


@dataclass(frozen=True, slots=True)
class BindRequested:
    """SMSC role: the peer asks to bind; answer with `accept_bind` or `reject_bind`."""

    request: BindRequest


@dataclass(frozen=True, slots=True)
class Bound:
    """The session reached a bound state (ESME: on a successful bind_*_resp)."""

    state: BindState
    response: Pdu


@dataclass(frozen=True, slots=True)
class BindFailed:
    """ESME role: the bind was refused (``response`` set) or not answered (None)."""

    request: Pdu
    response: Pdu | None

    @property
    def command_status(self) -> int | None:
        return None if self.response is None else self.response.command_status


@dataclass(frozen=True, slots=True)
class PduReceived:
    """A request from the peer that the application must answer (or, outbind, act on)."""

    pdu: Pdu


@dataclass(frozen=True, slots=True)
class ResponseReceived:
    """The peer answered one of our outstanding requests (any status)."""

    request: Pdu
    response: Pdu


@dataclass(frozen=True, slots=True)
class UnmatchedResponse:
    """A response whose sequence number matches no outstanding request (late or bogus)."""

    response: Pdu


@dataclass(frozen=True, slots=True)
class RequestTimedOut:
    """No response to ``request`` within the response timeout; it is no longer tracked."""

    request: Pdu


@dataclass(frozen=True, slots=True)
class GenericNackReceived:
    """The peer could not decode one of our PDUs; ``request`` is None when unmatched."""

    request: Pdu | None
    nack: GenericNack


@dataclass(frozen=True, slots=True)
class DeliveryReceiptReceived:
    """A deliver_sm/data_sm whose esm_class says "SMSC delivery receipt".

    Answer ``pdu`` like any other request. ``message_id`` and ``message_state`` come from
    the receipted_message_id / message_state TLVs, else from the receipt text (``text``,
    parsed when it has the "id:... stat:..." form).
    """

    pdu: Pdu
    message_id: str | None
    message_state: int | None
    text: ReceiptText | None

    def matches(self, submitted_message_id: str) -> bool:
        """Whether this receipt is for the message that submit_sm_resp gave that id.

        Hex/decimal-insensitive, as SMSCs mix the two (`receipts.message_ids_equal`).
        """
        return self.message_id is not None and message_ids_equal(
            self.message_id, submitted_message_id
        )


@dataclass(frozen=True, slots=True)
class Unbound:
    """The session is CLOSED after an unbind: by the peer, or ours (answered or not)."""

    by_peer: bool
    acknowledged: bool


@dataclass(frozen=True, slots=True)
class LinkDead:
    """The peer stopped answering (enquire_link unanswered, or silent too long).

    The session is CLOSED; the owner drops the connection.
    """

    reason: str


@dataclass(frozen=True, slots=True)
class ProtocolError:
    """The peer sent something broken. ``fatal``: the session is CLOSED, drop the link.

    ``request`` is our outstanding request that a broken response was meant to answer
    (it is no longer tracked), else None.
    """

    error: SmppError
    fatal: bool
    request: Pdu | None = None


Event = (
    BindRequested
    | Bound
    | BindFailed
    | PduReceived
    | ResponseReceived
    | UnmatchedResponse
    | RequestTimedOut
    | GenericNackReceived
    | DeliveryReceiptReceived
    | Unbound
    | LinkDead
    | ProtocolError
)


# --- delivery receipts: a deliver_sm / data_sm read as one ---------------------------


def is_delivery_receipt(esm_class: int) -> bool:
    return esm_class & ESM_TYPE_MASK == ESM_DELIVERY_RECEIPT


def delivery_receipt(pdu: DeliverSm | DataSm) -> DeliveryReceiptReceived:
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
