"""Parking sessions: stored whole, one ACTIVE session per plate (a partial unique index)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC
from functools import partial

import pytest

from smsgw.domain.parking import ParkingSession, SessionState
from smsgw.service.store_port import ActivePlateConflictError, Store, Tx
from smsgw.storage.errors import UnknownRowError
from tests.storage.builders import OTHER_PHONE, at, session


async def insert_session(made: ParkingSession, tx: Tx) -> None:
    await tx.insert_session(made)


async def test_a_session_comes_back_as_it_was_stored(store: Store) -> None:
    stored = replace(session("s1"), state=SessionState.STOPPED, closed_at=at(30))
    await store.transact(lambda tx: tx.insert_session(stored))

    found = await store.transact(lambda tx: tx.get_session("s1"))

    assert found == stored  # the same instants, whatever the zone they were given in
    assert found is not None and found.end.tzinfo == UTC
    assert await store.transact(lambda tx: tx.get_session("nope")) is None


async def test_a_second_active_session_for_a_plate_is_refused(store: Store) -> None:
    first = session("s1")
    await store.transact(lambda tx: tx.insert_session(first))

    with pytest.raises(ActivePlateConflictError) as refused:
        await store.transact(lambda tx: tx.insert_session(session("s2", phone=OTHER_PHONE)))

    # the store says what it found; the service words the refusal
    assert refused.value.plate == "A123BC77"
    assert await store.transact(lambda tx: tx.get_session("s2")) is None


async def test_a_refused_session_leaves_the_unit_of_work_usable(store: Store) -> None:
    await store.transact(lambda tx: tx.insert_session(session("s1")))

    async def work(tx: Tx) -> str:
        try:
            await tx.insert_session(session("s2"))
        except ActivePlateConflictError:
            await tx.insert_session(session("s3", plate="B456CE77"))
            return "refused"
        return "inserted"

    assert await store.transact(work) == "refused"
    assert await store.transact(lambda tx: tx.get_session("s3")) is not None


async def test_sessions_awaiting_payment_may_share_a_plate(store: Store) -> None:
    waiting = SessionState.AWAITING_PAYMENT
    await store.transact(lambda tx: tx.insert_session(session("s1")))
    await store.transact(lambda tx: tx.insert_session(session("s2", state=waiting)))
    await store.transact(lambda tx: tx.insert_session(session("s3", state=waiting)))

    with pytest.raises(ActivePlateConflictError):
        await store.transact(lambda tx: tx.update_session(session("s2")))  # activate it
    await store.transact(
        lambda tx: tx.update_session(replace(session("s1"), state=SessionState.STOPPED))
    )
    await store.transact(lambda tx: tx.update_session(session("s2")))

    active = await store.transact(lambda tx: tx.active_session_for_plate("A123BC77"))
    assert active is not None and active.id == "s2"


async def test_an_update_changes_every_field(store: Store) -> None:
    await store.transact(lambda tx: tx.insert_session(session("s1")))
    extended = replace(session("s1", hours=3))
    stopped = replace(extended, state=SessionState.STOPPED, end=at(45), closed_at=at(45))

    await store.transact(lambda tx: tx.update_session(extended))
    assert await store.transact(lambda tx: tx.get_session("s1")) == extended
    await store.transact(lambda tx: tx.update_session(stopped))
    assert await store.transact(lambda tx: tx.get_session("s1")) == stopped


async def test_updating_an_unknown_session_raises(store: Store) -> None:
    with pytest.raises(UnknownRowError):
        await store.transact(lambda tx: tx.update_session(session("ghost")))


async def test_running_sessions_are_the_phones_active_ones_earliest_end_first(
    store: Store,
) -> None:
    for made in (
        session("long", plate="A111AA77", hours=3),
        session("short", plate="B222BB77", hours=1),
        session("stopped", plate="C333CC77", state=SessionState.STOPPED),
        session("waiting", plate="E444EE77", state=SessionState.AWAITING_PAYMENT),
        session("other", plate="H555HH77", phone=OTHER_PHONE),
    ):
        await store.transact(partial(insert_session, made))

    running = await store.transact(lambda tx: tx.running_sessions(session("x").phone))

    assert [s.id for s in running] == ["short", "long"]


async def test_a_plate_without_an_active_session_has_none(store: Store) -> None:
    stopped = session("s1", state=SessionState.STOPPED)
    await store.transact(lambda tx: tx.insert_session(stopped))

    assert await store.transact(lambda tx: tx.active_session_for_plate("A123BC77")) is None
