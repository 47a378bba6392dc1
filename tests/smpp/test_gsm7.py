from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from smsgw.smpp.gsm7 import (
    DEFAULT_ALPHABET,
    ESC,
    EXTENSION_TABLE,
    REPLACEMENT_CHAR,
    InvalidSeptetError,
    UnrepresentableTextError,
    decode_gsm7,
    decode_gsm7_packed,
    encode_gsm7,
    gsm7_length,
    is_gsm7,
    pack_septets,
    udh_fill_bits,
    unpack_septets,
)

GSM_CHARS = [char for code, char in enumerate(DEFAULT_ALPHABET) if code != ESC]
GSM_TEXT = st.text(alphabet=GSM_CHARS + list(EXTENSION_TABLE.values()), max_size=400)


@pytest.mark.parametrize(
    ("char", "septets"),
    [
        ("€", b"\x1b\x65"),
        ("{", b"\x1b\x28"),
        ("}", b"\x1b\x29"),
        ("^", b"\x1b\x14"),
        ("\\", b"\x1b\x2f"),
        ("[", b"\x1b\x3c"),
        ("~", b"\x1b\x3d"),
        ("]", b"\x1b\x3e"),
        ("|", b"\x1b\x40"),
        ("\f", b"\x1b\x0a"),
        ("@", b"\x00"),
        ("£", b"\x01"),
        ("Δ", b"\x10"),
        ("¤", b"\x24"),
        ("¡", b"\x40"),
        ("§", b"\x5f"),
        ("¿", b"\x60"),
        ("à", b"\x7f"),
        ("\n", b"\x0a"),
    ],
)
def test_alphabet_edges_encode_and_decode(char: str, septets: bytes) -> None:
    assert encode_gsm7(char) == septets
    assert decode_gsm7(septets) == char
    assert gsm7_length(char) == len(septets)


def test_every_default_character_has_its_own_code() -> None:
    text = "".join(GSM_CHARS)
    encoded = encode_gsm7(text)
    assert encoded == bytes(code for code in range(128) if code != ESC)
    assert decode_gsm7(encoded) == text


@pytest.mark.parametrize("text", ["Привет", "😀", "`", "ç", "ê", "\x1b", "\uffff", "a\u0301"])
def test_unrepresentable_text(text: str) -> None:
    assert gsm7_length(text) is None
    assert not is_gsm7(text)
    with pytest.raises(UnrepresentableTextError):
        encode_gsm7(text)


@pytest.mark.parametrize(
    ("septets", "text"),
    [
        (b"ab\x1b", "ab "),  # lone ESC at the end
        (b"\x1b", " "),
        (b"\x1b\x1bx", " x"),  # ESC ESC: reserved, shown as a space
        (b"\x1b\x41", "A"),  # unknown escape: the default character for the code
        (b"\x1b\x1b\x1b\x65", " €"),
        (b"a\x80\xff", f"a{REPLACEMENT_CHAR}{REPLACEMENT_CHAR}"),
        (b"\x1b\x90", REPLACEMENT_CHAR),
        (b"", ""),
    ],
)
def test_decode_edges(septets: bytes, text: str) -> None:
    assert decode_gsm7(septets) == text


@settings(max_examples=200)
@given(GSM_TEXT)
def test_decode_inverts_encode(text: str) -> None:
    encoded = encode_gsm7(text)
    assert decode_gsm7(encoded) == text
    assert gsm7_length(text) == len(encoded)
    assert max(encoded, default=0) <= 0x7F


@settings(max_examples=200)
@given(st.binary(max_size=300))
def test_decode_never_raises_and_yields_at_most_one_char_per_octet(data: bytes) -> None:
    text = decode_gsm7(data)
    assert len(text) <= len(data)


@settings(max_examples=200)
@given(st.binary(max_size=200).map(lambda data: bytes(b & 0x7F for b in data if b & 0x7F != ESC)))
def test_encode_inverts_decode_for_plain_septets(septets: bytes) -> None:
    assert encode_gsm7(decode_gsm7(septets)) == septets


def test_pack_known_vector() -> None:
    # The classic "hellohello" example of TS 23.038 packing.
    assert pack_septets(encode_gsm7("hellohello")).hex().upper() == "E8329BFD4697D9EC37"
    assert decode_gsm7_packed(bytes.fromhex("E8329BFD4697D9EC37"), 10) == "hellohello"


def test_cr_padding_in_seven_spare_bits_is_dropped() -> None:
    seven = pack_septets(encode_gsm7("1001*A1") + b"\r")  # 8 septets: 7 octets, padded
    assert len(seven) == 7
    assert decode_gsm7_packed(seven) == "1001*A1"
    assert decode_gsm7_packed(seven, 8) == "1001*A1\r"
    eight = pack_septets(encode_gsm7("1001*A12"))
    assert decode_gsm7_packed(eight) == "1001*A12"
    # With a UDH of 6 octets (1 fill bit) the boundary moves.
    behind_udh = pack_septets(encode_gsm7("abcdefgh") + b"\r", fill_bits=1)
    assert len(behind_udh) == 8
    assert decode_gsm7_packed(behind_udh, fill_bits=1) == "abcdefgh"


def test_pack_with_fill_bits_leaves_low_bits_clear() -> None:
    packed = pack_septets(b"\x7f", fill_bits=1)
    assert packed == bytes([0xFE])
    assert unpack_septets(packed, 1, fill_bits=1) == b"\x7f"


@pytest.mark.parametrize(("udh_length", "fill"), [(6, 1), (7, 0), (0, 0), (1, 6), (12, 2)])
def test_udh_fill_bits(udh_length: int, fill: int) -> None:
    assert udh_fill_bits(udh_length) == fill
    assert (udh_length * 8 + fill) % 7 == 0


@settings(max_examples=200)
@given(
    st.binary(max_size=200).map(lambda data: bytes(b & 0x7F for b in data)),
    st.integers(min_value=0, max_value=6),
)
def test_unpack_inverts_pack(septets: bytes, fill_bits: int) -> None:
    packed = pack_septets(septets, fill_bits)
    assert len(packed) == (fill_bits + 7 * len(septets) + 7) // 8
    assert unpack_septets(packed, len(septets), fill_bits) == septets


@settings(max_examples=200)
@given(
    st.binary(max_size=100),
    st.one_of(st.none(), st.integers(min_value=-5, max_value=200)),
    st.integers(min_value=0, max_value=6),
)
def test_unpack_never_raises_on_data(data: bytes, count: int | None, fill_bits: int) -> None:
    septets = unpack_septets(data, count, fill_bits)
    assert len(septets) <= (len(data) * 8) // 7
    assert max(septets, default=0) <= 0x7F
    decode_gsm7_packed(data, count, fill_bits)


def test_unpack_clamps_count_to_the_data() -> None:
    assert unpack_septets(pack_septets(b"abc"), 50) == b"abc"


@pytest.mark.parametrize("fill_bits", [-1, 7])
def test_fill_bits_out_of_range(fill_bits: int) -> None:
    with pytest.raises(InvalidSeptetError):
        pack_septets(b"a", fill_bits)
    with pytest.raises(InvalidSeptetError):
        unpack_septets(b"a", None, fill_bits)


def test_pack_rejects_octets_above_0x7f() -> None:
    with pytest.raises(InvalidSeptetError):
        pack_septets(b"\x80")
