"""The operations API's questions: is a plate paid in a zone now (the inspector's), and
what does a phone have running and on its account (support's)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from smsgw.domain.ledger import Account
from smsgw.domain.parking import ParkingSession, running_sessions
from smsgw.domain.tariffs import find_zone
from smsgw.service.ports import Store, Tx
from smsgw.service.settings import Deployment
from smsgw.service.unit import local_time


async def plate_status(
    store: Store, deployment: Deployment, plate: str, zone: str, now: datetime
) -> Mapping[str, object] | None:
    """None when `plate` (canonical) is not paid in `zone` at `now`; raises
    UnknownZoneError for a zone that is not configured."""
    known_zone = find_zone(deployment.zones, zone)
    session = await store.transact(lambda tx: tx.active_session_for_plate(plate))
    if session is None or session.zone != zone or not session.is_running(now):
        return None
    return {
        "paid": True,
        "plate": plate,
        "zone": zone,
        "since": local_time(session.start, known_zone),
        "until": local_time(session.end, known_zone),
    }


async def phone_overview(
    store: Store, deployment: Deployment, msisdn: str, now: datetime
) -> Mapping[str, object]:
    async def read(tx: Tx) -> Mapping[str, object]:
        profile = await tx.get_phone(msisdn)
        operator_id = profile.operator_id if profile is not None else None
        sessions = running_sessions(await tx.running_sessions(msisdn), now)
        balances = {}
        for currency in _currencies(deployment, operator_id):
            balance = await tx.balance(Account.phone(msisdn, currency))
            balances[currency] = {"minor": balance.minor, "currency": currency}
        pending = await tx.pending_charge(msisdn)
        return {
            "msisdn": msisdn,
            "known": profile is not None,
            "operator": operator_id,
            "language": (profile.language.value if profile and profile.language else None),
            "sessions": [_session(deployment, session) for session in sessions],
            "balances": list(balances.values()),
            "pending_charge": (
                {
                    "id": pending.charge.id,
                    "state": pending.charge.state.value,
                    "amount": {
                        "minor": pending.charge.amount.minor,
                        "currency": pending.charge.amount.currency,
                    },
                    "deadline": pending.charge.deadline,
                }
                if pending is not None
                else None
            ),
        }

    return await store.transact(read)


def _currencies(deployment: Deployment, operator_id: str | None) -> list[str]:
    first = deployment.currency_for(operator_id)
    others = sorted({zone.currency for zone in deployment.zones.values()} - {first})
    return [first, *others]


def _session(deployment: Deployment, session: ParkingSession) -> dict[str, object]:
    zone = deployment.zones.get(session.zone)
    return {
        "id": session.id,
        "zone": session.zone,
        "plate": session.plate,
        "start": local_time(session.start, zone),
        "end": local_time(session.end, zone),
        "prepaid": {"minor": session.prepaid.minor, "currency": session.prepaid.currency},
    }


async def outbox_view(store: Store, outbox_id: str) -> Mapping[str, object] | None:
    """A reply's state and each part's (message id, receipt), or None when unknown."""

    async def read(tx: Tx) -> Mapping[str, object] | None:
        row = await tx.get_outbound(outbox_id)
        if row is None:
            return None
        parts = await tx.outbound_parts(outbox_id)
        return {
            "outbox_id": outbox_id,
            "operator": row.sms.operator_id,
            "state": row.state.value,
            "attempts": row.attempts,
            "message_id": row.message_id,
            "parts": [
                {
                    "part": part.part,
                    "of": part.parts,
                    "message_id": part.message_id,
                    "state": part.state.value,
                    "sent_at": part.sent_at,
                    "receipt_at": part.receipt_at,
                }
                for part in parts
            ],
        }

    return await store.transact(read)
