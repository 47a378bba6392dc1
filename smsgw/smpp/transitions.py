"""Which PDU may go which way in which bind state: the SMPP 3.4 session's table.

`TRANSITIONS` maps (role, state, command_id, direction) to the state after the PDU; a key
it lacks is a PDU the state does not allow (smsgw/smpp/session.py says what then).
"""

from __future__ import annotations

from enum import Enum
from typing import Final

from smsgw.smpp.constants import CommandId
from smsgw.smpp.events import BindState, Role
from smsgw.smpp.pdu import REQUEST_TO_RESPONSE

# Control PDUs must get through a full window, or a busy link could never be checked or
# closed; only the traffic requests are counted against it.
UNWINDOWED: Final = frozenset(
    {
        CommandId.BIND_TRANSMITTER,
        CommandId.BIND_RECEIVER,
        CommandId.BIND_TRANSCEIVER,
        CommandId.UNBIND,
        CommandId.ENQUIRE_LINK,
    }
)
BIND_REQUESTS: Final = frozenset(
    {CommandId.BIND_TRANSMITTER, CommandId.BIND_RECEIVER, CommandId.BIND_TRANSCEIVER}
)
BIND_RESPONSES: Final = frozenset(
    {
        CommandId.BIND_TRANSMITTER_RESP,
        CommandId.BIND_RECEIVER_RESP,
        CommandId.BIND_TRANSCEIVER_RESP,
    }
)


class Direction(Enum):
    SEND = "send"
    RECEIVE = "receive"


TransitionKey = tuple[Role, BindState, CommandId, Direction]

_S = BindState
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


def response_id(request_id: CommandId) -> CommandId | None:
    response_class = REQUEST_TO_RESPONSE.get(request_id)
    return None if response_class is None else response_class.command_id


def _build_transitions() -> dict[TransitionKey, BindState]:
    table: dict[TransitionKey, BindState] = {}

    def sent_by(
        sender: Role,
        command: CommandId,
        states: tuple[BindState, ...],
        to: BindState | None = None,
    ) -> None:
        receiver = Role.SMSC if sender is Role.ESME else Role.ESME
        for state in states:
            table[(sender, state, command, Direction.SEND)] = to or state
            table[(receiver, state, command, Direction.RECEIVE)] = to or state

    def either(
        command: CommandId, states: tuple[BindState, ...], to: BindState | None = None
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
        answer = response_id(command)
        if answer is not None:
            sent_by(Role.SMSC, answer, (*_TRANSMITTING, _S.UNBINDING))
    for command in _SMSC_TO_RECEIVER_REQUESTS:
        sent_by(Role.SMSC, command, _RECEIVING)
        answer = response_id(command)
        if answer is not None:
            sent_by(Role.ESME, answer, (*_RECEIVING, _S.UNBINDING))

    either(CommandId.ENQUIRE_LINK, _LIVE)
    either(CommandId.ENQUIRE_LINK_RESP, _LIVE)
    either(CommandId.GENERIC_NACK, _LIVE)
    # Unbinds may cross on the wire: an unbind in UNBINDING is still answered.
    either(CommandId.UNBIND, (*_BOUND, _S.UNBINDING), to=_S.UNBINDING)
    either(CommandId.UNBIND_RESP, (_S.UNBINDING,), to=_S.CLOSED)
    return table


TRANSITIONS: Final[dict[TransitionKey, BindState]] = _build_transitions()
