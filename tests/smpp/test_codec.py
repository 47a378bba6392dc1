"""The codec against frames written by hand from the SMPP 3.4 layouts, both ways."""

from __future__ import annotations

import pytest

from smsgw.smpp.codec import decode, encode
from smsgw.smpp.constants import CommandId, CommandStatus, Tag
from smsgw.smpp.pdu import (
    PDU_CLASSES,
    AlertNotification,
    BindReceiver,
    BindReceiverResp,
    BindTransceiver,
    BindTransceiverResp,
    BindTransmitter,
    BindTransmitterResp,
    CancelSm,
    CancelSmResp,
    DataSm,
    DataSmResp,
    DeliverSm,
    DeliverSmResp,
    DistributionList,
    EnquireLink,
    EnquireLinkResp,
    GenericNack,
    Outbind,
    Pdu,
    QuerySm,
    QuerySmResp,
    ReplaceSm,
    ReplaceSmResp,
    SmeAddress,
    SubmitMulti,
    SubmitMultiResp,
    SubmitSm,
    SubmitSmResp,
    Unbind,
    UnbindResp,
    UnsuccessSme,
)
from tests.smpp.test_codec_support import cstr, frame, tlv

C = CommandId
PHONE = "79001234567"
SHORT = "7757"
RECEIPT = "id:1 stat:DELIVRD"

