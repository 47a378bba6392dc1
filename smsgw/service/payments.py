"""Asking the phone for money, shared by pay and extend: is the operator supported, is a
charge already pending, does the payment fit the operator's limits, and then the charge
itself with its deadline and its retry job.

A charge's `details` (stored with it, JSON) say what to do when it is confirmed:

    {"action": "pay", "session_id": …, "zone": …, "plate": …, "hours": 2,
     "price": 12000, "excess": 0, "confirmation": "operator", "language": "ru"}
    {"action": "extend", "session_id": …, …same keys}
    {"action": "top_up", "session_id": "", "zone": "", "plate": "", "hours": 0,
     "price": 50000, "excess": 0, …}   # the parking account only (driver API)

Amounts there are minor units in the charge's currency; `language` is the phone's, for
the request text the operator shows (absent in charges stored before it was kept).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from smsgw.domain.charges import Charge, ChargeState, new_charge
from smsgw.domain.errors import (
    ChargePendingExistsError,
    OperatorOtherCurrencyError,
    OperatorUnsupportedError,
)
from smsgw.domain.limits import Usage, check_limits, usage_periods
from smsgw.domain.money import Money
from smsgw.domain.operators import ConfirmationMode, OperatorPolicy, ensure_supported
from smsgw.domain.parking import Funding, ParkingSession
from smsgw.domain.tariffs import Zone
from smsgw.service.ports import JobKind, JsonObject
from smsgw.service.store_port import PendingChargeConflictError
from smsgw.service.unit import RequestCharge, Unit

ACTION_PAY = "pay"
ACTION_EXTEND = "extend"
ACTION_TOP_UP = "top_up"
# a top-up charge pays for no session: its `purpose` names the kind instead
TOP_UP_PURPOSE = "top_up"


@dataclass(frozen=True, slots=True)
class ChargePurpose:
    """What a charge pays for, as stored in its details."""

    action: str
    session_id: str
    zone: str
    plate: str
    hours: int
    price: Money
    excess: Money  # charged above the shortfall (the operator's minimum); stays on account
    confirmation: ConfirmationMode
    language: str = ""  # the phone's reply language when it paid

    def to_details(self) -> dict[str, object]:
        return {
            "language": self.language,
            "action": self.action,
            "session_id": self.session_id,
            "zone": self.zone,
            "plate": self.plate,
            "hours": self.hours,
            "price": self.price.minor,
            "excess": self.excess.minor,
            "confirmation": self.confirmation.value,
        }

    @classmethod
    def from_details(cls, details: JsonObject, currency: str) -> ChargePurpose:
        return cls(
            action=_text(details, "action"),
            session_id=_text(details, "session_id"),
            zone=_text(details, "zone"),
            plate=_text(details, "plate"),
            hours=_number(details, "hours"),
            price=Money(_number(details, "price"), currency),
            excess=Money(_number(details, "excess"), currency),
            confirmation=ConfirmationMode(_text(details, "confirmation")),
            language=str(details.get("language") or ""),
        )

    @property
    def asks_subscriber_ourselves(self) -> bool:
        return self.confirmation is ConfirmationMode.GATEWAY

    @property
    def is_top_up(self) -> bool:
        return self.action == ACTION_TOP_UP


def _text(details: Mapping[str, object], key: str) -> str:
    value = details.get(key)
    if not isinstance(value, str):
        raise ValueError(f"charge details: {key} must be a string, got {value!r}")
    return value


def _number(details: Mapping[str, object], key: str) -> int:
    value = details.get(key)
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"charge details: {key} must be an integer, got {value!r}")
    return value


def supported_policy(unit: Unit) -> OperatorPolicy:
    """The phone's operator, refusing one that does not take SMS payments (Yota)."""
    policy = unit.deployment.policy(unit.operator_id)
    if policy is None:
        raise OperatorUnsupportedError(operator=unit.operator_id or "?")
    ensure_supported(policy)
    return policy


def operator_minimum(policy: OperatorPolicy, zone: Zone) -> Money | None:
    if policy.currency != zone.currency:
        return None
    return policy.limits.min_per_payment


async def refuse_if_charge_pending(unit: Unit) -> None:
    """One charge per phone at a time, and no payment from the account meanwhile: the
    pending one was planned on the account's balance and must still find it there. The
    refusal says where the pending one is answered."""
    stored = await unit.tx.pending_charge(unit.msisdn)
    if stored is not None:
        purpose = ChargePurpose.from_details(stored.details, stored.charge.amount.currency)
        raise ChargePendingExistsError(
            amount=stored.charge.amount,
            operator_number=answer_number(unit, stored.charge.operator_id, purpose),
        )


def answer_number(unit: Unit, operator_id: str, purpose: ChargePurpose) -> str:
    """Where the subscriber answers a charge's confirmation request: our short number in
    gateway mode, else the operator's own service number."""
    if purpose.asks_subscriber_ourselves:
        return unit.settings.short_number
    policy = unit.deployment.policy(operator_id)
    fallback = policy.name if policy is not None else operator_id
    return unit.settings.operator_numbers.get(operator_id, fallback)


