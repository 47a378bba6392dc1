"""`1` / `0`: the subscriber's answer to the gateway's own confirmation request, for
operators configured with `confirmation = "gateway"`. While an operator asks from its
own service number, a `1`/`0` sent here is told to answer there instead."""

from __future__ import annotations

from smsgw.commands import Confirm, Decline
from smsgw.domain.charges import ChargeEvent, ChargeState, is_expired
from smsgw.domain.errors import AnswerTheOperatorError, NothingPendingToConfirmError
from smsgw.service.payments import ChargePurpose, answer_number, send_request_after_commit
from smsgw.service.ports import StoredCharge
from smsgw.service.settlement import ChargeChangedConcurrentlyError, settle
from smsgw.service.unit import Unit


async def handle_confirm(unit: Unit, command: Confirm) -> str:
    stored = await _charge_asked_by_us(unit)
    if stored is None:
        return "expired"
    charge = stored.charge
    if charge.state is not ChargeState.REQUESTED:
        await unit.reply("confirm.in_progress", amount=charge.amount)
        return "in_progress"
    # from here on the operator is being asked: a `0` can no longer take it back
    moved = await unit.tx.update_charge(
        charge.id, ChargeState.REQUESTED, ChargeState.AWAITING_CONFIRMATION
    )
    if not moved:
        raise ChargeChangedConcurrentlyError(charge.id)
    await send_request_after_commit(unit, charge)
    return "confirmed"


async def handle_decline(unit: Unit, command: Decline) -> str:
    stored = await _charge_asked_by_us(unit)
    if stored is None:
        return "expired"
    if stored.charge.state is not ChargeState.REQUESTED:
        await unit.reply("confirm.in_progress", amount=stored.charge.amount)
        return "in_progress"
    await settle(unit, stored, ChargeEvent.DECLINED)
    return "declined"


async def _charge_asked_by_us(unit: Unit) -> StoredCharge | None:
    """The phone's pending gateway-mode charge; None when it just timed out (and was
    closed here, with its reply)."""
    stored = await unit.tx.pending_charge(unit.msisdn)
    if stored is None:
        raise NothingPendingToConfirmError()
    purpose = ChargePurpose.from_details(stored.details, stored.charge.amount.currency)
    if not purpose.asks_subscriber_ourselves:
        raise AnswerTheOperatorError(
            amount=stored.charge.amount,
            operator_number=answer_number(unit, stored.charge.operator_id, purpose),
        )
    if is_expired(stored.charge, unit.now):
        await settle(unit, stored, ChargeEvent.TIMED_OUT)
        return None
    return stored
