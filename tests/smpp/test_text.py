from __future__ import annotations

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from smsgw.smpp.gsm7 import DEFAULT_ALPHABET, ESC, EXTENSION_TABLE
from smsgw.smpp.text import (
    REPLACEMENT_CHAR,
    Alphabet,
    Encoding,
    UnrepresentableTextError,
    UnsupportedDataCodingError,
    alphabet_of,
    choose_encoding,
    decode_text,
    encode_text,
)

GSM_CHARS = [c for code, c in enumerate(DEFAULT_ALPHABET) if code != ESC]
GSM_TEXT = st.text(alphabet=GSM_CHARS + list(EXTENSION_TABLE.values()), max_size=200)


@pytest.mark.parametrize(
    ("text", "allow_latin1", "expected"),
    [
        ("1001*A123BC77*2", False, Encoding.GSM7),
        ("", False, Encoding.GSM7),
        ("Цена 100 €", False, Encoding.UCS2),
        ("Привет", True, Encoding.UCS2),
        ("€{}^", False, Encoding.GSM7),
        ("é ü Ñ", False, Encoding.GSM7),
        ("parking 😀", False, Encoding.UCS2),
        ("Qazaqstan ә", True, Encoding.UCS2),
        ("crème brûlée", False, Encoding.UCS2),
        ("crème brûlée", True, Encoding.LATIN1),
        # Latin-1 wins only when escapes make GSM bigger: 7*8 septets > 8*4 octets.
        ("{{{{", True, Encoding.LATIN1),
        ("{{{{", False, Encoding.GSM7),
        ("{abcdefgh", True, Encoding.GSM7),
        ("€€€€", True, Encoding.GSM7),  # € is not Latin-1
    ],
)
def test_choose_encoding(text: str, allow_latin1: bool, expected: Encoding) -> None:
    assert choose_encoding(text, allow_latin1=allow_latin1) is expected


@pytest.mark.parametrize(
    ("text", "data_coding", "octets"),
    [
        ("A€", 0, b"A\x1b\x65"),
        ("Hi!", 1, b"Hi!"),
        ("café", 3, b"caf\xe9"),
        ("Я", 8, b"\x04\x2f"),
        ("😀", 8, b"\xd8\x3d\xde\x00"),
        ("a😀b", 8, b"\x00a\xd8\x3d\xde\x00\x00b"),
        ("Жук", 6, "Жук".encode("iso8859_5")),
        ("0102ff", 4, b"\x01\x02\xff"),
        ("00", 2, b"\x00"),
        ("é", 0xF0, b"\x05"),  # DCS class 0 (flash), GSM 7-bit
        ("Я", 0x18, b"\x04\x2f"),  # DCS general group, UCS-2, class 0
    ],
)
def test_encode_and_decode_table(text: str, data_coding: int, octets: bytes) -> None:
    assert encode_text(text, data_coding) == octets
    assert decode_text(octets, data_coding) == text


@pytest.mark.parametrize(
    ("octets", "data_coding", "text"),
    [
        (b"\x00a\x00", 8, f"a{REPLACEMENT_CHAR}"),  # odd UCS-2 length
        (b"\xd8\x3d\x00a", 8, f"{REPLACEMENT_CHAR}a"),  # lone high surrogate
        (b"\xde\x00", 8, REPLACEMENT_CHAR),  # lone low surrogate
        (b"\xd8\x3d", 8, REPLACEMENT_CHAR),  # pair cut at the end
        (b"\xfe\xff\x00a", 8, "a"),  # big-endian BOM dropped
        (b"\xff\xfea\x00", 8, "a"),  # little-endian BOM honoured
        (b"", 8, ""),
        (b"ab\x80", 1, f"ab{REPLACEMENT_CHAR}"),  # IA5 is 7-bit
        (b"\x01\xab", 4, "01ab"),  # binary: hex view
        (b"abc", 0x05, "abc"),  # JIS: no charset, Latin-1 view
        (b"caf\xe9", 0x09, "café"),
        (b"abc", -1, "abc"),
        (b"abc", 0x1234, "abc"),
        (b"\x01\xab", 0xF4, "01ab"),  # DCS 8-bit data
        (b"\x01\xab", 0x24, "01ab"),  # DCS compressed
        (b"\x04\x2f", 0xE0, "Я"),  # message waiting, UCS-2
        (b"hi", 0xC0, "hi"),  # message waiting, GSM
    ],
)
def test_decode_edges(octets: bytes, data_coding: int, text: str) -> None:
    assert decode_text(octets, data_coding) == text


