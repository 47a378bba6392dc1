"""English reply texts."""

from __future__ import annotations

from smsgw.language import Language

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
    "parse.plate_letter": 'Plates never contain "{letter}". Example: {example}',
    "parse.bad_plate": "Plate {plate} not recognised. Example: {example}",
    # --- paying ---
    "pay.confirm_request": "Pay {amount} for {zone} {plate}, {hours} h? Reply 1 (yes) or 0 (no)",
    "pay.charge_requested": "To pay {amount}, reply 1 to the SMS from {operator_number}",
    "charge.request": "Parking: zone {zone}, {plate}, {hours} h. Pay {amount}?",
    "topup.confirm_request": "Top up the parking account by {amount}? Reply 1 (yes) or 0 (no)",
    "charge.top_up_request": "Parking account top-up. Pay {amount}?",
    "topup.done": "Parking account topped up by {amount}. Parking account {balance}",
    "topup.declined": "Top-up of {amount} declined. The parking account is unchanged",
    "topup.failed": "The operator did not take {amount} for the top-up. Try again later",
    "topup.expired": "Top-up of {amount} not confirmed in time at {operator_number}. Nothing taken",
    "topup.unavailable": (
        "Topping up the parking account from the phone is not available on {operator}"
    ),
    "status.pending_top_up": (
        "Top-up of {amount} is waiting for your confirmation to {operator_number}."
        " Parking account {balance}"
    ),
    "pay.started": ("Parking {zone} {plate} until {end}. Paid {amount}. Parking account {balance}"),
    "pay.started_min_charge": (
        "Parking {zone} {plate} until {end}, {amount}. The minimum charge {charged}"
        " was taken. Parking account {balance}"
    ),
    "pay.moved": (
        "{plate} moved from zone {old_zone}, refunded {refund}. Parking {zone} {plate}"
        " until {end}. Paid {amount}. Parking account {balance}"
    ),
    "pay.free_now": "Parking in zone {zone} is free now, until {until}. Nothing to pay",
    "pay.already_active": "{zone} {plate} is already paid until {end}. To extend: {example}",
    "pay.already_paid": "{zone} {plate} is already paid until {end}. Nothing to pay",
    "pay.pending_exists": (
        "A payment of {amount} awaits your confirmation: reply 1 to the SMS from {operator_number}"
    ),
    "pay.declined": "Payment of {amount} for {zone} {plate} declined. Not started",
    "pay.expired": (
        "{zone} {plate}: payment of {amount} not confirmed in time. Send the command"
        " again and reply 1 to the SMS from {operator_number}"
    ),
    "pay.failed": "{zone} {plate}: the operator did not take {amount}. Try again later",
    "pay.insufficient_funds": (
        (
            "{zone} {plate}: not enough money on your phone for {amount} ({must_remain}"
            " must stay on it). Top up the phone and send the command again"
        ),
        (
            "{zone} {plate}: not enough money on your phone for {amount}. Top up the"
            " phone and send the command again"
        ),
    ),
    "pay.operator_limit": (
        "{zone} {plate}: {amount} is over your operator's payment limit. Pay later or another way"
    ),
    "pay.barred": (
        "{zone} {plate}: your operator bars paying {amount} from this number. Call your operator"
    ),
    "pay.credited_late": (
        "{amount} arrived too late; parking not started. Parking account {balance}"
    ),
    "pay.credited_plate_busy": (
        "{plate} is already paid. {amount} kept. Parking account {balance}"
    ),
    "extend.credited_ended": "{plate} had ended. {amount} kept. Parking account {balance}",
    # --- extending and stopping ---
    "extend.done": (
        "Parking {zone} {plate} extended until {end}. Paid {amount}. Parking account {balance}"
    ),
    "extend.done_min_charge": (
        "Parking {zone} {plate} extended until {end}, {amount}. The minimum charge"
        " {charged} was taken. Parking account {balance}"
    ),
    "extend.no_session": "No running parking to extend. Pay anew: ZONE*PLATE*HOURS",
    "extend.ambiguous": "You have several parkings: {plates}. Name the plate: {example}",
    "extend.too_long": (
        "Too long: the zone allows at most {max_hours} h. You can: {example}",
        "Too long: the zone allows at most {max_hours} h",
    ),
    "stop.no_session": "No running parking to stop",
    "stop.ambiguous": "You have several parkings: {plates}. Name the plate: {example}",
    "stop.done": (
        "Parking {zone} {plate} stopped at {end}. Refunded {refund}. Parking account {balance}"
    ),
    # --- status and session events ---
    "status.sessions": "Parking: {sessions}. Parking account {balance}",
    "status.none": "No running parking. Parking account {balance}",
    "status.pending": (
        "Payment {zone} {plate} {amount} is waiting for your confirmation to"
        " {operator_number}. Parking account {balance}"
    ),
    "session.reminder": "Parking {zone} {plate} ends at {end}. To extend: {example}",
    "session.moved_away": (
        "Parking {zone} {plate} stopped at {end}: the plate was paid in another zone."
        " Refunded {refund}. Parking account {balance}"
    ),
    "session.ended": "Parking {zone} {plate} ended at {end}",
    # --- operator limits ---
    "limit.min": "{amount} is below the {operator} minimum payment of {limit}",
    "limit.max_per_payment": "{amount} is over the {operator} limit per payment, {limit}",
    "limit.per_day_amount": "{amount} would exceed the {operator} daily limit of {limit}",
    "limit.per_day_count": "{amount} refused: {operator} allows {limit} payments a day",
    "limit.per_month_amount": "{amount} would exceed the {operator} monthly limit of {limit}",
    "limit.per_month_count": "{amount} refused: {operator} allows {limit} payments a month",
    "limit.must_remain": "{operator} must leave {limit} on your phone after paying {amount}",
    "operator.unsupported": (
        "Paying by SMS is not available on {operator}. Pay in the city parking app or"
        " website, or at a parking meter"
    ),
    "operator.other_currency": (
        "Zone {zone} is in {city}: it cannot be paid from a {operator} number. Pay in"
        " the city parking app or website"
    ),
    # --- everything else ---
    "zone.unknown": "There is no zone {zone}. The zone number is on the sign, e.g. {example}",
    "hours.too_many": "This zone allows at most {max_hours} h. Example: {example}",
    "language.set": "Reply language: {language}",
    "help.text": (
        "SMS to {short_number}: pay ZONE*PLATE*HOURS (1001*A123BC77*2), extend X*HOURS,"
        " stop S, status I, language LANG*RU",
        "Pay: ZONE*PLATE*HOURS (1001*A123BC77*2), extend X*HOURS, stop S, status I,"
        " language LANG*RU",
    ),
    "confirm.answer_operator": (
        "Payment of {amount}: reply 1 or 0 to the SMS from {operator_number}, not here"
    ),
    "confirm.nothing_pending": "There is no payment awaiting confirmation",
    "confirm.in_progress": "Your payment of {amount} is being processed. Please wait",
    "error.temporary": "We could not process your message now. Please send it again",
    "mo.incomplete": "Only part of your message arrived. Please send it again",
    # --- the driver API (docs/driver-api.md) ---
    "driver.code": "smsgw code {code}. Do not tell it to anyone",
}

SESSION_LINE = "{zone} {plate} until {end}"
LIST_SEPARATOR = "; "

LANGUAGE_NAMES: dict[Language, str] = {
    Language.RU: "Russian",
    Language.KK: "Kazakh",
    Language.EN: "English",
}
