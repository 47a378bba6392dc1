"""Scheduled jobs (unique by kind and reference, leased when due) and callback nonces."""

from __future__ import annotations

from functools import partial

from smsgw.service.ports import Job, JobKind
from smsgw.service.store_port import Store, Tx
from tests.storage.builders import at, job

LEASE = 30.0


async def schedule(made: Job, tx: Tx) -> None:
    await tx.schedule(made)


async def test_only_due_jobs_are_claimed_earliest_first(store: Store) -> None:
    for made in (
        job("j2", "s2", minutes=5),
        job("j1", "s1", minutes=1),
        job("j3", "s3", minutes=9),
    ):
        await store.transact(partial(schedule, made))

    due = await store.transact(lambda tx: tx.claim_due_jobs(at(5), "node-a", LEASE, 10))

    assert due == [job("j1", "s1", minutes=1), job("j2", "s2", minutes=5)]


async def test_a_leased_job_waits_for_its_lease_to_run_out(store: Store) -> None:
    await store.transact(lambda tx: tx.schedule(job("j1", "s1", minutes=0)))
    taken = await store.transact(lambda tx: tx.claim_due_jobs(at(1), "node-a", LEASE, 10))

    during = await store.transact(lambda tx: tx.claim_due_jobs(at(1.4), "node-b", LEASE, 10))
    after = await store.transact(lambda tx: tx.claim_due_jobs(at(1.5), "node-b", LEASE, 10))

    assert [j.id for j in taken] == ["j1"]
    assert during == []
    assert [j.id for j in after] == ["j1"]


async def test_a_completed_job_is_gone(store: Store) -> None:
    await store.transact(lambda tx: tx.schedule(job("j1", "s1", minutes=0)))
    await store.transact(lambda tx: tx.claim_due_jobs(at(1), "node-a", LEASE, 10))

    await store.transact(lambda tx: tx.complete_job("j1"))
    await store.transact(lambda tx: tx.complete_job("j1"))  # twice is harmless

    assert await store.transact(lambda tx: tx.claim_due_jobs(at(60), "node-a", LEASE, 10)) == []


async def test_scheduling_the_same_kind_and_reference_moves_the_job(store: Store) -> None:
    await store.transact(lambda tx: tx.schedule(job("j1", "s1", minutes=5)))
    await store.transact(lambda tx: tx.claim_due_jobs(at(5), "node-a", LEASE, 10))

    # the session was extended meanwhile: the reminder moves, and the node that held the
    # old one completing it must not delete the move
    await store.transact(lambda tx: tx.schedule(job("j1b", "s1", minutes=65)))
    await store.transact(lambda tx: tx.complete_job("j1"))

    assert await store.transact(lambda tx: tx.claim_due_jobs(at(64), "node-b", LEASE, 10)) == []
    moved = await store.transact(lambda tx: tx.claim_due_jobs(at(65), "node-b", LEASE, 10))
    assert moved == [job("j1b", "s1", minutes=65)]


async def test_cancel_removes_every_job_of_a_reference(store: Store) -> None:
    for made in (
        job("r1", "s1", minutes=1),
        job("e1", "s1", minutes=2, kind=JobKind.SESSION_END),
        job("r2", "s2", minutes=3),
    ):
        await store.transact(partial(schedule, made))

    await store.transact(lambda tx: tx.cancel_jobs("s1"))

    due = await store.transact(lambda tx: tx.claim_due_jobs(at(60), "node-a", LEASE, 10))
    assert [j.id for j in due] == ["r2"]


async def test_a_callback_nonce_is_accepted_once_per_operator(store: Store) -> None:
    first = await store.transact(lambda tx: tx.remember_nonce("beeline", "n-1", at(0)))
    replay = await store.transact(lambda tx: tx.remember_nonce("beeline", "n-1", at(1)))
    other_operator = await store.transact(lambda tx: tx.remember_nonce("mts", "n-1", at(1)))

    assert (first, replay, other_operator) == (True, False, True)
