"""Text ↔ octets for every SMPP data_coding, and the choice of encoding for MT.

data_coding 0x00–0x0F has the SMPP 3.4 meanings (5.2.19); higher values are read as
GSM TS 23.038 data coding scheme groups (class and message-waiting bits ignored).

Views chosen for data that is not text:
- binary (2, 4, and 8-bit DCS groups): the octets as lower-case hex, so the bytes stay
  recoverable (`bytes.fromhex`) and cannot be mistaken for a parking command;
- codings we have no charset for (5 JIS, 9 pictograms, 13 Kanji, reserved values):
  Latin-1, which is lossless and keeps any ASCII readable.

Decoding never raises: undecodable octets, an odd UCS-2 length and lone surrogates become
U+FFFD. Encoding raises `UnrepresentableTextError` / `UnsupportedDataCodingError`.
"""

from __future__ import annotations

from enum import IntEnum, StrEnum
from typing import Final

from smsgw.smpp.constants import (
    DC_BINARY,
    DC_BINARY_2,
    DC_CYRILLIC,
    DC_DEFAULT,
    DC_HEBREW,
    DC_IA5,
    DC_ISO2022JP,
    DC_KSC5601,
    DC_LATIN1,
    DC_UCS2,
)
from smsgw.smpp.gsm7 import (
    REPLACEMENT_CHAR,
    TextCodecError,
    UnrepresentableTextError,
    decode_gsm7,
    encode_gsm7,
    gsm7_length,
)

__all__ = [
    "REPLACEMENT_CHAR",
    "Alphabet",
    "Encoding",
    "TextCodecError",
    "UnrepresentableTextError",
    "UnsupportedDataCodingError",
    "alphabet_of",
    "choose_encoding",
    "decode_text",
    "decode_ucs2",
    "encode_text",
]


class UnsupportedDataCodingError(TextCodecError):
    """No charset is known for this data_coding, so text cannot be encoded with it."""


class Encoding(IntEnum):
    """The data_coding values the gateway sends text with."""

    GSM7 = DC_DEFAULT
    IA5 = DC_IA5
    LATIN1 = DC_LATIN1
    UCS2 = DC_UCS2


class Alphabet(StrEnum):
    """How the octets of a data_coding are read; charset members hold the Python codec."""

    GSM7 = "gsm7"
    UCS2 = "ucs2"
    BINARY = "binary"
    ASCII = "ascii"
    LATIN1 = "latin-1"
    CYRILLIC = "iso8859_5"
    HEBREW = "iso8859_8"
    ISO2022JP = "iso2022_jp"
    KSC5601 = "euc_kr"


_SMPP_ALPHABETS: Final[dict[int, Alphabet]] = {
    DC_DEFAULT: Alphabet.GSM7,
    DC_IA5: Alphabet.ASCII,
    DC_BINARY_2: Alphabet.BINARY,
    DC_LATIN1: Alphabet.LATIN1,
    DC_BINARY: Alphabet.BINARY,
    DC_CYRILLIC: Alphabet.CYRILLIC,
    DC_HEBREW: Alphabet.HEBREW,
    DC_UCS2: Alphabet.UCS2,
    DC_ISO2022JP: Alphabet.ISO2022JP,
    DC_KSC5601: Alphabet.KSC5601,
}
_LAST_SMPP_CODING: Final = 0x0F
_GENERAL_GROUP_ALPHABETS: Final = (
    Alphabet.GSM7,
    Alphabet.BINARY,
    Alphabet.UCS2,
    Alphabet.GSM7,  # reserved: TS 23.038 says to assume the default alphabet
)
_UTF16_BE_BOM: Final = b"\xfe\xff"
_UTF16_LE_BOM: Final = b"\xff\xfe"


def _dcs_group_alphabet(dcs: int) -> Alphabet:
    group = dcs >> 4
    if group <= 0x7:  # general data coding and automatic-deletion groups
        compressed = bool(dcs & 0x20)
        return Alphabet.BINARY if compressed else _GENERAL_GROUP_ALPHABETS[(dcs >> 2) & 0x3]
    if group == 0xE:  # message waiting, store, UCS-2
        return Alphabet.UCS2
    if group == 0xF:  # data coding / message class
        return Alphabet.BINARY if dcs & 0x04 else Alphabet.GSM7
    return Alphabet.GSM7  # reserved groups and message-waiting discard/store (GSM 7-bit)


def alphabet_of(data_coding: int) -> Alphabet | None:
    """The alphabet of `data_coding`, None when nothing sensible is known for it."""
    if data_coding in _SMPP_ALPHABETS:
        return _SMPP_ALPHABETS[data_coding]
    if _LAST_SMPP_CODING < data_coding <= 0xFF:
        return _dcs_group_alphabet(data_coding)
    return None


def _is_latin1(text: str) -> bool:
    return not text or max(text) <= "\xff"


def choose_encoding(text: str, *, allow_latin1: bool = False) -> Encoding:
    """The encoding that puts `text` on the air in the fewest bits.

    GSM 7-bit when representable; Latin-1 (if the link allows it) when it is representable
    and smaller than GSM, which happens only for texts full of extension characters;
    else UCS-2.
    """
    septets = gsm7_length(text)
    latin1 = allow_latin1 and _is_latin1(text)
    if septets is not None:
        return Encoding.LATIN1 if latin1 and 8 * len(text) < 7 * septets else Encoding.GSM7
    return Encoding.LATIN1 if latin1 else Encoding.UCS2


def _encode_with_codec(text: str, codec: str) -> bytes:
    try:
        return text.encode(codec)
    except UnicodeEncodeError as error:
        bad = text[error.start : error.end]
        raise UnrepresentableTextError(f"{bad!r} cannot be encoded as {codec}") from None


def encode_text(text: str, data_coding: int) -> bytes:
    """Octets for `text` in `data_coding` (GSM 7-bit is unpacked, one septet per octet).

    Binary codings take the hex view `decode_text` gives, so the two are inverse.
    """
    alphabet = alphabet_of(data_coding)
    if alphabet is None:
        raise UnsupportedDataCodingError(f"no charset for data_coding {data_coding:#04x}")
    if alphabet is Alphabet.GSM7:
        return encode_gsm7(text)
    if alphabet is Alphabet.UCS2:
        return _encode_with_codec(text, "utf-16-be")
    if alphabet is Alphabet.BINARY:
        try:
            return bytes.fromhex(text)
        except ValueError:
            raise UnrepresentableTextError("binary data_coding needs hex text") from None
    return _encode_with_codec(text, alphabet.value)


def decode_ucs2(data: bytes) -> str:
    """UTF-16 text (big-endian unless a little-endian BOM says otherwise). Never raises."""
    if data.startswith(_UTF16_LE_BOM):
        return data[2:].decode("utf-16-le", "replace")
    if data.startswith(_UTF16_BE_BOM):
        data = data[2:]
    return data.decode("utf-16-be", "replace")


def decode_text(data: bytes, data_coding: int) -> str:
    """Text of `data` sent with `data_coding`. Never raises."""
    alphabet = alphabet_of(data_coding) or Alphabet.LATIN1
    if alphabet is Alphabet.GSM7:
        return decode_gsm7(data)
    if alphabet is Alphabet.UCS2:
        return decode_ucs2(data)
    if alphabet is Alphabet.BINARY:
        return data.hex()
    try:
        return data.decode(alphabet.value, "replace")
    except (UnicodeError, LookupError):  # a stateful codec may still object
        return data.decode("latin-1")
