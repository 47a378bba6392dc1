"""Inbound MO: stored once per (link, dedup key), leased to one node, processed once."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from functools import partial

import pytest

from smsgw.service.store_port import Store
from tests.storage.builders import ALMATY, T0, at, inbound, insert_inbound

LEASE = 60.0


async def test_an_mo_is_stored_once_per_link_and_dedup_key(store: Store) -> None:
    first = await store.transact(lambda tx: tx.insert_inbound(inbound("k1")))
    again = await store.transact(lambda tx: tx.insert_inbound(inbound("k1", text="other")))
    other_link = await store.transact(lambda tx: tx.insert_inbound(inbound("k1", link="mts-2")))

    assert first is not None
    assert again is None
    assert other_link is not None and other_link != first


async def test_a_claimed_mo_comes_back_as_it_was_stored(store: Store) -> None:
    sms = inbound("k1", text="1001*А123ВС77*2 ✓")
    sms_local = replace(sms, received_at=sms.received_at.astimezone(ALMATY))
    inbound_id = await store.transact(lambda tx: tx.insert_inbound(sms_local))

    claimed = await store.transact(lambda tx: tx.claim_inbound(at(1), "node-a", LEASE, 10))

    assert [(c.id, c.sms) for c in claimed] == [(inbound_id, sms)]
    assert claimed[0].sms.received_at.utcoffset() is not None
    assert claimed[0].sms.received_at.tzinfo == UTC


async def test_claims_come_oldest_first_up_to_the_limit(store: Store) -> None:
    for key, minutes in (("late", 5), ("early", 1), ("middle", 3)):
        await store.transact(partial(insert_inbound, inbound(key, minutes=minutes)))

    first = await store.transact(lambda tx: tx.claim_inbound(at(10), "node-a", LEASE, 2))
    rest = await store.transact(lambda tx: tx.claim_inbound(at(10), "node-a", LEASE, 2))

    assert [c.sms.dedup_key for c in first] == ["early", "middle"]
    assert [c.sms.dedup_key for c in rest] == ["late"]


async def test_a_leased_mo_is_not_claimed_again_until_the_lease_runs_out(store: Store) -> None:
    await store.transact(lambda tx: tx.insert_inbound(inbound("k1")))
    now = at(1)
    taken = await store.transact(lambda tx: tx.claim_inbound(now, "node-a", LEASE, 10))

    during = await store.transact(lambda tx: tx.claim_inbound(at(1.9), "node-b", LEASE, 10))
    after = await store.transact(lambda tx: tx.claim_inbound(at(2), "node-b", LEASE, 10))

    assert len(taken) == 1
    assert during == []
    assert [c.id for c in after] == [taken[0].id]


async def test_an_mo_is_processed_once(store: Store) -> None:
    inbound_id = await store.transact(lambda tx: tx.insert_inbound(inbound("k1")))
    assert inbound_id is not None

    first = await store.transact(lambda tx: tx.mark_inbound_processed(inbound_id, "paid", at(1)))
    second = await store.transact(lambda tx: tx.mark_inbound_processed(inbound_id, "x", at(2)))
    unknown = await store.transact(lambda tx: tx.mark_inbound_processed("nope", "x", at(2)))
    claimed = await store.transact(lambda tx: tx.claim_inbound(at(10), "node-a", LEASE, 10))

    assert (first, second, unknown) == (True, False, False)
    assert claimed == []


async def test_a_naive_time_is_refused(store: Store) -> None:
    naive = replace(inbound("k"), received_at=datetime(2024, 1, 1))
    with pytest.raises(ValueError, match="timezone-aware"):
        await store.transact(lambda tx: tx.insert_inbound(naive))


async def test_a_lease_must_be_positive(store: Store) -> None:
    with pytest.raises(ValueError, match="positive"):
        await store.transact(lambda tx: tx.claim_inbound(T0, "node-a", 0, 10))
