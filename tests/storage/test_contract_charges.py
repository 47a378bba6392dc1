"""Charges: one pending per phone, compare-and-set states, and the limit usage sums."""

from __future__ import annotations

from datetime import timedelta
from functools import partial

import pytest

from smsgw.domain.charges import Charge, ChargeState
from smsgw.domain.money import Money
from smsgw.service.ports import ChargeUsage
from smsgw.service.store_port import PendingChargeConflictError, Store, Tx
from tests.storage.builders import OTHER_PHONE, PHONE, T0, charge, rub

DETAILS = {"action": "pay", "session_id": "s1", "hours": 2, "plate": "А123ВС77", "n": None}


async def insert_charge(made: Charge, tx: Tx) -> None:
    await tx.insert_charge(made, DETAILS)


async def test_a_charge_comes_back_with_its_details(store: Store) -> None:
    made = charge("c1")
    await store.transact(lambda tx: tx.insert_charge(made, DETAILS))

    found = await store.transact(lambda tx: tx.get_charge("c1"))

    assert found is not None
    assert (found.charge, found.details, found.operator_reference) == (made, DETAILS, None)
    assert await store.transact(lambda tx: tx.get_charge("nope")) is None


async def test_a_phone_has_at_most_one_pending_charge(store: Store) -> None:
    await store.transact(lambda tx: tx.insert_charge(charge("c1"), DETAILS))

    with pytest.raises(PendingChargeConflictError):
        await store.transact(lambda tx: tx.insert_charge(charge("c2"), DETAILS))
    accepted = ChargeState.AWAITING_CONFIRMATION
    await store.transact(lambda tx: tx.update_charge("c1", ChargeState.REQUESTED, accepted))
    with pytest.raises(PendingChargeConflictError):
        await store.transact(lambda tx: tx.insert_charge(charge("c3"), DETAILS))
    await store.transact(lambda tx: tx.insert_charge(charge("c4", phone=OTHER_PHONE), DETAILS))

    pending = await store.transact(lambda tx: tx.pending_charge(PHONE))
    assert pending is not None and pending.charge.id == "c1"
    assert await store.transact(lambda tx: tx.get_charge("c2")) is None


async def test_a_charge_that_left_pending_makes_room_for_the_next(store: Store) -> None:
    await store.transact(lambda tx: tx.insert_charge(charge("c1"), DETAILS))
    await store.transact(
        lambda tx: tx.update_charge("c1", ChargeState.REQUESTED, ChargeState.DECLINED)
    )

    await store.transact(lambda tx: tx.insert_charge(charge("c2"), DETAILS))

    pending = await store.transact(lambda tx: tx.pending_charge(PHONE))
    assert pending is not None and pending.charge.id == "c2"


async def test_update_charge_is_a_compare_and_set(store: Store) -> None:
    await store.transact(lambda tx: tx.insert_charge(charge("c1"), DETAILS))
    requested, awaiting = ChargeState.REQUESTED, ChargeState.AWAITING_CONFIRMATION

    moved = await store.transact(lambda tx: tx.update_charge("c1", requested, awaiting, "op-7"))
    stale = await store.transact(
        lambda tx: tx.update_charge("c1", requested, ChargeState.FAILED, "op-8")
    )
    kept_ref = await store.transact(
        lambda tx: tx.update_charge("c1", awaiting, ChargeState.CONFIRMED)
    )
    unknown = await store.transact(lambda tx: tx.update_charge("nope", requested, awaiting))

    assert (moved, stale, kept_ref, unknown) == (True, False, True, False)
    found = await store.transact(lambda tx: tx.get_charge("c1"))
    assert found is not None
    assert (found.charge.state, found.operator_reference) == (ChargeState.CONFIRMED, "op-7")
    assert await store.transact(lambda tx: tx.pending_charge(PHONE)) is None


async def test_usage_counts_pending_confirmed_and_applied_charges(store: Store) -> None:
    month_start = T0 - timedelta(days=10)
    day_start = T0 - timedelta(hours=2)
    rows = [
        # counted in the day and the month
        charge("pending", minor=100, minutes=0, state=ChargeState.AWAITING_CONFIRMATION),
        charge("confirmed", minor=200, minutes=-60, state=ChargeState.CONFIRMED),
        charge("applied", minor=400, minutes=-120, state=ChargeState.APPLIED),  # at day start
        # counted in the month only
        charge("earlier", minor=800, minutes=-121, state=ChargeState.APPLIED),
        # not counted at all
        charge("last-month", minor=1600, minutes=-60 * 24 * 11, state=ChargeState.APPLIED),
        charge("declined", minor=3200, state=ChargeState.DECLINED),
        charge("failed", minor=3200, state=ChargeState.FAILED),
        charge("expired", minor=3200, state=ChargeState.EXPIRED),
        charge("other-op", minor=3200, operator="mts", state=ChargeState.APPLIED),
        charge("other-phone", minor=3200, phone=OTHER_PHONE, state=ChargeState.APPLIED),
        charge("other-cur", minor=3200, currency="KZT", state=ChargeState.APPLIED),
    ]
    for made in rows:
        await store.transact(partial(insert_charge, made))

    usage = await store.transact(
        lambda tx: tx.charge_usage(PHONE, "beeline", "RUB", day_start, month_start)
    )

    assert usage == ChargeUsage(rub(700), 3, rub(1500), 4)


async def test_usage_of_a_phone_without_charges_is_zero(store: Store) -> None:
    usage = await store.transact(lambda tx: tx.charge_usage(PHONE, "beeline", "KZT", T0, T0))

    assert usage == ChargeUsage(Money(0, "KZT"), 0, Money(0, "KZT"), 0)