def ensure_currency(policy: OperatorPolicy, zone: Zone) -> None:
    """A phone pays only in its operator's currency: an MTS number cannot pay in tenge."""
    if policy.currency != zone.currency:
        raise OperatorOtherCurrencyError(
            zone=zone.number, city=zone.city_name, operator=policy.name
        )


async def ensure_chargeable(unit: Unit, policy: OperatorPolicy, zone: Zone, amount: Money) -> None:
    """Refuse a charge the operator cannot take: another currency, no charging API for
    it, or one of its limits (the reply names the limit)."""
    ensure_currency(policy, zone)
    await ensure_within_limits(unit, policy, amount)


async def ensure_within_limits(unit: Unit, policy: OperatorPolicy, amount: Money) -> None:
    """Refuse a charge of `amount` (in the operator's currency) the operator cannot take:
    no charging API for it, or one of its limits."""
    if not unit.can_charge(policy.id):
        raise OperatorUnsupportedError(operator=policy.name)
    usage = await _usage(unit, policy, unit.now)
    broken = check_limits(policy, amount, usage)
    if broken is not None:
        raise broken.to_error()


async def _usage(unit: Unit, policy: OperatorPolicy, now: datetime) -> Usage:
    day_start, month_start = usage_periods(now, policy.time_zone)
    used = await unit.tx.charge_usage(
        unit.msisdn, policy.id, policy.currency, day_start, month_start
    )
    return Usage(
        day_amount=used.day_amount,
        day_count=used.day_count,
        month_amount=used.month_amount,
        month_count=used.month_count,
    )


async def request_session_charge(
    unit: Unit,
    policy: OperatorPolicy,
    action: str,
    session: ParkingSession,
    *,
    hours: int,
    funding: Funding,
) -> str:
    """Open the charge for what the parking account lacks to pay `hours` of `session`
    (new or extended); the session changes when the charge is confirmed. Returns the
    handler's outcome word."""
    purpose = ChargePurpose(
        action=action,
        session_id=session.id,
        zone=session.zone,
        plate=session.plate,
        hours=hours,
        price=funding.price,
        excess=funding.min_charge_excess,
        confirmation=policy.confirmation,
        language=unit.language.value,
    )
    await open_charge(unit, policy, funding.to_charge, purpose)
    return "charge_requested"


async def open_charge(
    unit: Unit, policy: OperatorPolicy, amount: Money, purpose: ChargePurpose
) -> Charge:
    """Store the charge with its deadline, then either ask the subscriber ourselves
    (gateway mode: wait for `1`/`0`) or have the operator asked right after COMMIT."""
    charge = new_charge(
        charge_id=unit.new_id("chg"),
        phone=unit.msisdn,
        operator_id=policy.id,
        amount=amount,
        purpose=TOP_UP_PURPOSE if purpose.is_top_up else purpose.session_id,
        now=unit.now,
        timeout=unit.settings.confirmation_timeout,
    )
    try:
        await unit.tx.insert_charge(charge, purpose.to_details())
    except PendingChargeConflictError:
        raise ChargePendingExistsError() from None
    unit.charge_stages.append((policy.id, "requested"))
    await unit.schedule(JobKind.CHARGE_EXPIRY, charge.id, charge.deadline)
    if purpose.asks_subscriber_ourselves and purpose.is_top_up:
        await unit.ask("topup.confirm_request", amount=amount)
    elif purpose.asks_subscriber_ourselves:
        await unit.ask(
            "pay.confirm_request",
            zone=purpose.zone,
            plate=purpose.plate,
            hours=purpose.hours,
            amount=amount,
        )
    else:
        await send_request_after_commit(unit, charge)
        await unit.reply(
            "pay.charge_requested",
            amount=amount,
            operator_number=unit.settings.operator_numbers.get(policy.id, policy.name),
        )
    return charge


async def request_top_up(unit: Unit, policy: OperatorPolicy, amount: Money) -> Charge:
    """Open a charge that only tops up the parking account (the driver API): the same
    confirmation flow and limits as a payment's shortfall, no session."""
    purpose = ChargePurpose(
        action=ACTION_TOP_UP,
        session_id="",
        zone="",
        plate="",
        hours=0,
        price=amount,
        excess=Money(0, amount.currency),
        confirmation=policy.confirmation,
        language=unit.language.value,
    )
    return await open_charge(unit, policy, amount, purpose)


async def send_request_after_commit(unit: Unit, charge: Charge) -> None:
    """The request goes out after COMMIT; the retry job is the durable fallback for a
    process that dies in between (or a request that gets no usable answer)."""
    await unit.schedule(
        JobKind.CHARGE_RETRY, charge.id, unit.now + unit.settings.charge_backoff.first
    )
    unit.after_commit(RequestCharge(charge.id))


def is_waiting_for_subscriber(charge: Charge, purpose: ChargePurpose) -> bool:
    """Gateway mode, before the subscriber's `1`: nothing has been sent to the operator."""
    return purpose.asks_subscriber_ourselves and charge.state is ChargeState.REQUESTED
