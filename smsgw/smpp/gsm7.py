"""GSM 03.38 (3GPP TS 23.038) default alphabet and its extension table.

SMPP sends data_coding 0 as *unpacked* septets, one per octet: that is what
`encode_gsm7`/`decode_gsm7` work on. The packed form (8 septets in 7 octets, optionally
after fill bits that align the first septet behind a UDH) is handled by
`pack_septets`/`unpack_septets`.

Decoding never raises on data: octets above 0x7F become U+FFFD, an escape followed by a
code the extension table lacks shows the default-alphabet character for that code (as
TS 23.038 asks), ESC ESC and a lone ESC at the end show a space.
"""

from __future__ import annotations

import re
from typing import ClassVar, Final

from smsgw.smpp.constants import CommandStatus

ESC: Final = 0x1B
_CR: Final = b"\r"
REPLACEMENT_CHAR: Final = "\ufffd"
MAX_FILL_BITS: Final = 6

# Index = septet value. 0x1B (ESC) is never produced as a character: it prefixes the
# extension table.
DEFAULT_ALPHABET: Final = (
    "@£$¥èéùìòÇ\nØø\rÅå"
    "Δ_ΦΓΛΩΠΨΣΘΞ\x1bÆæßÉ"
    " !\"#¤%&'()*+,-./"
    "0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNO"
    "PQRSTUVWXYZÄÖÑÜ§"
    "¿abcdefghijklmno"
    "pqrstuvwxyzäöñüà"
)
assert len(DEFAULT_ALPHABET) == 128

EXTENSION_TABLE: Final[dict[int, str]] = {
    0x0A: "\f",
    0x14: "^",
    0x28: "{",
    0x29: "}",
    0x2F: "\\",
    0x3C: "[",
    0x3D: "~",
    0x3E: "]",
    0x40: "|",
    0x65: "€",
}

# TS 23.038: ESC ESC is reserved for a further extension table and shows as a space.
_ESCAPED_ESC_CHAR: Final = " "
_LONE_ESC_CHAR: Final = " "
_UNREPRESENTABLE: Final = "\uffff"


class TextCodecError(ValueError):
    """Text cannot be turned into the requested octets.

    `command_status` is what an SMSC answers to a submit that fails this way.
    """

    command_status: ClassVar[int] = CommandStatus.ESME_RSUBMITFAIL


class UnrepresentableTextError(TextCodecError):
    """A character has no code in the requested alphabet."""


class InvalidSeptetError(TextCodecError):
    """A septet value above 0x7F, or fill bits outside 0..6, was given to the packer."""


class _EncodeTable(dict[int, str]):
    """str.translate table that marks every unmapped character as unrepresentable."""

    def __missing__(self, key: int) -> str:
        return _UNREPRESENTABLE


def _build_encode_table() -> _EncodeTable:
    table = _EncodeTable()
    for code, char in enumerate(DEFAULT_ALPHABET):
        if code != ESC:
            table[ord(char)] = chr(code)
    for code, char in EXTENSION_TABLE.items():
        table[ord(char)] = chr(ESC) + chr(code)
    table[ord(_UNREPRESENTABLE)] = _UNREPRESENTABLE
    return table


def _build_decode_table() -> dict[int, str]:
    table = dict(enumerate(DEFAULT_ALPHABET))
    table.update(dict.fromkeys(range(0x80, 0x100), REPLACEMENT_CHAR))
    return table


def _escaped_char(code: int) -> str:
    if code in EXTENSION_TABLE:
        return EXTENSION_TABLE[code]
    if code == ESC:
        return _ESCAPED_ESC_CHAR
    if code < 0x80:
        return DEFAULT_ALPHABET[code]
    return REPLACEMENT_CHAR


_ENCODE_TABLE: Final = _build_encode_table()
_GSM7_CHARS: Final = frozenset(
    chr(code) for code, septets in _ENCODE_TABLE.items() if septets != _UNREPRESENTABLE
)
_DECODE_TABLE: Final = _build_decode_table()
_ESCAPE_SEQUENCE: Final = re.compile(rb"(\x1b[\x00-\xff]?)")


