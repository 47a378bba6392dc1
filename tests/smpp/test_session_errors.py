"""Bad input, the transition table, the window and sequence numbers."""

from __future__ import annotations

import struct

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from smsgw.smpp.codec import encode
from smsgw.smpp.constants import CommandId, CommandStatus
from smsgw.smpp.errors import InvalidCommandLength, InvalidSourceAddress
from smsgw.smpp.events import (
    BindState,
    GenericNackReceived,
    PduReceived,
    ProtocolError,
    ResponseReceived,
    Role,
    Unbound,
    UnmatchedResponse,
)
from smsgw.smpp.pdu import (
    BindReceiver,
    BindTransceiver,
    BindTransceiverResp,
    BindTransmitter,
    DeliverSm,
    EnquireLink,
    GenericNack,
    Outbind,
    SubmitSm,
    SubmitSmResp,
    UnbindResp,
)
from smsgw.smpp.session import (
    SEQUENCE_MAX,
    InvalidBindState,
    Session,
    SessionConfig,
    WindowFull,
)
from smsgw.smpp.transitions import TRANSITIONS, Direction
from tests.smpp.helpers import SessionPair, feed, pdus_in


@pytest.fixture(params=[False, True], ids=["whole", "bytewise"])
def pair(request: pytest.FixtureRequest) -> SessionPair:
    return SessionPair(bytewise=request.param)


def _header(length: int, command_id: int, status: int, sequence: int) -> bytes:
    return struct.pack(">IIII", length, command_id, status, sequence)


# --- the transition table ----------------------------------------------------------------


def test_table_is_symmetric_between_the_roles() -> None:
    mirror = {Role.ESME: Role.SMSC, Role.SMSC: Role.ESME}
    flip = {Direction.SEND: Direction.RECEIVE, Direction.RECEIVE: Direction.SEND}
    for (role, state, command, direction), new_state in TRANSITIONS.items():
        assert TRANSITIONS[(mirror[role], state, command, flip[direction])] is new_state


def test_table_has_no_way_out_of_closed() -> None:
    assert not [key for key in TRANSITIONS if key[1] is BindState.CLOSED]


def _senders(command: CommandId) -> set[Role]:
    return {
        role
        for (role, _, cmd, direction) in TRANSITIONS
        if cmd == command and direction is Direction.SEND
    }


def test_only_the_esme_submits_and_only_the_smsc_delivers() -> None:
    assert _senders(CommandId.SUBMIT_SM) == {Role.ESME}
    assert _senders(CommandId.DELIVER_SM) == {Role.SMSC}
    assert _senders(CommandId.BIND_TRANSCEIVER) == {Role.ESME}
    assert _senders(CommandId.DATA_SM) == {Role.ESME, Role.SMSC}


def test_own_send_outside_the_table_names_state_and_event() -> None:
    esme = Session(Role.ESME)
    with pytest.raises(InvalidBindState, match=r"esme cannot send submit_sm in state OPEN"):
        esme.submit(SubmitSm(), 0.0)
    assert esme.data_to_send() == b""
    assert not esme.can_send()


@pytest.mark.parametrize(
    ("bind_class", "forbidden"),
    [(BindReceiver, SubmitSm()), (BindTransmitter, DeliverSm())],
)
def test_bind_type_limits_what_may_be_sent(
    pair: SessionPair, bind_class: type[BindTransceiver], forbidden: SubmitSm
) -> None:
    pair.bind(bind_class)
    sender = pair.esme if isinstance(forbidden, SubmitSm) else pair.smsc
    with pytest.raises(InvalidBindState, match=pair.esme.state.name):
        sender.send(forbidden, 0.0)


def test_submit_before_bind_is_answered_with_rinvbndsts(pair: SessionPair) -> None:
    frame = encode(SubmitSm(sequence_number=7, destination_addr="1"))
    (event,) = feed(pair.smsc, frame, 0.0, bytewise=pair.bytewise)
    assert isinstance(event, ProtocolError) and not event.fatal
    assert "submit_sm in state OPEN" in str(event.error)
    (answer,) = pdus_in(pair.smsc.data_to_send())
    assert isinstance(answer, SubmitSmResp)
    assert (answer.sequence_number, answer.command_status) == (7, CommandStatus.ESME_RINVBNDSTS)
    assert pair.smsc.state is BindState.OPEN


def test_second_bind_is_answered_with_ralybnd(pair: SessionPair) -> None:
    pair.bind()
    feed(pair.smsc, encode(BindTransceiver(sequence_number=9)), 0.0, bytewise=pair.bytewise)
    (answer,) = pdus_in(pair.smsc.data_to_send())
    assert isinstance(answer, BindTransceiverResp)
    assert answer.command_status == CommandStatus.ESME_RALYBND
    assert pair.smsc.state is BindState.BOUND_TRX


def test_request_without_response_outside_the_table_gets_generic_nack() -> None:
    smsc = Session(Role.SMSC)
    smsc.receive_data(encode(Outbind(sequence_number=3)), 0.0)
    (answer,) = pdus_in(smsc.data_to_send())
    assert isinstance(answer, GenericNack)
    assert (answer.sequence_number, answer.command_status) == (3, CommandStatus.ESME_RINVBNDSTS)


