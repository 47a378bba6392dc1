"""Delivery receipts off an SMPP link: deliver_sm / data_sm with a receipt → the outbox.

A final receipt (delivered, expired, deleted, undeliverable, rejected) is handed to the
service, which applies it to its part or holds it until that part's submit_sm_resp
comes (smsgw/service/receipts.py); either way it is stored before the SMSC gets
ESME_ROK. When it cannot be stored the answer is ESME_RX_T_APPN, so the SMSC sends it
again. Intermediate receipts (enroute, accepted, unknown) change nothing.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import structlog

from smsgw.service.ports import OutboxState
from smsgw.smpp.constants import CommandStatus, MessageState
from smsgw.smpp.events import DeliveryReceiptReceived

log = structlog.get_logger(__name__)

AcceptReceipt = Callable[[str, str, OutboxState], Awaitable[bool]]

RECEIPT_STATES = {
    MessageState.DELIVERED: OutboxState.DELIVERED,
    MessageState.EXPIRED: OutboxState.FAILED,
    MessageState.DELETED: OutboxState.FAILED,
    MessageState.UNDELIVERABLE: OutboxState.FAILED,
    MessageState.REJECTED: OutboxState.FAILED,
}


async def answer_receipt(
    event: DeliveryReceiptReceived, *, link_id: str, operator_id: str, accept: AcceptReceipt
) -> int:
    """The command_status to answer a receipt with, once it is stored."""
    message_id = event.message_id
    state = outbox_state(event)
    if not message_id or state is None:
        return CommandStatus.ESME_ROK  # an intermediate or unreadable receipt: nothing to do
    try:
        matched = await accept(operator_id, message_id, state)
    except Exception:
        log.exception("receipt.not_stored", link=link_id)
        return CommandStatus.ESME_RX_T_APPN
    if not matched:
        # held in the database until its submit_sm_resp comes, or reported unmatched
        log.info("receipt.held", link=link_id, message_id=message_id)
    return CommandStatus.ESME_ROK


def outbox_state(event: DeliveryReceiptReceived) -> OutboxState | None:
    """What a receipt says of its part: DELIVERED, FAILED, or None when not final."""
    state = event.message_state
    if state is None and event.text is not None:
        state = event.text.state
    if state is None:
        return None
    try:
        return RECEIPT_STATES.get(MessageState(state))
    except ValueError:
        return None  # a state number outside SMPP 3.4's table
