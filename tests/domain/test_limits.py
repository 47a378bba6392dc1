from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from smsgw.domain import errors
from smsgw.domain.charges import Charge, ChargeState, new_charge
from smsgw.domain.limits import (
    LimitBroken,
    LimitKind,
    Usage,
    apply_minimum,
    check_limits,
    ensure_within_limits,
    usage_of,
    usage_periods,
)
from smsgw.domain.money import Money
from smsgw.domain.operators import OperatorPolicy
from tests.domain.test_operator_files import load_shipped_operators

OPERATORS = load_shipped_operators()
CHARGING = sorted(op for op, policy in OPERATORS.items() if policy.supported)
MOSCOW = ZoneInfo("Europe/Moscow")
ALMATY = ZoneInfo("Asia/Almaty")
SANTIAGO = ZoneInfo("America/Santiago")  # its DST changes happen at midnight


def money(policy: OperatorPolicy, minor: int) -> Money:
    return Money(minor, policy.currency)


def a_payment(policy: OperatorPolicy) -> Money:
    """A payment that breaks nothing alone: the minimum, at least 1 unit (100 minor)."""
    return max(policy.limits.min_per_payment, money(policy, 100))


def kinds(broken: LimitBroken | None) -> LimitKind | None:
    return broken.kind if broken else None


# --- each limit at its edge, for every operator that has it --------------------------


@pytest.mark.parametrize("operator_id", CHARGING)
def test_the_minimum_passes_and_a_kopeck_less_fails(operator_id: str) -> None:
    policy = OPERATORS[operator_id]
    minimum = policy.limits.min_per_payment
    usage = Usage.zero(policy.currency)
    assert check_limits(policy, minimum, usage) is None
    broken = check_limits(policy, minimum - money(policy, 1), usage)
    assert broken == LimitBroken(LimitKind.MIN, policy.name, minimum, minimum - money(policy, 1))


@pytest.mark.parametrize("operator_id", CHARGING)
def test_the_maximum_per_payment_passes_and_a_kopeck_more_fails(operator_id: str) -> None:
    policy = OPERATORS[operator_id]
    maximum = policy.limits.max_per_payment
    assert maximum is not None
    usage = Usage.zero(policy.currency)
    assert check_limits(policy, maximum, usage) is None
    assert kinds(check_limits(policy, maximum + money(policy, 1), usage)) is (
        LimitKind.MAX_PER_PAYMENT
    )


def _amount_limit_cases() -> list[tuple[str, LimitKind]]:
    cases = []
    for operator_id in CHARGING:
        limits = OPERATORS[operator_id].limits
        if limits.per_day_amount is not None:
            cases.append((operator_id, LimitKind.PER_DAY_AMOUNT))
        if limits.per_month_amount is not None:
            cases.append((operator_id, LimitKind.PER_MONTH_AMOUNT))
    return cases


@pytest.mark.parametrize(("operator_id", "kind"), _amount_limit_cases())
def test_period_sums_reach_the_limit_and_a_kopeck_more_fails(
    operator_id: str, kind: LimitKind
) -> None:
    policy = OPERATORS[operator_id]
    payment = a_payment(policy)
    if kind is LimitKind.PER_DAY_AMOUNT:
        assert policy.limits.per_day_amount is not None
        used = policy.limits.per_day_amount - payment
        at_limit = replace(Usage.zero(policy.currency), day_amount=used, month_amount=used)
        over = replace(at_limit, day_amount=used + money(policy, 1))
    else:
        assert policy.limits.per_month_amount is not None
        used = policy.limits.per_month_amount - payment
        at_limit = replace(Usage.zero(policy.currency), month_amount=used)
        over = replace(at_limit, month_amount=used + money(policy, 1))
    assert check_limits(policy, payment, at_limit) is None
    broken = check_limits(policy, payment, over)
    assert broken is not None
    assert broken.kind is kind
    assert broken.amount == payment
    assert broken.facts()["operator"] == policy.name


def test_beelines_daily_count_allows_the_500th_payment_not_the_501st() -> None:
    beeline = OPERATORS["beeline"]
    payment = a_payment(beeline)
    usage = replace(Usage.zero("RUB"), day_count=499, month_count=499)
    assert check_limits(beeline, payment, usage) is None
    broken = check_limits(beeline, payment, replace(usage, day_count=500, month_count=500))
    assert broken == LimitBroken(LimitKind.PER_DAY_COUNT, "Beeline", 500, payment, 500)


