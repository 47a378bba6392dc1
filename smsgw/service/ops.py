"""The operations API's questions: is a plate paid now, in a zone or anywhere (the
inspector's); what does a phone have running and on its account, and what happened to it
(support's: "was I charged twice?"). Times go out in the zone's local time, or the
deployment's (its first zone's) for what belongs to no zone, always with the offset."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime

from smsgw.domain.ledger import Account, AccountKind, Transaction, TransactionKind
from smsgw.domain.money import Money
from smsgw.domain.parking import ParkingSession, running_sessions
from smsgw.domain.tariffs import Zone, as_utc, find_zone
from smsgw.service.ports import PhoneHistory, StoredCharge, StoredOutbound, StoreFigures
from smsgw.service.settings import Deployment
from smsgw.service.store_port import Store, Tx
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
                    "deadline": local_time(pending.charge.deadline, home_zone(deployment)),
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


# --- a plate in every zone (the inspector who asks "is this car paid anywhere here") ----


async def plate_everywhere(
    store: Store, deployment: Deployment, plate: str, now: datetime
) -> Mapping[str, object]:
    """Where `plate` (canonical) is paid at `now`, zone by zone. A car is in one place, so
    at most one zone says paid; every configured zone is listed so the answer is whole."""
    session = await store.transact(lambda tx: tx.active_session_for_plate(plate))
    running = session if session is not None and session.is_running(now) else None
    numbers = list(deployment.zones)
    if running is not None and running.zone not in deployment.zones:
        numbers.append(running.zone)  # a zone configured away since: still the truth
    zones = [_zone_status(deployment, number, running) for number in numbers]
    paid = next((entry for entry in zones if entry["paid"]), None)
    return {
        "plate": plate,
        "paid": paid is not None,
        "zone": None if paid is None else paid["zone"],
        "until": None if paid is None else paid["until"],
        "zones": zones,
    }


def _zone_status(
    deployment: Deployment, number: str, running: ParkingSession | None
) -> dict[str, object]:
    zone = deployment.zones.get(number)
    here = running is not None and running.zone == number
    return {
        "zone": number,
        "name": None if zone is None else zone.name,
        "paid": here,
        "since": local_time(running.start, zone) if here and running else None,
        "until": local_time(running.end, zone) if here and running else None,
    }


# --- a phone's history (support's "was I charged twice?") ------------------------------

MAX_HISTORY_LIMIT = 200
DEFAULT_HISTORY_LIMIT = 50
# Records of one unit of work share its moment (a charge applied and the session paid
# from it). A page boundary may fall inside such a group, so the store is asked for this
# many more than the page at or before the cursor's moment, and what was shown is skipped.
_SAME_MOMENT_SLACK = 16

_MOVEMENT_LABELS = {
    TransactionKind.CHARGE_CONFIRMED: "top_up",  # charged from the phone onto the account
    TransactionKind.SESSION_PAID: "payment",
    TransactionKind.SESSION_EXTENDED: "payment",
    TransactionKind.SESSION_REFUND: "refund",
}


class BadCursorError(ValueError):
    """A `before` cursor this gateway did not hand out."""


@dataclass(frozen=True, slots=True, order=True)
class HistoryKey:
    """Where an item sits in the timeline: newest first, then by kind and id."""

    at: datetime
    tie: str

    def encode(self) -> str:
        text = f"{as_utc(self.at).isoformat()}|{self.tie}"
        return base64.urlsafe_b64encode(text.encode("utf-8")).decode("ascii").rstrip("=")

    @classmethod
    def decode(cls, cursor: str) -> HistoryKey:
        try:
            padded = cursor + "=" * (-len(cursor) % 4)
            text = base64.urlsafe_b64decode(padded.encode("ascii")).decode("utf-8")
            moment, tie = text.split("|", 1)
            at = datetime.fromisoformat(moment)
        except (ValueError, UnicodeError, binascii.Error):
            raise BadCursorError("before is not a cursor from a previous page") from None
        if at.tzinfo is None or not tie:
            raise BadCursorError("before is not a cursor from a previous page")
        return cls(at, tie)


@dataclass(frozen=True, slots=True)
class _Item:
    key: HistoryKey
    body: dict[str, object]


async def phone_history(
    store: Store,
    deployment: Deployment,
    msisdn: str,
    *,
    limit: int = DEFAULT_HISTORY_LIMIT,
    before: str | None = None,
) -> Mapping[str, object]:
    """One page of the phone's timeline, newest first: parking-account movements, operator
    charges in their current state, sessions and replies with their delivery state.
    `before` is the `next_before` of the previous page. Raises BadCursorError, ValueError
    for a limit outside 1..MAX_HISTORY_LIMIT."""
    if not 1 <= limit <= MAX_HISTORY_LIMIT:
        raise ValueError(f"limit must be from 1 to {MAX_HISTORY_LIMIT}")
    cursor = None if before is None else HistoryKey.decode(before)
    until = None if cursor is None else cursor.at
    history = await store.transact(
        lambda tx: tx.phone_history(msisdn, until, limit + _SAME_MOMENT_SLACK)
    )
    items = sorted(_items(deployment, history), key=lambda item: item.key, reverse=True)
    if cursor is not None:
        items = [item for item in items if _older(item.key, cursor)]
    page = items[:limit]
    more = len(items) > limit
    return {
        "msisdn": msisdn,
        "items": [
            {"at": local_time(item.key.at, _zone_of(deployment, item)), **item.body}
            for item in page
        ],
        "next_before": page[-1].key.encode() if more and page else None,
    }


def _older(key: HistoryKey, cursor: HistoryKey) -> bool:
    return (as_utc(key.at), key.tie) < (as_utc(cursor.at), cursor.tie)


def _zone_of(deployment: Deployment, item: _Item) -> Zone | None:
    zone = item.body.get("zone")
    if isinstance(zone, str) and zone in deployment.zones:
        return deployment.zones[zone]
    return home_zone(deployment)


def home_zone(deployment: Deployment) -> Zone | None:
    """The zone whose time zone stands for the deployment's (a deployment is one city)."""
    return next(iter(deployment.zones.values()), None)


