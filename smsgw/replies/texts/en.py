"""English reply texts."""

from __future__ import annotations

from smsgw.domain.language import Language

# A tuple holds alternatives: the first whose facts are all given is used.
TEXTS: dict[str, str | tuple[str, ...]] = {
    # --- the command was not understood ---
    "parse.empty": "Empty message. Example: {example}. Help: ?",
    "parse.too_long": "Message too long (at most {max_chars} characters). Example: {example}",
    "parse.unknown": "Command not recognised. Example: {example}. Help: ?",
    "parse.separator": "Separate the parts of the command with *: {example}",
    "parse.pay_format": "To pay: ZONE*PLATE*HOURS, e.g. {example}",
    "parse.extend_format": "To extend: X*HOURS or X*HOURS*PLATE, e.g. {example}",
    "parse.stop_format": "To stop: S or S*PLATE, e.g. {example}",
    "parse.bad_zone": "The zone number is digits only. Example: {example}",
    "parse.bad_hours": "Hours: a whole number from 1 to {max_hours}. Example: {example}",
    "parse.bad_language": "Languages: RU, KK, EN. Example: {example}",
    "parse.plate_letter": "Plates never contain “{letter}”. Example: {example}",
    "parse.bad_plate": "Plate {plate} not recognised. Example: {example}",
    # --- paying ---
    "pay.confirm_request": "Pay {amount} for {zone} {plate}, {hours} h? Reply 1 (yes) or 0 (no)",
    "pay.charge_requested": "To pay {amount}, reply 1 to the SMS from {operator_number}",
    "pay.started": "Parking {zone} {plate} until {end}. Paid {amount}. Balance {balance}",
    "pay.started_min_charge": (
        "Parking {zone} {plate} until {end}, {amount}. The minimum charge {charged}"
        " was taken; balance {balance}"
    ),
    "pay.free_now": "Parking in zone {zone} is free now, until {until}. Nothing to pay",
    "pay.already_active": "{plate} is already paid until {end}. To extend: {example}",
    "pay.pending_exists": "A payment is still awaiting your confirmation. Answer it first",
    "pay.declined": "Payment of {amount} for {zone} {plate} declined. Not started",
    "pay.expired": "Payment of {amount} for {zone} {plate} not confirmed in time",
    "pay.failed": "Charging {amount} for {zone} {plate} failed. Not started",
    "pay.credited_late": "{amount} arrived too late; parking not started. Balance {balance}",
    "pay.credited_plate_busy": (
        "{plate} is already paid. {amount} kept on account. Balance {balance}"
    ),
    "extend.credited_ended": "{plate} had ended. {amount} kept on your account. Balance {balance}",
    # --- extending and stopping ---
    "extend.done": "{plate} extended until {end}. Paid {amount}. Balance {balance}",
    "extend.done_min_charge": (
        "{plate} extended until {end}, {amount}. The minimum charge {charged}"
        " was taken; balance {balance}"
    ),
    "extend.no_session": "No running parking to extend. Pay anew: ZONE*PLATE*HOURS",
    "extend.ambiguous": "You have several parkings: {plates}. Name the plate: {example}",
    "extend.too_long": "Too long: the zone allows at most {max_hours} h",
    "stop.no_session": "No running parking to stop",
    "stop.ambiguous": "You have several parkings: {plates}. Name the plate: {example}",
    "stop.done": "Parking {plate} stopped. Refunded {refund}. Balance {balance}",
    # --- status and session events ---
    "status.sessions": "Parking: {sessions}. Balance {balance}",
    "status.none": "No running parking. Balance {balance}",
    "session.reminder": "Parking {zone} {plate} ends at {end}. To extend: {example}",
    "session.ended": "Parking {zone} {plate} ended at {end}",
    # --- operator limits ---
    "limit.min": "{amount} is below the {operator} minimum payment of {limit}",
    "limit.max_per_payment": "{amount} is over the {operator} limit per payment, {limit}",
    "limit.per_day_amount": "{amount} would exceed the {operator} daily limit of {limit}",
    "limit.per_day_count": "{amount} refused: {operator} allows {limit} payments a day",
    "limit.per_month_amount": "{amount} would exceed the {operator} monthly limit of {limit}",
    "limit.per_month_count": "{amount} refused: {operator} allows {limit} payments a month",
    "limit.must_remain": "{operator} must leave {limit} on your phone after paying {amount}",
    "operator.unsupported": "Paying by SMS is not available on {operator}. Pay another way",
    # --- everything else ---
    "zone.unknown": "Zone {zone} not found. Check the zone number on the sign",
    "hours.too_many": "This zone allows at most {max_hours} h per payment",
    "language.set": "Reply language: {language}",
    "help.text": (
        "SMS to {short_number}: pay ZONE*PLATE*HOURS (1001*A123BC77*2), extend X*HOURS,"
        " stop S, status I, language LANG*RU",
        "Pay: ZONE*PLATE*HOURS (1001*A123BC77*2), extend X*HOURS, stop S, status I,"
        " language LANG*RU",
    ),
    "confirm.nothing_pending": "There is no payment awaiting confirmation",
    "confirm.in_progress": "Your payment of {amount} is being processed. Please wait",
    "error.temporary": "We could not process your message now. Please send it again",
    "mo.incomplete": "Only part of your message arrived. Please send it again",
}

SESSION_LINE = "{plate} {zone} until {end}"
LIST_SEPARATOR = "; "

LANGUAGE_NAMES: dict[Language, str] = {
    Language.RU: "Russian",
    Language.KK: "Kazakh",
    Language.EN: "English",
}
