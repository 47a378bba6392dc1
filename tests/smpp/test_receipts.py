from __future__ import annotations

from datetime import datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from smsgw.smpp.constants import MessageState
from smsgw.smpp.receipts import (
    IdConvention,
    ReceiptText,
    message_ids_equal,
    normalise_message_id,
    parse_receipt_date,
    parse_receipt_text,
    receipt_state,
)

FULL = (
    "id:0123456789 sub:001 dlvrd:001 submit date:2503141205 done date:2503141206 "
    "stat:DELIVRD err:000 text:1001*A123BC77*2"
)


def test_full_receipt() -> None:
    assert parse_receipt_text(FULL) == ReceiptText(
        message_id="0123456789",
        submitted=1,
        delivered=1,
        submit_date=datetime(2025, 3, 14, 12, 5),
        done_date=datetime(2025, 3, 14, 12, 6),
        stat="DELIVRD",
        err="000",
        text="1001*A123BC77*2",
    )


@pytest.mark.parametrize(
    ("text", "message_id", "stat", "state"),
    [
        ("ID:ab12 STAT:undeliv ERR:001", "ab12", "undeliv", MessageState.UNDELIVERABLE),
        ("Id:7 Submit Date:2501010000 Stat:EXPIRED", "7", "EXPIRED", MessageState.EXPIRED),
        ("id:7 submit_date:2501010000 stat:ACCEPTD", "7", "ACCEPTD", MessageState.ACCEPTED),
        ("stat:REJECTD", None, "REJECTD", MessageState.REJECTED),
        ("id:x9", "x9", None, None),
        ("id:42 stat:DELIVRD text:", "42", "DELIVRD", MessageState.DELIVERED),
    ],
)
def test_partial_and_case_insensitive_receipts(
    text: str, message_id: str | None, stat: str | None, state: MessageState | None
) -> None:
    receipt = parse_receipt_text(text)
    assert receipt is not None
    assert (receipt.message_id, receipt.stat, receipt.state) == (message_id, stat, state)


def test_text_field_keeps_colons_and_key_like_words() -> None:
    receipt = parse_receipt_text("id:1 stat:DELIVRD err:0 Text:paid: stat:none id:2")
    assert receipt is not None
    assert (receipt.message_id, receipt.stat, receipt.text) == (
        "1",
        "DELIVRD",
        "paid: stat:none id:2",
    )


def test_dates_and_counts_that_do_not_parse_are_missing() -> None:
    receipt = parse_receipt_text("id:1 sub:? dlvrd:1 submit date:2513991299 done date:25 stat:X")
    assert receipt is not None
    assert (receipt.submitted, receipt.delivered) == (None, 1)
    assert (receipt.submit_date, receipt.done_date) == (None, None)
    assert receipt.state is MessageState.UNKNOWN


@pytest.mark.parametrize("text", ["", "1001*A123BC77*2", "valid:yes", "paid:id:1", "hello id"])
def test_not_a_receipt(text: str) -> None:
    assert parse_receipt_text(text) is None


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2503141205", datetime(2025, 3, 14, 12, 5)),
        ("250314120559", datetime(2025, 3, 14, 12, 5, 59)),
        ("2502301205", None),
        ("25031412", None),
        ("25031412ab", None),
    ],
)
def test_receipt_dates(value: str, expected: datetime | None) -> None:
    assert parse_receipt_date(value) == expected


@pytest.mark.parametrize(
    ("stat", "state"),
    [
        ("ENROUTE", MessageState.ENROUTE),
        ("DELIVRD", MessageState.DELIVERED),
        ("EXPIRED", MessageState.EXPIRED),
        ("DELETED", MessageState.DELETED),
        ("UNDELIV", MessageState.UNDELIVERABLE),
        ("ACCEPTD", MessageState.ACCEPTED),
        ("UNKNOWN", MessageState.UNKNOWN),
        ("REJECTD", MessageState.REJECTED),
        (" delivrd ", MessageState.DELIVERED),
        ("DELIVERED", MessageState.DELIVERED),
        ("something", MessageState.UNKNOWN),
        ("", MessageState.UNKNOWN),
    ],
)
def test_receipt_state(stat: str, state: MessageState) -> None:
    assert receipt_state(stat) is state


