"""Session flows between an in-memory ESME and SMSC: bind, submit, deliver, receipts, unbind."""

from __future__ import annotations

import pytest

from smsgw.smpp.constants import (
    ESM_DELIVERY_RECEIPT,
    CommandStatus,
    MessageState,
    Tag,
)
from smsgw.smpp.events import (
    BindFailed,
    BindRequested,
    BindState,
    DeliveryReceiptReceived,
    PduReceived,
    ResponseReceived,
    Unbound,
)
from smsgw.smpp.pdu import (
    BindReceiver,
    BindTransceiver,
    BindTransmitter,
    DataSm,
    DeliverSm,
    DeliverSmResp,
    SubmitSm,
    SubmitSmResp,
    Unbind,
)
from smsgw.smpp.session import InvalidBindState
from tests.smpp.helpers import SessionPair, pdus_in


@pytest.fixture(params=[False, True], ids=["whole", "bytewise"])
def pair(request: pytest.FixtureRequest) -> SessionPair:
    return SessionPair(bytewise=request.param)


@pytest.mark.parametrize(
    ("bind_class", "state"),
    [
        (BindTransceiver, BindState.BOUND_TRX),
        (BindTransmitter, BindState.BOUND_TX),
        (BindReceiver, BindState.BOUND_RX),
    ],
)
def test_bind_reaches_the_same_state_on_both_sides(
    pair: SessionPair, bind_class: type[BindTransceiver], state: BindState
) -> None:
    bound = pair.bind(bind_class)
    assert bound.state is state
    assert pair.esme.state is state
    assert pair.smsc.state is state
    assert bound.response.system_id == "smsc"  # type: ignore[attr-defined]


def test_bind_request_carries_the_credentials(pair: SessionPair) -> None:
    pair.esme.bind("parking", "pw", 0.0, system_type="VMA", address_range="7757")
    (event,) = pair.to_smsc()
    assert isinstance(event, BindRequested)
    assert (event.request.system_id, event.request.password) == ("parking", "pw")
    assert (event.request.system_type, event.request.address_range) == ("VMA", "7757")


def test_rejected_bind_leaves_both_open_and_allows_a_retry(pair: SessionPair) -> None:
    pair.esme.bind("esme", "wrong", 0.0)
    (requested,) = pair.to_smsc()
    assert isinstance(requested, BindRequested)
    pair.smsc.reject_bind(requested.request, CommandStatus.ESME_RINVPASWD)
    (failed,) = pair.to_esme()
    assert isinstance(failed, BindFailed)
    assert failed.command_status == CommandStatus.ESME_RINVPASWD
    assert pair.esme.state is BindState.OPEN
    assert pair.smsc.state is BindState.OPEN
    assert pair.bind().state is BindState.BOUND_TRX


def test_reject_bind_needs_an_error_status(pair: SessionPair) -> None:
    pair.esme.bind("esme", "pw", 0.0)
    (requested,) = pair.to_smsc()
    assert isinstance(requested, BindRequested)
    with pytest.raises(ValueError, match="error status"):
        pair.smsc.reject_bind(requested.request, CommandStatus.ESME_ROK)


def test_submit_is_answered_with_the_message_id(pair: SessionPair) -> None:
    pair.bind()
    sent = pair.esme.submit(SubmitSm(destination_addr="79001234567", short_message=b"hi"), 1.0)
    assert pair.esme.window_free == pair.config.window_size - 1
    (received,) = pair.to_smsc()
    assert isinstance(received, PduReceived)
    assert received.pdu == sent
    pair.smsc.respond(received.pdu, message_id="4f2a")
    (answered,) = pair.to_esme()
    assert isinstance(answered, ResponseReceived)
    assert answered.request == sent
    assert isinstance(answered.response, SubmitSmResp)
    assert answered.response.message_id == "4f2a"
    assert pair.esme.window_free == pair.config.window_size


def test_send_does_not_mutate_the_callers_pdu(pair: SessionPair) -> None:
    pair.bind()
    original = SubmitSm(destination_addr="1")
    sent = pair.esme.send(original, 0.0)
    assert original.sequence_number == 0
    assert sent.sequence_number != 0


def test_deliver_waits_for_the_application_answer(pair: SessionPair) -> None:
    pair.bind()
    sent = pair.smsc.send(DeliverSm(source_addr="79001234567", short_message=b"1001*A1"), 0.0)
    (received,) = pair.to_esme()
    assert isinstance(received, PduReceived)
    assert pair.esme.data_to_send() == b"", "deliver_sm must not be answered automatically"
    pair.esme.respond(received.pdu, CommandStatus.ESME_RX_T_APPN)
    (answered,) = pair.to_smsc()
    assert isinstance(answered, ResponseReceived)
    assert answered.request == sent
    assert isinstance(answered.response, DeliverSmResp)
    assert answered.response.command_status == CommandStatus.ESME_RX_T_APPN


