"""Which MO addresses the gateway takes: a phone's MSISDN to one of its short numbers."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from smsgw.smpp.addresses import address_refusal, is_msisdn
from smsgw.smpp.constants import CommandStatus, Ton

SHORT = ("7757",)


@pytest.mark.parametrize(
    ("address", "ton"),
    [
        ("79031234567", Ton.INTERNATIONAL),
        ("+79031234567", Ton.INTERNATIONAL),
        ("77011234567", Ton.UNKNOWN),
        ("+77011234567", Ton.UNKNOWN),
        ("9031234567", Ton.NATIONAL),
        ("6834002", Ton.INTERNATIONAL),  # Niue: seven digits in all
    ],
)
def test_phone_numbers_are_taken(address: str, ton: int) -> None:
    assert is_msisdn(address, ton)


@pytest.mark.parametrize(
    ("address", "ton"),
    [
        ("EVIL'--", Ton.INTERNATIONAL),
        ("", Ton.INTERNATIONAL),
        ("+", Ton.UNKNOWN),
        ("7701", Ton.UNKNOWN),  # a short number, not a phone
        ("1234", Ton.INTERNATIONAL),
        ("7903123456789012", Ton.INTERNATIONAL),  # 16 digits: beyond E.164
        ("+9031234567", Ton.NATIONAL),
        ("79031234567", Ton.ALPHANUMERIC),
        ("PARKING", Ton.ALPHANUMERIC),
        ("79031234567", Ton.ABBREVIATED),
        ("79031234567", 9),  # a reserved type of number
        ("７９０３１２３４５６７", Ton.INTERNATIONAL),  # full-width digits
        ("7903 123 45 67", Ton.INTERNATIONAL),
    ],
)
def test_anything_else_is_not(address: str, ton: int) -> None:
    assert not is_msisdn(address, ton)


@given(st.text(max_size=21), st.integers(0, 255))
def test_a_taken_sender_is_plus_and_seven_to_fifteen_ascii_digits(address: str, ton: int) -> None:
    if is_msisdn(address, ton):
        digits = address.removeprefix("+")
        assert digits.isascii() and digits.isdigit() and 7 <= len(digits) <= 15 and ton <= 2


@given(st.text(max_size=21))
def test_only_the_short_numbers_are_receivers(receiver: str) -> None:
    refusal = address_refusal("79031234567", Ton.INTERNATIONAL, receiver, SHORT)
    expected = None if receiver == "7757" else CommandStatus.ESME_RINVDSTADR
    assert refusal == expected


def test_a_bad_sender_is_named_before_a_bad_receiver() -> None:
    refusal = address_refusal("EVIL'--", Ton.INTERNATIONAL, "1234", SHORT)
    assert refusal == CommandStatus.ESME_RINVSRCADR
