"""Shared material for the SMPP codec tests: hypothesis strategies and hand-made frames.

Not a test module itself (it holds no tests); the name keeps it inside the codec's files.
"""

from __future__ import annotations

import dataclasses
import struct

from hypothesis import strategies as st

from smsgw.smpp.constants import Tag
from smsgw.smpp.pdu import (
    PDU_CLASSES,
    AlertNotification,
    DataSm,
    DistributionList,
    Pdu,
    SmeAddress,
    UnsuccessSme,
)
from smsgw.smpp.tlv import TLV_LENGTHS

# Longest value, in characters, of each C-octet string field (the spec maximum minus NUL).
CSTRING_MAX = {
    "system_id": 15,
    "password": 8,
    "system_type": 12,
    "address_range": 40,
    "service_type": 5,
    "source_addr": 20,
    "destination_addr": 20,
    "message_id": 64,
    "dl_name": 20,
    "esme_addr": 64,
}
# data_sm and alert_notification allow 65-octet addresses.
WIDE_ADDRESS_CLASSES = (DataSm, AlertNotification)
TIME_FIELDS = ("schedule_delivery_time", "validity_period", "final_date")

latin1_char = st.characters(min_codepoint=1, max_codepoint=255)
octet = st.integers(0, 255)
uint32 = st.integers(0, 0xFFFFFFFF)


def cstring(max_chars: int) -> st.SearchStrategy[str]:
    return st.text(alphabet=latin1_char, max_size=max_chars)


time_field = st.one_of(st.just(""), st.text(alphabet=latin1_char, min_size=16, max_size=16))


def tlv_value(tag: int) -> st.SearchStrategy[bytes]:
    low, high = TLV_LENGTHS.get(tag, (0, 40))
    return st.binary(min_size=low, max_size=min(high, 40))


known_tag = st.sampled_from(sorted(TLV_LENGTHS))
unknown_tag = st.integers(0x1400, 0x3FFF)  # the vendor-specific range


@st.composite
def tlv_dicts(draw: st.DrawFn) -> dict[int, bytes]:
    tags = draw(st.lists(st.one_of(known_tag, unknown_tag), max_size=4, unique=True))
    return {int(tag): draw(tlv_value(tag)) for tag in tags}


sme_address = st.builds(SmeAddress, octet, octet, cstring(20))
distribution_list = st.builds(DistributionList, cstring(20))
unsuccess_sme = st.builds(UnsuccessSme, octet, octet, cstring(20), uint32)


def field_strategy(cls: type[Pdu], field: dataclasses.Field[object]) -> st.SearchStrategy[object]:
    name, kind = field.name, field.type
    if name in ("sequence_number", "command_status"):
        return uint32
    if name in TIME_FIELDS:
        return time_field
    if kind == "str":
        wide = cls in WIDE_ADDRESS_CLASSES and name in ("source_addr", "destination_addr")
        return cstring(64 if wide else CSTRING_MAX[name])
    if kind == "int":
        return octet
    if kind == "bytes":
        return st.binary(max_size=254)
    if name == "tlvs":
        return tlv_dicts()
    if name == "dest_addresses":
        return st.lists(st.one_of(sme_address, distribution_list), min_size=1, max_size=4)
    if name == "unsuccess_smes":
        return st.lists(unsuccess_sme, max_size=4)
    raise AssertionError(f"no strategy for {cls.__name__}.{name}: {kind}")


def pdus(cls: type[Pdu]) -> st.SearchStrategy[Pdu]:
    fields = {f.name: field_strategy(cls, f) for f in dataclasses.fields(cls)}
    return st.builds(cls, **fields)


any_pdu = st.one_of([pdus(cls) for cls in PDU_CLASSES.values()])


def frame(command_id: int, body_hex: str, status: int = 0, sequence: int = 1) -> bytes:
    """A frame built by hand: header (length computed here) + the body given in hex."""
    body = bytes.fromhex(body_hex.replace(" ", ""))
    return struct.pack(">IIII", 16 + len(body), command_id, status, sequence) + body


def cstr(text: str) -> str:
    """Hex of a C-octet string."""
    return text.encode("latin-1").hex() + "00"


def tlv(tag: int, value_hex: str) -> str:
    value = bytes.fromhex(value_hex.replace(" ", ""))
    return f"{tag:04x}{len(value):04x}{value.hex()}"


__all__ = ["Tag", "any_pdu", "cstr", "frame", "pdus", "tlv"]
