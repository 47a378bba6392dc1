"""Realistic worst-case facts for every reply key: 8-character plate, 4-digit zone,
1 234,50 amounts (a fraction and a thousands group)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from smsgw.domain.money import Money
from smsgw.language import Language

MOSCOW = timezone(timedelta(hours=3), "MSK")
NOW = datetime(2024, 5, 14, 9, 5, tzinfo=MOSCOW)
END = datetime(2024, 5, 14, 18, 30, tzinfo=MOSCOW)

PLATE = "A123BC77"
ZONE = "1001"
AMOUNT = Money(123450, "RUB")  # 1234.50 ₽
BALANCE = Money(123450, "RUB")

_LIMIT = {"operator": "Beeline", "limit": Money(1500000, "RUB"), "amount": AMOUNT}
_LIMIT_COUNT = {"operator": "Beeline", "limit": 5000, "amount": AMOUNT}
_PAYMENT = {"zone": ZONE, "plate": PLATE, "amount": AMOUNT}
_SESSIONS = [
    (PLATE, ZONE, END),
    ("B456CE777", "3601", END + timedelta(hours=1)),
]

SAMPLE_FACTS: dict[str, dict[str, object]] = {
    "parse.empty": {"example": "1001*A123BC77*2"},
    "parse.too_long": {"example": "1001*A123BC77*2", "max_chars": 64},
    "parse.unknown": {"example": "1001*A123BC77*2"},
    "parse.separator": {"example": "1001*A123BC77*2"},
    "parse.pay_format": {"example": "1001*A123BC77*2"},
    "parse.extend_format": {"example": "X*2*A123BC77"},
    "parse.stop_format": {"example": "S*A123BC77"},
    "parse.bad_zone": {"example": "1001*A123BC77*2"},
    "parse.bad_hours": {"example": "1001*A123BC77*2", "max_hours": 24},
    "parse.bad_language": {"example": "LANG*EN"},
    "parse.plate_letter": {"example": "1001*A123BC77*2", "letter": "Ж"},
    "parse.bad_plate": {"example": "1001*A123BC77*2", "plate": "D123BC77"},
    "pay.confirm_request": {"zone": ZONE, "plate": PLATE, "hours": 12, "amount": AMOUNT},
    "pay.charge_requested": {"amount": AMOUNT, "operator_number": "7701"},
    "topup.confirm_request": {"amount": AMOUNT},
    "charge.top_up_request": {"amount": AMOUNT},
    "topup.done": {"amount": AMOUNT, "balance": BALANCE},
    "topup.declined": {"amount": AMOUNT},
    "topup.failed": {"amount": AMOUNT},
    "topup.expired": {"amount": AMOUNT, "operator_number": "7701"},
    "topup.unavailable": {"operator": "Beeline"},
    "status.pending_top_up": {"amount": AMOUNT, "operator_number": "7701", "balance": BALANCE},
    "charge.request": {"zone": ZONE, "plate": PLATE, "hours": 12, "amount": AMOUNT},
    "pay.moved": {
        **_PAYMENT,
        "old_zone": "3601",
        "refund": AMOUNT,
        "end": END,
        "balance": BALANCE,
        "now": NOW,
    },
    "pay.already_paid": {"zone": ZONE, "plate": PLATE, "end": END, "now": NOW},
    "pay.insufficient_funds": {**_PAYMENT, "must_remain": Money(1000, "RUB")},
    "pay.operator_limit": _PAYMENT,
    "pay.barred": _PAYMENT,
    "status.pending": {**_PAYMENT, "operator_number": "7701", "balance": BALANCE},
    "operator.other_currency": {"zone": "7001", "city": "Almaty", "operator": "MTS"},
    "confirm.answer_operator": {"amount": AMOUNT, "operator_number": "7701"},
    "pay.started": {**_PAYMENT, "end": END, "balance": BALANCE, "now": NOW},
    "pay.started_min_charge": {
        **_PAYMENT,
        "end": END,
        "charged": Money(1000, "RUB"),
        "balance": Money(755, "RUB"),
        "now": NOW,
    },
    "pay.free_now": {"zone": ZONE, "until": END, "now": NOW},
    "pay.already_active": {
        "zone": ZONE,
        "plate": PLATE,
        "end": END,
        "example": "X*2*A123BC77",
        "now": NOW,
    },
    "pay.pending_exists": {"amount": AMOUNT, "operator_number": "7701"},
    "pay.declined": _PAYMENT,
    "pay.expired": {**_PAYMENT, "operator_number": "7701"},
    "pay.failed": _PAYMENT,
    "pay.credited_late": {"amount": AMOUNT, "balance": BALANCE},
    "pay.credited_plate_busy": {"plate": PLATE, "amount": AMOUNT, "balance": BALANCE},
    "extend.credited_ended": {"plate": PLATE, "amount": AMOUNT, "balance": BALANCE},
    "extend.done": {
        "zone": ZONE,
        "plate": PLATE,
        "end": END,
        "amount": AMOUNT,
        "balance": BALANCE,
        "now": NOW,
    },
    "extend.done_min_charge": {
        "zone": ZONE,
        "plate": PLATE,
        "end": END,
        "amount": AMOUNT,
        "charged": Money(1000, "RUB"),
        "balance": Money(755, "RUB"),
        "now": NOW,
    },
    "extend.no_session": {},
    "stop.no_session": {},
    "extend.ambiguous": {"plates": [PLATE, "B456CE777"], "example": "X*2*A123BC77"},
    "stop.ambiguous": {"plates": [PLATE, "B456CE777"], "example": "S*A123BC77"},
    "extend.too_long": {"max_hours": 24, "example": "X*20*A123BC77"},
    "stop.done": {
        "zone": ZONE,
        "plate": PLATE,
        "end": END,
        "refund": AMOUNT,
        "balance": BALANCE,
        "now": NOW,
    },
    "status.sessions": {"sessions": _SESSIONS, "balance": BALANCE, "now": NOW},
    "status.none": {"balance": BALANCE},
    "session.reminder": {
        "plate": PLATE,
        "zone": ZONE,
        "end": END,
        "example": "X*1*A123BC77",
        "now": NOW,
    },
    "session.moved_away": {
        "zone": ZONE,
        "plate": PLATE,
        "end": END,
        "refund": AMOUNT,
        "balance": BALANCE,
        "now": NOW,
    },
    "session.ended": {"plate": PLATE, "zone": ZONE, "end": END, "now": NOW},
    "limit.min": {**_LIMIT, "limit": Money(1000, "RUB"), "amount": Money(50, "RUB")},
    "limit.max_per_payment": _LIMIT,
    "limit.per_day_amount": {**_LIMIT, "limit": Money(6000000, "RUB")},
    "limit.per_day_count": {**_LIMIT_COUNT, "limit": 500},
    "limit.per_month_amount": {**_LIMIT, "limit": Money(10000000, "RUB")},
    "limit.per_month_count": _LIMIT_COUNT,
    "limit.must_remain": {**_LIMIT, "limit": Money(1000, "RUB")},
    "operator.unsupported": {"operator": "Yota"},
    "zone.unknown": {"zone": "9999", "example": "1001*A123BC77*2"},
    "hours.too_many": {"max_hours": 24, "example": "1001*A123BC77*24"},
    "language.set": {"language": Language.KK},
    "help.text": {"short_number": "7757"},
    "confirm.nothing_pending": {},
    "confirm.in_progress": {"amount": AMOUNT},
    "error.temporary": {},
    "mo.incomplete": {},
    "driver.code": {"code": "123456"},
}
