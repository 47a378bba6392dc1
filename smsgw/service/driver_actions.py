"""Quote, pay, extend, stop and top-up for a signed-in driver (the driver API;
docs/driver-api-parking.md): the SMS channel's own rules, run for a phone from the web.

Pay, extend and stop run exactly the SMS handlers (`service/handlers/`) in one unit of
work per action, as an MO's processing does (`pipeline.py`): the phone is locked, the
handler writes the session, the ledger, the jobs and the charge, and one COMMIT makes it
all true. The only difference is where the answer goes: the unit's replies are captured
(`Unit.reply_sink`) and returned for the HTTP answer instead of texted. A refusal
(`DomainError`) rolls the unit back, as for SMS, and comes back as `ActionRefusedError`
with the refusal's reply key and text. Texts to other phones (a car moved away from
another payer's session) and everything that happens later (the operator's confirmation,
settlement, reminders) go out as SMS, exactly as for an SMS payment: one account, one
truth, two channels.

A top-up is a charge of the phone's own account with no parking attached
(`payments.request_top_up`), within the operator's limits, through the operator's
confirmation flow; settled, it lands on the parking account (`settlement.py`).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import TypeVar

import structlog

from smsgw.commands import Extend, Pay, Stop
from smsgw.domain.charges import ChargeState
from smsgw.domain.errors import DomainError, NoSessionToExtendError, NoSessionToStopError
from smsgw.domain.ledger import Account
from smsgw.domain.money import Money
from smsgw.domain.operators import OperatorPolicy
from smsgw.domain.parking import ParkingSession, SessionState, plan_payment
from smsgw.language import Language
from smsgw.observability import mask_msisdn
from smsgw.replies import render
from smsgw.service.handlers.extend import handle_extend
from smsgw.service.handlers.pay import handle_pay, zone_for
from smsgw.service.handlers.stop import handle_stop
from smsgw.service.payments import (
    ensure_currency,
    ensure_within_limits,
    operator_minimum,
    refuse_if_charge_pending,
    request_top_up,
    supported_policy,
)
from smsgw.service.runner import Moment, Ran, UnitRunner
from smsgw.service.settings import Deployment
from smsgw.service.store_port import Tx
from smsgw.service.unit import CapturedReply, Unit, local_time

log = structlog.get_logger(__name__)

T = TypeVar("T")

# what a handler's outcome word means to an app
_CHARGE_REQUESTED = "charge_requested"
_PARKING_OUTCOMES: Mapping[str, str] = {
    "started": "started",
    "moved": "moved",
    "extended": "extended",
    _CHARGE_REQUESTED: "awaiting_confirmation",
}
# a charge's state as the driver API shows it (docs/driver-api-parking.md, "Top-up")
_CHARGE_STATES: Mapping[ChargeState, str] = {
    ChargeState.REQUESTED: "awaiting_confirmation",
    ChargeState.AWAITING_CONFIRMATION: "awaiting_confirmation",
    ChargeState.CONFIRMED: "confirmed",
    ChargeState.APPLIED: "confirmed",
    ChargeState.DECLINED: "declined",
    ChargeState.FAILED: "declined",
    ChargeState.EXPIRED: "expired",
}


# --- what the actions answer ---------------------------------------------------------------


class ActionRefusedError(Exception):
    """The SMS channel would have refused this (zone closed, plate busy, a limit…):
    `reply_key` and `message` are that refusal's reply, in the request's language."""

    def __init__(self, reply_key: str, message: str) -> None:
        super().__init__(reply_key)
        self.reply_key = reply_key
        self.message = message


class BadPlateError(ActionRefusedError):
    """Not a plate an SMS could pay for: the reply names the example to follow."""


class NotFoundError(LookupError):
    """No such session or charge for this phone (someone else's answers the same)."""


class BadRequestError(ValueError):
    """A value no SMS command could carry (hours out of range, another currency);
    `field` names it, `code` is the API's error code."""

    def __init__(self, code: str, field: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.field = field


class TopUpUnavailableError(DomainError):
    """The phone's operator file does not allow top-ups (`top_up = false`)."""

    reply_key = "topup.unavailable"  # {operator}


@dataclass(frozen=True, slots=True)
class SessionView:
    """A session as the driver API shows it: times local to its zone."""

    id: str
    zone: str
    plate: str
    start: datetime
    end: datetime
    paid: Money
    state: str


@dataclass(frozen=True, slots=True)
class Quote:
    price: Money
    end: datetime
    balance: Money
    to_charge: Money


@dataclass(frozen=True, slots=True)
class ParkingOutcome:
    """What pay or extend did: `outcome` is started | moved | extended |
    awaiting_confirmation; `charge_id` is the pending charge in the last case."""

    outcome: str
    session: SessionView | None
    message: str
    balance: Money
    charge_id: str | None = None


@dataclass(frozen=True, slots=True)
class StopOutcome:
    refund: Money
    balance: Money
    message: str
    session: SessionView | None


@dataclass(frozen=True, slots=True)
class TopUpStarted:
    charge_id: str
    state: str
    message: str


@dataclass(frozen=True, slots=True)
class ChargeView:
    state: str
    amount: Money


@dataclass(frozen=True, slots=True)
class TopUpMethod:
    kind: str
    operator: str
    min: Money
    max: Money | None


# --- the actions ---------------------------------------------------------------------------

UnitAction = Callable[[Unit], Awaitable[T]]


class DriverActions:
    """The driver API's parking and top-up actions for one phone at a time.

    `can_charge` says which operators have a charging API (`ChargeFlow.can_charge`)."""

    def __init__(
        self,
        runner: UnitRunner,
        deployment: Deployment,
        can_charge: Callable[[str], bool],
    ) -> None:
        self._runner = runner
        self._deployment = deployment
        self._can_charge = can_charge

    # --- reading -------------------------------------------------------------------------

    async def quote(
        self, phone: str, zone: str, plate: str, hours: int, language: Language | None = None
    ) -> Quote:
        """What paying would cost and take from the phone; nothing is stored."""
        plate = self.canonical_plate(plate, language)
        self._check_hours(hours)

        async def act(unit: Unit) -> Quote:
            chosen = zone_for(unit, Pay(zone=zone, plate=plate, hours=hours))
            policy = supported_policy(unit)
            ensure_currency(policy, chosen)
            balance = await unit.tx.balance(Account.phone(unit.msisdn, chosen.currency))
            plan = plan_payment(
                zone=chosen,
                plate=plate,
                hours=hours,
                now=unit.now,
                balance=balance,
                plate_session=None,
                operator_minimum=operator_minimum(policy, chosen),
            )
            return Quote(plan.price, local_time(plan.end, chosen), balance, plan.to_charge)

        value, _ = await self._run(phone, language, act, lock=False)
        return value

    async def charge(self, phone: str, charge_id: str) -> ChargeView:
        """One of the phone's charges (a top-up or a payment's shortfall)."""
        stored = await self._runner.store.transact(lambda tx: tx.get_charge(charge_id))
        if stored is None or stored.charge.phone != phone:
            raise NotFoundError(charge_id)
        return ChargeView(_CHARGE_STATES[stored.charge.state], stored.charge.amount)

    async def top_up_methods(self, phone: str) -> list[TopUpMethod]:
        """How this phone can top up its parking account: through its own operator, when
        that operator's file allows it and a charging API is configured for it."""

        async def read(tx: Tx) -> OperatorPolicy | None:
            profile = await tx.get_phone(phone)
            known = profile.operator_id if profile is not None else None
            return self._deployment.policy(self._deployment.operator_for(phone, known))

        policy = await self._runner.store.transact(read)
        if policy is None or not self._offers_top_up(policy):
            return []
        limits = policy.limits
        return [TopUpMethod("mobile", policy.id, limits.min_per_payment, limits.max_per_payment)]

    # --- acting --------------------------------------------------------------------------

    async def pay(
        self, phone: str, zone: str, plate: str, hours: int, language: Language | None = None
    ) -> ParkingOutcome:
        """`ZONE*PLATE*HOURS` for this phone."""
        plate = self.canonical_plate(plate, language)
        self._check_hours(hours)

        async def act(unit: Unit) -> _Acted:
            outcome = await handle_pay(unit, Pay(zone=zone, plate=plate, hours=hours))
            currency = self._deployment.zones[zone].currency
            # while the charge is pending the new session does not run yet (the plate's
            # running one, if any, is still the old zone's)
            running = None
            if outcome != _CHARGE_REQUESTED:
                running = self._view(await unit.tx.active_session_for_plate(plate))
            return await _acted(unit, outcome, running, currency)

        acted, replies = await self._run(phone, language, act)
        return acted.answer(replies)

    async def extend(
        self, phone: str, session_id: str, hours: int, language: Language | None = None
    ) -> ParkingOutcome:
        """`X*HOURS*PLATE` for this phone's session `session_id`."""
        self._check_hours(hours)

        async def act(unit: Unit) -> _Acted:
            session = await _own_session(unit, session_id)
            if not session.is_running(unit.now):
                raise NoSessionToExtendError()
            outcome = await handle_extend(unit, Extend(hours=hours, plate=session.plate))
            fresh = self._view(await unit.tx.get_session(session_id))
            return await _acted(unit, outcome, fresh, session.prepaid.currency)

        acted, replies = await self._run(phone, language, act)
        return acted.answer(replies)

    async def stop(
        self, phone: str, session_id: str, language: Language | None = None
    ) -> StopOutcome:
        """`S*PLATE` for this phone's session `session_id`."""

        async def act(unit: Unit) -> SessionView | None:
            session = await _own_session(unit, session_id)
            if not session.is_running(unit.now):
                raise NoSessionToStopError()
            await handle_stop(unit, Stop(plate=session.plate))
            return self._view(await unit.tx.get_session(session_id))

        session, replies = await self._run(phone, language, act)
        done = next(reply for reply in replies if reply.key == "stop.done")
        refund, balance = done.facts["refund"], done.facts["balance"]
        assert isinstance(refund, Money) and isinstance(balance, Money)
        return StopOutcome(refund, balance, _message(replies), session)

    async def top_up(
        self, phone: str, amount: Money, language: Language | None = None
    ) -> TopUpStarted:
        """Charge the phone `amount` for its parking account through its operator's
        confirmation flow; it lands on the account once the operator confirms."""

        async def act(unit: Unit) -> str:
            policy = supported_policy(unit)
            if not policy.top_up:
                raise TopUpUnavailableError(operator=policy.name)
            if amount.currency != policy.currency:
                raise BadRequestError(
                    "bad_amount", "amount", f"amount: {policy.name} charges in {policy.currency}"
                )
            await refuse_if_charge_pending(unit)
            await ensure_within_limits(unit, policy, amount)
            charge = await request_top_up(unit, policy, amount)
            return charge.id

        charge_id, replies = await self._run(phone, language, act)
        log.info("driver_top_up_requested", phone=mask_msisdn(phone), charge_id=charge_id)
        return TopUpStarted(charge_id, "awaiting_confirmation", _message(replies))

    async def drain(self) -> None:
        """Wait for the charge requests sent after the actions' commits (tests, a stop)."""
        await self._runner.settle()

    # --- plumbing ------------------------------------------------------------------------

    def canonical_plate(self, raw: str, language: Language | None = None) -> str:
        """The plate as SMS would read it, or `ActionRefusedError` with the plate reply
        (and its example) an SMS with that plate would get."""
        checked = self._deployment.settings.parse.plates.check(raw)
        if isinstance(checked, str):
            return checked
        text = render(checked.reply_key, self._deployment.language_for(language), **checked.facts)
        raise BadPlateError(checked.reply_key, text)

    def _check_hours(self, hours: int) -> None:
        most = self._deployment.settings.parse.max_hours
        if not 1 <= hours <= most:
            raise BadRequestError("bad_hours", "hours", f"hours: a whole number from 1 to {most}")

    def _offers_top_up(self, policy: OperatorPolicy) -> bool:
        return policy.supported and policy.top_up and self._can_charge(policy.id)

    def _view(self, session: ParkingSession | None) -> SessionView | None:
        if session is None:
            return None
        zone = self._deployment.zones.get(session.zone)
        return SessionView(
            id=session.id,
            zone=session.zone,
            plate=session.plate,
            start=local_time(session.start, zone),
            end=local_time(session.end, zone),
            paid=session.prepaid,
            state=str(session.state),
        )

    async def _run(
        self,
        phone: str,
        language: Language | None,
        action: UnitAction[T],
        *,
        lock: bool = True,
    ) -> tuple[T, list[CapturedReply]]:
        """Run `action` in one unit of work for `phone`, its replies captured; the
        charge requests it leaves go out in the background, after COMMIT."""
        replies: list[CapturedReply] = []

        async def work(tx: Tx, moment: Moment) -> Ran[T]:
            replies.clear()  # a retried transaction starts over
            unit = await self._unit(tx, phone, moment, language, lock=lock)
            unit.reply_sink = replies
            try:
                value = await action(unit)
            except DomainError as error:
                raise ActionRefusedError(
                    error.reply_key, unit.render(error.reply_key, **error.facts)
                ) from error
            return Ran(value, unit if lock else None)

        value = await self._runner.run(work, dispatch_later=True)
        return value, list(replies)

    async def _unit(
        self, tx: Tx, phone: str, moment: Moment, language: Language | None, *, lock: bool
    ) -> Unit:
        # a quote stores nothing, so it only reads the phone (which may be new)
        profile = await (tx.lock_phone(phone, None) if lock else tx.get_phone(phone))
        known = profile.operator_id if profile is not None else None
        operator_id = self._deployment.operator_for(phone, known)
        if lock and known is None and operator_id is not None:
            # a phone that never texted: its number range's operator carries the texts
            # that follow (the charge's settlement), as its link would for an MO
            await tx.lock_phone(phone, operator_id)
        chosen = profile.language if profile is not None else None
        return Unit(
            tx=tx,
            deployment=self._deployment,
            now=moment.now,
            msisdn=phone,
            operator_id=operator_id,
            # the web answer is in the language the request asked for
            language=language or self._deployment.language_for(chosen),
            cause=f"web:{moment.seed}",
            seed=moment.seed,
            can_charge=self._can_charge,
        )


async def _own_session(unit: Unit, session_id: str) -> ParkingSession:
    """The phone's own session; anyone else's is as unknown as a made-up id."""
    session = await unit.tx.get_session(session_id)
    if session is None or session.phone != unit.msisdn:
        raise NotFoundError(session_id)
    if session.state is SessionState.AWAITING_PAYMENT:
        raise NotFoundError(session_id)
    return session


@dataclass(frozen=True, slots=True)
class _Acted:
    """What a pay or extend unit found once its handler had run."""

    outcome: str  # the handler's word
    session: SessionView | None
    balance: Money
    charge_id: str | None  # the charge it opened, when it opened one

    def answer(self, replies: list[CapturedReply]) -> ParkingOutcome:
        return ParkingOutcome(
            outcome=_PARKING_OUTCOMES.get(self.outcome, self.outcome),
            session=self.session,
            message=_message(replies),
            balance=self.balance,
            charge_id=self.charge_id,
        )


async def _acted(unit: Unit, outcome: str, session: SessionView | None, currency: str) -> _Acted:
    balance = await unit.tx.balance(Account.phone(unit.msisdn, currency))
    charge_id = None
    if outcome == _CHARGE_REQUESTED:
        pending = await unit.tx.pending_charge(unit.msisdn)
        charge_id = pending.charge.id if pending is not None else None
    return _Acted(outcome, session, balance, charge_id)


def _message(replies: list[CapturedReply]) -> str:
    return "\n".join(reply.text for reply in replies)