def encode_gsm7(text: str) -> bytes:
    """Unpacked septets for `text`; extension characters take two (ESC + code)."""
    septets = text.translate(_ENCODE_TABLE)
    try:
        return septets.encode("ascii")
    except UnicodeEncodeError:
        bad = next(char for char in text if _ENCODE_TABLE[ord(char)] == _UNREPRESENTABLE)
        raise UnrepresentableTextError(
            f"{bad!r} (U+{ord(bad):04X}) is not in the GSM 03.38 alphabet"
        ) from None


def decode_gsm7(data: bytes) -> str:
    """Text of unpacked septets. Never raises."""
    if ESC not in data:
        return data.decode("latin-1").translate(_DECODE_TABLE)
    pieces = _ESCAPE_SEQUENCE.split(data)
    chars: list[str] = []
    # re.split with one group alternates plain runs (even index) and escapes (odd index).
    for index, piece in enumerate(pieces):
        if index % 2 == 0:
            chars.append(piece.decode("latin-1").translate(_DECODE_TABLE))
        elif len(piece) == 1:
            chars.append(_LONE_ESC_CHAR)
        else:
            chars.append(_escaped_char(piece[1]))
    return "".join(chars)


def is_gsm7(text: str) -> bool:
    return gsm7_length(text) is not None


def gsm7_length(text: str) -> int | None:
    """Septets `text` takes in the GSM alphabet, None if it is not representable."""
    if not _GSM7_CHARS.issuperset(text):
        # stops at the first character outside the alphabet: a Cyrillic reply is
        # refused at its first letter instead of translated whole
        return None
    septets = text.translate(_ENCODE_TABLE)
    if _UNREPRESENTABLE in septets:
        return None
    return len(septets)


def udh_fill_bits(udh_length: int) -> int:
    """Fill bits that align the first septet after a UDH of `udh_length` octets."""
    return (7 - (udh_length * 8) % 7) % 7


def _check_fill_bits(fill_bits: int) -> None:
    if not 0 <= fill_bits <= MAX_FILL_BITS:
        raise InvalidSeptetError(f"fill_bits must be 0..{MAX_FILL_BITS}, got {fill_bits}")


def pack_septets(septets: bytes, fill_bits: int = 0) -> bytes:
    """Pack septets LSB first, 8 into 7 octets, after `fill_bits` zero bits."""
    _check_fill_bits(fill_bits)
    if septets and max(septets) > 0x7F:
        raise InvalidSeptetError("a septet value is above 0x7F")
    out = bytearray()
    accumulator = 0
    bit_count = fill_bits
    for septet in septets:
        accumulator |= septet << bit_count
        bit_count += 7
        while bit_count >= 8:
            out.append(accumulator & 0xFF)
            accumulator >>= 8
            bit_count -= 8
    if bit_count:
        out.append(accumulator)
    return bytes(out)


def unpack_septets(data: bytes, count: int | None = None, fill_bits: int = 0) -> bytes:
    """Septets (one per octet) from packed `data`.

    `count` is the septet count (SMS user-data length); None takes every whole septet.
    A count beyond the data is clamped, so truncated input never raises.
    """
    _check_fill_bits(fill_bits)
    available = max(0, (len(data) * 8 - fill_bits) // 7)
    wanted = available if count is None else max(0, min(count, available))
    out = bytearray()
    accumulator = 0
    bit_count = -fill_bits
    for octet in data:
        if len(out) >= wanted:
            break
        if bit_count < 0:
            accumulator = octet >> fill_bits
            bit_count = 8 - fill_bits
        else:
            accumulator |= octet << bit_count
            bit_count += 8
        while bit_count >= 7 and len(out) < wanted:
            out.append(accumulator & 0x7F)
            accumulator >>= 7
            bit_count -= 7
    return bytes(out)


def decode_gsm7_packed(data: bytes, count: int | None = None, fill_bits: int = 0) -> str:
    """Text of a packed GSM body. Never raises on data.

    Without `count`, a CR in the last septet of a body that ends on an octet boundary is
    the padding TS 23.038 6.1.2.3.1 puts in 7 spare bits, and is dropped.
    """
    septets = unpack_septets(data, count, fill_bits)
    ends_on_boundary = (len(data) * 8 - fill_bits) % 7 == 0
    if count is None and ends_on_boundary and septets.endswith(_CR):
        septets = septets[:-1]
    return decode_gsm7(septets)
