"""Crashes, restarts, redeliveries and two nodes at once: every MO is handled once, every
reply sent once, every charge requested under one id."""

from __future__ import annotations

import asyncio
import sqlite3

import pytest

from smsgw.charging.callbacks import parse_callback
from smsgw.service import handlers
from smsgw.service.ports import OutboxState, PermanentSendError, SendError, StoredInbound
from smsgw.service.runtime import build_service
from smsgw.service.unit import RequestCharge

from .harness import Harness

PLATE = "A123BC77"


async def test_a_redelivered_mo_is_processed_once(harness: Harness) -> None:
    assert await harness.mo("I", dedup="smsc-42") == ["No running parking. Parking account 0 RUB"]
    assert await harness.mo("I", dedup="smsc-42") == []
    await harness.reopen()
    assert await harness.mo("I", dedup="smsc-42") == []
    assert await harness.mo("I", dedup="smsc-43") == ["No running parking. Parking account 0 RUB"]


async def test_an_mo_stored_before_a_crash_is_processed_after_the_restart(
    harness: Harness,
) -> None:
    sms = harness.inbound(f"1001*{PLATE}*2")
    stored_id = await harness.db.transact(lambda tx: tx.insert_inbound(sms))
    assert stored_id is not None  # acknowledged to the SMSC; then the process died
    await harness.reopen()

    assert await harness.svc.messages.process_pending(harness.clock.now()) == 1
    assert await harness.flush() == ["To pay 120 RUB, reply 1 to the SMS from 7701"]
    assert await harness.svc.messages.process_pending(harness.clock.now()) == 0
    assert len(harness.charging["mts"].requests) == 1


async def test_an_mo_leased_by_a_dead_node_is_taken_over_after_the_lease(
    harness: Harness,
) -> None:
    sms = harness.inbound("I")
    await harness.db.transact(lambda tx: tx.insert_inbound(sms))
    await harness.db.transact(lambda tx: tx.claim_inbound(harness.clock.now(), "dead", 60, 10))
    assert await harness.svc.messages.process_pending(harness.clock.now()) == 0
    harness.clock.advance(seconds=61)
    assert await harness.svc.messages.process_pending(harness.clock.now()) == 1
    assert await harness.flush() == ["No running parking. Parking account 0 RUB"]


async def test_two_nodes_processing_one_mo_reply_once(harness: Harness) -> None:
    sms = harness.inbound(f"1001*{PLATE}*2")
    inbound_id = await harness.db.transact(lambda tx: tx.insert_inbound(sms))
    assert inbound_id is not None
    other_node = build_service(
        harness.db,
        harness.deployment,
        harness.clock,
        harness.charging,
        harness.senders,
        verify_callback=parse_callback,
    ).messages
    stored = StoredInbound(inbound_id, sms)

    await asyncio.gather(harness.svc.messages.process(stored), other_node.process(stored))

    assert await harness.flush() == ["To pay 120 RUB, reply 1 to the SMS from 7701"]
    assert len(harness.charging["mts"].requests) == 1
    pending = await harness.pending()
    assert pending is not None and pending.charge.id == harness.last_charge_id()


async def test_replies_not_sent_before_a_crash_are_sent_once_after_it(harness: Harness) -> None:
    assert await harness.svc.messages.accept_mo(harness.inbound("I"))
    await harness.svc.messages.drain()  # processed and queued, never sent
    await harness.reopen()
    assert await harness.flush() == ["No running parking. Parking account 0 RUB"]
    assert await harness.flush() == []
    assert len(harness.senders["mts"].sent) == 1


async def test_a_reply_leased_by_a_dead_node_is_sent_after_the_lease(harness: Harness) -> None:
    await harness.svc.messages.accept_mo(harness.inbound("I"))
    await harness.svc.messages.drain()
    await harness.db.transact(lambda tx: tx.claim_outbound(harness.clock.now(), "dead", 60, 10))
    assert await harness.flush() == []
    harness.clock.advance(seconds=61)
    assert await harness.flush() == ["No running parking. Parking account 0 RUB"]


async def test_a_charge_request_lost_in_a_crash_is_sent_by_its_retry_job(
    harness: Harness,
) -> None:
    async def crash_before_the_request(action: RequestCharge) -> None:
        return None

    harness.svc.runner.handle(RequestCharge, crash_before_the_request)
    await harness.mo(f"1001*{PLATE}*2")
    assert harness.charging["mts"].requests == []
    pending = await harness.pending()
    assert pending is not None
    await harness.reopen()

    await harness.run_due(seconds=20)

    [call] = harness.charging["mts"].requests
    assert call.charge.id == pending.charge.id
    await harness.callback(call.charge.id)
    assert await harness.flush() == [
        "Parking 1001 A123BC77 until 11:00. Paid 120 RUB. Parking account 0 RUB"
    ]
    assert await harness.run_due(minutes=5) == []
    assert len(harness.charging["mts"].requests) == 1
    await harness.assert_books_balance()


async def test_a_temporary_send_error_is_retried_with_back_off(harness: Harness) -> None:
    harness.senders["mts"].failures.append(SendError("throttled"))
    assert await harness.mo("I") == []
    assert await harness.flush() == []  # not before the back-off
    harness.clock.advance(seconds=5)
    assert await harness.flush() == ["No running parking. Parking account 0 RUB"]
    assert harness.senders["mts"].attempts == 2


async def test_a_permanent_send_error_is_not_retried(harness: Harness) -> None:
    harness.senders["mts"].failures.append(PermanentSendError("invalid destination"))
    await harness.mo("I")
    harness.clock.advance(hours=1)
    assert await harness.flush() == []
    assert harness.senders["mts"].attempts == 1
    [outbox_id] = await _outbox_ids(harness)
    stored = await harness.db.transact(lambda tx: tx.get_outbound(outbox_id))
    assert stored is not None and stored.state is OutboxState.FAILED


async def test_too_many_temporary_errors_give_up(harness: Harness) -> None:
    sender = harness.senders["mts"]
    sender.failures.extend(SendError("busy") for _ in range(20))
    await harness.mo("I")
    for _ in range(20):
        harness.clock.advance(minutes=10)
        await harness.flush()
    assert sender.attempts == harness.deployment.settings.outbox_max_attempts
    assert sender.sent == []


async def test_delivery_receipts_are_recorded(harness: Harness) -> None:
    await harness.mo("I")
    [sms] = harness.senders["mts"].sent
    gateway = harness.svc.messages
    assert await gateway.accept_receipt("mts", "mts-msg-1", OutboxState.DELIVERED)
    assert not await gateway.accept_receipt("mts", "no-such-message", OutboxState.DELIVERED)
    stored = await harness.db.transact(lambda tx: tx.get_outbound(sms.outbox_id))
    assert stored is not None and stored.state is OutboxState.DELIVERED


async def test_a_broken_unit_gets_the_temporary_error_reply(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def broken(*_: object) -> str:
        raise RuntimeError("a bug")

    monkeypatch.setattr(handlers, "handle_status", broken)
    assert await harness.mo("I") == ["We could not process your message now. Please send it again"]
    assert await harness.svc.messages.process_pending(harness.clock.now()) == 0


async def _outbox_ids(harness: Harness) -> list[str]:
    with sqlite3.connect(harness.path) as connection:
        return [row[0] for row in connection.execute("SELECT outbox_id FROM outbox")]
