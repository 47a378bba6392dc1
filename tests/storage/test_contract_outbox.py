"""The outbox: queued once, leased to one sender, attempts counted, receipts attached."""

from __future__ import annotations

from functools import partial

import pytest

from smsgw.service.messages import OutboundSms
from smsgw.service.ports import OutboxState, StoredOutbound
from smsgw.service.store_port import Store, Tx
from smsgw.storage.errors import UnknownRowError
from tests.storage.builders import at, outbound

LEASE = 30.0


async def enqueue(sms: OutboundSms, tx: Tx) -> bool:
    return await tx.enqueue_outbound(sms)


async def mark_sent(outbox_id: str, message_id: str, minutes: float, tx: Tx) -> None:
    await tx.mark_outbound_sent(outbox_id, message_id, at(minutes))


async def test_a_reply_is_queued_once(store: Store) -> None:
    first = await store.transact(lambda tx: tx.enqueue_outbound(outbound("o1")))
    replay = await store.transact(lambda tx: tx.enqueue_outbound(outbound("o1", minutes=5)))

    found = await store.transact(lambda tx: tx.get_outbound("o1"))

    assert (first, replay) == (True, False)
    assert found == StoredOutbound(outbound("o1"), OutboxState.PENDING, 0, None)
    assert await store.transact(lambda tx: tx.get_outbound("nope")) is None


async def test_pending_replies_are_claimed_oldest_first_and_leased(store: Store) -> None:
    for outbox_id, minutes in (("o3", 3), ("o1", 1), ("o2", 2)):
        await store.transact(partial(enqueue, outbound(outbox_id, minutes=minutes)))

    first = await store.transact(lambda tx: tx.claim_outbound(at(5), "node-a", LEASE, 2))
    leased = await store.transact(lambda tx: tx.claim_outbound(at(5), "node-b", LEASE, 10))
    during = await store.transact(lambda tx: tx.claim_outbound(at(5.4), "node-c", LEASE, 10))
    expired = await store.transact(lambda tx: tx.claim_outbound(at(5.5), "node-c", LEASE, 10))

    assert [o.sms.outbox_id for o in first] == ["o1", "o2"]
    assert [o.sms.outbox_id for o in leased] == ["o3"]
    assert during == []
    assert [o.sms.outbox_id for o in expired] == ["o1", "o2", "o3"]


async def test_a_sent_reply_is_no_longer_claimed(store: Store) -> None:
    await store.transact(lambda tx: tx.enqueue_outbound(outbound("o1")))
    await store.transact(lambda tx: tx.claim_outbound(at(1), "node-a", LEASE, 10))

    await store.transact(lambda tx: tx.mark_outbound_sent("o1", "5f3a", at(1)))

    assert await store.transact(lambda tx: tx.claim_outbound(at(60), "node-a", LEASE, 10)) == []
    found = await store.transact(lambda tx: tx.get_outbound("o1"))
    assert found == StoredOutbound(outbound("o1"), OutboxState.SENT, 1, "5f3a")


async def test_a_retry_counts_the_attempt_and_waits_until_not_before(store: Store) -> None:
    await store.transact(lambda tx: tx.enqueue_outbound(outbound("o1")))
    await store.transact(lambda tx: tx.claim_outbound(at(1), "node-a", LEASE, 10))

    await store.transact(lambda tx: tx.retry_outbound("o1", at(10), "throttled"))

    assert await store.transact(lambda tx: tx.claim_outbound(at(9), "node-b", LEASE, 10)) == []
    again = await store.transact(lambda tx: tx.claim_outbound(at(10), "node-b", LEASE, 10))
    assert [(o.sms.outbox_id, o.attempts, o.state) for o in again] == [
        ("o1", 1, OutboxState.PENDING)
    ]


async def test_a_failed_reply_is_final(store: Store) -> None:
    await store.transact(lambda tx: tx.enqueue_outbound(outbound("o1")))
    await store.transact(lambda tx: tx.claim_outbound(at(1), "node-a", LEASE, 10))

    await store.transact(lambda tx: tx.fail_outbound("o1", "unknown subscriber", at(1)))

    assert await store.transact(lambda tx: tx.claim_outbound(at(60), "node-a", LEASE, 10)) == []
    found = await store.transact(lambda tx: tx.get_outbound("o1"))
    assert found is not None and (found.state, found.attempts) == (OutboxState.FAILED, 1)


