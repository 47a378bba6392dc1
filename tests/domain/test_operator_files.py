"""The shipped operators/*.toml load and carry the figures of docs/rules.md §6."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from smsgw.domain.money import Money
from smsgw.domain.operators import (
    ConfirmationMode,
    OperatorPolicy,
    find_operator,
    load_operators,
    operator_by_number,
)

OPERATORS_DIR = Path(__file__).resolve().parents[2] / "operators"


def load_shipped_operators() -> dict[str, OperatorPolicy]:
    return load_operators(
        {path.stem: tomllib.loads(path.read_text("utf-8")) for path in OPERATORS_DIR.glob("*.toml")}
    )


@pytest.fixture(scope="module")
def operators() -> dict[str, OperatorPolicy]:
    return load_shipped_operators()


def rub(roubles: int, kopecks: int = 0) -> Money:
    return Money(roubles * 100 + kopecks, "RUB")


def test_every_operator_of_the_spec_has_a_file(operators: dict[str, OperatorPolicy]) -> None:
    assert set(operators) == {"mts", "megafon", "beeline", "t2", "kcell", "yota"}


# (min, max per payment, per day amount, per day count, per month amount, per month
# count, must remain), straight from the table of docs/rules.md §6
PUBLISHED_LIMITS = {
    "mts": (rub(1), rub(14_999), None, None, rub(40_000), None, None),
    "megafon": (rub(1), rub(15_000), None, None, rub(40_000), None, None),
    "beeline": (rub(10), rub(15_000), rub(60_000), 500, rub(100_000), 5_000, rub(10)),
    "t2": (rub(0, 1), rub(15_000), None, None, rub(40_000), None, None),
}


@pytest.mark.parametrize("operator_id", sorted(PUBLISHED_LIMITS))
def test_russian_limits_match_the_spec(
    operators: dict[str, OperatorPolicy], operator_id: str
) -> None:
    limits = operators[operator_id].limits
    assert (
        limits.min_per_payment,
        limits.max_per_payment,
        limits.per_day_amount,
        limits.per_day_count,
        limits.per_month_amount,
        limits.per_month_count,
        limits.must_remain,
    ) == PUBLISHED_LIMITS[operator_id]


@pytest.mark.parametrize("operator_id", sorted(PUBLISHED_LIMITS))
def test_russian_operators_confirm_themselves_in_roubles_on_moscow_time(
    operators: dict[str, OperatorPolicy], operator_id: str
) -> None:
    policy = operators[operator_id]
    assert policy.supported
    assert policy.currency == "RUB"
    assert policy.confirmation is ConfirmationMode.OPERATOR
    assert policy.time_zone.key == "Europe/Moscow"


def test_kcell_is_configured_in_tenge_with_activ_as_a_brand(
    operators: dict[str, OperatorPolicy],
) -> None:
    kcell = operators["kcell"]
    assert kcell.supported
    assert kcell.currency == "KZT"
    assert kcell.time_zone.key == "Asia/Almaty"
    assert kcell.limits.min_per_payment.currency == "KZT"
    assert kcell.limits.max_per_payment is not None
    assert find_operator(operators, "Activ") is kcell


def test_yota_is_not_supported(operators: dict[str, OperatorPolicy]) -> None:
    assert not operators["yota"].supported


@pytest.mark.parametrize(
    ("number", "operator_id"),
    [
        ("79101234567", "mts"),
        ("79261234567", "megafon"),
        ("79031234567", "beeline"),
        ("79641234567", "beeline"),
        ("79521234567", "t2"),
        ("79991234567", "yota"),
        ("77011234567", "kcell"),
        ("77771234567", None),  # Beeline Kazakhstan: not an operator of this deployment
    ],
)
def test_number_ranges_give_a_fallback_guess(
    operators: dict[str, OperatorPolicy], number: str, operator_id: str | None
) -> None:
    found = operator_by_number(operators, number)
    assert (found.id if found else None) == operator_id
