"""Retention: old rows nothing needs are deleted in bounded batches, oldest first; rows
still needed (unprocessed MO, pending replies, pending charges, charges of running
sessions) stay whatever their age. On SQLite and PostgreSQL alike."""

from __future__ import annotations

from datetime import timedelta
from functools import partial

from smsgw.clock import SystemClock
from smsgw.domain.charges import Charge, ChargeState
from smsgw.domain.parking import SessionState
from smsgw.service.driver_records import DriverCode, DriverSession
from smsgw.service.messages import OutboundSms
from smsgw.service.ports import OutboxState
from smsgw.service.scheduler import NONCE_KEEP, Pruner, Retention
from smsgw.service.store_port import Store, Tx
from tests.storage.builders import OTHER_PHONE, at, charge, inbound, outbound, session

DAY = 24 * 60  # minutes
DETAILS = {"action": "pay"}


async def _enqueue(sms: OutboundSms, tx: Tx) -> bool:
    return await tx.enqueue_outbound(sms)


async def _insert_charge(made: Charge, tx: Tx) -> None:
    await tx.insert_charge(made, DETAILS)


async def _remember(nonce: str, minutes: float, tx: Tx) -> bool:
    return await tx.remember_nonce("mts", nonce, at(minutes))


async def _inbound(store: Store, key: str, minutes: float, *, processed: bool) -> str:
    inbound_id = await store.transact(lambda tx: tx.insert_inbound(inbound(key, minutes=minutes)))
    assert inbound_id is not None
    if processed:
        await store.transact(lambda tx: tx.mark_inbound_processed(inbound_id, "ok", at(minutes)))
    return inbound_id


async def _inbound_keys(store: Store) -> set[str]:
    async def read(tx: Tx) -> set[str]:
        claimed = await tx.claim_inbound(at(100 * DAY), "probe", 1, 1000)
        return {stored.sms.dedup_key for stored in claimed}

    return await store.transact(read)


async def test_processed_mo_past_retention_go_unprocessed_stay(store: Store) -> None:
    await _inbound(store, "old-done", 0, processed=True)
    await _inbound(store, "old-open", 1, processed=False)
    await _inbound(store, "new-done", 10 * DAY, processed=True)

    pruned = await store.transact(lambda tx: tx.prune_inbound(at(5 * DAY), 500))

    assert pruned == 1
    # the old processed one is gone: the same transport id is a new message again
    again = await store.transact(lambda tx: tx.insert_inbound(inbound("old-done", minutes=1)))
    kept = await store.transact(lambda tx: tx.insert_inbound(inbound("new-done", minutes=1)))
    assert again is not None and kept is None
    assert await _inbound_keys(store) >= {"old-open"}


async def test_batches_are_bounded_and_oldest_first(store: Store) -> None:
    for number in range(7):
        await _inbound(store, f"m{number}", number, processed=True)

    batches = [await store.transact(lambda tx: tx.prune_inbound(at(5.5), 3)) for _ in range(3)]

    assert batches == [3, 3, 0], "m0..m5 are older than the cut, m6 is not"
    newest = await store.transact(lambda tx: tx.insert_inbound(inbound("m6", minutes=6)))
    assert newest is None, "the newest was kept"


async def test_replies_are_pruned_once_no_longer_pending(store: Store) -> None:
    for outbox_id in ("pending", "sent", "failed", "delivered", "recent"):
        minutes = 10 * DAY if outbox_id == "recent" else 0
        sms = outbound(outbox_id, minutes=minutes)
        await store.transact(partial(_enqueue, sms))
    await store.transact(lambda tx: tx.mark_outbound_sent("sent", "m-1", at(1)))
    await store.transact(lambda tx: tx.mark_outbound_sent("delivered", "m-2", at(1)))
    await store.transact(lambda tx: tx.record_receipt("mts", "m-2", OutboxState.DELIVERED, at(2)))
    await store.transact(lambda tx: tx.fail_outbound("failed", "refused", at(1)))
    await store.transact(lambda tx: tx.mark_outbound_sent("recent", "m-3", at(10 * DAY)))

    pruned = await store.transact(lambda tx: tx.prune_outbox(at(5 * DAY), 500))

    assert pruned == 3

    async def left(tx: Tx) -> dict[str, OutboxState | None]:
        found = {}
        for outbox_id in ("pending", "sent", "failed", "delivered", "recent"):
            stored = await tx.get_outbound(outbox_id)
            found[outbox_id] = None if stored is None else stored.state
        return found

    assert await store.transact(left) == {
        "pending": OutboxState.PENDING,
        "sent": None,
        "failed": None,
        "delivered": None,
        "recent": OutboxState.SENT,
    }


