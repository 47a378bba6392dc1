"""Receipts per part and held receipts, the same on both backends."""

from __future__ import annotations

from smsgw.service.ports import OutboundPart, OutboxState, PartReceipt
from smsgw.service.store_port import Store, Tx
from tests.storage.builders import at, outbound

DELIVERED, FAILED, SENT = OutboxState.DELIVERED, OutboxState.FAILED, OutboxState.SENT


async def _sent_in_parts(store: Store, outbox_id: str, ids: list[str], minutes: float) -> None:
    async def work(tx: Tx) -> None:
        await tx.enqueue_outbound(outbound(outbox_id, minutes=minutes))
        for number, message_id in enumerate(ids, start=1):
            await tx.record_outbound_part(outbox_id, number, len(ids), message_id, at(minutes))

    await store.transact(work)


async def _receipt(
    store: Store, ids: list[str], state: OutboxState, minutes: float = 5
) -> PartReceipt | None:
    return await store.transact(lambda tx: tx.record_part_receipt("mts", ids, state, at(minutes)))


async def test_a_reply_is_delivered_once_every_part_is(store: Store) -> None:
    await _sent_in_parts(store, "o1", ["1003", "1004"], 1)

    first = await _receipt(store, ["1004"], DELIVERED, 2)
    between = await store.transact(lambda tx: tx.get_outbound("o1"))
    second = await _receipt(store, ["x", "1003"], DELIVERED, 3)
    again = await _receipt(store, ["1003"], DELIVERED, 4)
    parts = await store.transact(lambda tx: tx.outbound_parts("o1"))

    assert first == PartReceipt("o1", "mts", OutboxState.PENDING, settled=False)
    assert between is not None and between.state == OutboxState.PENDING
    assert second == PartReceipt("o1", "mts", DELIVERED, settled=True)
    assert again == PartReceipt("o1", "mts", DELIVERED, settled=False)
    assert parts == [
        OutboundPart("o1", 1, 2, "1003", DELIVERED, at(1), at(3)),
        OutboundPart("o1", 2, 2, "1004", DELIVERED, at(1), at(2)),
    ]
    final = await store.transact(lambda tx: tx.get_outbound("o1"))
    assert final is not None and final.state == DELIVERED


async def test_one_failed_part_fails_the_reply_and_a_later_send_mark_keeps_it(
    store: Store,
) -> None:
    await _sent_in_parts(store, "o1", ["a1", "a2"], 1)

    failed = await _receipt(store, ["a2"], FAILED)
    await store.transact(lambda tx: tx.mark_outbound_sent("o1", "a1", at(1)))
    delivered = await _receipt(store, ["a1"], DELIVERED)

    assert failed == PartReceipt("o1", "mts", FAILED, settled=True)
    assert delivered == PartReceipt("o1", "mts", FAILED, settled=False)
    row = await store.transact(lambda tx: tx.get_outbound("o1"))
    assert row is not None and row.state == FAILED


async def test_a_part_resent_replaces_its_id_and_a_recycled_id_is_the_latest_send(
    store: Store,
) -> None:
    await _sent_in_parts(store, "old", ["77"], 1)
    await _sent_in_parts(store, "new", ["77"], 2)
    await store.transact(lambda tx: tx.record_outbound_part("new", 1, 1, "78", at(3)))

    matched = await _receipt(store, ["77"], DELIVERED)
    resent = await _receipt(store, ["78"], DELIVERED)

    assert matched == PartReceipt("old", "mts", DELIVERED, settled=True)
    assert resent == PartReceipt("new", "mts", DELIVERED, settled=True)


async def test_a_receipt_matches_only_its_operators_parts(store: Store) -> None:
    await _sent_in_parts(store, "o1", ["9"], 1)

    other = await store.transact(
        lambda tx: tx.record_part_receipt("beeline", ["9"], DELIVERED, at(2))
    )
    none = await _receipt(store, [], DELIVERED)

    assert (other, none) == (None, None)
    assert await store.transact(lambda tx: tx.outbound_parts("nope")) == []
    parts = await store.transact(lambda tx: tx.outbound_parts("o1"))
    assert [part.state for part in parts] == [SENT]


async def test_held_receipts_are_found_by_id_listed_oldest_first_and_dropped(
    store: Store,
) -> None:
    async def hold(tx: Tx) -> None:
        await tx.hold_receipt("mts", "1004", DELIVERED, at(2), at(12))
        await tx.hold_receipt("mts", "1003", FAILED, at(1), at(11))
        await tx.hold_receipt("beeline", "1003", DELIVERED, at(3), at(13))

    await store.transact(hold)

    by_id = await store.transact(lambda tx: tx.held_receipts_for("mts", ["1003", "3eb"]))
    everything = await store.transact(lambda tx: tx.held_receipts(10))
    await store.transact(lambda tx: tx.drop_held_receipt(by_id[0].id))
    left = await store.transact(lambda tx: tx.held_receipts(10))

    assert [(h.operator_id, h.message_id, h.state) for h in by_id] == [("mts", "1003", FAILED)]
    assert (by_id[0].received_at, by_id[0].expires_at) == (at(1), at(11))
    assert [(h.operator_id, h.message_id) for h in everything] == [
        ("mts", "1003"),
        ("mts", "1004"),
        ("beeline", "1003"),
    ]
    assert [h.message_id for h in left] == ["1004", "1003"]
    assert await store.transact(lambda tx: tx.held_receipts(1)) == left[:1]
    assert await store.transact(lambda tx: tx.held_receipts_for("mts", [])) == []