# (PDU, its frame) for every PDU type; frames are spelled out field by field.
TABLE: list[tuple[Pdu, bytes]] = [
    (GenericNack(1, CommandStatus.ESME_RINVCMDID), frame(C.GENERIC_NACK, "", status=3)),
    (
        BindTransmitter(1, system_id="smsgw", password="secret"),
        frame(C.BIND_TRANSMITTER, cstr("smsgw") + cstr("secret") + "00" + "34 00 00" + "00"),
    ),
    (
        BindReceiver(7, system_id="smsgw", password="pw", system_type="VMA"),
        frame(
            C.BIND_RECEIVER,
            cstr("smsgw") + cstr("pw") + cstr("VMA") + "34 00 00" + "00",
            sequence=7,
        ),
    ),
    (
        BindTransceiver(
            2, system_id="smsgw", password="pw", addr_ton=1, addr_npi=1, address_range="7757"
        ),
        frame(
            C.BIND_TRANSCEIVER,
            cstr("smsgw") + cstr("pw") + "00" + "34 01 01" + cstr("7757"),
            sequence=2,
        ),
    ),
    (
        BindTransmitterResp(1, system_id="SMSC", tlvs={Tag.SC_INTERFACE_VERSION: b"\x34"}),
        frame(C.BIND_TRANSMITTER_RESP, cstr("SMSC") + tlv(0x0210, "34")),
    ),
    (BindReceiverResp(1, system_id="SMSC"), frame(C.BIND_RECEIVER_RESP, cstr("SMSC"))),
    (
        BindTransceiverResp(1, CommandStatus.ESME_RINVPASWD),
        frame(C.BIND_TRANSCEIVER_RESP, "00", status=0x0E),
    ),
    (Outbind(1, system_id="SMSC", password="pw"), frame(C.OUTBIND, cstr("SMSC") + cstr("pw"))),
    (Unbind(3), frame(C.UNBIND, "", sequence=3)),
    (UnbindResp(3), frame(C.UNBIND_RESP, "", sequence=3)),
    (EnquireLink(0x7FFFFFFF), frame(C.ENQUIRE_LINK, "", sequence=0x7FFFFFFF)),
    (EnquireLinkResp(9), frame(C.ENQUIRE_LINK_RESP, "", sequence=9)),
    (
        SubmitSm(
            2,
            source_addr_ton=5,
            source_addr=SHORT,
            dest_addr_ton=1,
            dest_addr_npi=1,
            destination_addr=PHONE,
            registered_delivery=1,
            data_coding=8,
            short_message="Hi".encode("utf-16-be"),
        ),
        frame(
            C.SUBMIT_SM,
            "00 05 00" + cstr(SHORT) + "01 01" + cstr(PHONE) + "00 00 00" + "00" + "00"
            "01 00 08 00 04 0048 0069",
            sequence=2,
        ),
    ),
    (
        SubmitSm(
            3,
            service_type="CMT",
            destination_addr=PHONE,
            esm_class=0x40,
            priority_flag=1,
            schedule_delivery_time="261122031200000+",
            validity_period="000001000000000R",
            tlvs={Tag.SAR_MSG_REF_NUM: b"\x01\x02", Tag.MESSAGE_PAYLOAD: b"hello"},
        ),
        frame(
            C.SUBMIT_SM,
            cstr("CMT")
            + "00 00 00"
            + "00 00"
            + cstr(PHONE)
            + "40 00 01"
            + cstr("261122031200000+")
            + cstr("000001000000000R")
            + "00 00 00 00 00"
            + tlv(0x020C, "0102")
            + tlv(0x0424, b"hello".hex()),
            sequence=3,
        ),
    ),
    (
        DeliverSm(
            4,
            source_addr_ton=1,
            source_addr_npi=1,
            source_addr=PHONE,
            destination_addr=SHORT,
            esm_class=0x04,
            short_message=RECEIPT.encode(),
            tlvs={Tag.RECEIPTED_MESSAGE_ID: b"1\0", Tag.MESSAGE_STATE: b"\x02"},
        ),
        frame(
            C.DELIVER_SM,
            "00 01 01"
            + cstr(PHONE)
            + "00 00"
            + cstr(SHORT)
            + "04 00 00"
            + "00 00"
            + "00 00 00 00"
            + f"{len(RECEIPT):02x}"
            + RECEIPT.encode().hex()
            + tlv(0x001E, "3100")
            + tlv(0x0427, "02"),
            sequence=4,
        ),
    ),
    (SubmitSmResp(2, message_id="abc123"), frame(C.SUBMIT_SM_RESP, cstr("abc123"), sequence=2)),
    (
        SubmitSmResp(2, CommandStatus.ESME_RTHROTTLED),
        frame(C.SUBMIT_SM_RESP, "", status=0x58, sequence=2),
    ),
    (DeliverSmResp(4), frame(C.DELIVER_SM_RESP, "00", sequence=4)),
    (
        DeliverSmResp(4, CommandStatus.ESME_RX_T_APPN),
        frame(C.DELIVER_SM_RESP, "00", status=0x64, sequence=4),
    ),
    (
        DataSm(
            5,
            source_addr_ton=1,
            source_addr_npi=1,
            source_addr=PHONE,
            destination_addr=SHORT,
            data_coding=3,
            tlvs={Tag.MESSAGE_PAYLOAD: b"S*A123BC77"},
        ),
        frame(
            C.DATA_SM,
            "00 01 01"
            + cstr(PHONE)
            + "00 00"
            + cstr(SHORT)
            + "00 00 03"
            + tlv(0x0424, b"S*A123BC77".hex()),
            sequence=5,
        ),
    ),
    (DataSmResp(5, message_id="m1"), frame(C.DATA_SM_RESP, cstr("m1"), sequence=5)),
    (
        DataSmResp(5, 0x45, tlvs={Tag.DELIVERY_FAILURE_REASON: b"\x01"}),
        frame(C.DATA_SM_RESP, "00" + tlv(0x0425, "01"), status=0x45, sequence=5),
    ),
    (
        SubmitMulti(
            6,
            source_addr=SHORT,
            dest_addresses=[SmeAddress(1, 1, PHONE), DistributionList("friends")],
            short_message=b"hi",
        ),
        frame(
            C.SUBMIT_MULTI,
            "00 00 00"
            + cstr(SHORT)
            + "02"
            + "01 01 01"
            + cstr(PHONE)
            + "02"
            + cstr("friends")
            + "00 00 00 00 00 00 00 00 00"
            + "02 6869",
            sequence=6,
        ),
    ),
    (
        SubmitMultiResp(6, message_id="m9", unsuccess_smes=[UnsuccessSme(1, 1, PHONE, 0x0B)]),
        frame(
            C.SUBMIT_MULTI_RESP,
            cstr("m9") + "01" + "01 01" + cstr(PHONE) + "0000000b",
            sequence=6,
        ),
    ),
    (
        QuerySm(7, message_id="m9", source_addr_ton=5, source_addr=SHORT),
        frame(C.QUERY_SM, cstr("m9") + "05 00" + cstr(SHORT), sequence=7),
    ),
    (
        QuerySmResp(7, message_id="m9", final_date="261122031200000+", message_state=2),
        frame(C.QUERY_SM_RESP, cstr("m9") + cstr("261122031200000+") + "02 00", sequence=7),
    ),
    (
        CancelSm(
            8,
            message_id="m9",
            source_addr_ton=5,
            source_addr=SHORT,
            dest_addr_ton=1,
            dest_addr_npi=1,
            destination_addr=PHONE,
        ),
        frame(
            C.CANCEL_SM,
            "00" + cstr("m9") + "05 00" + cstr(SHORT) + "01 01" + cstr(PHONE),
            sequence=8,
        ),
    ),
    (CancelSmResp(8), frame(C.CANCEL_SM_RESP, "", sequence=8)),
    (
        ReplaceSm(
            9,
            message_id="m9",
            source_addr_ton=5,
            source_addr=SHORT,
            validity_period="000001000000000R",
            registered_delivery=1,
            short_message=b"new",
        ),
        frame(
            C.REPLACE_SM,
            cstr("m9")
            + "05 00"
            + cstr(SHORT)
            + "00"
            + cstr("000001000000000R")
            + "01 00"
            + "03"
            + b"new".hex(),
            sequence=9,
        ),
    ),
    (ReplaceSmResp(9), frame(C.REPLACE_SM_RESP, "", sequence=9)),
    (
        AlertNotification(
            10,
            source_addr_ton=1,
            source_addr_npi=1,
            source_addr=PHONE,
            esme_addr_ton=5,
            esme_addr=SHORT,
            tlvs={Tag.MS_AVAILABILITY_STATUS: b"\x00"},
        ),
        frame(
            C.ALERT_NOTIFICATION,
            "01 01" + cstr(PHONE) + "05 00" + cstr(SHORT) + tlv(0x0422, "00"),
            sequence=10,
        ),
    ),
]