def test_beelines_monthly_count_allows_the_5000th_payment_not_the_5001st() -> None:
    beeline = OPERATORS["beeline"]
    payment = a_payment(beeline)
    usage = replace(Usage.zero("RUB"), month_count=4_999)
    assert check_limits(beeline, payment, usage) is None
    broken = check_limits(beeline, payment, replace(usage, month_count=5_000))
    assert kinds(broken) is LimitKind.PER_MONTH_COUNT
    assert broken is not None and broken.limit == 5_000


def test_beeline_leaves_ten_roubles_on_the_phone() -> None:
    beeline = OPERATORS["beeline"]
    payment = Money(12_000, "RUB")
    usage = Usage.zero("RUB")
    exactly = payment + Money(1_000, "RUB")
    assert check_limits(beeline, payment, usage, phone_balance=exactly) is None
    broken = check_limits(beeline, payment, usage, phone_balance=exactly - Money(1, "RUB"))
    assert kinds(broken) is LimitKind.MUST_REMAIN
    assert broken is not None and broken.limit == Money(1_000, "RUB")
    # unknown phone balance: the operator enforces it itself
    assert check_limits(beeline, payment, usage, phone_balance=None) is None


@pytest.mark.parametrize("operator_id", ["mts", "megafon", "t2"])
def test_operators_without_a_daily_limit_ignore_daily_usage(operator_id: str) -> None:
    policy = OPERATORS[operator_id]
    usage = replace(Usage.zero("RUB"), day_amount=Money(10**9, "RUB"), day_count=10**6)
    assert check_limits(policy, a_payment(policy), usage) is None


# --- the first broken limit wins -----------------------------------------------------


def test_the_first_broken_limit_is_reported() -> None:
    beeline = OPERATORS["beeline"]
    worn_out = Usage(Money(6_000_000, "RUB"), 500, Money(10_000_000, "RUB"), 5_000)
    cases = [
        (Money(999, "RUB"), LimitKind.MIN),
        (Money(1_500_001, "RUB"), LimitKind.MAX_PER_PAYMENT),
        (Money(1_000, "RUB"), LimitKind.PER_DAY_AMOUNT),
    ]
    for amount, kind in cases:
        broken = check_limits(beeline, amount, worn_out, phone_balance=Money(0, "RUB"))
        assert kinds(broken) is kind


_ORDER = list(LimitKind)
_BROKEN_ALONE: dict[LimitKind, Callable[[OperatorPolicy, Money, Usage, Money], bool]] = {
    LimitKind.MIN: lambda p, a, u, b: a.minor < p.limits.min_per_payment.minor,
    LimitKind.MAX_PER_PAYMENT: lambda p, a, u, b: a.minor > 1_500_000,
    LimitKind.PER_DAY_AMOUNT: lambda p, a, u, b: u.day_amount.minor + a.minor > 6_000_000,
    LimitKind.PER_DAY_COUNT: lambda p, a, u, b: u.day_count >= 500,
    LimitKind.PER_MONTH_AMOUNT: lambda p, a, u, b: u.month_amount.minor + a.minor > 10_000_000,
    LimitKind.PER_MONTH_COUNT: lambda p, a, u, b: u.month_count >= 5_000,
    LimitKind.MUST_REMAIN: lambda p, a, u, b: b.minor - a.minor < 1_000,
}


@settings(max_examples=200, deadline=None)
@given(
    amount=st.integers(min_value=0, max_value=2_000_000),
    day_amount=st.integers(min_value=0, max_value=7_000_000),
    day_count=st.integers(min_value=0, max_value=600),
    extra_month_amount=st.integers(min_value=0, max_value=5_000_000),
    extra_month_count=st.integers(min_value=0, max_value=5_000),
    phone_balance=st.integers(min_value=0, max_value=3_000_000),
)
def test_beeline_reports_exactly_the_first_limit_broken(
    amount: int,
    day_amount: int,
    day_count: int,
    extra_month_amount: int,
    extra_month_count: int,
    phone_balance: int,
) -> None:
    beeline = OPERATORS["beeline"]
    usage = Usage(
        Money(day_amount, "RUB"),
        day_count,
        Money(day_amount + extra_month_amount, "RUB"),
        day_count + extra_month_count,
    )
    args = (beeline, Money(amount, "RUB"), usage, Money(phone_balance, "RUB"))
    expected = next((kind for kind in _ORDER if _BROKEN_ALONE[kind](*args)), None)
    assert kinds(check_limits(*args)) is expected