def test_unbind_before_bind_is_refused(pair: SessionPair) -> None:
    feed(pair.smsc, encode(EnquireLink(sequence_number=1)), 0.0, bytewise=pair.bytewise)
    pair.smsc.receive_data(_header(16, CommandId.UNBIND, 0, 2), 0.0)
    answers = pdus_in(pair.smsc.data_to_send())
    assert [type(answer).__name__ for answer in answers] == ["EnquireLinkResp", "UnbindResp"]
    assert isinstance(answers[1], UnbindResp)
    assert answers[1].command_status == CommandStatus.ESME_RINVBNDSTS
    assert pair.smsc.state is BindState.OPEN


# --- bad PDUs ----------------------------------------------------------------------------


def test_unknown_command_gets_generic_nack_and_the_session_goes_on(pair: SessionPair) -> None:
    pair.bind()
    (event,) = feed(pair.smsc, _header(16, 0x00000077, 0, 5), 0.0, bytewise=pair.bytewise)
    assert isinstance(event, ProtocolError) and not event.fatal
    (nack,) = pdus_in(pair.smsc.data_to_send())
    assert isinstance(nack, GenericNack)
    assert (nack.sequence_number, nack.command_status) == (5, CommandStatus.ESME_RINVCMDID)
    pair.esme.submit(SubmitSm(destination_addr="1"), 0.0)
    (received,) = pair.to_smsc()
    assert isinstance(received, PduReceived)


def test_malformed_known_request_gets_its_own_resp_with_the_error(pair: SessionPair) -> None:
    pair.bind()
    # submit_sm whose source_addr has no NUL within its 21 octets.
    body = b"\0" + b"\1\1" + b"7" * 30 + b"\0"
    frame = _header(16 + len(body), CommandId.SUBMIT_SM, 0, 11) + body
    (event,) = feed(pair.smsc, frame, 0.0, bytewise=pair.bytewise)
    assert isinstance(event, ProtocolError)
    assert isinstance(event.error, InvalidSourceAddress)
    (answer,) = pdus_in(pair.smsc.data_to_send())
    assert isinstance(answer, SubmitSmResp)
    assert (answer.sequence_number, answer.command_status) == (11, CommandStatus.ESME_RINVSRCADR)
    assert pair.smsc.state is BindState.BOUND_TRX


@pytest.mark.parametrize("length", [4, 15, 0x7FFFFFFF])
def test_impossible_command_length_is_fatal(pair: SessionPair, length: int) -> None:
    pair.bind()
    data = _header(length, CommandId.SUBMIT_SM, 0, 3)
    events = feed(pair.smsc, data, 0.0, bytewise=pair.bytewise)
    assert len(events) == 1
    (event,) = events
    assert isinstance(event, ProtocolError) and event.fatal
    assert isinstance(event.error, InvalidCommandLength)
    answered = pdus_in(pair.smsc.data_to_send())
    if pair.bytewise:
        # refused at its fourth octet, before the sequence number came: a nack would
        # have to carry 0, outside 3.4's 1..0x7FFFFFFF, so the session just closes
        assert answered == []
    else:
        (nack,) = answered
        assert isinstance(nack, GenericNack)
        assert nack.command_status == CommandStatus.ESME_RINVCMDLEN
        assert nack.sequence_number == 3
    assert pair.smsc.closed
    assert pair.smsc.receive_data(encode(EnquireLink(sequence_number=1)), 0.0) == []
    assert pair.smsc.data_to_send() == b""


def test_generic_nack_is_matched_to_the_outstanding_request(pair: SessionPair) -> None:
    pair.bind()
    sent = pair.esme.submit(SubmitSm(destination_addr="1"), 0.0)
    pair.smsc.data_to_send()
    pair.esme.data_to_send()
    nack = GenericNack(sent.sequence_number, CommandStatus.ESME_RINVCMDLEN)
    (event,) = feed(pair.esme, encode(nack), 0.0, bytewise=pair.bytewise)
    assert event == GenericNackReceived(sent, nack)
    assert pair.esme.window_free == pair.config.window_size
    assert pair.esme.outstanding_requests == []


def test_unmatched_generic_nack_and_response_are_events(pair: SessionPair) -> None:
    pair.bind()
    nack = GenericNack(0, CommandStatus.ESME_RINVCMDID)
    stray = SubmitSmResp(sequence_number=424242, message_id="x")
    events = feed(pair.esme, encode(nack) + encode(stray), 0.0, bytewise=pair.bytewise)
    assert events == [GenericNackReceived(None, nack), UnmatchedResponse(stray)]