@pytest.mark.parametrize(
    ("data_coding", "alphabet"),
    [
        (0x00, Alphabet.GSM7),
        (0x01, Alphabet.ASCII),
        (0x02, Alphabet.BINARY),
        (0x03, Alphabet.LATIN1),
        (0x04, Alphabet.BINARY),
        (0x05, None),
        (0x06, Alphabet.CYRILLIC),
        (0x08, Alphabet.UCS2),
        (0x09, None),
        (0x0F, None),
        (0x10, Alphabet.GSM7),
        (0x11, Alphabet.GSM7),
        (0x14, Alphabet.BINARY),
        (0x18, Alphabet.UCS2),
        (0x1C, Alphabet.GSM7),
        (0x30, Alphabet.BINARY),
        (0x48, Alphabet.UCS2),
        (0x90, Alphabet.GSM7),
        (0xD0, Alphabet.GSM7),
        (0xE0, Alphabet.UCS2),
        (0xF1, Alphabet.GSM7),
        (0xF6, Alphabet.BINARY),
        (0x100, None),
        (-1, None),
    ],
)
def test_alphabet_of(data_coding: int, alphabet: Alphabet | None) -> None:
    assert alphabet_of(data_coding) is alphabet


@pytest.mark.parametrize(
    ("text", "data_coding"),
    [
        ("Привет", 0),
        ("Привет", 1),
        ("Привет", 3),
        ("é", 1),
        ("\ud83d", 8),  # a lone surrogate cannot be UTF-16
        ("not hex", 4),
    ],
)
def test_unrepresentable(text: str, data_coding: int) -> None:
    with pytest.raises(UnrepresentableTextError):
        encode_text(text, data_coding)


@pytest.mark.parametrize("data_coding", [0x05, 0x09, 0x0D, 0x0F, 0x100, -1])
def test_no_charset_to_encode_with(data_coding: int) -> None:
    with pytest.raises(UnsupportedDataCodingError):
        encode_text("abc", data_coding)


@settings(max_examples=200)
@given(st.binary(max_size=200), st.integers(min_value=-2, max_value=300))
def test_decode_never_raises(octets: bytes, data_coding: int) -> None:
    assert isinstance(decode_text(octets, data_coding), str)


@settings(max_examples=200)
@given(st.text(max_size=200))
def test_ucs2_round_trip_with_surrogate_pairs(text: str) -> None:
    assume(not text.startswith(("\ufeff", "\ufffe")))  # read as byte-order marks
    octets = encode_text(text, Encoding.UCS2)
    assert len(octets) == 2 * sum(2 if ord(c) > 0xFFFF else 1 for c in text)
    assert decode_text(octets, Encoding.UCS2) == text


@settings(max_examples=200)
@given(GSM_TEXT)
def test_gsm_round_trip(text: str) -> None:
    assert decode_text(encode_text(text, Encoding.GSM7), Encoding.GSM7) == text


@settings(max_examples=200)
@given(st.text(alphabet=st.characters(max_codepoint=0xFF), max_size=200))
def test_latin1_round_trip(text: str) -> None:
    assert decode_text(encode_text(text, Encoding.LATIN1), Encoding.LATIN1) == text


@settings(max_examples=200)
@given(st.text(alphabet=st.characters(max_codepoint=0x7F), max_size=200))
def test_ia5_round_trip(text: str) -> None:
    assert decode_text(encode_text(text, Encoding.IA5), Encoding.IA5) == text


@settings(max_examples=200)
@given(st.binary(max_size=200))
def test_binary_view_is_lossless(octets: bytes) -> None:
    assert encode_text(decode_text(octets, 4), 4) == octets


@settings(max_examples=200)
@given(st.text(max_size=100), st.booleans())
def test_chosen_encoding_can_encode_the_text(text: str, allow_latin1: bool) -> None:
    assume(not text.startswith(("\ufeff", "\ufffe")))
    encoding = choose_encoding(text, allow_latin1=allow_latin1)
    assert allow_latin1 or encoding is not Encoding.LATIN1
    assert decode_text(encode_text(text, encoding), encoding) == text
