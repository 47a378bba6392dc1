"""Every response with an error status keeps the body SMPP 3.4 gives it.

3.4 lets a bind_*_resp and a submit_sm_resp leave out their body when command_status
is not zero; every other response keeps its mandatory fields whatever the status
(deliver_sm_resp and data_sm_resp an empty, NUL-terminated message_id). The frames are
read by a strict reader written from the spec's tables, and by smpplib where it knows
the PDU.
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from typing import Any, cast

import pytest
import smpplib.smpp
from hypothesis import given
from hypothesis import strategies as st

from smsgw.smpp import encoders
from smsgw.smpp.codec import encode
from smsgw.smpp.constants import CommandStatus
from smsgw.smpp.errors import SmppError
from smsgw.smpp.pdu import (
    PDU_CLASSES,
    DataSmResp,
    DeliverSmResp,
    Pdu,
    QuerySmResp,
    SubmitMultiResp,
    SubmitSmResp,
)

_parse_pdu = cast(Callable[..., Any], smpplib.smpp.parse_pdu)


class _Client:
    """smpplib asks a client for sequence numbers while parsing; ours come from the PDU."""

    def next_sequence(self) -> int:
        return 1


def parse_pdu(frame: bytes) -> Any:
    return _parse_pdu(frame, client=_Client())


# The body of each response with its fields at their emptiest, as 3.4 lays them out.
MANDATORY_BODY: dict[str, bytes] = {
    "generic_nack": b"",
    "bind_receiver_resp": b"\0",  # system_id
    "bind_transmitter_resp": b"\0",
    "bind_transceiver_resp": b"\0",
    "unbind_resp": b"",
    "enquire_link_resp": b"",
    "submit_sm_resp": b"\0",  # message_id
    "deliver_sm_resp": b"\0",  # message_id, unused: NULL
    "data_sm_resp": b"\0",  # message_id
    "submit_multi_resp": b"\0\0",  # message_id, no_unsuccess
    "query_sm_resp": b"\0\0\0\0",  # message_id, final_date, message_state, error_code
    "cancel_sm_resp": b"",
    "replace_sm_resp": b"",
}
# "The ... PDU body is not returned if the command_status field contains a non-zero value"
MAY_DROP_BODY = {
    "bind_receiver_resp",
    "bind_transmitter_resp",
    "bind_transceiver_resp",
    "submit_sm_resp",
}
RESPONSES = sorted(
    (cls for cls in PDU_CLASSES.values() if cls.command_id & 0x80000000),
    key=lambda cls: cls.command_id,
)
ERRORS = [status for status in CommandStatus if status != CommandStatus.ESME_ROK]


def _name(cls: type[Pdu]) -> str:
    return cls.command_id.name.lower()


def strict_read(frame: bytes) -> tuple[int, int, int, bytes]:
    """(command_id, status, sequence, body), refusing a length that does not add up."""
    assert len(frame) >= 16, "shorter than a header"
    length, command_id, status, sequence = struct.unpack(">IIII", frame[:16])
    assert length == len(frame), f"command_length {length} for {len(frame)} octets"
    assert 1 <= sequence <= 0x7FFFFFFF
    return command_id, status, sequence, frame[16:]


def test_every_response_class_is_in_the_table() -> None:
    assert {_name(cls) for cls in RESPONSES} == set(MANDATORY_BODY)


@pytest.mark.parametrize("cls", RESPONSES, ids=_name)
@pytest.mark.parametrize(
    "status", [CommandStatus.ESME_RX_T_APPN, CommandStatus.ESME_RINVBNDSTS, 0x400]
)
def test_an_error_response_keeps_the_body_3_4_requires(cls: type[Pdu], status: int) -> None:
    command_id, read_status, sequence, body = strict_read(encode(cls(9, status)))
    assert (command_id, read_status, sequence) == (cls.command_id, status, 9)
    if _name(cls) in MAY_DROP_BODY:
        assert body in (b"", MANDATORY_BODY[_name(cls)])
    else:
        assert body == MANDATORY_BODY[_name(cls)]


@given(status=st.sampled_from(ERRORS), sequence=st.integers(1, 0x7FFFFFFF))
def test_deliver_sm_resp_and_data_sm_resp_carry_an_empty_message_id(
    status: int, sequence: int
) -> None:
    for cls in (DeliverSmResp, DataSmResp):
        frame = encode(cls(sequence, status))
        assert strict_read(frame)[3] == b"\0"
        parsed = parse_pdu(frame)  # smpplib, an independent reader
        assert (parsed.status, parsed.sequence, parsed.message_id) == (status, sequence, b"")


@pytest.mark.parametrize("cls", [DeliverSmResp, DataSmResp, SubmitSmResp, QuerySmResp])
def test_smpplib_reads_our_error_responses(cls: type[Pdu]) -> None:
    frame = encode(cls(77, CommandStatus.ESME_RSYSERR))
    parsed = parse_pdu(frame)
    assert parsed.length == len(frame)
    assert (parsed.status, parsed.sequence) == (CommandStatus.ESME_RSYSERR, 77)


def test_a_submit_sm_resp_on_error_may_be_just_the_header() -> None:
    # 3.4 section 4.4.2: its body is not returned on error (what most SMSCs do)
    assert len(encode(SubmitSmResp(3, CommandStatus.ESME_RTHROTTLED))) == 16


def test_submit_multi_resp_on_error_keeps_its_body() -> None:
    frame = encode(SubmitMultiResp(3, CommandStatus.ESME_RSUBMITFAIL))
    assert strict_read(frame)[3] == b"\0\0"


def test_the_codec_refuses_a_bodiless_deliver_sm_resp(monkeypatch: pytest.MonkeyPatch) -> None:
    def header_only(pdu: Pdu) -> bytes:
        return struct.pack(">IIII", 16, pdu.command_id, pdu.command_status, pdu.sequence_number)

    monkeypatch.setitem(encoders.ENCODERS, DeliverSmResp, header_only)
    with pytest.raises(SmppError, match="must keep its body"):
        encode(DeliverSmResp(5, CommandStatus.ESME_RX_T_APPN))
    # an answer with ESME_ROK is checked by the field encoders, not this rule
    monkeypatch.setitem(encoders.ENCODERS, SubmitSmResp, header_only)
    assert len(encode(SubmitSmResp(5, CommandStatus.ESME_RTHROTTLED))) == 16
