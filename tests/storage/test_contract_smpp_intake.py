"""The SMPP MO intake's records: binds, MOs answered on them, parts of long MOs."""

from __future__ import annotations

from datetime import timedelta
from functools import partial

from smsgw.service.ports import SmppPart, SmppPartKey
from smsgw.service.store_port import Store, Tx
from tests.storage.builders import PHONE, T0, at

KEY = SmppPartKey("mts-1", PHONE, "7757", 7, 3)


async def add_part(item: SmppPart, tx: Tx) -> None:
    await tx.add_smpp_part(item)


def part(seqnum: int, payload: bytes, minutes: float = 0, key: SmppPartKey = KEY) -> SmppPart:
    return SmppPart(key, seqnum, 8, payload, at(minutes))


async def test_a_remembered_mo_is_seen_from_other_binds_with_its_bind_end(store: Store) -> None:
    async def remember(tx: Tx) -> None:
        await tx.touch_smpp_bind("mts-1", "b1", T0)
        await tx.record_smpp_mo("m1", "mts-1", "d1", "b1", T0, 0)
        await tx.touch_smpp_bind("mts-1", "b1", at(1))  # alive a minute later

    await store.transact(remember)
    same_bind = await store.transact(lambda tx: tx.seen_smpp_mo("mts-1", "d1", "b1"))
    (seen,) = await store.transact(lambda tx: tx.seen_smpp_mo("mts-1", "d1", "b2"))
    other = await store.transact(lambda tx: tx.seen_smpp_mo("mts-1", "d2", "b2"))
    other_link = await store.transact(lambda tx: tx.seen_smpp_mo("mts-2", "d1", "b2"))

    assert same_bind == [] and other == [] and other_link == []
    assert (seen.id, seen.bind_id, seen.answer_status) == ("m1", "b1", 0)
    assert seen.answered_at == T0
    assert seen.bind_down_at == at(1)


async def test_a_closed_bind_keeps_its_end_and_never_goes_back_in_time(store: Store) -> None:
    async def bind_life(tx: Tx) -> None:
        await tx.touch_smpp_bind("mts-1", "b1", at(2))
        await tx.touch_smpp_bind("mts-1", "b1", at(1))  # a late writer
        await tx.record_smpp_mo("m1", "mts-1", "d1", "b1", at(1), 0)
        await tx.touch_smpp_bind("mts-1", "b1", at(3), closed=True)
        await tx.touch_smpp_bind("mts-1", "b1", at(9), closed=True)

    await store.transact(bind_life)
    (seen,) = await store.transact(lambda tx: tx.seen_smpp_mo("mts-1", "d1", "b2"))
    assert seen.bind_down_at == at(3)


async def test_a_redelivery_is_claimed_once(store: Store) -> None:
    await store.transact(lambda tx: tx.touch_smpp_bind("mts-1", "b1", T0))
    await store.transact(lambda tx: tx.record_smpp_mo("m1", "mts-1", "d1", "b1", T0, 0))

    first = await store.transact(lambda tx: tx.claim_smpp_redelivery("m1", "b1", "b2", at(1), 0))
    again = await store.transact(lambda tx: tx.claim_smpp_redelivery("m1", "b1", "b3", at(1), 0))
    from_b2 = await store.transact(lambda tx: tx.seen_smpp_mo("mts-1", "d1", "b2"))
    (from_b3,) = await store.transact(lambda tx: tx.seen_smpp_mo("mts-1", "d1", "b3"))

    assert (first, again) == (True, False)
    assert from_b2 == []  # now answered on b2
    assert (from_b3.bind_id, from_b3.answered_at) == ("b2", at(1))


async def test_parts_are_kept_by_seqnum_and_taken_once(store: Store) -> None:
    after_3 = await store.transact(lambda tx: tx.add_smpp_part(part(3, b"c")))
    after_1 = await store.transact(lambda tx: tx.add_smpp_part(part(1, b"a", 1)))
    repeated = await store.transact(lambda tx: tx.add_smpp_part(part(1, b"other", 2)))
    taken = await store.transact(lambda tx: tx.take_smpp_parts(KEY))
    again = await store.transact(lambda tx: tx.take_smpp_parts(KEY))

    assert [p.seqnum for p in after_3] == [3]
    assert [(p.seqnum, p.payload) for p in after_1] == [(1, b"a"), (3, b"c")]
    assert [(p.seqnum, p.payload) for p in repeated] == [(1, b"a"), (3, b"c")]
    assert taken == repeated
    assert taken[0].received_at == at(1) and taken[0].data_coding == 8
    assert again == []


async def test_stale_parts_are_found_by_their_first_part(store: Store) -> None:
    other = SmppPartKey("mts-1", PHONE, "7757", 8, 2)
    elsewhere = SmppPartKey("mts-2", PHONE, "7757", 7, 3)
    for item in (
        part(1, b"a", 0),
        part(2, b"b", 10),
        part(1, b"x", 5, other),
        part(1, b"y", 0, elsewhere),
    ):
        await store.transact(partial(add_part, item))

    stale = await store.transact(lambda tx: tx.stale_smpp_parts("mts-1", at(6), 10))
    first_only = await store.transact(lambda tx: tx.stale_smpp_parts("mts-1", at(6), 1))
    none = await store.transact(lambda tx: tx.stale_smpp_parts("mts-1", at(0), 10))

    assert stale == [KEY, other]
    assert first_only == [KEY]
    assert none == []


async def test_old_mo_and_binds_are_pruned(store: Store) -> None:
    async def remember(tx: Tx) -> None:
        await tx.touch_smpp_bind("mts-1", "old", T0, closed=True)
        await tx.record_smpp_mo("m1", "mts-1", "d1", "old", T0, 0)
        await tx.touch_smpp_bind("mts-1", "new", at(60))
        await tx.record_smpp_mo("m2", "mts-1", "d1", "new", at(60), 0)

    await store.transact(remember)
    pruned = await store.transact(lambda tx: tx.prune_smpp_mo("mts-1", T0 + timedelta(minutes=30)))
    (left,) = await store.transact(lambda tx: tx.seen_smpp_mo("mts-1", "d1", "other"))

    assert pruned == 1
    assert left.id == "m2"
