"""Malformed frames and unencodable PDUs give a typed error with the status to answer."""

from __future__ import annotations

import pytest

from smsgw.smpp import errors
from smsgw.smpp.codec import decode, encode
from smsgw.smpp.constants import CommandId, CommandStatus, Tag
from smsgw.smpp.pdu import (
    BindTransmitter,
    DeliverSm,
    DistributionList,
    Pdu,
    QuerySmResp,
    SubmitMulti,
    SubmitMultiResp,
    SubmitSm,
    SubmitSmResp,
    UnsuccessSme,
)
from tests.smpp.test_codec_support import cstr, frame, tlv

C = CommandId
S = CommandStatus
PHONE = "79001234567"


def submit_body(
    service_type: str = cstr(""),
    source: str = cstr("7757"),
    destination: str = cstr(PHONE),
    schedule: str = "00",
    validity: str = "00",
    sm_length: str = "02",
    rest: str = "6869",
) -> str:
    return (
        service_type
        + "05 00"
        + source
        + "01 01"
        + destination
        + "00 00 00"
        + schedule
        + validity
        + "01 00 00 00"
        + sm_length
        + rest
    ).replace(" ", "")


def bind_body(
    system_id: str = cstr("smsgw"),
    password: str = cstr("pw"),
    system_type: str = cstr(""),
    address_range: str = cstr(""),
) -> str:
    return (system_id + password + system_type + "34 00 00" + address_range).replace(" ", "")


MALFORMED: list[tuple[str, bytes, int]] = [
    ("unknown command id", frame(0x00000099, ""), S.ESME_RINVCMDID),
    ("unknown response id", frame(0x80000099, ""), S.ESME_RINVCMDID),
    ("command_length below the frame", frame(C.ENQUIRE_LINK, "") + b"\0", S.ESME_RINVCMDLEN),
    ("command_length above the frame", frame(C.UNBIND, "00")[:16], S.ESME_RINVCMDLEN),
    ("enquire_link with a body", frame(C.ENQUIRE_LINK, "00"), S.ESME_RINVCMDLEN),
    ("submit_sm with no body", frame(C.SUBMIT_SM, ""), S.ESME_RINVCMDLEN),
    ("submit_sm cut after the addresses", frame(C.SUBMIT_SM, submit_body()[:44]), 0x02),
    ("service_type without NUL", frame(C.SUBMIT_SM, submit_body(cstr("CMTABC"))), 0x15),
    ("source_addr of 21", frame(C.SUBMIT_SM, submit_body(source=cstr("1" * 21))), 0x0A),
    ("destination_addr of 21", frame(C.SUBMIT_SM, submit_body(destination=cstr("1" * 21))), 0x0B),
    ("schedule of 10", frame(C.SUBMIT_SM, submit_body(schedule=cstr("2611220312"))), 0x61),
    ("validity of 17", frame(C.SUBMIT_SM, submit_body(validity=cstr("1" * 17))), 0x62),
    ("sm_length beyond the body", frame(C.SUBMIT_SM, submit_body(sm_length="03")), 0x01),
    ("sm_length of 255", frame(C.SUBMIT_SM, submit_body(sm_length="ff", rest="41" * 255)), 1),
    ("TLV header cut", frame(C.SUBMIT_SM, submit_body(rest="6869" + "0427")), 0xC0),
    ("TLV value cut", frame(C.SUBMIT_SM, submit_body(rest="6869" + "04240005" + "6869")), 0xC0),
    (
        "message_state of 2 octets",
        frame(C.SUBMIT_SM, submit_body(rest="6869" + tlv(0x0427, "0102"))),
        0xC2,
    ),
    (
        "sar_msg_ref_num of 1 octet",
        frame(C.DELIVER_SM, submit_body(rest="6869" + tlv(0x020C, "01"))),
        0xC2,
    ),
    (
        "receipted_message_id of 66",
        frame(C.DELIVER_SM, submit_body(rest="6869" + tlv(0x001E, "31" * 66))),
        0xC2,
    ),
    (
        "the same TLV twice",
        frame(C.SUBMIT_SM, submit_body(rest="6869" + tlv(0x0427, "01") + tlv(0x0427, "01"))),
        0xC0,
    ),
    ("system_id of 16", frame(C.BIND_TRANSMITTER, bind_body(cstr("s" * 16))), S.ESME_RINVSYSID),
    ("password of 9", frame(C.BIND_RECEIVER, bind_body(password=cstr("p" * 9))), S.ESME_RINVPASWD),
    ("system_type of 13", frame(C.BIND_TRANSCEIVER, bind_body(system_type=cstr("t" * 13))), 0x53),
    (
        "address_range of 41",
        frame(C.BIND_TRANSMITTER, bind_body(address_range=cstr("1" * 41))),
        0x0D,
    ),
    ("bind ending without NUL", frame(C.BIND_TRANSMITTER, bind_body(address_range="3737")), 0x02),
    ("bind with trailing octets", frame(C.BIND_TRANSMITTER, bind_body() + "00"), 0x02),
    ("bind_resp with a broken TLV", frame(C.BIND_TRANSMITTER_RESP, cstr("SMSC") + "02"), 0xC0),
    ("message_id of 65", frame(C.SUBMIT_SM_RESP, cstr("m" * 65)), S.ESME_RINVMSGID),
    ("message_id without NUL", frame(C.SUBMIT_SM_RESP, "6d31"), S.ESME_RINVCMDLEN),
    ("outbind password of 9", frame(C.OUTBIND, cstr("SMSC") + cstr("p" * 9)), 0x0E),
    (
        "submit_multi with no destination",
        frame(C.SUBMIT_MULTI, "00 00 00" + cstr("7757") + "00" + "00" * 9 + "00"),
        S.ESME_RINVNUMDESTS,
    ),
    (
        "submit_multi with dest_flag 3",
        frame(C.SUBMIT_MULTI, "00 00 00" + cstr("7757") + "01 03" + "00" * 9 + "00"),
        S.ESME_RINVDESTFLAG,
    ),
    (
        "distribution list name of 21",
        frame(C.SUBMIT_MULTI, "00 00 00" + cstr("7757") + "01 02" + cstr("d" * 21) + "00" * 10),
        S.ESME_RINVDLNAME,
    ),
    (
        "submit_multi_resp cut inside error_status_code",
        frame(C.SUBMIT_MULTI_RESP, cstr("m") + "01 01 01" + cstr(PHONE) + "000000"),
        S.ESME_RINVCMDLEN,
    ),
    (
        "query_sm_resp final_date of 5",
        frame(C.QUERY_SM_RESP, cstr("m") + cstr("26112") + "0200"),
        0xC2,
    ),
    ("query_sm with trailing octets", frame(C.QUERY_SM, cstr("m") + "00 00" + cstr("") + "00"), 2),
    ("cancel_sm cut", frame(C.CANCEL_SM, cstr("") + cstr("m") + "05"), S.ESME_RINVCMDLEN),
    (
        "replace_sm sm_length beyond",
        frame(C.REPLACE_SM, cstr("m") + "0000" + "00" * 3 + "0000" + "05" + "41"),
        1,
    ),
    (
        "data_sm source of 65",
        frame(C.DATA_SM, "00 01 01" + cstr("1" * 65) + "0000" + "00" * 4),
        0x0A,
    ),
    ("alert_notification cut", frame(C.ALERT_NOTIFICATION, "01"), S.ESME_RINVCMDLEN),
]