@settings(max_examples=200)
@given(st.text(max_size=200))
def test_parse_never_raises(text: str) -> None:
    receipt = parse_receipt_text(text)
    assert receipt is None or receipt.message_id is not None or receipt.stat is not None


@pytest.mark.parametrize(
    ("a", "b", "equal"),
    [
        ("0A1B", "2587", True),
        ("0a1b", "0A1B", True),
        ("a1b", "00002587", True),
        ("000123", "123", True),
        ("123", "123\0", True),
        (" 42", "42", True),
        ("ff", "255", True),
        ("10", "16", False),  # two decimals are never read as hex
        ("123", "124", False),
        ("0A1B", "2588", False),
        ("0A1B", "0A1C", False),
        ("abc-1", "ABC-1", True),
        ("abc-1", "abc-2", False),
        ("", "0", False),
        ("9" * 5000, "9" * 4999 + "8", False),  # beyond int()'s digit limit: no crash
    ],
)
def test_message_ids_equal(a: str, b: str, equal: bool) -> None:
    assert message_ids_equal(a, b) is equal
    assert message_ids_equal(b, a) is equal


@settings(max_examples=200)
@given(st.text(max_size=30))
def test_ids_equal_is_reflexive(message_id: str) -> None:
    assert message_ids_equal(message_id, message_id)


@settings(max_examples=200)
@given(st.text(alphabet="0123456789abcdefABCDEF", max_size=12), st.text(max_size=12))
def test_ids_equal_is_symmetric(a: str, b: str) -> None:
    assert message_ids_equal(a, b) is message_ids_equal(b, a)


@settings(max_examples=200)
@given(st.integers(min_value=0, max_value=2**64), st.integers(0, 4), st.booleans())
def test_hex_and_decimal_ids_of_one_number_are_equal(number: int, zeros: int, upper: bool) -> None:
    hex_id = "0" * zeros + format(number, "X" if upper else "x")
    if not any(c in "abcdefABCDEF" for c in hex_id):
        hex_id = str(int(hex_id, 16))  # an all-digit hex id reads as decimal: skip it
    assert message_ids_equal(hex_id, "0" * zeros + str(number))


@settings(max_examples=200)
@given(st.integers(min_value=0, max_value=2**64), st.integers(min_value=0, max_value=2**64))
def test_different_numbers_never_compare_equal(a: int, b: int) -> None:
    if a == b:
        b += 1
    assert not message_ids_equal(str(a), str(b))
    assert not message_ids_equal(format(a, "x") + "a", format(b, "x") + "a")


@pytest.mark.parametrize(
    ("message_id", "convention", "key"),
    [
        ("0A1B", "hex", "2587"),
        ("0a1b", "hex", "2587"),
        ("1000", "hex", "4096"),
        ("002587", "decimal", "2587"),
        ("0A1B", "as-is", "0A1B"),
        ("0A1B\0", "as-is", "0A1B"),
        ("not-hex", "hex", "not-hex"),
        ("12ab", "decimal", "12ab"),
    ],
)
def test_normalise_message_id(message_id: str, convention: IdConvention, key: str) -> None:
    assert normalise_message_id(message_id, convention) == key


@settings(max_examples=200)
@given(st.integers(min_value=0, max_value=2**64), st.integers(0, 4))
def test_normalised_keys_match_across_conventions(number: int, zeros: int) -> None:
    from_resp = normalise_message_id("0" * zeros + format(number, "X"), "hex")
    from_receipt = normalise_message_id("0" * zeros + str(number), "decimal")
    assert from_resp == from_receipt
