from __future__ import annotations

import operator
from collections.abc import Callable

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from smsgw.domain.money import Money, minor_unit_digits

amounts = st.integers(min_value=-(10**12), max_value=10**12)


def test_arithmetic_within_one_currency() -> None:
    a, b = Money(12050, "RUB"), Money(50, "RUB")
    assert a + b == Money(12100, "RUB")
    assert a - b == Money(12000, "RUB")
    assert -b == Money(-50, "RUB")
    assert b * 3 == Money(150, "RUB")
    assert 3 * b == Money(150, "RUB")
    assert Money.zero("KZT") == Money(0, "KZT")


def test_comparison_within_one_currency() -> None:
    small, large = Money(1, "KZT"), Money(2, "KZT")
    assert small < large <= large
    assert large > small >= small
    assert min(large, small) == small


@pytest.mark.parametrize(
    "combine",
    [operator.add, operator.sub, operator.lt, operator.le, operator.gt, operator.ge],
)
def test_mixing_currencies_is_refused(combine: Callable[[Money, Money], object]) -> None:
    with pytest.raises(ValueError, match="currency mismatch"):
        combine(Money(100, "RUB"), Money(100, "KZT"))


def test_equal_amounts_in_different_currencies_are_not_equal() -> None:
    assert Money(100, "RUB") != Money(100, "KZT")
    assert len({Money(100, "RUB"), Money(100, "RUB"), Money(100, "KZT")}) == 2


@pytest.mark.parametrize("minor", [1.5, 1.0, True, "100"])
def test_only_integer_minor_units(minor: object) -> None:
    with pytest.raises(TypeError):
        Money(minor, "RUB")  # type: ignore[arg-type]


@pytest.mark.parametrize("currency", ["rub", "RU", "RUBL", "R1B", "", "РУБ"])
def test_currency_must_be_an_iso_code(currency: str) -> None:
    with pytest.raises(ValueError, match="ISO 4217"):
        Money(1, currency)


def test_multiplying_by_a_float_is_refused() -> None:
    with pytest.raises(TypeError):
        Money(100, "RUB") * 1.5  # type: ignore[operator]


def test_sign_predicates() -> None:
    assert Money(0, "RUB").is_zero and not Money(0, "RUB").is_positive
    assert Money(-1, "RUB").is_negative and Money(1, "RUB").is_positive


def test_minor_unit_digits() -> None:
    assert minor_unit_digits("RUB") == 2
    assert minor_unit_digits("KZT") == 2
    with pytest.raises(ValueError, match="USD"):
        minor_unit_digits("USD")


@settings(max_examples=200)
@given(amounts, amounts)
def test_add_then_subtract_is_identity(a: int, b: int) -> None:
    assert Money(a, "RUB") + Money(b, "RUB") - Money(b, "RUB") == Money(a, "RUB")


@settings(max_examples=200)
@given(amounts, amounts)
def test_order_follows_minor_units(a: int, b: int) -> None:
    assert (Money(a, "KZT") < Money(b, "KZT")) == (a < b)
    assert (Money(a, "KZT") >= Money(b, "KZT")) == (a >= b)
