from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from smsgw.domain.errors import ConfigError, OperatorUnsupportedError
from smsgw.domain.money import Money
from smsgw.domain.operators import (
    ConfirmationMode,
    ensure_supported,
    find_operator,
    international_digits,
    load_operators,
    operator_by_number,
    parse_operator,
)


def minimal(**changes: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "name": "Beeline",
        "currency": "RUB",
        "time_zone": "Europe/Moscow",
        "limits": {"min_per_payment": "10", "max_per_payment": 15000},
    }
    data.update(changes)
    return data


def test_a_minimal_file_parses_with_safe_defaults() -> None:
    policy = parse_operator("beeline", minimal())
    assert policy.id == "beeline"
    assert policy.supported
    assert policy.confirmation is ConfirmationMode.OPERATOR
    assert policy.limits.min_per_payment == Money(1_000, "RUB")
    assert policy.limits.max_per_payment == Money(1_500_000, "RUB")
    assert policy.limits.per_day_amount is None
    assert policy.number_prefixes == ()


def test_the_minimum_defaults_to_one_minor_unit() -> None:
    policy = parse_operator("x", minimal(limits={}))
    assert policy.limits.min_per_payment == Money(1, "RUB")


@pytest.mark.parametrize(
    ("text", "minor"),
    [("0.01", 1), ("1", 100), ("14999", 1_499_900), ("15000.5", 1_500_050), (" 10.00 ", 1_000)],
)
def test_amounts_are_exact_major_units(text: str, minor: int) -> None:
    policy = parse_operator("x", minimal(limits={"max_per_payment": text}))
    assert policy.limits.max_per_payment == Money(minor, "RUB")


@settings(max_examples=200)
@given(st.integers(min_value=1, max_value=10**12))
def test_any_decimal_amount_parses_to_its_minor_units(minor: int) -> None:
    text = f"{minor // 100}.{minor % 100:02d}"
    policy = parse_operator("x", minimal(limits={"per_month_amount": text}))
    assert policy.limits.per_month_amount == Money(minor, "RUB")


@pytest.mark.parametrize(
    ("data", "key"),
    [
        (minimal(limits={"max_per_payment": 14999.0}), "limits.max_per_payment"),
        (minimal(limits={"max_per_payment": "1.001"}), "limits.max_per_payment"),
        (minimal(limits={"max_per_payment": "-5"}), "limits.max_per_payment"),
        (minimal(limits={"max_per_payment": "15 000"}), "limits.max_per_payment"),
        (minimal(limits={"max_per_payment": True}), "limits.max_per_payment"),
        (minimal(limits={"min_per_payment": "0"}), "limits.min_per_payment"),
        (minimal(limits={"min_per_payment": "20", "max_per_payment": "10"}), "limits.max"),
        (minimal(limits={"per_day_count": 0}), "limits.per_day_count"),
        (minimal(limits={"per_day_count": "500"}), "limits.per_day_count"),
        (minimal(limits={"per_month_count": True}), "limits.per_month_count"),
        (minimal(limits={"per_week_amount": "1"}), "limits.per_week_amount"),
        (minimal(limits="none"), "limits"),
        (minimal(currency="rub"), "currency"),
        (minimal(currency="USD"), "currency"),
        (minimal(time_zone="Europe/Nowhere"), "time_zone"),
        (minimal(time_zone=""), "time_zone"),
        (minimal(confirmation="subscriber"), "confirmation"),
        (minimal(supported="no"), "supported"),
        (minimal(name=""), "name"),
        (minimal(brands="Activ"), "brands"),
        (minimal(id="mts"), "id"),
        (minimal(colour="yellow"), "colour"),
        (minimal(numbers={"prefixes": ["+7903"]}), "numbers.prefixes"),
        (minimal(numbers={"ranges": ["7903"]}), "numbers.ranges"),
    ],
)
def test_a_bad_value_names_the_file_and_the_key(data: dict[str, Any], key: str) -> None:
    with pytest.raises(ConfigError) as refused:
        parse_operator("beeline", data)
    assert str(refused.value).startswith(f"operators/beeline.toml:{key}")


def test_the_source_given_is_named_in_errors() -> None:
    with pytest.raises(ConfigError, match=r"^/etc/smsgw/b\.toml:currency"):
        parse_operator("beeline", minimal(currency="XXX"), source="/etc/smsgw/b.toml")


def test_two_operators_cannot_share_a_brand() -> None:
    with pytest.raises(ConfigError, match="brands"):
        load_operators({"kcell": minimal(brands=["Activ"]), "other": minimal(brands=["activ"])})


def test_two_operators_cannot_share_a_prefix() -> None:
    numbers = {"numbers": {"prefixes": ["7903"]}}
    with pytest.raises(ConfigError, match=r"numbers\.prefixes"):
        load_operators({"a": minimal(name="A", **numbers), "b": minimal(name="B", **numbers)})


def test_lookup_by_id_name_or_brand_ignores_case() -> None:
    operators = load_operators({"kcell": minimal(name="Kcell", currency="KZT", brands=["Activ"])})
    for name in ("kcell", "KCELL", "Activ", " activ "):
        assert find_operator(operators, name) is operators["kcell"]
    assert find_operator(operators, "Beeline") is None


def test_the_longest_prefix_wins() -> None:
    operators = load_operators(
        {
            "wide": minimal(name="Wide", numbers={"prefixes": ["7903"]}),
            "narrow": minimal(name="Narrow", numbers={"prefixes": ["790312"]}),
        }
    )
    assert operator_by_number(operators, "79031234567") is operators["narrow"]
    assert operator_by_number(operators, "79039234567") is operators["wide"]
    assert operator_by_number(operators, "79161234567") is None


@pytest.mark.parametrize(
    ("raw", "digits"),
    [
        ("+7 (903) 123-45-67", "79031234567"),
        ("89031234567", "79031234567"),
        ("79031234567", "79031234567"),
        ("8800", "8800"),
    ],
)
def test_numbers_are_read_in_international_form(raw: str, digits: str) -> None:
    assert international_digits(raw) == digits


def test_an_unsupported_operator_is_refused_with_its_name() -> None:
    yota = parse_operator("yota", minimal(name="Yota", supported=False))
    with pytest.raises(OperatorUnsupportedError) as refused:
        ensure_supported(yota)
    assert refused.value.reply_key == "operator.unsupported"
    assert refused.value.facts == {"operator": "Yota"}
    ensure_supported(parse_operator("mts", minimal(name="MTS")))
