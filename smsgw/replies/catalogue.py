"""Which replies exist, and which of them may take more than one SMS."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from smsgw.commands.errors import PARSE_REPLY_KEYS

# The reply keys the domain and the service answer with, each with the facts its text
# uses. A `?` marks a fact the text can do without.
SHARED_REPLY_FACTS: Mapping[str, tuple[str, ...]] = MappingProxyType(
    {
        "pay.confirm_request": ("zone", "plate", "hours", "amount"),
        "pay.charge_requested": ("amount", "operator_number"),
        # the text the operator shows the subscriber in its own confirmation request
        "charge.request": ("zone", "plate", "hours", "amount"),
        "pay.started": ("zone", "plate", "end", "amount", "balance"),
        # a top-up of the parking account from the phone (driver API)
        "topup.confirm_request": ("amount",),
        "charge.top_up_request": ("amount",),
        "topup.done": ("amount", "balance"),
        "topup.declined": ("amount",),
        "topup.failed": ("amount",),
        "topup.expired": ("amount", "operator_number"),
        "topup.unavailable": ("operator",),
        "status.pending_top_up": ("amount", "operator_number", "balance"),
        "pay.started_min_charge": ("zone", "plate", "end", "amount", "charged", "balance"),
        # the plate's session in another zone was stopped, its unused money refunded
        "pay.moved": ("old_zone", "refund", "zone", "plate", "end", "amount", "balance"),
        "pay.free_now": ("zone", "until"),
        # to the phone that paid for the running session, and to any other phone
        "pay.already_active": ("zone", "plate", "end", "example"),
        "pay.already_paid": ("zone", "plate", "end"),
        "pay.pending_exists": ("amount", "operator_number"),
        "pay.declined": ("zone", "plate", "amount"),
        "pay.expired": ("zone", "plate", "amount", "operator_number"),
        # the operator's reason for a failed charge (docs/operator-charging.md)
        "pay.failed": ("zone", "plate", "amount"),
        "pay.insufficient_funds": ("zone", "plate", "amount", "must_remain?"),
        "pay.operator_limit": ("zone", "plate", "amount"),
        "pay.barred": ("zone", "plate", "amount"),
        # the money came but could not start the parking: it stays on the account
        "pay.credited_late": ("amount", "balance"),
        "pay.credited_plate_busy": ("plate", "amount", "balance"),
        "extend.credited_ended": ("plate", "amount", "balance"),
        "extend.done": ("zone", "plate", "end", "amount", "balance"),
        "extend.done_min_charge": ("zone", "plate", "end", "amount", "charged", "balance"),
        "extend.no_session": (),
        "stop.no_session": (),
        "extend.ambiguous": ("plates", "example"),
        "stop.ambiguous": ("plates", "example"),
        "extend.too_long": ("max_hours", "example?"),
        "stop.done": ("zone", "plate", "end", "refund", "balance"),
        "status.sessions": ("sessions", "balance"),
        "status.none": ("balance",),
        "status.pending": ("zone", "plate", "amount", "operator_number", "balance"),
        "session.reminder": ("plate", "zone", "end", "example"),
        "session.ended": ("plate", "zone", "end"),
        # to the payer of a session stopped because another phone paid the plate elsewhere
        "session.moved_away": ("zone", "plate", "end", "refund", "balance"),
        "limit.min": ("operator", "limit", "amount"),
        "limit.max_per_payment": ("operator", "limit", "amount"),
        "limit.per_day_amount": ("operator", "limit", "amount"),
        "limit.per_day_count": ("operator", "limit", "amount"),
        "limit.per_month_amount": ("operator", "limit", "amount"),
        "limit.per_month_count": ("operator", "limit", "amount"),
        "limit.must_remain": ("operator", "limit", "amount"),
        "operator.unsupported": ("operator",),
        "operator.other_currency": ("zone", "city", "operator"),
        "zone.unknown": ("zone", "example"),
        "hours.too_many": ("max_hours", "example"),
        "language.set": ("language",),
        "help.text": ("short_number?",),
        "confirm.nothing_pending": (),
        # `1`/`0` to the short number while the operator asks from its own number
        "confirm.answer_operator": ("amount", "operator_number"),
        "confirm.in_progress": ("amount",),
        "error.temporary": (),
        "mo.incomplete": (),
        # the one-time sign-in code of the driver API, texted to the phone
        "driver.code": ("code",),
    }
)

REPLY_KEYS: frozenset[str] = frozenset(SHARED_REPLY_FACTS) | PARSE_REPLY_KEYS

# Replies allowed to exceed one UCS-2 SMS (70 characters), each with the reason; none
# may take more than two parts.
MULTIPART_OK: Mapping[str, str] = MappingProxyType(
    {
        "status.sessions": "lists every running session, one plate, zone and end each",
        "extend.ambiguous": "lists every running plate before the example",
        "stop.ambiguous": "lists every running plate before the example",
        "pay.started_min_charge": "states three amounts: price, minimum charged, balance",
        "extend.done_min_charge": "states three amounts: price, minimum charged, balance",
        "help.text": "the whole command set in one reply",
        # the five facts with "Парковочный счёт" / "Тұрақ шоты" spelled out: about 80
        # UCS-2 characters with amounts like 1 234,50 ₽ (EN fits in one GSM SMS)
        "pay.started": "zone, plate, end, amount and the parking account, named",
        "extend.done": "zone, plate, end, amount and the parking account, named",
        "stop.done": "zone, plate, end, refund and the parking account, named",
        "pay.moved": "the old zone's refund, then the new session's facts",
        "session.moved_away": "why the parking stopped, the refund and the account",
        "status.pending": "the pending payment's facts, its service number, the account",
        "status.pending_top_up": "the pending top-up, its service number, the account",
        "topup.done": "the amount and the parking account, named",
        "pay.credited_late": "the amount kept and the parking account, named",
        "extend.credited_ended": "the amount kept and the parking account, named",
        "pay.expired": "what happened and the two steps to do next",
        "pay.insufficient_funds": "the reason (and what must remain) and what to do next",
        "operator.unsupported": "the other ways to pay",
        "operator.other_currency": "the zone's city and the other ways to pay",
    }
)
