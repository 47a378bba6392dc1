"""The operator's payment limits, checked before any charge is requested (docs/rules.md §5, §6).

Limits include all commissions (this gateway adds none). The day and the month are
calendar periods in the operator's time zone, counted per phone over the charges this
gateway made through that operator; pending charges reserve their amount, so two quick
payments cannot both slip under a limit. A charge counts in the period it was requested.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from enum import StrEnum
from typing import TypeVar

from smsgw.domain import errors
from smsgw.domain.charges import Charge, reserves_limits
from smsgw.domain.money import Money
from smsgw.domain.operators import OperatorLimits, OperatorPolicy


class LimitKind(StrEnum):
    """Which limit, named by the reply key that explains it."""

    MIN = "limit.min"
    MAX_PER_PAYMENT = "limit.max_per_payment"
    PER_DAY_AMOUNT = "limit.per_day_amount"
    PER_DAY_COUNT = "limit.per_day_count"
    PER_MONTH_AMOUNT = "limit.per_month_amount"
    PER_MONTH_COUNT = "limit.per_month_count"
    MUST_REMAIN = "limit.must_remain"


@dataclass(frozen=True, slots=True)
class Usage:
    """What one phone has used (or reserved) of one operator's limits so far."""

    day_amount: Money
    day_count: int
    month_amount: Money
    month_count: int

    @classmethod
    def zero(cls, currency: str) -> Usage:
        return cls(Money.zero(currency), 0, Money.zero(currency), 0)


@dataclass(frozen=True, slots=True)
class LimitBroken:
    """The first limit a payment would break, with the figures for the reply.

    `limit` is a Money for amount limits and an int for count limits; `amount` is the
    payment asked for; `used` is what the period had already used (for must_remain: the
    phone's own balance), for logs and support."""

    kind: LimitKind
    operator: str
    limit: Money | int
    amount: Money
    used: Money | int | None = None

    @property
    def reply_key(self) -> str:
        return self.kind.value

    def facts(self) -> dict[str, object]:
        return {"operator": self.operator, "limit": self.limit, "amount": self.amount}

    def to_error(self) -> errors.LimitError:
        return errors.LimitError(self.reply_key, **self.facts())


def check_limits(
    policy: OperatorPolicy,
    amount: Money,
    usage: Usage,
    phone_balance: Money | None = None,
) -> LimitBroken | None:
    """The first limit that charging `amount` would break, in the order of the table in
    docs/rules.md §6 (minimum, per payment, per day, per month, what must remain), or None
    when it may be charged.
    `usage` is the phone's usage before this payment (see `usage_of`); `phone_balance` is
    the phone's own balance when the operator tells it; unknown means the operator
    enforces what must remain itself. Check `ensure_supported` first: an unsupported
    operator has no limits worth checking."""
    if amount.currency != policy.currency or usage.day_amount.currency != policy.currency:
        raise ValueError(f"{policy.id} charges in {policy.currency}, got {amount.currency}")
    for check in _CHECKS:
        broken = check(policy, amount, usage, phone_balance)
        if broken is not None:
            return broken
    return None


def ensure_within_limits(
    policy: OperatorPolicy, amount: Money, usage: Usage, phone_balance: Money | None = None
) -> None:
    """`check_limits` as a refusal: raises the LimitError whose reply names the limit."""
    broken = check_limits(policy, amount, usage, phone_balance)
    if broken is not None:
        raise broken.to_error()


_Check = Callable[[OperatorPolicy, Money, Usage, "Money | None"], "LimitBroken | None"]


def _minimum(
    policy: OperatorPolicy, amount: Money, usage: Usage, phone_balance: Money | None
) -> LimitBroken | None:
    minimum = policy.limits.min_per_payment
    if amount < minimum:
        return LimitBroken(LimitKind.MIN, policy.name, minimum, amount)
    return None


def _max_per_payment(
    policy: OperatorPolicy, amount: Money, usage: Usage, phone_balance: Money | None
) -> LimitBroken | None:
    maximum = policy.limits.max_per_payment
    if maximum is not None and amount > maximum:
        return LimitBroken(LimitKind.MAX_PER_PAYMENT, policy.name, maximum, amount)
    return None


