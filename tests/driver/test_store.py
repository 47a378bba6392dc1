"""The driver API's repository methods on both backends (SQLite and PostgreSQL)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from smsgw.service.driver_records import DriverCode, DriverSession
from smsgw.service.store_port import Store, Tx

T0 = datetime(2026, 3, 10, 6, 0, tzinfo=UTC)
PHONE = "79161234567"
OTHER = "79161112233"


def code(code_id: str, at: datetime, msisdn: str = PHONE, source: str = "src") -> DriverCode:
    return DriverCode(code_id, msisdn, source, f"mac-{code_id}", at, at + timedelta(minutes=5))


async def test_codes_are_counted_used_once_and_forgotten_after_the_window(store: Store) -> None:
    async def send(tx: Tx) -> None:
        await tx.insert_driver_code(code("c1", T0), forget_before=T0 - timedelta(hours=1))
        later = T0 + timedelta(minutes=2)
        await tx.insert_driver_code(code("c2", later), forget_before=later - timedelta(hours=1))
        await tx.insert_driver_code(code("c3", later, OTHER), forget_before=T0)

    await store.transact(send)
    counts = await store.transact(lambda tx: tx.driver_code_counts(PHONE, "src", T0))
    assert (counts.phone_since, counts.source_since) == (2, 3)
    assert (counts.phone_oldest, counts.phone_latest) == (T0, T0 + timedelta(minutes=2))
    assert counts.source_oldest == T0
    latest = await store.transact(lambda tx: tx.latest_driver_code(PHONE))
    assert latest == code("c2", T0 + timedelta(minutes=2))

    assert await store.transact(lambda tx: tx.take_driver_code_attempt("c2", 2)) is True
    assert await store.transact(lambda tx: tx.take_driver_code_attempt("c2", 2)) is True
    assert await store.transact(lambda tx: tx.take_driver_code_attempt("c2", 2)) is False
    assert await store.transact(lambda tx: tx.take_driver_code_attempt("c1", 5)) is True
    assert await store.transact(lambda tx: tx.use_driver_code("c1", T0)) is True
    assert await store.transact(lambda tx: tx.use_driver_code("c1", T0)) is False  # a replay
    assert await store.transact(lambda tx: tx.take_driver_code_attempt("c1", 5)) is False
    tried = await store.transact(lambda tx: tx.latest_driver_code(PHONE))
    assert tried is not None and (tried.attempts, tried.used_at) == (2, None)
    assert not tried.usable(T0, max_attempts=2)
    assert tried.usable(T0, max_attempts=3)

    # a code sent an hour on forgets the phone's codes from before the window
    hour_on = T0 + timedelta(hours=1, minutes=1)
    await store.transact(
        lambda tx: tx.insert_driver_code(code("c4", hour_on), hour_on - timedelta(hours=1))
    )
    counts = await store.transact(lambda tx: tx.driver_code_counts(PHONE, "none", T0))
    assert (counts.phone_since, counts.source_since, counts.source_oldest) == (2, 0, None)
    assert await store.transact(lambda tx: tx.latest_driver_code("70000000000")) is None


async def test_sessions_are_revocable(store: Store) -> None:
    session = DriverSession("s1", PHONE, T0, T0 + timedelta(days=30))
    await store.transact(lambda tx: tx.insert_driver_session(session))
    assert await store.transact(lambda tx: tx.get_driver_session("s1")) == session
    assert session.live(T0) and not session.live(T0 + timedelta(days=30))
    assert await store.transact(lambda tx: tx.revoke_driver_session("s1", T0)) is True
    assert await store.transact(lambda tx: tx.revoke_driver_session("s1", T0)) is False
    revoked = await store.transact(lambda tx: tx.get_driver_session("s1"))
    assert revoked is not None and revoked.revoked_at == T0 and not revoked.live(T0)
    assert await store.transact(lambda tx: tx.get_driver_session("nope")) is None


async def test_vehicles_are_kept_per_phone_in_the_order_saved(store: Store) -> None:
    async def save(tx: Tx) -> list[bool]:
        return [
            await tx.add_driver_vehicle(PHONE, "B456CE777", T0),
            await tx.add_driver_vehicle(PHONE, "A123BC77", T0 + timedelta(seconds=1)),
            await tx.add_driver_vehicle(PHONE, "A123BC77", T0 + timedelta(seconds=2)),
            await tx.add_driver_vehicle(OTHER, "A123BC77", T0),
        ]

    assert await store.transact(save) == [True, True, False, True]
    assert await store.transact(lambda tx: tx.driver_vehicles(PHONE)) == ["B456CE777", "A123BC77"]
    assert await store.transact(lambda tx: tx.remove_driver_vehicle(PHONE, "A123BC77")) is True
    assert await store.transact(lambda tx: tx.remove_driver_vehicle(PHONE, "A123BC77")) is False
    assert await store.transact(lambda tx: tx.driver_vehicles(PHONE)) == ["B456CE777"]
    assert await store.transact(lambda tx: tx.driver_vehicles(OTHER)) == ["A123BC77"]


async def test_concurrent_tries_at_a_code_stay_within_its_attempts(store: Store) -> None:
    await store.transact(lambda tx: tx.insert_driver_code(code("c1", T0), T0))

    async def guess() -> bool:
        return await store.transact(lambda tx: tx.take_driver_code_attempt("c1", 5))

    taken = await asyncio.gather(*(guess() for _ in range(12)))
    assert sorted(taken) == [False] * 7 + [True] * 5


async def test_concurrent_code_requests_for_one_phone_send_one_code(store: Store) -> None:
    async def request(code_id: str) -> bool:
        async def work(tx: Tx) -> bool:
            await tx.lock_driver_codes(PHONE)
            counts = await tx.driver_code_counts(PHONE, code_id, T0 - timedelta(hours=1))
            await asyncio.sleep(0.05)  # both read the limits before either writes, unlocked
            if counts.phone_since:
                return False
            await tx.insert_driver_code(code(code_id, T0, source=code_id), T0)
            return True

        return await store.transact(work)

    sent = await asyncio.gather(request("a"), request("b"))

    assert sorted(sent) == [False, True]
    counts = await store.transact(lambda tx: tx.driver_code_counts(PHONE, "a", T0))
    assert counts.phone_since == 1
