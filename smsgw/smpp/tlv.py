"""Optional parameters (TLVs): the wire stream and typed access to `Pdu.tlvs`.

A PDU keeps its TLVs as `dict[int, bytes]`: tag to raw value, in wire order, unknown tags
included. The helpers here read and write those raw values as ints and strings; the
stream functions are what the codec uses.
"""

from __future__ import annotations

import struct
from typing import Final, NoReturn

from smsgw.smpp.constants import Tag
from smsgw.smpp.errors import (
    InvalidOptionalParameterStream,
    InvalidParameterLength,
    InvalidParameterValue,
)

# Allowed value length (min, max) of each standard tag, SMPP 3.4 section 5.3.2.
TLV_LENGTHS: Final[dict[int, tuple[int, int]]] = {
    Tag.DEST_ADDR_SUBUNIT: (1, 1),
    Tag.DEST_NETWORK_TYPE: (1, 1),
    Tag.DEST_BEARER_TYPE: (1, 1),
    Tag.DEST_TELEMATICS_ID: (2, 2),
    Tag.SOURCE_ADDR_SUBUNIT: (1, 1),
    Tag.SOURCE_NETWORK_TYPE: (1, 1),
    Tag.SOURCE_BEARER_TYPE: (1, 1),
    # The 3.4 text gives length 2 but a 1-octet value; implementations send either.
    Tag.SOURCE_TELEMATICS_ID: (1, 2),
    Tag.QOS_TIME_TO_LIVE: (4, 4),
    Tag.PAYLOAD_TYPE: (1, 1),
    Tag.ADDITIONAL_STATUS_INFO_TEXT: (1, 256),
    Tag.RECEIPTED_MESSAGE_ID: (1, 65),
    Tag.MS_MSG_WAIT_FACILITIES: (1, 1),
    Tag.PRIVACY_INDICATOR: (1, 1),
    Tag.SOURCE_SUBADDRESS: (2, 23),
    Tag.DEST_SUBADDRESS: (2, 23),
    Tag.USER_MESSAGE_REFERENCE: (2, 2),
    Tag.USER_RESPONSE_CODE: (1, 1),
    Tag.SOURCE_PORT: (2, 2),
    Tag.DESTINATION_PORT: (2, 2),
    Tag.SAR_MSG_REF_NUM: (2, 2),
    Tag.LANGUAGE_INDICATOR: (1, 1),
    Tag.SAR_TOTAL_SEGMENTS: (1, 1),
    Tag.SAR_SEGMENT_SEQNUM: (1, 1),
    Tag.SC_INTERFACE_VERSION: (1, 1),
    Tag.CALLBACK_NUM_PRES_IND: (1, 1),
    Tag.CALLBACK_NUM_ATAG: (0, 65),
    Tag.NUMBER_OF_MESSAGES: (1, 1),
    Tag.CALLBACK_NUM: (4, 19),
    Tag.DPF_RESULT: (1, 1),
    Tag.SET_DPF: (1, 1),
    Tag.MS_AVAILABILITY_STATUS: (1, 1),
    Tag.NETWORK_ERROR_CODE: (3, 3),
    Tag.MESSAGE_PAYLOAD: (0, 0xFFFF),
    Tag.DELIVERY_FAILURE_REASON: (1, 1),
    Tag.MORE_MESSAGES_TO_SEND: (1, 1),
    Tag.MESSAGE_STATE: (1, 1),
    Tag.USSD_SERVICE_OP: (1, 1),
    Tag.DISPLAY_TIME: (1, 1),
    Tag.SMS_SIGNAL: (2, 2),
    Tag.MS_VALIDITY: (1, 1),
    # Length 0 in 3.4; SMPP 5.0 adds a 1-octet form, which peers may already send.
    Tag.ALERT_ON_MESSAGE_DELIVERY: (0, 1),
    Tag.ITS_REPLY_TYPE: (1, 1),
    Tag.ITS_SESSION_INFO: (2, 2),
}

_TL = struct.Struct(">HH")
_pack_tl = _TL.pack
_unpack_tl = _TL.unpack_from
# Length ranges for a fast `length in range` test; unknown tags take any 16-bit length.
_LENGTH_RANGES: Final[dict[int, range]] = {
    tag: range(low, high + 1) for tag, (low, high) in TLV_LENGTHS.items()
}
_ANY_LENGTH: Final = range(0x10000)
_length_range = _LENGTH_RANGES.get


def _tag_name(tag: int) -> str:
    try:
        return Tag(tag).name
    except ValueError:
        return f"0x{tag:04X}"


def _reject_length(tag: int, length: int) -> NoReturn:
    bounds = _length_range(tag, _ANY_LENGTH)
    low, high = bounds[0], bounds[-1]
    expected = str(low) if low == high else f"{low}..{high}"
    raise InvalidParameterLength(f"TLV {_tag_name(tag)} has length {length}, expected {expected}")


def _check_length(tag: int, length: int) -> None:
    if length not in _length_range(tag, _ANY_LENGTH):
        _reject_length(tag, length)


# Wire header of every valid standard (tag, length) up to 256 octets, both ways: on the
# hot path one dict look-up validates and packs (or unpacks) a TLV header.
TLV_HEADER_OF: Final[dict[tuple[int, int], bytes]] = {
    (tag, length): _pack_tl(tag, length)
    for tag, (low, high) in TLV_LENGTHS.items()
    for length in range(low, min(high, 256) + 1)
}
_TAG_LENGTH_OF: Final[dict[bytes, tuple[int, int]]] = {
    header: key for key, header in TLV_HEADER_OF.items()
}
_header_of = TLV_HEADER_OF.get
_tag_length_of = _TAG_LENGTH_OF.get