def test_response_of_the_wrong_kind_leaves_the_request_outstanding(pair: SessionPair) -> None:
    pair.bind()
    sent = pair.esme.submit(SubmitSm(destination_addr="1"), 0.0)
    wrong = UnbindResp(sequence_number=sent.sequence_number)
    (event,) = feed(pair.esme, encode(wrong), 0.0, bytewise=pair.bytewise)
    assert event == UnmatchedResponse(wrong)
    assert pair.esme.outstanding_requests == [sent]
    right = SubmitSmResp(sequence_number=sent.sequence_number, message_id="1")
    assert feed(pair.esme, encode(right), 0.0, bytewise=pair.bytewise) == [
        ResponseReceived(sent, right)
    ]


def test_broken_response_settles_its_request_without_a_nack(pair: SessionPair) -> None:
    pair.bind()
    sent = pair.esme.submit(SubmitSm(destination_addr="1"), 0.0)
    pair.esme.data_to_send()
    # submit_sm_resp whose message_id never ends.
    body = b"A" * 70
    frame = _header(16 + len(body), CommandId.SUBMIT_SM_RESP, 0, sent.sequence_number) + body
    (event,) = feed(pair.esme, frame, 0.0, bytewise=pair.bytewise)
    assert isinstance(event, ProtocolError) and not event.fatal
    assert event.request == sent
    assert pair.esme.data_to_send() == b""
    assert pair.esme.outstanding_requests == []


def _frame_like(command_id: int, sequence: int, body: bytes) -> bytes:
    return _header(16 + len(body), command_id, 0, sequence) + body


# Plausible frames (a real command id, a random body) as well as raw noise.
_frames_like = st.builds(
    _frame_like,
    st.sampled_from([int(command) for command in CommandId]),
    st.integers(0, 0xFFFFFFFF),
    st.binary(max_size=60),
)
_stream = st.one_of(
    st.binary(max_size=300),
    st.lists(st.one_of(_frames_like, st.binary(max_size=8)), max_size=6).map(b"".join),
)


@settings(max_examples=200, deadline=None)
@given(data=_stream, role=st.sampled_from(Role))
def test_any_bytes_never_raise_and_answers_are_whole_frames(data: bytes, role: Role) -> None:
    pair = SessionPair()
    pair.bind()
    session = pair.esme if role is Role.ESME else pair.smsc
    events = session.receive_data(data, 1.0)
    answers = pdus_in(session.data_to_send())  # raises unless whole, decodable frames
    # At most one answer per frame received, plus the generic_nack of a broken stream.
    assert len(answers) <= len(data) // 16 + 1
    if session.closed:
        assert any(
            isinstance(event, Unbound) or (isinstance(event, ProtocolError) and event.fatal)
            for event in events
        )


# --- window and sequence numbers -------------------------------------------------------


def test_window_full_refuses_traffic_but_not_enquire_link(pair: SessionPair) -> None:
    pair = SessionPair(config=SessionConfig(window_size=3), bytewise=pair.bytewise)
    pair.bind()
    sent = [pair.esme.submit(SubmitSm(destination_addr="1"), 0.0) for _ in range(3)]
    assert pair.esme.window_free == 0
    assert not pair.esme.can_send()
    assert pair.esme.can_send(CommandId.ENQUIRE_LINK)
    with pytest.raises(WindowFull):
        pair.esme.submit(SubmitSm(destination_addr="1"), 0.0)
    pair.esme.enquire_link(0.0)
    received = pair.to_smsc()
    assert len(received) == 3
    first = received[0]
    assert isinstance(first, PduReceived)
    pair.smsc.respond(first.pdu, message_id="1")
    events = pair.to_esme()
    assert ResponseReceived(sent[0], SubmitSmResp(sent[0].sequence_number, 0, "1")) in events
    assert pair.esme.window_free == 1
    assert pair.esme.can_send()


def test_sequence_numbers_wrap_and_skip_outstanding_ones() -> None:
    pair = SessionPair()
    pair.bind()  # the bind used 1
    pair.esme.next_sequence = 1
    first = pair.esme.submit(SubmitSm(), 0.0)
    assert first.sequence_number == 1
    pair.esme.next_sequence = SEQUENCE_MAX
    last = pair.esme.submit(SubmitSm(), 0.0)
    wrapped = pair.esme.submit(SubmitSm(), 0.0)
    assert last.sequence_number == SEQUENCE_MAX
    assert wrapped.sequence_number == 2, "1 is still outstanding"
    received = pair.to_smsc()
    assert [event.pdu.sequence_number for event in received] == [1, SEQUENCE_MAX, 2]  # type: ignore[union-attr]


@settings(max_examples=200)
@given(start=st.integers(1, SEQUENCE_MAX), count=st.integers(1, 5))
def test_sequence_numbers_stay_in_range(start: int, count: int) -> None:
    session = Session(Role.ESME, SessionConfig(window_size=10))
    session.next_sequence = start
    numbers = [session.send(EnquireLink(), 0.0).sequence_number for _ in range(count)]
    expected = [(start - 1 + offset) % SEQUENCE_MAX + 1 for offset in range(count)]
    assert numbers == expected


def test_next_sequence_rejects_out_of_range_values() -> None:
    session = Session(Role.ESME)
    for value in (0, SEQUENCE_MAX + 1):
        with pytest.raises(ValueError, match="sequence numbers"):
            session.next_sequence = value
