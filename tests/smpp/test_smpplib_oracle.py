"""smpplib as a byte oracle: for the PDUs it supports, its encoding equals ours."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any, cast

import pytest
import smpplib.command
import smpplib.smpp
from hypothesis import given, settings
from hypothesis import strategies as st

from smsgw.smpp.codec import decode, encode
from smsgw.smpp.constants import Tag
from smsgw.smpp.pdu import PDU_CLASSES, Pdu

EXAMPLES = settings(max_examples=40, deadline=None)
make_pdu = cast(Callable[..., Any], smpplib.smpp.make_pdu)
parse_pdu = cast(Callable[..., Any], smpplib.smpp.parse_pdu)

latin1 = st.characters(min_codepoint=1, max_codepoint=255)
ascii_ = st.characters(min_codepoint=0x21, max_codepoint=0x7E)
octet = st.integers(0, 255)


class _Client:
    """smpplib asks its client for sequence numbers; ours come from the PDU."""

    sequence = 1

    def next_sequence(self) -> int:
        return self.sequence


def text(max_chars: int) -> st.SearchStrategy[str]:
    return st.text(alphabet=latin1, max_size=max_chars)


time_field = st.one_of(st.just(""), st.text(alphabet=ascii_, min_size=16, max_size=16))

MANDATORY: dict[str, dict[str, st.SearchStrategy[Any]]] = {
    "bind": {
        "system_id": text(15),
        "password": text(8),
        "system_type": text(12),
        "interface_version": octet,
        "addr_ton": octet,
        "addr_npi": octet,
        "address_range": text(40),
    },
    "bind_resp": {"system_id": text(15)},
    "short_message": {
        "service_type": text(5),
        "source_addr_ton": octet,
        "source_addr_npi": octet,
        "source_addr": text(20),
        "dest_addr_ton": octet,
        "dest_addr_npi": octet,
        "destination_addr": text(20),
        "esm_class": octet,
        "protocol_id": octet,
        "priority_flag": octet,
        "schedule_delivery_time": time_field,
        "validity_period": time_field,
        "registered_delivery": octet,
        "replace_if_present_flag": octet,
        "data_coding": octet,
        "sm_default_msg_id": octet,
        "short_message": st.binary(max_size=254),
    },
    "message_id": {"message_id": text(64)},
    "query_sm": {
        "message_id": st.text(alphabet=latin1, min_size=1, max_size=64),
        "source_addr_ton": octet,
        "source_addr_npi": octet,
        "source_addr": text(20),
    },
    "query_sm_resp": {
        "message_id": text(64),
        "final_date": time_field,
        "message_state": octet,
        "error_code": octet,
    },
    "empty": {},
}

# Optional parameters we let smpplib write, by command; smpplib orders them itself.
OPTIONAL: dict[str, dict[str, st.SearchStrategy[Any]]] = {
    "submit_sm": {
        "user_message_reference": st.integers(0, 0xFFFF),
        "source_port": st.integers(0, 0xFFFF),
        "destination_port": st.integers(0, 0xFFFF),
        "sar_msg_ref_num": st.integers(0, 0xFFFF),
        "sar_total_segments": octet,
        "sar_segment_seqnum": octet,
        "payload_type": octet,
        "language_indicator": octet,
    },
    "deliver_sm": {
        "user_message_reference": st.integers(0, 0xFFFF),
        "sar_msg_ref_num": st.integers(0, 0xFFFF),
        "sar_total_segments": octet,
        "sar_segment_seqnum": octet,
        "network_error_code": st.binary(min_size=3, max_size=3),
        "message_state": st.integers(1, 8),
        "receipted_message_id": st.text(alphabet=ascii_, min_size=1, max_size=64),
    },
    "bind_transmitter_resp": {"sc_interface_version": octet},
    "bind_receiver_resp": {"sc_interface_version": octet},
    "bind_transceiver_resp": {"sc_interface_version": octet},
}

COMMANDS = {
    "bind_transmitter": "bind",
    "bind_receiver": "bind",
    "bind_transceiver": "bind",
    "bind_transmitter_resp": "bind_resp",
    "bind_receiver_resp": "bind_resp",
    "bind_transceiver_resp": "bind_resp",
    "submit_sm": "short_message",
    "deliver_sm": "short_message",
    "submit_sm_resp": "message_id",
    "deliver_sm_resp": "message_id",
    "query_sm": "query_sm",
    "query_sm_resp": "query_sm_resp",
    "generic_nack": "empty",
    "enquire_link": "empty",
    "enquire_link_resp": "empty",
    "unbind": "empty",
    "unbind_resp": "empty",
}


def _our_class(command: str) -> type[Pdu]:
    by_name = {cls.command_id.name.lower(): cls for cls in PDU_CLASSES.values()}
    return by_name[command]


def _tlv_value(their: Any, name: str, value: Any) -> bytes:
    param = their.params[name]
    if param.type is int:
        return int(value).to_bytes(param.size, "big")
    if param.type is str:
        return str(value).encode("ascii") + b"\0"
    return bytes(value)


def _both(command: str, fields: dict[str, Any], optional: dict[str, Any]) -> tuple[Pdu, Any]:
    their = make_pdu(command, client=_Client())
    for name, value in fields.items():
        setattr(their, name, value)
    their.sequence = fields["sequence_number"]
    their.status = 0
    for name, value in optional.items():
        setattr(their, name, value)
    tlvs = {
        int(Tag[name.upper()]): _tlv_value(their, name, optional[name])
        for name in their.params_order
        if name in optional
    }
    cls = _our_class(command)
    if "tlvs" in {field.name for field in dataclasses.fields(cls)}:
        fields = {**fields, "tlvs": tlvs}
    return cls(**fields), their


@st.composite
def cases(draw: st.DrawFn, command: str) -> tuple[str, Pdu, Any]:
    fields = {name: draw(strategy) for name, strategy in MANDATORY[COMMANDS[command]].items()}
    fields["sequence_number"] = draw(st.integers(1, 0x7FFFFFFF))
    chosen = draw(st.sets(st.sampled_from(sorted(OPTIONAL.get(command, {}) or {""}))))
    optional = {name: draw(OPTIONAL[command][name]) for name in chosen if name}
    ours, theirs = _both(command, fields, optional)
    return command, ours, theirs


@pytest.mark.parametrize("command", sorted(COMMANDS))
@EXAMPLES
@given(data=st.data())
def test_our_encoding_equals_smpplibs(command: str, data: st.DataObject) -> None:
    _, ours, theirs = data.draw(cases(command))
    assert encode(ours).hex() == theirs.generate().hex()


@pytest.mark.parametrize("command", sorted(COMMANDS))
@EXAMPLES
@given(data=st.data())
def test_smpplib_reads_back_our_mandatory_fields(command: str, data: st.DataObject) -> None:
    _, ours, _ = data.draw(cases(command))
    parsed = parse_pdu(encode(ours), client=_Client())
    assert parsed.command == command
    assert parsed.sequence == ours.sequence_number
    for name in MANDATORY[COMMANDS[command]]:
        value = getattr(ours, name)
        expected = value.encode("latin-1") if isinstance(value, str) else value
        if name == "short_message" and not value:
            continue  # smpplib leaves an empty short_message as None
        assert getattr(parsed, name) == expected, name


@pytest.mark.parametrize("command", ["submit_sm", "deliver_sm"])
def test_we_decode_what_smpplib_writes_with_optional_parameters(command: str) -> None:
    theirs = make_pdu(command, client=_Client())
    for name in MANDATORY["short_message"]:
        setattr(theirs, name, 0 if theirs.params[name].type is int else "")
    theirs.source_addr, theirs.destination_addr = "7757", "79001234567"
    theirs.short_message = b"1001*A123BC77*2"
    theirs.sar_msg_ref_num, theirs.sar_total_segments, theirs.sar_segment_seqnum = 513, 3, 2
    ours = decode(theirs.generate())
    assert ours.short_message == b"1001*A123BC77*2"  # type: ignore[attr-defined]
    assert ours.tlvs == {  # type: ignore[attr-defined]
        Tag.SAR_MSG_REF_NUM: b"\x02\x01",
        Tag.SAR_TOTAL_SEGMENTS: b"\x03",
        Tag.SAR_SEGMENT_SEQNUM: b"\x02",
    }