@pytest.mark.parametrize("call", ["sent", "retry", "fail"])
async def test_finishing_an_unknown_reply_raises(store: Store, call: str) -> None:
    with pytest.raises(UnknownRowError):
        if call == "sent":
            await store.transact(lambda tx: tx.mark_outbound_sent("nope", "1", at(1)))
        elif call == "retry":
            await store.transact(lambda tx: tx.retry_outbound("nope", at(1), "e"))
        else:
            await store.transact(lambda tx: tx.fail_outbound("nope", "e", at(1)))


async def test_a_receipt_is_attached_by_operator_and_message_id_as_written(store: Store) -> None:
    await store.transact(lambda tx: tx.enqueue_outbound(outbound("o1")))
    await store.transact(lambda tx: tx.mark_outbound_sent("o1", "0A1b", at(1)))
    delivered = OutboxState.DELIVERED

    other_case = await store.transact(lambda tx: tx.record_receipt("mts", "0a1b", delivered, at(2)))
    no_zero = await store.transact(lambda tx: tx.record_receipt("mts", "A1b", delivered, at(2)))
    other_op = await store.transact(lambda tx: tx.record_receipt("tele2", "0A1b", delivered, at(2)))
    matched = await store.transact(lambda tx: tx.record_receipt("mts", "0A1b", delivered, at(2)))

    assert (other_case, no_zero, other_op, matched) == (False, False, False, True)
    found = await store.transact(lambda tx: tx.get_outbound("o1"))
    assert found is not None and found.state is OutboxState.DELIVERED


async def test_a_recycled_message_id_belongs_to_the_latest_send(store: Store) -> None:
    for outbox_id, minutes in (("old", 1), ("new", 2)):
        await store.transact(partial(enqueue, outbound(outbox_id)))
        await store.transact(partial(mark_sent, outbox_id, "42", minutes))

    await store.transact(lambda tx: tx.record_receipt("mts", "42", OutboxState.FAILED, at(3)))

    old = await store.transact(lambda tx: tx.get_outbound("old"))
    new = await store.transact(lambda tx: tx.get_outbound("new"))
    assert old is not None and old.state is OutboxState.SENT
    assert new is not None and new.state is OutboxState.FAILED


async def test_a_receipt_by_outbox_id_may_come_before_the_send_is_marked(store: Store) -> None:
    # Kannel submits to the SMSC before it answers sendsms: its report, which carries
    # our outbox id, can arrive first. It must not be lost nor overwritten.
    delivered = OutboxState.DELIVERED
    await store.transact(partial(enqueue, outbound("o1")))
    await store.transact(lambda tx: tx.claim_outbound(at(1), "node-a", LEASE, 10))
    matched = await store.transact(lambda tx: tx.record_receipt("mts", "o1", delivered, at(2)))
    await store.transact(partial(mark_sent, "o1", "o1", 3))

    found = await store.transact(lambda tx: tx.get_outbound("o1"))

    assert matched is True
    assert found is not None and found.state is OutboxState.DELIVERED
    assert found.message_id == "o1"


async def test_a_restarted_node_takes_back_its_own_leases_only(store: Store) -> None:
    for outbox_id in ("o1", "o2"):
        await store.transact(partial(enqueue, outbound(outbox_id)))
    await store.transact(lambda tx: tx.claim_outbound(at(1), "node-a", LEASE, 1))
    await store.transact(lambda tx: tx.claim_outbound(at(1), "node-b", LEASE, 1))

    freed = await store.transact(lambda tx: tx.release_leases("node-a"))
    again = await store.transact(lambda tx: tx.claim_outbound(at(1.1), "node-a", LEASE, 10))

    assert freed == 1
    assert [row.sms.outbox_id for row in again] == ["o1"]  # o2 is still node-b's