@pytest.mark.parametrize(
    ("wire", "status"), [case[1:] for case in MALFORMED], ids=[case[0] for case in MALFORMED]
)
def test_malformed_frame_raises_the_status_to_answer(wire: bytes, status: int) -> None:
    with pytest.raises(errors.SmppError) as caught:
        decode(wire)
    assert caught.value.command_status == status, str(caught.value)
    assert str(caught.value)  # the message says what was wrong
    if len(wire) >= 16:
        assert caught.value.sequence_number == int.from_bytes(wire[12:16], "big")
        assert caught.value.command_id == int.from_bytes(wire[4:8], "big")


@pytest.mark.parametrize("size", [0, 1, 4, 15])
def test_a_frame_shorter_than_a_header_is_an_invalid_command_length(size: int) -> None:
    with pytest.raises(errors.InvalidCommandLength) as caught:
        decode(frame(C.ENQUIRE_LINK, "")[:size])
    assert caught.value.sequence_number is None
    assert caught.value.command_id is None


UNENCODABLE: list[tuple[str, Pdu, type[errors.SmppError]]] = [
    ("source_addr of 21", SubmitSm(source_addr="1" * 21), errors.InvalidSourceAddress),
    (
        "destination_addr of 21",
        DeliverSm(destination_addr="1" * 21),
        errors.InvalidDestinationAddress,
    ),
    ("service_type of 6", SubmitSm(service_type="CMTABC"), errors.InvalidServiceType),
    (
        "NUL inside an address",
        SubmitSm(destination_addr="7900\x001"),
        errors.InvalidDestinationAddress,
    ),
    ("schedule of 3", SubmitSm(schedule_delivery_time="abc"), errors.InvalidScheduledDeliveryTime),
    ("validity of 17", SubmitSm(validity_period="1" * 17), errors.InvalidValidityPeriod),
    ("short_message of 255", SubmitSm(short_message=b"x" * 255), errors.InvalidMessageLength),
    ("non-latin-1 sender", SubmitSm(source_addr="Парковка"), errors.InvalidParameterValue),
    ("esm_class of 256", SubmitSm(esm_class=256), errors.InvalidParameterValue),
    ("negative data_coding", DeliverSm(data_coding=-1), errors.InvalidParameterValue),
    ("sequence above 32 bits", SubmitSm(sequence_number=2**32), errors.InvalidParameterValue),
    (
        "known TLV of wrong length",
        SubmitSm(tlvs={Tag.MESSAGE_STATE: b""}),
        errors.InvalidParameterLength,
    ),
    ("TLV tag above 16 bits", SubmitSm(tlvs={0x10000: b""}), errors.InvalidParameterValue),
    (
        "TLV value above 64 KiB",
        SubmitSm(tlvs={0x1400: bytes(0x10000)}),
        errors.InvalidParameterLength,
    ),
    ("system_id of 16", BindTransmitter(system_id="s" * 16), errors.InvalidSystemId),
    ("message_id of 65", SubmitSmResp(message_id="m" * 65), errors.InvalidMessageId),
    ("final_date of 5", QuerySmResp(final_date="26112"), errors.InvalidParameterLength),
    ("no destinations", SubmitMulti(), errors.InvalidNumberOfDestinations),
    (
        "long list name",
        SubmitMulti(dest_addresses=[DistributionList("d" * 21)]),
        errors.InvalidDistributionListName,
    ),
    (
        "256 unsuccess_smes",
        SubmitMultiResp(unsuccess_smes=[UnsuccessSme()] * 256),
        errors.InvalidParameterValue,
    ),
]


@pytest.mark.parametrize(
    ("pdu", "error"), [case[1:] for case in UNENCODABLE], ids=[case[0] for case in UNENCODABLE]
)
def test_encode_refuses_what_no_peer_could_decode(pdu: Pdu, error: type[errors.SmppError]) -> None:
    with pytest.raises(error):
        encode(pdu)


def test_encode_of_a_class_without_codec_is_an_invalid_command_id() -> None:
    with pytest.raises(errors.InvalidCommandId):
        encode(Pdu())
