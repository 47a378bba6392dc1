"""Which replies exist, and which of them may take more than one SMS."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from smsgw.commands.errors import PARSE_REPLY_KEYS

# The reply keys the domain and the service answer with (the issue-3 contract), each
# with the facts its text uses. A `?` marks a fact the text can do without.
SHARED_REPLY_FACTS: Mapping[str, tuple[str, ...]] = MappingProxyType(
    {
        "pay.confirm_request": ("zone", "plate", "hours", "amount"),
        "pay.charge_requested": ("amount", "operator_number"),
        "pay.started": ("zone", "plate", "end", "amount", "balance"),
        "pay.started_min_charge": ("zone", "plate", "end", "amount", "charged", "balance"),
        "pay.free_now": ("zone", "until"),
        "pay.already_active": ("plate", "end", "example"),
        "pay.pending_exists": (),
        "pay.declined": ("zone", "plate", "amount"),
        "pay.expired": ("zone", "plate", "amount"),
        "pay.failed": ("zone", "plate", "amount"),
        # the money came but could not start the parking: it stays on the account
        "pay.credited_late": ("amount", "balance"),
        "pay.credited_plate_busy": ("plate", "amount", "balance"),
        "extend.credited_ended": ("plate", "amount", "balance"),
        "extend.done": ("plate", "end", "amount", "balance"),
        "extend.done_min_charge": ("plate", "end", "amount", "charged", "balance"),
        "extend.no_session": (),
        "stop.no_session": (),
        "extend.ambiguous": ("plates", "example"),
        "stop.ambiguous": ("plates", "example"),
        "extend.too_long": ("max_hours",),
        "stop.done": ("plate", "refund", "balance"),
        "status.sessions": ("sessions", "balance"),
        "status.none": ("balance",),
        "session.reminder": ("plate", "zone", "end", "example"),
        "session.ended": ("plate", "zone", "end"),
        "limit.min": ("operator", "limit", "amount"),
        "limit.max_per_payment": ("operator", "limit", "amount"),
        "limit.per_day_amount": ("operator", "limit", "amount"),
        "limit.per_day_count": ("operator", "limit", "amount"),
        "limit.per_month_amount": ("operator", "limit", "amount"),
        "limit.per_month_count": ("operator", "limit", "amount"),
        "limit.must_remain": ("operator", "limit", "amount"),
        "operator.unsupported": ("operator",),
        "zone.unknown": ("zone",),
        "hours.too_many": ("max_hours",),
        "language.set": ("language",),
        "help.text": ("short_number?",),
        "confirm.nothing_pending": (),
        "confirm.in_progress": ("amount",),
        "error.temporary": (),
        "mo.incomplete": (),
    }
)

REPLY_KEYS: frozenset[str] = frozenset(SHARED_REPLY_FACTS) | PARSE_REPLY_KEYS

# Replies allowed to exceed one UCS-2 SMS (70 characters), each with the reason.
MULTIPART_OK: Mapping[str, str] = MappingProxyType(
    {
        "status.sessions": "lists every running session, one plate, zone and end each",
        "extend.ambiguous": "lists every running plate before the example",
        "stop.ambiguous": "lists every running plate before the example",
        "pay.started_min_charge": "states three amounts: price, minimum charged, balance",
        "extend.done_min_charge": "states three amounts: price, minimum charged, balance",
        "help.text": "the whole command set in one reply",
    }
)