def _receipt(pair: SessionPair, pdu: DeliverSm | DataSm) -> DeliveryReceiptReceived:
    pair.bind()
    pair.smsc.send(pdu, 0.0)
    (event,) = pair.to_esme()
    assert isinstance(event, DeliveryReceiptReceived)
    return event


def test_receipt_recognised_from_tlvs(pair: SessionPair) -> None:
    pdu = DeliverSm(
        esm_class=ESM_DELIVERY_RECEIPT,
        short_message=b"id:999 stat:UNDELIV",
        tlvs={Tag.RECEIPTED_MESSAGE_ID: b"1A2B\0", Tag.MESSAGE_STATE: bytes([2])},
    )
    event = _receipt(pair, pdu)
    # The TLVs are authoritative over the text.
    assert (event.message_id, event.message_state) == ("1A2B", MessageState.DELIVERED)
    assert event.matches("6699") and event.matches("1a2b")
    assert not event.matches("999")


def test_receipt_falls_back_to_the_text_form(pair: SessionPair) -> None:
    text = (
        b"id:0000123 sub:001 dlvrd:001 submit date:2401011200 done date:2401011201"
        b" stat:DELIVRD err:000 text:hello"
    )
    event = _receipt(pair, DeliverSm(esm_class=ESM_DELIVERY_RECEIPT, short_message=text))
    assert event.message_id == "0000123"
    assert event.message_state == MessageState.DELIVERED
    assert event.text is not None and event.text.stat == "DELIVRD"
    assert event.matches("123")


def test_data_sm_receipt_reads_message_payload(pair: SessionPair) -> None:
    pdu = DataSm(
        esm_class=ESM_DELIVERY_RECEIPT,
        tlvs={Tag.MESSAGE_PAYLOAD: b"id:77 stat:EXPIRED"},
    )
    event = _receipt(pair, pdu)
    assert (event.message_id, event.message_state) == ("77", MessageState.EXPIRED)


def test_receipt_without_any_id_still_surfaces(pair: SessionPair) -> None:
    event = _receipt(pair, DeliverSm(esm_class=ESM_DELIVERY_RECEIPT, short_message=b"garbage"))
    assert (event.message_id, event.message_state, event.text) == (None, None, None)
    assert not event.matches("1")


def test_ordinary_message_with_receipt_like_text_is_not_a_receipt(pair: SessionPair) -> None:
    pair.bind()
    pair.smsc.send(DeliverSm(short_message=b"id:1 stat:DELIVRD"), 0.0)
    (event,) = pair.to_esme()
    assert isinstance(event, PduReceived)


def test_esme_unbind_handshake(pair: SessionPair) -> None:
    pair.bind()
    pair.esme.unbind(0.0)
    assert pair.esme.state is BindState.UNBINDING
    assert pair.to_smsc() == [Unbound(by_peer=True, acknowledged=True)]
    assert pair.smsc.closed
    assert pair.to_esme() == [Unbound(by_peer=False, acknowledged=True)]
    assert pair.esme.closed
    assert pair.esme.get_timer() is None


def test_smsc_unbind_handshake(pair: SessionPair) -> None:
    pair.bind()
    pair.smsc.unbind(0.0)
    assert pair.to_esme() == [Unbound(by_peer=True, acknowledged=True)]
    assert pair.to_smsc() == [Unbound(by_peer=False, acknowledged=True)]
    assert pair.esme.closed and pair.smsc.closed


def test_crossed_unbinds_close_both(pair: SessionPair) -> None:
    pair.bind()
    pair.esme.unbind(0.0)
    pair.smsc.unbind(0.0)
    assert pair.to_smsc() == [Unbound(by_peer=True, acknowledged=True)]
    assert pair.to_esme() == [Unbound(by_peer=True, acknowledged=True)]
    assert pair.esme.closed and pair.smsc.closed
    # The late unbind_resps reach closed sessions and are ignored.
    assert pair.to_smsc() == [] and pair.to_esme() == []


def test_while_unbinding_pending_answers_go_out_but_new_requests_do_not(
    pair: SessionPair,
) -> None:
    pair.bind()
    pair.smsc.send(DeliverSm(short_message=b"S"), 0.0)
    (received,) = pair.to_esme()
    assert isinstance(received, PduReceived)
    pair.esme.unbind(0.0)
    with pytest.raises(InvalidBindState, match="submit_sm in state UNBINDING"):
        pair.esme.submit(SubmitSm(), 0.0)
    pair.esme.respond(received.pdu)  # the answer to a message received before the unbind
    sent = pdus_in(pair.esme.data_to_send())
    assert [type(pdu) for pdu in sent] == [Unbind, DeliverSmResp]
    assert sent[1].sequence_number == received.pdu.sequence_number


def test_responding_on_a_closed_session_raises(pair: SessionPair) -> None:
    pair.bind()
    pair.smsc.send(DeliverSm(), 0.0)
    (received,) = pair.to_esme()
    assert isinstance(received, PduReceived)
    pair.smsc.unbind(0.0)
    pair.to_esme()
    with pytest.raises(InvalidBindState, match="CLOSED"):
        pair.esme.respond(received.pdu)
