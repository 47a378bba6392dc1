"""Test data: fixed times (UTC and a zone-local one), and one builder per stored thing."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from smsgw.domain.charges import Charge, ChargeState, new_charge
from smsgw.domain.money import Money
from smsgw.domain.parking import ParkingSession, SessionState
from smsgw.service.messages import InboundSms, OutboundSms
from smsgw.service.ports import Job, JobKind
from smsgw.service.store_port import Tx

T0 = datetime(2024, 3, 1, 9, 0, tzinfo=UTC)
ALMATY = ZoneInfo("Asia/Almaty")
PHONE = "79031234567"
OTHER_PHONE = "79037654321"


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def rub(minor: int) -> Money:
    return Money(minor, "RUB")


def inbound(key: str, *, link: str = "mts-1", minutes: float = 0, text: str = "I") -> InboundSms:
    return InboundSms(
        link_id=link,
        operator_id="mts",
        sender=PHONE,
        receiver="7757",
        text=text,
        received_at=at(minutes),
        dedup_key=key,
    )


def outbound(outbox_id: str, *, minutes: float = 0, operator: str = "mts") -> OutboundSms:
    return OutboundSms(
        outbox_id=outbox_id,
        operator_id=operator,
        sender="7757",
        receiver=PHONE,
        text="Парковка до 11:00",
        created_at=at(minutes),
    )


def session(
    session_id: str,
    *,
    plate: str = "A123BC77",
    phone: str = PHONE,
    state: SessionState = SessionState.ACTIVE,
    hours: int = 2,
    start_minutes: float = 0,
) -> ParkingSession:
    start = at(start_minutes).astimezone(ALMATY)  # the domain hands zone-local times
    return ParkingSession(
        id=session_id,
        phone=phone,
        zone="1001",
        plate=plate,
        start=start,
        end=start + timedelta(hours=hours),
        prepaid=rub(6000 * hours),
        state=state,
    )


def charge(
    charge_id: str,
    *,
    phone: str = PHONE,
    operator: str = "beeline",
    minor: int = 10000,
    minutes: float = 0,
    state: ChargeState = ChargeState.REQUESTED,
    currency: str = "RUB",
) -> Charge:
    made = new_charge(
        charge_id=charge_id,
        phone=phone,
        operator_id=operator,
        amount=Money(minor, currency),
        purpose=f"session-{charge_id}",
        now=at(minutes),
    )
    return replace(made, state=state)


async def insert_inbound(sms: InboundSms, tx: Tx) -> str | None:
    return await tx.insert_inbound(sms)


def job(job_id: str, reference: str, *, minutes: float, kind: JobKind = JobKind.REMINDER) -> Job:
    return Job(id=job_id, kind=kind, reference=reference, due_at=at(minutes))