# Day and month limits, on amount and on count, are the one rule "what the period has
# used plus this payment must stay within the limit"; only the figures differ.
_Figure = TypeVar("_Figure", Money, int)


def _period_limit(
    kind: LimitKind,
    limit_of: Callable[[OperatorLimits], _Figure | None],
    used_of: Callable[[Usage], _Figure],
    this_payment: Callable[[Money], _Figure],
) -> _Check:
    def check(
        policy: OperatorPolicy, amount: Money, usage: Usage, phone_balance: Money | None
    ) -> LimitBroken | None:
        limit = limit_of(policy.limits)
        used = used_of(usage)
        if limit is not None and used + this_payment(amount) > limit:
            return LimitBroken(kind, policy.name, limit, amount, used)
        return None

    return check


def _as_amount(amount: Money) -> Money:
    return amount


def _as_one(amount: Money) -> int:
    return 1


_per_day_amount = _period_limit(
    LimitKind.PER_DAY_AMOUNT, lambda lim: lim.per_day_amount, lambda use: use.day_amount, _as_amount
)
_per_day_count = _period_limit(
    LimitKind.PER_DAY_COUNT, lambda lim: lim.per_day_count, lambda use: use.day_count, _as_one
)
_per_month_amount = _period_limit(
    LimitKind.PER_MONTH_AMOUNT,
    lambda lim: lim.per_month_amount,
    lambda use: use.month_amount,
    _as_amount,
)
_per_month_count = _period_limit(
    LimitKind.PER_MONTH_COUNT, lambda lim: lim.per_month_count, lambda use: use.month_count, _as_one
)


def _must_remain(
    policy: OperatorPolicy, amount: Money, usage: Usage, phone_balance: Money | None
) -> LimitBroken | None:
    floor = policy.limits.must_remain
    if floor is not None and phone_balance is not None and phone_balance - amount < floor:
        return LimitBroken(LimitKind.MUST_REMAIN, policy.name, floor, amount, phone_balance)
    return None


_CHECKS: tuple[_Check, ...] = (
    _minimum,
    _max_per_payment,
    _per_day_amount,
    _per_day_count,
    _per_month_amount,
    _per_month_count,
    _must_remain,
)


def apply_minimum(policy: OperatorPolicy, shortfall: Money) -> Money:
    """What to charge for `shortfall`: nothing when there is none, the operator's minimum
    when it is smaller (the excess stays on the parking account), else the shortfall."""
    if not shortfall.is_positive:
        return Money.zero(shortfall.currency)
    return max(shortfall, policy.limits.min_per_payment)


# --- the periods and the usage in them ------------------------------------------------


def usage_periods(now_utc: datetime, tz: tzinfo) -> tuple[datetime, datetime]:
    """The starts (in UTC) of the calendar day and month containing `now_utc` in `tz`."""
    if now_utc.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    local = now_utc.astimezone(tz)
    day_start = local.replace(hour=0, minute=0, second=0, microsecond=0, fold=0)
    month_start = day_start.replace(day=1)
    return day_start.astimezone(UTC), month_start.astimezone(UTC)


def usage_of(
    charges: Iterable[Charge], *, phone: str, policy: OperatorPolicy, now: datetime
) -> Usage:
    """The phone's usage of `policy`'s limits at `now`, from the gateway's own charges."""
    day_start, month_start = usage_periods(now, policy.time_zone)
    usage = Usage.zero(policy.currency)
    for charge in charges:
        if charge.phone != phone or charge.operator_id != policy.id:
            continue
        if not reserves_limits(charge) or charge.requested_at < month_start:
            continue
        in_day = charge.requested_at >= day_start
        usage = Usage(
            day_amount=usage.day_amount + charge.amount if in_day else usage.day_amount,
            day_count=usage.day_count + int(in_day),
            month_amount=usage.month_amount + charge.amount,
            month_count=usage.month_count + 1,
        )
    return usage
