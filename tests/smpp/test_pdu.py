"""The PDU data model: lookups, responses, errors and TLV helpers."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from smsgw.smpp import errors, tlv
from smsgw.smpp.constants import CommandId, CommandStatus, MessageState, Tag
from smsgw.smpp.pdu import (
    PDU_CLASSES,
    REQUEST_TO_RESPONSE,
    AlertNotification,
    BindTransceiver,
    BindTransceiverResp,
    DeliverSm,
    DeliverSmResp,
    EnquireLink,
    GenericNack,
    Outbind,
    SubmitSm,
    SubmitSmResp,
    error_response,
    is_response,
    make_response,
)


def test_every_command_id_has_a_class_and_back() -> None:
    assert set(PDU_CLASSES) == set(CommandId)
    for command_id, cls in PDU_CLASSES.items():
        assert cls.command_id == command_id


def test_every_request_with_a_response_maps_to_the_response_class() -> None:
    for request_id, response_class in REQUEST_TO_RESPONSE.items():
        assert not is_response(request_id)
        assert response_class.command_id == request_id | 0x80000000
    requests = {cid for cid in CommandId if not is_response(cid)}
    assert requests - set(REQUEST_TO_RESPONSE) == {CommandId.OUTBIND, CommandId.ALERT_NOTIFICATION}


@pytest.mark.parametrize("command_id", list(CommandId))
def test_is_response_reads_the_top_bit(command_id: CommandId) -> None:
    assert is_response(command_id) == command_id.name.endswith(("_RESP", "_NACK"))


def test_make_response_copies_the_sequence_number() -> None:
    request = SubmitSm(sequence_number=77, destination_addr="79001234567")
    response = make_response(request, message_id="m1")
    assert response == SubmitSmResp(77, 0, "m1")
    refused = make_response(DeliverSm(sequence_number=5), CommandStatus.ESME_RX_T_APPN)
    assert refused == DeliverSmResp(5, CommandStatus.ESME_RX_T_APPN)


def test_make_response_refuses_a_request_without_response() -> None:
    with pytest.raises(errors.InvalidCommandId):
        make_response(Outbind())
    with pytest.raises(errors.InvalidCommandId):
        make_response(AlertNotification())


def test_error_response_answers_a_known_request_with_its_own_response() -> None:
    error = errors.InvalidDestinationAddress("too long")
    error.sequence_number, error.command_id = 9, CommandId.BIND_TRANSCEIVER
    assert error_response(error) == BindTransceiverResp(9, CommandStatus.ESME_RINVDSTADR)


@pytest.mark.parametrize("command_id", [None, 0x99, CommandId.SUBMIT_SM_RESP, CommandId.OUTBIND])
def test_error_response_falls_back_to_generic_nack(command_id: int | None) -> None:
    error = errors.InvalidCommandLength("short")
    error.sequence_number, error.command_id = 4, command_id
    assert error_response(error) == GenericNack(4, CommandStatus.ESME_RINVCMDLEN)


def test_errors_carry_their_status_as_a_class_attribute() -> None:
    assert errors.InvalidCommandLength.command_status == 0x02
    assert errors.InvalidOptionalParameterStream.command_status == 0xC0
    assert errors.InvalidParameterLength.command_status == 0xC2
    assert errors.InvalidParameterValue.command_status == 0xC4
    assert errors.IncorrectBindStatus.command_status == 0x04
    assert errors.MessageQueueFull.command_status == 0x14
    assert errors.SmppError.command_status == 0xFF
    fresh = errors.SmppError("x")
    assert fresh.sequence_number is None and fresh.command_id is None


def test_each_error_class_answers_with_its_own_status() -> None:
    classes = [
        value
        for value in vars(errors).values()
        if isinstance(value, type) and issubclass(value, errors.SmppError)
    ]
    statuses = [cls.command_status for cls in classes]
    assert len(statuses) == len(set(statuses))
    assert CommandStatus.ESME_ROK not in statuses


def test_every_error_class_is_raised_by_the_codec_or_the_session() -> None:
    """No dead classes: each one is named somewhere in the SMPP core besides errors.py."""
    root = Path(errors.__file__).parent
    raisers = "".join(
        path.read_text(encoding="utf-8") for path in root.glob("*.py") if path.name != "errors.py"
    )
    names = [
        name
        for name, value in vars(errors).items()
        if isinstance(value, type) and issubclass(value, errors.SmppError)
    ]
    unused = [name for name in names if name != "SmppError" and name not in raisers]
    assert unused == []


def test_defaults_make_independent_tlv_dicts() -> None:
    first, second = SubmitSm(), SubmitSm()
    first.tlvs[Tag.MESSAGE_STATE] = b"\x02"
    assert second.tlvs == {}
    assert BindTransceiver().interface_version == 0x34
    assert EnquireLink().sequence_number == 0


# --- tlv.py helpers ------------------------------------------------------------------


def test_int_and_cstring_accessors() -> None:
    tlvs: dict[int, bytes] = {}
    tlv.set_int(tlvs, Tag.SAR_MSG_REF_NUM, 0x1234)
    tlv.set_int(tlvs, Tag.MESSAGE_STATE, MessageState.DELIVERED)
    tlv.set_cstring(tlvs, Tag.RECEIPTED_MESSAGE_ID, "abc")
    assert tlvs == {0x020C: b"\x12\x34", 0x0427: b"\x02", 0x001E: b"abc\0"}
    assert tlv.get_int(tlvs, Tag.SAR_MSG_REF_NUM) == 0x1234
    assert tlv.get_cstring(tlvs, Tag.RECEIPTED_MESSAGE_ID) == "abc"
    assert tlv.get_int(tlvs, Tag.SAR_TOTAL_SEGMENTS) is None
    assert tlv.get_cstring(tlvs, Tag.ADDITIONAL_STATUS_INFO_TEXT) is None
    assert tlv.get_bytes(tlvs, Tag.MESSAGE_STATE) == b"\x02"


def test_get_cstring_tolerates_a_missing_nul() -> None:
    assert tlv.get_cstring({Tag.RECEIPTED_MESSAGE_ID: b"abc"}, Tag.RECEIPTED_MESSAGE_ID) == "abc"


def test_network_error_code_is_type_then_code() -> None:
    tlvs: dict[int, bytes] = {}
    tlv.set_network_error_code(tlvs, 3, 0x0102)
    assert tlvs[Tag.NETWORK_ERROR_CODE] == b"\x03\x01\x02"
    assert tlv.get_network_error_code(tlvs) == (3, 0x0102)
    assert tlv.get_network_error_code({}) is None
    with pytest.raises(errors.InvalidParameterValue):
        tlv.set_network_error_code(tlvs, 256, 0)


def test_setters_refuse_values_that_break_the_spec() -> None:
    tlvs: dict[int, bytes] = {}
    with pytest.raises(errors.InvalidParameterValue):
        tlv.set_int(tlvs, Tag.SAR_TOTAL_SEGMENTS, 256)
    with pytest.raises(errors.InvalidParameterValue):
        tlv.set_int(tlvs, 0x1400, 1)  # unknown tag: the size must be given
    with pytest.raises(errors.InvalidParameterLength):
        tlv.set_int(tlvs, Tag.MESSAGE_STATE, 1, size=2)
    with pytest.raises(errors.InvalidParameterLength):
        tlv.set_cstring(tlvs, Tag.RECEIPTED_MESSAGE_ID, "x" * 65)
    with pytest.raises(errors.InvalidParameterValue):
        tlv.set_cstring(tlvs, Tag.RECEIPTED_MESSAGE_ID, "a\0b")
    with pytest.raises(errors.InvalidParameterValue):
        tlv.set_cstring(tlvs, Tag.RECEIPTED_MESSAGE_ID, "ид")
    with pytest.raises(errors.InvalidParameterValue):
        tlv.set_bytes(tlvs, 0x10000, b"")
    assert tlvs == {}
    tlv.set_int(tlvs, 0x1400, 7, size=3)
    assert tlvs == {0x1400: b"\x00\x00\x07"}


@settings(max_examples=200, deadline=None)
@given(tag=st.integers(0, 0xFFFF), value=st.binary(max_size=300))
def test_tlv_stream_round_trip_or_typed_error(tag: int, value: bytes) -> None:
    try:
        wire = tlv.encode_tlvs({tag: value})
    except errors.InvalidParameterLength:
        low, high = tlv.TLV_LENGTHS[tag]
        assert not low <= len(value) <= high
        return
    assert wire[:4] == tag.to_bytes(2, "big") + len(value).to_bytes(2, "big")
    assert tlv.decode_tlvs(b"pad" + wire, 3) == {tag: value}
