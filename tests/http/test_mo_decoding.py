from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from smsgw.transport.http_common import (
    INVALID_FIELD,
    HttpError,
    normalise_msisdn,
    parse_form_bytes,
)
from smsgw.transport.http_mo import decode_mo_text, http_dedup_key
from tests.http.kannel import kannel_quote

NOW = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
TEXTS = st.text(st.characters(exclude_categories=["Cs"]), max_size=200)


def test_form_values_stay_raw_bytes() -> None:
    values = parse_form_bytes("a=%04%10%00+&b=x%2By&a=second&flag&=empty")
    assert values == {"a": b"\x04\x10\x00 ", "b": b"x+y", "flag": b"", "": b"empty"}


def test_form_bytes_from_a_body() -> None:
    assert parse_form_bytes(b"text=%D0%9F&sender=%2B7") == {"text": b"\xd0\x9f", "sender": b"+7"}


@settings(max_examples=200)
@given(TEXTS, st.sampled_from(["UTF-16BE", "UTF-8"]), st.booleans())
def test_any_text_survives_kannel_encoding(text: str, charset: str, space_as_plus: bool) -> None:
    query = "text=" + kannel_quote(text.encode(charset), space_as_plus=space_as_plus)
    raw = parse_form_bytes(query)["text"]
    coding = "2" if charset == "UTF-16BE" else "0"
    assert decode_mo_text(raw, coding, charset) == text


@settings(max_examples=200)
@given(
    st.binary(max_size=100), st.sampled_from([None, "", "0", "1", "2", "7"]), st.text(max_size=20)
)
def test_decoding_never_raises(raw: bytes, coding: str | None, charset: str) -> None:
    assert isinstance(decode_mo_text(raw, coding, charset or None), str)


@pytest.mark.parametrize(
    ("raw", "coding", "charset", "text"),
    [
        ("Привет 😀".encode("utf-16-be"), "2", "UTF-16BE", "Привет 😀"),
        ("Привет".encode("utf-16-be"), "2", None, "Привет"),  # UCS-2 without a charset
        ("Привет".encode("utf-16-be"), "2", "UCS-2", "Привет"),
        ("Сәлем".encode(), "0", "UTF-8", "Сәлем"),
        ("Café".encode("latin-1"), "0", "ISO-8859-1", "Café"),
        ("Оплата".encode("cp1251"), "0", "WINDOWS-1251", "Оплата"),
        ("Оплата".encode("koi8-r"), "0", "KOI8-R", "Оплата"),
        (b"1001*A1", None, None, "1001*A1"),
        ("Café".encode("latin-1"), "0", None, "Café"),  # not UTF-8: read as Latin-1
        (b"\x00\x01\xff", "1", None, "0001ff"),  # 8-bit data: hex, never a command
        ("да".encode(), "0", "x-no-such-charset", "да"),  # unknown charset: coding decides
        ("да".encode(), "0", "base64", "да"),  # not a text charset: ignored
        (b"\x04\x1f\x00", "2", "UTF-16BE", "П\ufffd"),  # odd length: U+FFFD, no error
        (b"\xfe\xff\x04\x1f", "2", "UTF-16", "П"),  # byte-order mark honoured
        (b"\x04\x1f", "2", "UTF-16", "П"),  # no mark: network order
    ],
)
def test_decode_table(raw: bytes, coding: str | None, charset: str | None, text: str) -> None:
    assert decode_mo_text(raw, coding, charset) == text


@pytest.mark.parametrize(
    ("raw", "msisdn"),
    [
        ("79031234567", "79031234567"),
        ("+79031234567", "79031234567"),
        ("0079031234567", "79031234567"),
        (" +7 903 123 45 67 ", "79031234567"),
        ("7757", "7757"),
    ],
)
def test_msisdn_normalised(raw: str, msisdn: str) -> None:
    assert normalise_msisdn(raw, "sender") == msisdn


@pytest.mark.parametrize("raw", ["", "+", "12", "7903abc4567", "1234567890123456", "++7903"])
def test_msisdn_refused(raw: str) -> None:
    with pytest.raises(HttpError, match="sender") as refused:
        normalise_msisdn(raw, "sender")
    assert refused.value.refusal is INVALID_FIELD


@settings(max_examples=200)
@given(st.from_regex(r"[1-9][0-9]{2,14}", fullmatch=True))
def test_international_prefixes_are_dropped(digits: str) -> None:
    assert normalise_msisdn("+" + digits, "sender") == digits
    assert normalise_msisdn("00" + digits, "sender") == digits
    assert normalise_msisdn(digits, "sender") == digits


def test_dedup_key_is_kannels_id() -> None:
    assert http_dedup_key("abc-123") == "id:abc-123"
    long_key = http_dedup_key("x" * 500)
    assert long_key.startswith("id:") and len(long_key) < 64
    assert long_key == http_dedup_key("x" * 500), "a retry of a long id is the same message"


@settings(max_examples=50)
@given(st.sampled_from([None, ""]))
def test_without_an_id_every_mo_is_a_new_message(missing: str | None) -> None:
    # a driver may text the same words twice: only a repeated transport id is a retry
    keys = {http_dedup_key(missing) for _ in range(20)}
    assert len(keys) == 20