def test_a_broken_limit_becomes_the_error_with_its_reply_key() -> None:
    mts = OPERATORS["mts"]
    with pytest.raises(errors.LimitError) as refused:
        ensure_within_limits(mts, Money(1_500_000, "RUB"), Usage.zero("RUB"))
    assert refused.value.reply_key == "limit.max_per_payment"
    assert refused.value.facts == {
        "operator": "MTS",
        "limit": Money(1_499_900, "RUB"),
        "amount": Money(1_500_000, "RUB"),
    }
    ensure_within_limits(mts, Money(1_499_900, "RUB"), Usage.zero("RUB"))


@pytest.mark.parametrize("kind", list(LimitKind))
def test_every_limit_kind_has_its_error(kind: LimitKind) -> None:
    broken = LimitBroken(kind, "MTS", Money(100, "RUB"), Money(200, "RUB"))
    error = broken.to_error()
    assert isinstance(error, errors.LimitError)
    assert error.reply_key == kind.value == broken.reply_key


def test_a_payment_in_the_wrong_currency_is_a_bug() -> None:
    with pytest.raises(ValueError, match="RUB"):
        check_limits(OPERATORS["mts"], Money(100, "KZT"), Usage.zero("RUB"))


# --- the minimum charge --------------------------------------------------------------


@pytest.mark.parametrize(
    ("shortfall", "charged"),
    [(-500, 0), (0, 0), (1, 1_000), (999, 1_000), (1_000, 1_000), (1_001, 1_001)],
)
def test_a_shortfall_below_the_minimum_is_charged_as_the_minimum(
    shortfall: int, charged: int
) -> None:
    beeline = OPERATORS["beeline"]
    assert apply_minimum(beeline, Money(shortfall, "RUB")) == Money(charged, "RUB")


@settings(max_examples=200)
@given(st.sampled_from(CHARGING), st.integers(min_value=1, max_value=10**9))
def test_the_minimum_charge_always_passes_the_minimum_limit(operator_id: str, minor: int) -> None:
    policy = OPERATORS[operator_id]
    charged = apply_minimum(policy, money(policy, minor))
    assert charged >= money(policy, minor)
    assert kinds(check_limits(policy, charged, Usage.zero(policy.currency))) is not LimitKind.MIN


# --- calendar periods in the operator's time zone ------------------------------------


def utc(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0
) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=UTC)


@pytest.mark.parametrize(
    ("now", "tz", "day_start", "month_start"),
    [
        # Moscow is UTC+3: local midnight is 21:00 UTC the day before
        (utc(2024, 3, 14, 20, 59, 59), MOSCOW, utc(2024, 3, 13, 21), utc(2024, 2, 29, 21)),
        (utc(2024, 3, 14, 21, 0, 0), MOSCOW, utc(2024, 3, 14, 21), utc(2024, 2, 29, 21)),
        # month boundary: 1 April 00:00 Moscow is 31 March 21:00 UTC
        (utc(2024, 3, 31, 20, 59, 59), MOSCOW, utc(2024, 3, 30, 21), utc(2024, 2, 29, 21)),
        (utc(2024, 3, 31, 21, 0, 0), MOSCOW, utc(2024, 3, 31, 21), utc(2024, 3, 31, 21)),
        # Almaty is UTC+5 since 1 March 2024 (tzdata 2024a)
        (utc(2024, 6, 30, 19, 0, 0), ALMATY, utc(2024, 6, 30, 19), utc(2024, 6, 30, 19)),
        (utc(2024, 6, 30, 18, 59, 59), ALMATY, utc(2024, 6, 29, 19), utc(2024, 5, 31, 19)),
        # Santiago skipped 00:00-01:00 on 3 Sep 2023: that day began at 01:00 -03 (04:00 UTC)
        (utc(2023, 9, 3, 15), SANTIAGO, utc(2023, 9, 3, 4), utc(2023, 9, 1, 4)),
        (utc(2023, 9, 3, 3, 59, 59), SANTIAGO, utc(2023, 9, 2, 4), utc(2023, 9, 1, 4)),
    ],
)
def test_day_and_month_start_at_local_midnight(
    now: datetime, tz: ZoneInfo, day_start: datetime, month_start: datetime
) -> None:
    assert usage_periods(now, tz) == (day_start, month_start)