async def test_finished_charges_go_unless_pending_or_their_session_runs(store: Store) -> None:
    made = {
        "applied": charge("applied", state=ChargeState.APPLIED),
        "declined": charge("declined", state=ChargeState.DECLINED),
        "expired": charge("expired", state=ChargeState.EXPIRED),
        "failed": charge("failed", state=ChargeState.FAILED),
        "pending": charge("pending", state=ChargeState.AWAITING_CONFIRMATION),
        "confirmed": charge("confirmed", phone=OTHER_PHONE, state=ChargeState.CONFIRMED),
        "live": charge("live", state=ChargeState.APPLIED),
        "recent": charge("recent", minutes=400 * DAY, state=ChargeState.APPLIED),
    }
    for made_charge in made.values():
        await store.transact(partial(_insert_charge, made_charge))
    # the builder's charge pays for session-<id>: "live" for a running one, "applied"
    # for one that ended
    await store.transact(lambda tx: tx.insert_session(session("session-live")))
    ended = session("session-applied", plate="B222BB77", state=SessionState.EXPIRED)
    await store.transact(lambda tx: tx.insert_session(ended))

    pruned = await store.transact(lambda tx: tx.prune_charges(at(365 * DAY), 500))

    async def left(tx: Tx) -> set[str]:
        return {cid for cid in made if await tx.get_charge(cid) is not None}

    assert pruned == 4
    assert await store.transact(left) == {"pending", "confirmed", "live", "recent"}


async def test_nonces_past_their_window_are_forgotten(store: Store) -> None:
    await store.transact(lambda tx: tx.remember_nonce("mts", "old", at(0)))
    await store.transact(lambda tx: tx.remember_nonce("mts", "new", at(20)))

    pruned = await store.transact(lambda tx: tx.prune_nonces(at(10), 500))

    assert pruned == 1
    assert await store.transact(lambda tx: tx.remember_nonce("mts", "new", at(21))) is False
    assert await store.transact(lambda tx: tx.remember_nonce("mts", "old", at(21))) is True


async def test_the_pruner_empties_everything_due_in_small_units(store: Store) -> None:
    for number in range(5):
        await _inbound(store, f"m{number}", number, processed=True)
        await store.transact(partial(_remember, f"n{number}", number))
    retention = Retention(
        inbound=timedelta(days=1),
        outbox=timedelta(days=1),
        charges=timedelta(days=1),
        batch_rows=2,
    )
    pruner = Pruner(store, SystemClock(), retention)

    deleted = await pruner.prune_once(at(2 * DAY))
    again = await pruner.prune_once(at(2 * DAY))

    assert deleted == {
        "inbound": 5,
        "outbox": 0,
        "charges": 0,
        "callback_nonces": 5,
        "driver_codes": 0,
        "driver_sessions": 0,
    }
    assert set(again.values()) == {0}
    assert timedelta(minutes=10) <= NONCE_KEEP, "a replay must stay refused while fresh"


async def test_sign_in_codes_and_dead_sign_ins_are_pruned(store: Store) -> None:
    def code(name: str, hour: int) -> DriverCode:
        sent = at(hour * 3600)
        return DriverCode(name, "79161234567", "src", "mac", sent, sent + timedelta(minutes=5))

    for name, hour in (("old", 0), ("new", 30)):
        await store.transact(partial(_insert_code, code(name, hour)))
    live = DriverSession("live", "79161234567", at(0), at(40 * 3600))
    gone = DriverSession("gone", "79031112233", at(0), at(3600))
    for sign_in in (live, gone):
        await store.transact(partial(_insert_session, sign_in))
    signed_out = DriverSession("out", "79265550011", at(0), at(40 * 3600))
    await store.transact(partial(_insert_session, signed_out))
    await store.transact(lambda tx: tx.revoke_driver_session("out", at(2 * 3600)))

    codes = await store.transact(lambda tx: tx.prune_driver_codes(at(10 * 3600), 500))
    sign_ins = await store.transact(lambda tx: tx.prune_driver_sessions(at(10 * 3600), 500))

    assert (codes, sign_ins) == (1, 2)
    newest = await store.transact(lambda tx: tx.latest_driver_code("79161234567"))
    assert newest is not None and newest.id == "new"
    assert await store.transact(lambda tx: tx.get_driver_session("live")) == live
    assert await store.transact(lambda tx: tx.get_driver_session("out")) is None


async def _insert_code(code: DriverCode, tx: Tx) -> None:
    await tx.insert_driver_code(code, forget_before=at(0))


async def _insert_session(sign_in: DriverSession, tx: Tx) -> None:
    await tx.insert_driver_session(sign_in)
