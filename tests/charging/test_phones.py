"""Virtual phones: balance moves all or nothing, policies answer, the book finds phones."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from simulator.phones import (
    BarredPhoneError,
    ConfirmationPolicy,
    InsufficientFundsError,
    PhoneBook,
    UnknownPhoneError,
    VirtualPhone,
)
from smsgw.domain.money import Money


def rub(minor: int) -> Money:
    return Money(minor, "RUB")


def test_debit_takes_the_amount_or_nothing() -> None:
    phone = VirtualPhone("79161234567", "mts", rub(100_00))

    phone.debit(rub(60_00))
    with pytest.raises(InsufficientFundsError) as refused:
        phone.debit(rub(40_01))

    assert phone.balance == rub(40_00)
    assert refused.value.reason == "insufficient_funds"


def test_a_debit_leaves_what_the_operator_keeps_on_the_phone() -> None:
    phone = VirtualPhone("79031234567", "beeline", rub(100_00))

    with pytest.raises(InsufficientFundsError):
        phone.debit(rub(95_00), must_remain=rub(10_00))  # would leave 5 RUB
    phone.debit(rub(90_00), must_remain=rub(10_00))

    assert phone.balance == rub(10_00)


def test_a_barred_phone_pays_nothing() -> None:
    phone = VirtualPhone("79031234567", "beeline", rub(100_00), barred=True)
    with pytest.raises(BarredPhoneError) as refused:
        phone.debit(rub(1_00))
    assert refused.value.reason == "subscriber_barred"
    assert phone.balance == rub(100_00)


def test_top_up_and_invalid_amounts() -> None:
    phone = VirtualPhone("79161234567", "mts", rub(0))

    phone.top_up(rub(5_00))

    assert phone.balance == rub(5_00)
    for bad in (rub(0), rub(-1)):
        with pytest.raises(ValueError, match="positive"):
            phone.debit(bad)
        with pytest.raises(ValueError, match="positive"):
            phone.top_up(bad)


@pytest.mark.parametrize(
    ("policy", "reply"),
    [
        (ConfirmationPolicy.CONFIRM, "1"),
        (ConfirmationPolicy.DECLINE, "0"),
        (ConfirmationPolicy.IGNORE, None),
    ],
)
def test_the_policy_decides_the_reply(policy: ConfirmationPolicy, reply: str | None) -> None:
    assert VirtualPhone("79161234567", "mts", rub(1), policy).reply_to_confirmation() == reply


def test_the_inbox_keeps_texts_by_sender() -> None:
    phone = VirtualPhone("79161234567", "mts", rub(1))

    phone.receive("7701", "confirm?")
    phone.receive("7757", "paid")

    assert phone.texts_from("7701") == ["confirm?"]
    assert [message.sender for message in phone.inbox] == ["7701", "7757"]


@pytest.mark.parametrize(
    ("msisdn", "delay"), [("+79161234567", 0.0), ("", 0.0), ("79161234567", -1.0)]
)
def test_a_phone_refuses_bad_settings(msisdn: str, delay: float) -> None:
    with pytest.raises(ValueError):
        VirtualPhone(msisdn, "mts", rub(1), answer_delay=delay)


def test_the_phone_book() -> None:
    book = PhoneBook([VirtualPhone("79161234567", "mts", rub(1))])
    beeline = book.add(VirtualPhone("79031234567", "beeline", rub(1)))

    assert book.get("79031234567") is book.require("79031234567") is beeline
    assert book.get("70000000000") is None
    assert [phone.msisdn for phone in book.of_operator("beeline")] == ["79031234567"]
    assert len(book) == len(list(book)) == 2
    with pytest.raises(UnknownPhoneError):
        book.require("70000000000")
    with pytest.raises(ValueError, match="exists"):
        book.add(VirtualPhone("79161234567", "t2", rub(1)))


@settings(max_examples=200)
@given(start=st.integers(0, 10**6), debits=st.lists(st.integers(1, 10**5), max_size=20))
def test_no_sequence_of_debits_goes_below_zero_or_loses_money(
    start: int, debits: list[int]
) -> None:
    phone = VirtualPhone("79161234567", "mts", rub(start))
    taken = 0

    for amount in debits:
        try:
            phone.debit(rub(amount))
            taken += amount
        except InsufficientFundsError:
            pass

    assert not phone.balance.is_negative
    assert phone.balance.minor + taken == start
