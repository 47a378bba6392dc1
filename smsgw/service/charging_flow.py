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

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

import structlog

from smsgw.charging.callbacks import (
    CallbackRejected,
    ConflictingCallbackError,
    ReplayedCallbackError,
    UnknownChargeCallbackError,
    UnknownOperatorCallbackError,
    parse_callback,
)
from smsgw.charging.signing import secret_bytes
from smsgw.clock import Clock
from smsgw.domain.charges import Charge, ChargeEvent, ChargeState, is_expired, is_pending
from smsgw.domain.language import Language
from smsgw.observability import Metrics
from smsgw.replies import render
from smsgw.service.payments import ChargePurpose, is_waiting_for_subscriber
from smsgw.service.ports import (
    ChargeAnswer,
    ChargeCallback,
    ChargeOutcome,
    ChargingGateway,
    Job,
    JobKind,
    StoredCharge,
)
from smsgw.service.session_flow import job_id
from smsgw.service.settings import Deployment, IdFactory, random_id
from smsgw.service.settlement import Settlement, settle
from smsgw.service.store_port import Store, Tx
from smsgw.service.unit import PollCharge, PostCommit, RequestCharge, Unit, lock_phone_unit

log = structlog.get_logger(__name__)

EVENT_OF_OUTCOME: Mapping[ChargeOutcome, ChargeEvent] = {
    ChargeOutcome.CONFIRMED: ChargeEvent.CONFIRMED,
    ChargeOutcome.DECLINED: ChargeEvent.DECLINED,
    ChargeOutcome.FAILED: ChargeEvent.FAILED,
}
_SETTLED_ANSWER = {"status": "stored"}
_LANGUAGES = frozenset(language.value for language in Language)


class UnknownChargeError(LookupError):
    """No such charge (or not this operator's): nothing to settle."""


class ReplayedNonceError(LookupError):
    """The callback's nonce was seen before."""


@dataclass(frozen=True, slots=True)
class UnitReport:
    """What a committed unit left to do and to count."""

    actions: tuple[PostCommit, ...]
    replies_queued: int
    charge_stages: tuple[tuple[str, str], ...]
    confirmation_seconds: tuple[float, ...]

    @classmethod
    def of(cls, unit: Unit) -> UnitReport:
        return cls(
            actions=tuple(unit.actions),
            replies_queued=unit.replies_queued,
            charge_stages=tuple(unit.charge_stages),
            confirmation_seconds=tuple(unit.confirmation_seconds),
        )