def test_periods_need_an_aware_now() -> None:
    with pytest.raises(ValueError, match="aware"):
        usage_periods(datetime(2024, 3, 1, 12), MOSCOW)


@settings(max_examples=200)
@given(
    now=st.datetimes(
        min_value=datetime(2000, 1, 1), max_value=datetime(2040, 1, 1), timezones=st.just(UTC)
    ),
    tz=st.sampled_from([MOSCOW, ALMATY, ZoneInfo("Europe/Berlin"), SANTIAGO]),
)
def test_periods_contain_now_and_start_on_the_local_calendar(now: datetime, tz: ZoneInfo) -> None:
    day_start, month_start = usage_periods(now, tz)
    assert month_start <= day_start <= now
    assert now - day_start < timedelta(hours=25)  # a DST day can be 25 hours long
    assert day_start.astimezone(tz).date() == now.astimezone(tz).date()
    assert month_start.astimezone(tz).day == 1
    assert (month_start.astimezone(tz).year, month_start.astimezone(tz).month) == (
        now.astimezone(tz).year,
        now.astimezone(tz).month,
    )


# --- usage from the gateway's own charges --------------------------------------------

PHONE = "79031234567"


def charged(
    at: datetime, minor: int, state: ChargeState, phone: str = PHONE, operator: str = "beeline"
) -> Charge:
    charge = new_charge(
        charge_id=f"{phone}-{at.isoformat()}-{minor}",
        phone=phone,
        operator_id=operator,
        amount=Money(minor, "RUB"),
        purpose="session",
        now=at,
    )
    return replace(charge, state=state)


def test_usage_counts_the_phones_own_live_charges_by_local_day_and_month() -> None:
    now = utc(2024, 3, 14, 21, 30)  # 00:30 on 15 March in Moscow
    charges = [
        charged(utc(2024, 3, 14, 21, 5), 1_000, ChargeState.APPLIED),  # today
        charged(utc(2024, 3, 14, 21, 10), 2_000, ChargeState.AWAITING_CONFIRMATION),  # today
        charged(utc(2024, 3, 14, 20, 55), 4_000, ChargeState.CONFIRMED),  # yesterday
        charged(utc(2024, 2, 29, 20, 59), 8_000, ChargeState.APPLIED),  # last month
        charged(utc(2024, 3, 14, 21, 6), 16_000, ChargeState.DECLINED),  # took nothing
        charged(utc(2024, 3, 14, 21, 7), 32_000, ChargeState.EXPIRED),
        charged(utc(2024, 3, 14, 21, 8), 64_000, ChargeState.FAILED),
        charged(utc(2024, 3, 14, 21, 9), 128_000, ChargeState.APPLIED, phone="79160000000"),
        charged(utc(2024, 3, 14, 21, 9), 256_000, ChargeState.APPLIED, operator="mts"),
    ]
    usage = usage_of(charges, phone=PHONE, policy=OPERATORS["beeline"], now=now)
    assert usage == Usage(Money(3_000, "RUB"), 2, Money(7_000, "RUB"), 3)


def test_a_pending_charge_reserves_the_limit_for_the_next_payment() -> None:
    beeline = OPERATORS["beeline"]
    now = utc(2024, 3, 14, 12)
    pending = charged(now, 1_500_000, ChargeState.REQUESTED)
    many = [pending] * 4  # four pending 15 000 RUB payments today: 60 000 reserved
    usage = usage_of(many, phone=PHONE, policy=beeline, now=now)
    assert kinds(check_limits(beeline, Money(1_000, "RUB"), usage)) is LimitKind.PER_DAY_AMOUNT
