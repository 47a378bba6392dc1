"""Support's read-only questions: a phone's history, and the totals behind the metrics."""

from __future__ import annotations

from smsgw.domain.charges import ChargeState
from smsgw.domain.ledger import Transaction, charge_confirmed, session_paid, session_refund
from smsgw.domain.money import Money
from smsgw.domain.parking import SessionState
from smsgw.service.ports import OutboxState
from smsgw.service.store_port import Store, Tx
from tests.storage.builders import OTHER_PHONE, PHONE, at, charge, outbound, rub, session


def _charge_tx(ref: str, minor: int, minutes: float, phone: str = PHONE) -> Transaction:
    return charge_confirmed(
        transaction_id=f"t-{ref}",
        charge_id=ref,
        phone=phone,
        operator_id="beeline",
        amount=rub(minor),
        at=at(minutes),
    )


def _paid_tx(ref: str, minor: int, minutes: float, phone: str = PHONE) -> Transaction:
    return session_paid(
        transaction_id=f"p-{ref}",
        session_id=ref,
        phone=phone,
        zone="1001",
        amount=rub(minor),
        at=at(minutes),
    )


def _refund_tx(ref: str, minor: int, minutes: float) -> Transaction:
    return session_refund(
        transaction_id=f"r-{ref}",
        session_id=ref,
        phone=PHONE,
        zone="1001",
        amount=rub(minor),
        at=at(minutes),
    )


async def _a_paid_and_stopped_session(tx: Tx) -> None:
    await tx.lock_phone(PHONE, "beeline")
    await tx.insert_charge(charge("c1", minor=12000, minutes=0), {"action": "pay"})
    await tx.update_charge("c1", ChargeState.REQUESTED, ChargeState.APPLIED)
    await tx.insert_session(session("s1", state=SessionState.ACTIVE, start_minutes=1))
    await tx.post(_charge_tx("c1", 12000, 1))
    await tx.post(_paid_tx("s1", 12000, 1))
    await tx.post(_refund_tx("s1", 6000, 30))
    await tx.enqueue_outbound(outbound("o1", minutes=1))
    await tx.enqueue_outbound(outbound("o2", minutes=30))
    # another phone's records never show
    await tx.lock_phone(OTHER_PHONE, "mts")
    await tx.post(_charge_tx("c9", 500, 2, phone=OTHER_PHONE))
    await tx.insert_session(session("s9", phone=OTHER_PHONE, plate="B456CD77"))


async def test_history_holds_the_phones_records_newest_first(store: Store) -> None:
    await store.transact(_a_paid_and_stopped_session)
    await store.transact(lambda tx: tx.mark_outbound_sent("o1", "m1", at(2)))
    await store.transact(lambda tx: tx.record_receipt("mts", "m1", OutboxState.DELIVERED, at(3)))

    history = await store.transact(lambda tx: tx.phone_history(PHONE, None, 10))

    # the charge and the payment share a moment: ties go by id, descending
    assert [t.id for t in history.movements] == ["r-s1", "t-c1", "p-s1"]
    assert history.movements[0].entries[1].amount == rub(6000)
    assert [(c.charge.id, c.charge.state) for c in history.charges] == [("c1", ChargeState.APPLIED)]
    assert [s.id for s in history.sessions] == ["s1"]
    assert [(r.sms.outbox_id, r.state) for r in history.replies] == [
        ("o2", OutboxState.PENDING),
        ("o1", OutboxState.DELIVERED),
    ]


async def test_history_pages_back_from_a_moment_and_stops_at_the_limit(store: Store) -> None:
    await store.transact(_a_paid_and_stopped_session)

    older = await store.transact(lambda tx: tx.phone_history(PHONE, at(1), 10))
    one_each = await store.transact(lambda tx: tx.phone_history(PHONE, None, 1))

    assert [t.id for t in older.movements] == ["t-c1", "p-s1"]
    assert [r.sms.outbox_id for r in older.replies] == ["o1"]
    assert [t.id for t in one_each.movements] == ["r-s1"]
    assert [r.sms.outbox_id for r in one_each.replies] == ["o2"]
    assert len(one_each.charges) == len(one_each.sessions) == 1


async def test_an_unknown_phone_has_an_empty_history(store: Store) -> None:
    history = await store.transact(lambda tx: tx.phone_history("79990000000", None, 10))

    assert (history.movements, history.charges, history.sessions, history.replies) == (
        [],
        [],
        [],
        [],
    )


async def test_figures_sum_charges_per_operator_refunds_per_zone_and_active_sessions(
    store: Store,
) -> None:
    empty = await store.transact(lambda tx: tx.store_figures())
    await store.transact(_a_paid_and_stopped_session)

    figures = await store.transact(lambda tx: tx.store_figures())

    assert (empty.charged, empty.refunded, empty.active_sessions) == ([], [], [])
    assert figures.charged == [("beeline", Money(12500, "RUB"))]
    assert figures.refunded == [("1001", Money(6000, "RUB"))]
    assert figures.active_sessions == [("1001", 2)]