def _read_other_header(frame: bytes, pos: int) -> tuple[int, int]:
    """A header not in the table: an unknown tag, a long value, or a malformation."""
    if len(frame) - pos < 4:
        raise InvalidOptionalParameterStream(
            f"TLV header truncated: {len(frame) - pos} octets left at offset {pos}"
        )
    tag, length = _unpack_tl(frame, pos)
    _check_length(tag, length)
    return tag, length


def tlv_header(tag: int, length: int) -> bytes:
    """The 4-octet header of a TLV; raises if the tag or length is not allowed."""
    if not 0 <= tag <= 0xFFFF:
        raise InvalidParameterValue(f"TLV tag {tag} does not fit 16 bits")
    if length > 0xFFFF:
        raise InvalidParameterLength(f"TLV {_tag_name(tag)} value of {length} octets")
    _check_length(tag, length)
    return _pack_tl(tag, length)


def decode_tlvs(frame: bytes, pos: int) -> dict[int, bytes]:
    """The TLVs from `pos` to the end of `frame`; raises on any malformation."""
    end = len(frame)
    tlvs: dict[int, bytes] = {}
    count = tag = length = 0
    while pos < end:
        start = pos + 4
        tag, length = _tag_length_of(frame[pos:start]) or _read_other_header(frame, pos)
        pos = start + length
        tlvs[tag] = frame[start:pos]
        count += 1
    if pos != end:
        raise InvalidOptionalParameterStream(
            f"TLV {_tag_name(tag)} length {length} runs {pos - end} octets past the end"
        )
    if len(tlvs) != count:
        # A repeated tag would be lost by the dict; the spec does not allow one.
        raise InvalidOptionalParameterStream("a TLV tag appears twice")
    return tlvs


def encode_tlvs(tlvs: dict[int, bytes]) -> bytes:
    """The wire form of `tlvs`, in dict order; raises on a value no peer could decode."""
    out = b""
    for tag, value in tlvs.items():
        header = _header_of((tag, len(value)))
        if header is None:
            header = tlv_header(tag, len(value))
        out += header + value
    return out


# --- typed access ---------------------------------------------------------------------


def get_bytes(tlvs: dict[int, bytes], tag: int) -> bytes | None:
    return tlvs.get(tag)


def get_int(tlvs: dict[int, bytes], tag: int) -> int | None:
    """A big-endian unsigned integer value, or None when the tag is absent."""
    value = tlvs.get(tag)
    return None if value is None else int.from_bytes(value, "big")


def get_cstring(tlvs: dict[int, bytes], tag: int) -> str | None:
    """A C-octet string value up to its first NUL (some SMSCs omit the NUL)."""
    value = tlvs.get(tag)
    if value is None:
        return None
    nul = value.find(0)
    return (value if nul < 0 else value[:nul]).decode("latin-1")


def get_network_error_code(tlvs: dict[int, bytes]) -> tuple[int, int] | None:
    """(network type, error code) from network_error_code: 1 octet then 2 octets."""
    value = tlvs.get(Tag.NETWORK_ERROR_CODE)
    if value is None or len(value) != 3:
        return None
    return value[0], int.from_bytes(value[1:], "big")


def set_bytes(tlvs: dict[int, bytes], tag: int, value: bytes) -> None:
    if not 0 <= tag <= 0xFFFF:
        raise InvalidParameterValue(f"TLV tag {tag} does not fit 16 bits")
    _check_length(tag, len(value))
    tlvs[tag] = bytes(value)


def set_int(tlvs: dict[int, bytes], tag: int, value: int, size: int | None = None) -> None:
    """Store `value` big-endian in `size` octets (default: the standard tag's length)."""
    if size is None:
        bounds = TLV_LENGTHS.get(tag)
        if bounds is None or bounds[0] != bounds[1]:
            raise InvalidParameterValue(f"TLV {_tag_name(tag)} needs an explicit size")
        size = bounds[0]
    try:
        raw = value.to_bytes(size, "big")
    except OverflowError:
        raise InvalidParameterValue(
            f"TLV {_tag_name(tag)} value {value} does not fit {size} unsigned octets"
        ) from None
    set_bytes(tlvs, tag, raw)


def set_cstring(tlvs: dict[int, bytes], tag: int, value: str) -> None:
    """Store `value` latin-1 encoded with its NUL terminator."""
    if "\0" in value:
        raise InvalidParameterValue(f"TLV {_tag_name(tag)} text contains NUL")
    try:
        raw = value.encode("latin-1") + b"\0"
    except UnicodeEncodeError:
        raise InvalidParameterValue(f"TLV {_tag_name(tag)} text is not latin-1") from None
    set_bytes(tlvs, tag, raw)


def set_network_error_code(tlvs: dict[int, bytes], network_type: int, error_code: int) -> None:
    if not 0 <= network_type <= 0xFF or not 0 <= error_code <= 0xFFFF:
        raise InvalidParameterValue(
            f"network_error_code ({network_type}, {error_code}) does not fit 1+2 octets"
        )
    tlvs[Tag.NETWORK_ERROR_CODE] = bytes((network_type,)) + error_code.to_bytes(2, "big")
