"""How facts look in a reply: money as each language writes it, zone-local times.

Money: RU and KK write `120,50 ₽` and `1 500 ₸` (decimal comma, thousands grouped by a
plain space from 1 000, the currency sign after); EN writes `120.50 RUB` and `1500 KZT`.
A plain space, not U+00A0: it is in the GSM 03.38 alphabet and in UCS-2 alike, so it
never changes the encoding a reply needs, and handsets show it the same. The EN
replies carry the ISO code instead of the sign because ₽ and ₸ are not GSM 03.38
characters: one of them would turn a 160-character English SMS into a 70-character
UCS-2 one. Minor units are shown only when there are some: `120 ₽`, `0,05 ₽`.
"""

from __future__ import annotations

from datetime import datetime

from smsgw.domain.money import MINOR_UNIT_DIGITS, Money
from smsgw.language import Language

CURRENCY_SIGNS = {"RUB": "₽", "KZT": "₸", "USD": "$", "EUR": "€"}
# a currency smsgw does not bill in (only ever seen in tests) is shown with 2 decimals
DEFAULT_MINOR_DIGITS = 2
# RU and KK group thousands from this many major units: 1 500 ₸, 14 999 ₽
GROUPING_FROM = 1_000
THOUSANDS_SEPARATOR = " "


def format_money(amount: Money, language: Language | str = Language.RU) -> str:
    """`120,50 ₽` / `1 500 ₸` (RU, KK) or `120.50 RUB` / `1500 KZT` (EN)."""
    digits = MINOR_UNIT_DIGITS.get(amount.currency, DEFAULT_MINOR_DIGITS)
    major, minor = divmod(abs(amount.minor), 10**digits)
    sign = "-" if amount.minor < 0 else ""
    if Language(language) is Language.EN:
        text = str(major) + (f".{minor:0{digits}d}" if minor else "")
        return f"{sign}{text} {amount.currency}"
    text = _grouped(major) + (f",{minor:0{digits}d}" if minor else "")
    return f"{sign}{text} {CURRENCY_SIGNS.get(amount.currency, amount.currency)}"


def _grouped(major: int) -> str:
    if major < GROUPING_FROM:
        return str(major)
    return f"{major:,}".replace(",", THOUSANDS_SEPARATOR)


def format_time(moment: datetime, now: datetime | None = None) -> str:
    """Local `HH:MM` in the moment's own zone, `DD.MM HH:MM` when not on `now`'s day."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"a reply time must be timezone-aware, got {moment.isoformat()}")
    clock = moment.strftime("%H:%M")
    if now is None or now.astimezone(moment.tzinfo).date() == moment.date():
        return clock
    return moment.strftime("%d.%m ") + clock