def _items(deployment: Deployment, history: PhoneHistory) -> Iterable[_Item]:
    for movement in history.movements:
        yield _movement(movement)
    for charge in history.charges:
        yield _charge(deployment, charge)
    for session in history.sessions:
        yield _Item(
            HistoryKey(as_utc(session.start), f"session:{session.id}"),
            _session_record(deployment, session),
        )
    for reply in history.replies:
        yield _reply(reply)


def _money(amount: Money) -> dict[str, object]:
    return {"minor": amount.minor, "currency": amount.currency}


def _movement(movement: Transaction) -> _Item:
    on_account = [e for e in movement.entries if e.account.kind is AccountKind.PHONE]
    zones = [e.account.owner for e in movement.entries if e.account.kind is AccountKind.REVENUE]
    operators = [
        e.account.owner for e in movement.entries if e.account.kind is AccountKind.OPERATOR
    ]
    change = on_account[0].amount if on_account else movement.entries[0].amount
    body: dict[str, object] = {
        "type": _MOVEMENT_LABELS.get(movement.kind, "movement"),
        "kind": str(movement.kind),
        "id": movement.id,
        "reference": movement.reference,
        # signed as the parking account sees it: + money in, - money out
        "amount": _money(change),
        "zone": zones[0] if zones else None,
        "operator": operators[0] if operators else None,
    }
    return _Item(HistoryKey(as_utc(movement.at), f"ledger:{movement.id}"), body)


def _charge(deployment: Deployment, stored: StoredCharge) -> _Item:
    charge = stored.charge
    home = home_zone(deployment)
    body: dict[str, object] = {
        "type": "charge",
        "id": charge.id,
        "operator": charge.operator_id,
        "amount": _money(charge.amount),
        "state": str(charge.state),
        "purpose": charge.purpose,
        "deadline": local_time(charge.deadline, home),
        "operator_reference": stored.operator_reference,
    }
    return _Item(HistoryKey(as_utc(charge.requested_at), f"charge:{charge.id}"), body)


def _session_record(deployment: Deployment, session: ParkingSession) -> dict[str, object]:
    zone = deployment.zones.get(session.zone)
    return {
        "type": "session",
        "id": session.id,
        "zone": session.zone,
        "plate": session.plate,
        "state": str(session.state),
        "start": local_time(session.start, zone),
        "end": local_time(session.end, zone),
        "closed_at": None if session.closed_at is None else local_time(session.closed_at, zone),
        "prepaid": _money(session.prepaid),
    }


def _reply(reply: StoredOutbound) -> _Item:
    body: dict[str, object] = {
        "type": "reply",
        "id": reply.sms.outbox_id,
        "from": reply.sms.sender,
        "text": reply.sms.text,
        "state": str(reply.state),
    }
    return _Item(HistoryKey(as_utc(reply.sms.created_at), f"reply:{reply.sms.outbox_id}"), body)


# --- totals for the metrics page ---------------------------------------------------------


async def store_figures(store: Store) -> StoreFigures:
    return await store.transact(lambda tx: tx.store_figures())


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
