"""The operator side of a charge: requests and polls (network, after COMMIT), their
answers, and the operator's signed callbacks.

    request ──▶ ACCEPTED  ──▶ AWAITING_CONFIRMATION; poll later (the lost-callback fallback)
            ──▶ CONFIRMED / DECLINED / FAILED ──▶ settle (settlement.py)
            ──▶ UNKNOWN   ──▶ ask again later, with back-off

Every network call is followed by a unit of work that records what it learnt, and every
"later" is a CHARGE_RETRY job, so a process dying anywhere in between loses nothing: the
job runs on some node and asks again, idempotently (the charge id is the operator's
idempotency key). After our own timeout an operator-side charge is still polled for a
while (`late_poll_window`): money taken late must reach the parking account.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

import structlog

from smsgw.domain.charges import Charge, ChargeEvent, ChargeState, is_expired, is_pending
from smsgw.language import Language
from smsgw.replies import render
from smsgw.service.payments import ChargePurpose, is_waiting_for_subscriber
from smsgw.service.ports import (
    CallbackAnswer,
    CallbackRefusedError,
    CallbackVerdict,
    CallbackVerifier,
    ChargeAnswer,
    ChargeCallback,
    ChargeOutcome,
    ChargingApi,
    JobKind,
    StoredCharge,
)
from smsgw.service.runner import Moment, Ran, UnitRunner
from smsgw.service.settings import Deployment
from smsgw.service.settlement import Settlement, settle
from smsgw.service.store_port import Tx
from smsgw.service.unit import PollCharge, PostCommit, RequestCharge, Unit, lock_phone_unit

log = structlog.get_logger(__name__)

EVENT_OF_OUTCOME: Mapping[ChargeOutcome, ChargeEvent] = {
    ChargeOutcome.CONFIRMED: ChargeEvent.CONFIRMED,
    ChargeOutcome.DECLINED: ChargeEvent.DECLINED,
    ChargeOutcome.FAILED: ChargeEvent.FAILED,
}
_LANGUAGES = frozenset(language.value for language in Language)


class UnknownChargeError(LookupError):
    """No such charge (or not this operator's): nothing to settle."""


class ReplayedNonceError(LookupError):
    """The callback's nonce was seen before."""


class ChargeFlow:
    def __init__(
        self,
        runner: UnitRunner,
        deployment: Deployment,
        charging: Mapping[str, ChargingApi],
        verify_callback: CallbackVerifier,
    ) -> None:
        self._runner = runner
        self._deployment = deployment
        self._charging = charging
        self._verify_callback = verify_callback
        runner.handle(RequestCharge, self._on_request)
        runner.handle(PollCharge, self._on_poll)

    def can_charge(self, operator_id: str) -> bool:
        return operator_id in self._charging

    async def _on_request(self, action: RequestCharge) -> None:
        await self.request(action.charge_id)

    async def _on_poll(self, action: PollCharge) -> None:
        await self.poll(action.charge_id)

    # --- talking to the operator ----------------------------------------------------------

    async def request(self, charge_id: str) -> None:
        stored = await self._runner.store.transact(lambda tx: tx.get_charge(charge_id))
        if stored is None or not is_pending(stored.charge):
            return
        purpose = _purpose(stored)
        if is_waiting_for_subscriber(stored.charge, purpose):
            return
        answer = await self._ask(stored.charge, purpose)
        await self.on_answer(charge_id, answer)

    async def poll(self, charge_id: str) -> None:
        stored = await self._runner.store.transact(lambda tx: tx.get_charge(charge_id))
        if stored is None or not _worth_polling(stored.charge):
            return
        client = self._charging.get(stored.charge.operator_id)
        answer = ChargeAnswer(ChargeOutcome.UNKNOWN, detail="no charging client")
        if client is not None:
            try:
                answer = await client.charge_status(stored.charge)
            except Exception as error:
                log.warning("charge_poll_error", charge_id=charge_id, error=repr(error))
                answer = ChargeAnswer(ChargeOutcome.UNKNOWN, detail=repr(error))
        await self.on_answer(charge_id, answer)

    async def _ask(self, charge: Charge, purpose: ChargePurpose) -> ChargeAnswer:
        client = self._charging.get(charge.operator_id)
        if client is None:
            log.error("no_charging_client", operator=charge.operator_id, charge_id=charge.id)
            return ChargeAnswer(ChargeOutcome.UNKNOWN, detail="no charging client")
        settings = self._deployment.settings
        try:
            return await client.request_charge(
                charge,
                self._request_text(charge, purpose),
                settings.callback_url(charge.operator_id),
                confirmed_by_subscriber=purpose.asks_subscriber_ourselves,
            )
        except Exception as error:
            log.warning("charge_request_error", charge_id=charge.id, error=repr(error))
            return ChargeAnswer(ChargeOutcome.UNKNOWN, detail=repr(error))

    def _request_text(self, charge: Charge, purpose: ChargePurpose) -> str:
        """What the operator shows the subscriber: zone, plate, hours and amount (a top-up:
        the amount for the parking account), in the phone's language (the deployment's
        default for charges stored without one)."""
        chosen = Language(purpose.language) if purpose.language in _LANGUAGES else None
        if purpose.is_top_up:
            language = self._deployment.language_for(chosen)
            return render("charge.top_up_request", language, amount=charge.amount)
        return render(
            "charge.request",
            self._deployment.language_for(chosen),
            zone=purpose.zone,
            plate=purpose.plate,
            hours=purpose.hours,
            amount=charge.amount,
        )

    async def on_answer(self, charge_id: str, answer: ChargeAnswer) -> Settlement | None:
        event = EVENT_OF_OUTCOME.get(answer.outcome)
        if event is not None:
            return await self.settle(
                charge_id, event, answer.operator_reference, reason=answer.reason
            )

        async def work(tx: Tx, moment: Moment) -> Ran[None]:
            unit = await self._unit_for_charge(tx, charge_id, moment)
            if unit is not None:
                await _keep_waiting(unit, charge_id, answer)
            return Ran(None, unit)

        await self._runner.run(work)
        return None

    # --- settling -------------------------------------------------------------------------

    async def settle(
        self,
        charge_id: str,
        event: ChargeEvent,
        reference: str | None = None,
        *,
        callback: ChargeCallback | None = None,
        reason: str | None = None,
    ) -> Settlement:
        """Apply an answer in one unit of work. With `callback`, its nonce is remembered
        in the same unit, so a callback that fails to apply can be sent again."""

        async def work(tx: Tx, moment: Moment) -> Ran[Settlement]:
            if callback is not None:
                await _check_callback(tx, callback, moment.now)
            unit = await self._unit_for_charge(tx, charge_id, moment)
            stored = await tx.get_charge(charge_id)
            if unit is None or stored is None:
                raise UnknownChargeError(charge_id)
            return Ran(await settle(unit, stored, event, reference, reason), unit)

        result = await self._runner.run(work)
        log.info(
            "charge_settled", charge_id=charge_id, charge_event=event.value, result=result.value
        )
        return result

    async def accept_callback(
        self, operator_id: str, headers: Mapping[str, str], body: bytes
    ) -> CallbackAnswer:
        """Verify and apply an operator's charge result; what became of it."""
        secret = self._deployment.settings.charging_secrets.get(operator_id)
        if secret is None:
            return CallbackAnswer(
                CallbackVerdict.UNKNOWN_OPERATOR, f"no charging configured for {operator_id}"
            )
        try:
            callback = self._verify_callback(
                operator_id, secret, headers, body, self._runner.clock.now()
            )
        except CallbackRefusedError as refused:
            log.warning("charge_callback_rejected", operator=operator_id, reason=refused.verdict)
            return CallbackAnswer(refused.verdict, str(refused))
        try:
            result = await self.settle(
                callback.charge_id,
                EVENT_OF_OUTCOME[callback.outcome],
                callback.operator_reference,
                callback=callback,
                reason=callback.reason,
            )
        except UnknownChargeError:
            return CallbackAnswer(CallbackVerdict.UNKNOWN_CHARGE, f"no charge {callback.charge_id}")
        except ReplayedNonceError:
            return CallbackAnswer(CallbackVerdict.REPLAYED, "this nonce was seen before")
        if result is Settlement.CONTRADICTION:
            return CallbackAnswer(
                CallbackVerdict.CONFLICT, "the charge was already settled otherwise"
            )
        return CallbackAnswer(CallbackVerdict.STORED, result=result.value)

    # --- inside units ---------------------------------------------------------------------

    async def _unit_for_charge(self, tx: Tx, charge_id: str, moment: Moment) -> Unit | None:
        stored = await tx.get_charge(charge_id)
        if stored is None:
            return None
        return await lock_phone_unit(
            tx,
            self._deployment,
            msisdn=stored.charge.phone,
            operator_id=None,
            now=moment.now,
            cause=f"charge:{charge_id}",
            seed=moment.seed,
            can_charge=self.can_charge,
        )


async def _check_callback(tx: Tx, callback: ChargeCallback, now: datetime) -> None:
    stored = await tx.get_charge(callback.charge_id)
    if stored is None or stored.charge.operator_id != callback.operator_id:
        raise UnknownChargeError(callback.charge_id)
    if not await tx.remember_nonce(callback.operator_id, callback.nonce, now):
        raise ReplayedNonceError(callback.nonce)


def _purpose(stored: StoredCharge) -> ChargePurpose:
    return ChargePurpose.from_details(stored.details, stored.charge.amount.currency)


def _worth_polling(charge: Charge) -> bool:
    return is_pending(charge) or charge.state is ChargeState.EXPIRED


async def _keep_waiting(unit: Unit, charge_id: str, answer: ChargeAnswer) -> None:
    """No final answer yet: note an acceptance, and move the retry job to when to ask
    next (poll soon after an acceptance, back off after no usable answer)."""
    stored = await unit.tx.get_charge(charge_id)
    if stored is None:
        return
    charge = stored.charge
    settings = unit.settings
    accepted = answer.outcome is ChargeOutcome.ACCEPTED
    if accepted and charge.state is ChargeState.REQUESTED:
        await settle(unit, stored, ChargeEvent.REQUEST_ACCEPTED, answer.operator_reference)
    if is_pending(charge):
        age = unit.now - charge.requested_at
        delay = (
            settings.charge_poll_interval
            if accepted
            else settings.charge_backoff.delay_for_age(age)
        )
        await schedule_retry(unit, charge, unit.now + delay)
    elif charge.state is ChargeState.EXPIRED and within_late_window(unit, charge):
        await schedule_retry(unit, charge, unit.now + settings.late_poll_interval)


def within_late_window(unit: Unit, charge: Charge) -> bool:
    return unit.now < charge.deadline + unit.settings.late_poll_window


async def schedule_retry(unit: Unit, charge: Charge, due_at: datetime) -> None:
    await unit.schedule(JobKind.CHARGE_RETRY, charge.id, due_at)


# --- the charge jobs (run by the scheduler inside its unit) --------------------------------


async def run_charge_retry(unit: Unit, stored: StoredCharge) -> None:
    """Ask again (a request with no usable answer yet) or poll (accepted, or past our
    timeout); the next retry is scheduled first, as the fallback for this one."""
    charge = stored.charge
    purpose = _purpose(stored)
    settings = unit.settings
    if is_pending(charge):
        if is_waiting_for_subscriber(charge, purpose):
            return
        resend = charge.state is ChargeState.REQUESTED or purpose.asks_subscriber_ourselves
        action: PostCommit = RequestCharge(charge.id) if resend else PollCharge(charge.id)
        delay = settings.charge_backoff.delay_for_age(unit.now - charge.requested_at)
    elif charge.state is ChargeState.EXPIRED and within_late_window(unit, charge):
        action, delay = PollCharge(charge.id), settings.late_poll_interval
    else:
        return
    await schedule_retry(unit, charge, unit.now + delay)
    unit.after_commit(action)


async def run_charge_expiry(unit: Unit, stored: StoredCharge) -> None:
    charge = stored.charge
    if is_expired(charge, unit.now):
        await settle(unit, stored, ChargeEvent.TIMED_OUT)
    elif is_pending(charge):  # claimed early (a clock ahead of ours): wait for the deadline
        await unit.schedule(JobKind.CHARGE_EXPIRY, charge.id, charge.deadline)
