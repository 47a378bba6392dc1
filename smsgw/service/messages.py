"""The gateway's own view of a short message, whichever wire it came in on or leaves by.

SMPP and HTTP adapters turn what they receive into `InboundSms` and send `OutboundSms`;
everything between them speaks only these types.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True, slots=True)
class InboundSms:
    """A mobile-originated text, already reassembled and decoded.

    `link_id` names the SMSC bind or HTTP endpoint it came in on, which tells the
    operator (numbers are ported, so the link beats any number-range table).
    `dedup_key` identifies the message on that link so a redelivery is recognised
    (for SMPP: the SMSC's ids or a digest of sender, receiver, text and parts).
    """

    link_id: str
    operator_id: str
    sender: str
    receiver: str
    text: str
    received_at: datetime
    dedup_key: str


@dataclass(frozen=True, slots=True)
class OutboundSms:
    """A mobile-terminated reply queued in the outbox, sent on the operator's link."""

    outbox_id: str
    operator_id: str
    sender: str
    receiver: str
    text: str
    created_at: datetime