def _name(case: tuple[Pdu, bytes]) -> str:
    return type(case[0]).__name__


@pytest.mark.parametrize(("pdu", "wire"), TABLE, ids=[_name(case) for case in TABLE])
def test_encode_matches_the_hand_made_frame(pdu: Pdu, wire: bytes) -> None:
    assert encode(pdu).hex() == wire.hex()


@pytest.mark.parametrize(("pdu", "wire"), TABLE, ids=[_name(case) for case in TABLE])
def test_decode_of_the_hand_made_frame_gives_the_pdu(pdu: Pdu, wire: bytes) -> None:
    assert decode(wire) == pdu


def test_the_table_covers_every_pdu_class() -> None:
    assert {type(pdu) for pdu, _ in TABLE} == set(PDU_CLASSES.values())


def test_submit_sm_defaults_from_the_brief() -> None:
    pdu = SubmitSm(destination_addr=PHONE)
    assert decode(encode(pdu)) == pdu
    assert pdu.short_message == b""
    assert pdu.tlvs == {}


def test_unknown_tlvs_survive_a_round_trip_byte_for_byte() -> None:
    wire = frame(
        C.DELIVER_SM,
        "00 00 00"
        + cstr(PHONE)
        + "00 00"
        + cstr(SHORT)
        + "00 00 00 00 00 00 00 00 00 00"
        + tlv(0x1401, "deadbeef")
        + tlv(0x0427, "02")
        + tlv(0x3FFF, ""),
    )
    pdu = decode(wire)
    assert isinstance(pdu, DeliverSm)
    assert list(pdu.tlvs) == [0x1401, Tag.MESSAGE_STATE, 0x3FFF]
    assert encode(pdu) == wire


@pytest.mark.parametrize(
    "cls", [BindTransmitterResp, SubmitSmResp, DeliverSmResp, DataSmResp, QuerySmResp]
)
def test_an_error_response_without_body_decodes_to_defaults(cls: type[Pdu]) -> None:
    pdu = decode(frame(cls.command_id, "", status=0x08, sequence=11))
    assert pdu == cls(11, CommandStatus.ESME_RSYSERR)


def test_an_error_response_with_a_message_id_keeps_its_body() -> None:
    pdu = SubmitSmResp(2, CommandStatus.ESME_RSUBMITFAIL, message_id="x")
    assert encode(pdu) == frame(C.SUBMIT_SM_RESP, cstr("x"), status=0x45, sequence=2)


def test_a_successful_response_needs_its_body() -> None:
    with pytest.raises(Exception) as caught:
        decode(frame(C.SUBMIT_SM_RESP, ""))
    assert getattr(caught.value, "command_status", None) == CommandStatus.ESME_RINVCMDLEN


def test_decode_accepts_a_bytearray() -> None:
    pdu, wire = TABLE[12]
    decoded = decode(bytearray(wire))  # type: ignore[arg-type]
    assert decoded == pdu
    assert type(decoded.short_message) is bytes  # type: ignore[attr-defined]