class ChargeFlow:
    def __init__(
        self,
        store: Store,
        deployment: Deployment,
        clock: Clock,
        charging: Mapping[str, ChargingGateway],
        *,
        metrics: Metrics | None = None,
        ids: IdFactory = random_id,
        on_replies: Callable[[], None] | None = None,
    ) -> None:
        self._store = store
        self._deployment = deployment
        self._clock = clock
        self._charging = charging
        self._metrics = metrics
        self._ids = ids
        self._on_replies = on_replies

    def can_charge(self, operator_id: str) -> bool:
        return operator_id in self._charging

    # --- after a unit of work committed ---------------------------------------------------

    def committed(self, report: UnitReport) -> None:
        """Count what a committed unit did and wake the outbox for its replies."""
        if self._metrics is not None:
            for operator_id, stage in report.charge_stages:
                self._metrics.count_charge(operator_id, stage)
            for seconds in report.confirmation_seconds:
                self._metrics.charge_confirmation_seconds.observe(seconds)
        if report.replies_queued and self._on_replies is not None:
            self._on_replies()

    async def run_actions(self, actions: Sequence[PostCommit]) -> None:
        for action in actions:
            try:
                if isinstance(action, RequestCharge):
                    await self.request(action.charge_id)
                else:
                    await self.poll(action.charge_id)
            except Exception:
                # the charge's CHARGE_RETRY job is already scheduled and will ask again
                log.exception("charge_action_failed", charge_id=action.charge_id)

    # --- talking to the operator ----------------------------------------------------------

    async def request(self, charge_id: str) -> None:
        stored = await self._store.transact(lambda tx: tx.get_charge(charge_id))
        if stored is None or not is_pending(stored.charge):
            return
        purpose = _purpose(stored)
        if is_waiting_for_subscriber(stored.charge, purpose):
            return
        answer = await self._ask(stored.charge, purpose)
        await self.on_answer(charge_id, answer)

    async def poll(self, charge_id: str) -> None:
        stored = await self._store.transact(lambda tx: tx.get_charge(charge_id))
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
        """What the operator shows the subscriber: zone, plate, hours and amount, in the
        phone's language (the deployment's default for charges stored without one)."""
        chosen = Language(purpose.language) if purpose.language in _LANGUAGES else None
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
        now, seed = self._clock.now(), self._ids()

        async def work(tx: Tx) -> UnitReport | None:
            unit = await self._unit_for_charge(tx, charge_id, now, seed)
            if unit is None:
                return None
            await _keep_waiting(unit, charge_id, answer)
            return UnitReport.of(unit)

        report = await self._store.transact(work)
        if report is not None:
            self.committed(report)
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
        now, seed = self._clock.now(), self._ids()

        async def work(tx: Tx) -> tuple[Settlement, UnitReport]:
            if callback is not None:
                await _check_callback(tx, callback, now)
            unit = await self._unit_for_charge(tx, charge_id, now, seed)
            stored = await tx.get_charge(charge_id)
            if unit is None or stored is None:
                raise UnknownChargeError(charge_id)
            result = await settle(unit, stored, event, reference, reason)
            return result, UnitReport.of(unit)

        result, report = await self._store.transact(work)
        self.committed(report)
        log.info(
            "charge_settled", charge_id=charge_id, charge_event=event.value, result=result.value
        )
        return result

    async def accept_callback(
        self, operator_id: str, headers: Mapping[str, str], body: bytes
    ) -> tuple[int, dict[str, object]]:
        secret = self._deployment.settings.charging_secrets.get(operator_id)
        if secret is None:
            return _refusal(
                UnknownOperatorCallbackError(f"no charging configured for {operator_id}")
            )
        try:
            callback = parse_callback(
                operator_id, secret_bytes(secret), headers, body, self._clock.now()
            )
        except CallbackRejected as rejected:
            log.warning("charge_callback_rejected", operator=operator_id, reason=rejected.reason)
            return _refusal(rejected)
        try:
            result = await self.settle(
                callback.charge_id,
                EVENT_OF_OUTCOME[callback.outcome],
                callback.operator_reference,
                callback=callback,
                reason=callback.reason,
            )
        except UnknownChargeError:
            return _refusal(UnknownChargeCallbackError(f"no charge {callback.charge_id}"))
        except ReplayedNonceError:
            return _refusal(ReplayedCallbackError("this nonce was seen before"))
        if result is Settlement.CONTRADICTION:
            return _refusal(ConflictingCallbackError("the charge was already settled otherwise"))
        return 200, {**_SETTLED_ANSWER, "result": result.value}

    # --- inside units ---------------------------------------------------------------------

    async def _unit_for_charge(
        self, tx: Tx, charge_id: str, now: datetime, seed: str
    ) -> Unit | None:
        stored = await tx.get_charge(charge_id)
        if stored is None:
            return None
        return await lock_phone_unit(
            tx,
            self._deployment,
            msisdn=stored.charge.phone,
            operator_id=None,
            now=now,
            cause=f"charge:{charge_id}",
            seed=seed,
            can_charge=self.can_charge,
        )


async def _check_callback(tx: Tx, callback: ChargeCallback, now: datetime) -> None:
    stored = await tx.get_charge(callback.charge_id)
    if stored is None or stored.charge.operator_id != callback.operator_id:
        raise UnknownChargeError(callback.charge_id)
    if not await tx.remember_nonce(callback.operator_id, callback.nonce, now):
        raise ReplayedNonceError(callback.nonce)


def _refusal(rejected: CallbackRejected) -> tuple[int, dict[str, object]]:
    return rejected.http_status, dict(rejected.to_json())


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
    await unit.tx.schedule(
        Job(
            id=job_id(JobKind.CHARGE_RETRY, charge.id),
            kind=JobKind.CHARGE_RETRY,
            reference=charge.id,
            due_at=due_at,
        )
    )


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
        await unit.tx.schedule(
            Job(
                id=job_id(JobKind.CHARGE_EXPIRY, charge.id),
                kind=JobKind.CHARGE_EXPIRY,
                reference=charge.id,
                due_at=charge.deadline,
            )
        )
