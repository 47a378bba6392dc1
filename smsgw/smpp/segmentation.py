"""Split an MT text into the PDUs that carry it: one short_message, UDH or SAR
concatenation, or one message_payload TLV.

Part sizes (short_message body of each part):

| alphabet                  | one part | UDH 8-bit ref / SAR | UDH 16-bit ref / SAR ref16 |
|---------------------------|----------|---------------------|----------------------------|
| GSM 7-bit (unpacked)      | 160      | 153 septets         | 152 septets                |
| UCS-2                     | 140      | 134 octets (67)     | 132 octets (66)            |
| other 8-bit / binary      | 140      | 134 octets          | 133 octets                 |

SAR parts carry as much as UDH parts because the SMSC turns SAR into a UDH on the air.
A cut never falls inside a GSM escape sequence (ESC + code) or a UTF-16 surrogate pair.
GSM parts stay unpacked (one septet per octet) behind the UDH, as SMPP sends them: the
SMSC packs them with the fill bits.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Final, Literal

from smsgw.smpp.constants import CommandStatus
from smsgw.smpp.gsm7 import ESC, TextCodecError
from smsgw.smpp.reassembly import IEI_CONCAT_8BIT, IEI_CONCAT_16BIT
from smsgw.smpp.text import Alphabet, alphabet_of, choose_encoding, encode_text

Method = Literal["udh", "sar", "payload"]

MAX_PARTS: Final = 255
MESSAGE_PAYLOAD_MAX: Final = 0xFFFF
_HIGH_SURROGATE_FIRST_OCTETS: Final = range(0xD8, 0xDC)


class MessageTooLongError(TextCodecError):
    """The text needs more parts than allowed, or more than message_payload holds."""

    command_status = CommandStatus.ESME_RINVMSGLEN


@dataclass(frozen=True, slots=True)
class Segment:
    """The text-carrying fields of one submit_sm / data_sm."""

    data_coding: int
    esm_class_udhi: bool
    short_message: bytes
    sar: tuple[int, int, int] | None  # (sar_msg_ref_num, sar_total_segments, seqnum)
    message_payload: bytes | None


@dataclass(frozen=True, slots=True)
class _PartSizes:
    single: int
    ref8: int
    ref16: int


_GSM7_SIZES: Final = _PartSizes(single=160, ref8=153, ref16=152)
_UCS2_SIZES: Final = _PartSizes(single=140, ref8=134, ref16=132)
_OCTET_SIZES: Final = _PartSizes(single=140, ref8=134, ref16=133)


def _part_sizes(alphabet: Alphabet) -> _PartSizes:
    if alphabet is Alphabet.GSM7:
        return _GSM7_SIZES
    if alphabet is Alphabet.UCS2:
        return _UCS2_SIZES
    return _OCTET_SIZES


def concat_udh(reference: int, total: int, seqnum: int, *, ref16: bool) -> bytes:
    """A UDH holding only the concatenation IE (8-bit: 6 octets, 16-bit: 7 octets)."""
    if ref16:
        return bytes((6, IEI_CONCAT_16BIT, 4, reference >> 8, reference & 0xFF, total, seqnum))
    return bytes((5, IEI_CONCAT_8BIT, 3, reference, total, seqnum))


def _ends_inside_escape(data: bytes, start: int, end: int) -> bool:
    # Escapes pair up from a part start, so an odd run of ESC before the cut is a
    # half sequence (ESC ESC is itself a pair).
    run = 0
    while end - run - 1 >= start and data[end - run - 1] == ESC:
        run += 1
    return run % 2 == 1


def _safe_end(data: bytes, start: int, end: int, alphabet: Alphabet) -> int:
    if end >= len(data):
        return len(data)
    if alphabet is Alphabet.GSM7 and _ends_inside_escape(data, start, end):
        return end - 1
    if alphabet is Alphabet.UCS2 and data[end - 2] in _HIGH_SURROGATE_FIRST_OCTETS:
        return end - 2
    return end


def _part_ends(data: bytes, size: int, alphabet: Alphabet) -> Iterator[int]:
    start = 0
    while start < len(data):
        end = _safe_end(data, start, start + size, alphabet)
        yield end
        start = end


def _multipart_size(alphabet: Alphabet, ref16: bool) -> int:
    sizes = _part_sizes(alphabet)
    return sizes.ref16 if ref16 else sizes.ref8


def _count_octet_parts(octets: bytes, alphabet: Alphabet, method: Method, ref16: bool) -> int:
    if len(octets) <= _part_sizes(alphabet).single or method == "payload":
        return 1
    return sum(1 for _ in _part_ends(octets, _multipart_size(alphabet, ref16), alphabet))


def _encode(text: str, data_coding: int | None, allow_latin1: bool) -> tuple[int, bytes]:
    coding = (
        choose_encoding(text, allow_latin1=allow_latin1) if data_coding is None else data_coding
    )
    return int(coding), encode_text(text, coding)


def _alphabet(data_coding: int) -> Alphabet:
    return alphabet_of(data_coding) or Alphabet.BINARY


def segment_count(
    text: str,
    *,
    data_coding: int | None = None,
    method: Method = "udh",
    ref16: bool = False,
    allow_latin1: bool = False,
) -> int:
    """How many PDUs `segment` makes for `text` (for the per-segment throughput cap)."""
    coding, octets = _encode(text, data_coding, allow_latin1)
    return _count_octet_parts(octets, _alphabet(coding), method, ref16)


def segment(
    text: str,
    *,
    data_coding: int | None = None,
    method: Method = "udh",
    reference: int,
    ref16: bool = False,
    max_parts: int = MAX_PARTS,
    allow_latin1: bool = False,
) -> list[Segment]:
    """The PDUs' text fields for `text`; data_coding None picks the smallest encoding.

    `reference` is taken modulo 2**8 (or 2**16 with `ref16`), so a plain counter will do.
    """
    coding, octets = _encode(text, data_coding, allow_latin1)
    return segment_octets(
        octets, coding, method=method, reference=reference, ref16=ref16, max_parts=max_parts
    )


def segment_octets(
    octets: bytes,
    data_coding: int,
    *,
    method: Method = "udh",
    reference: int,
    ref16: bool = False,
    max_parts: int = MAX_PARTS,
) -> list[Segment]:
    """Like `segment`, for a body already encoded in `data_coding` (e.g. binary)."""
    alphabet = _alphabet(data_coding)
    if len(octets) <= _part_sizes(alphabet).single:
        return [Segment(data_coding, False, octets, None, None)]
    if method == "payload":
        return [_payload_segment(octets, data_coding)]
    size = _multipart_size(alphabet, ref16)
    bodies = _split(octets, size, alphabet)
    if len(bodies) > min(max_parts, MAX_PARTS):
        raise MessageTooLongError(f"{len(bodies)} parts needed, at most {max_parts} allowed")
    reference &= 0xFFFF if ref16 else 0xFF
    if method == "sar":
        return _sar_segments(bodies, data_coding, reference)
    return _udh_segments(bodies, data_coding, reference, ref16)


def _split(octets: bytes, size: int, alphabet: Alphabet) -> list[bytes]:
    bodies: list[bytes] = []
    start = 0
    for end in _part_ends(octets, size, alphabet):
        bodies.append(octets[start:end])
        start = end
    return bodies


def _payload_segment(octets: bytes, data_coding: int) -> Segment:
    if len(octets) > MESSAGE_PAYLOAD_MAX:
        raise MessageTooLongError(
            f"{len(octets)} octets exceed the message_payload maximum {MESSAGE_PAYLOAD_MAX}"
        )
    return Segment(data_coding, False, b"", None, octets)


def _udh_segments(
    bodies: list[bytes], data_coding: int, reference: int, ref16: bool
) -> list[Segment]:
    total = len(bodies)
    return [
        Segment(
            data_coding, True, concat_udh(reference, total, seqnum, ref16=ref16) + body, None, None
        )
        for seqnum, body in enumerate(bodies, start=1)
    ]


def _sar_segments(bodies: list[bytes], data_coding: int, reference: int) -> list[Segment]:
    total = len(bodies)
    return [
        Segment(data_coding, False, body, (reference, total, seqnum), None)
        for seqnum, body in enumerate(bodies, start=1)
    ]
