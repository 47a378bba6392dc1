"""Is an MO's source a phone number, and its destination one of ours? (sans-IO).

A deliver_sm for the gateway comes from a subscriber's MSISDN: digits, an optional
leading `+`, as long as the type of number allows (E.164 numbers have at most 15
digits). Alphanumeric and abbreviated senders are not phones: there is nobody to
answer or to charge. The destination must be one of the deployment's short numbers.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Final

from smsgw.smpp.constants import CommandStatus, Ton

E164_MAX_DIGITS: Final = 15
# the fewest digits a subscriber number has in each type of number
MIN_DIGITS: Final = {Ton.UNKNOWN: 6, Ton.INTERNATIONAL: 7, Ton.NATIONAL: 6}


def is_msisdn(address: str, ton: int) -> bool:
    """True when `address` (with type of number `ton`) can be a subscriber's MSISDN."""
    try:
        minimum = MIN_DIGITS[Ton(ton)]
    except (ValueError, KeyError):
        return False  # alphanumeric, abbreviated, network-specific, subscriber, reserved
    digits = address[1:] if address.startswith("+") and ton != Ton.NATIONAL else address
    return digits.isascii() and digits.isdigit() and minimum <= len(digits) <= E164_MAX_DIGITS


def address_refusal(
    source: str, source_ton: int, destination: str, short_numbers: Collection[str]
) -> int | None:
    """The command_status refusing an MO for its addresses, or None when both are fine."""
    if not is_msisdn(source, source_ton):
        return int(CommandStatus.ESME_RINVSRCADR)
    if destination not in short_numbers:
        return int(CommandStatus.ESME_RINVDSTADR)
    return None
