"""How facts look in a reply: money with its currency sign, zone-local times."""

from __future__ import annotations

from datetime import datetime

from smsgw.domain.money import Money

CURRENCY_SIGNS = {"RUB": "₽", "KZT": "₸", "USD": "$", "EUR": "€"}
# minor units per major unit; every currency smsgw bills in has 100
MINOR_DIGITS = {"RUB": 2, "KZT": 2, "USD": 2, "EUR": 2}
# from this many major units, thousands are grouped: 14 999 ₽, but 1234.50 ₽
GROUPING_FROM = 10_000


def format_money(amount: Money) -> str:
    """`120 ₽`, `120.50 ₽`, `14 999 ₽`: kopecks shown only when there are some."""
    digits = MINOR_DIGITS.get(amount.currency, 2)
    major, minor = divmod(abs(amount.minor), 10**digits)
    text = _grouped(major)
    if minor:
        text += f".{minor:0{digits}d}"
    sign = "-" if amount.minor < 0 else ""
    return f"{sign}{text} {CURRENCY_SIGNS.get(amount.currency, amount.currency)}"


def _grouped(major: int) -> str:
    if major < GROUPING_FROM:
        return str(major)
    return f"{major:,}".replace(",", " ")


def format_time(moment: datetime, now: datetime | None = None) -> str:
    """Local `HH:MM` in the moment's own zone, `DD.MM HH:MM` when not on `now`'s day."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"a reply time must be timezone-aware, got {moment.isoformat()}")
    clock = moment.strftime("%H:%M")
    if now is None or now.astimezone(moment.tzinfo).date() == moment.date():
        return clock
    return moment.strftime("%d.%m ") + clock
