"""The receipt book over both backends: receipts held until their part's id is known,
applied whatever the order, hex/decimal forms matched, expired ones reported."""

from __future__ import annotations

from datetime import timedelta

from hypothesis import given
from hypothesis import strategies as st

from smsgw.observability import Metrics
from smsgw.service.ports import OutboxState
from smsgw.service.receipts import ReceiptBook, id_forms
from smsgw.service.store_port import Store, Tx
from tests.storage.builders import at, outbound

DELIVERED, FAILED = OutboxState.DELIVERED, OutboxState.FAILED
HOLD = 600.0


async def _queued(store: Store, *outbox_ids: str) -> None:
    async def work(tx: Tx) -> None:
        for outbox_id in outbox_ids:
            await tx.enqueue_outbound(outbound(outbox_id))

    await store.transact(work)


async def _state(store: Store, outbox_id: str) -> OutboxState:
    row = await store.transact(lambda tx: tx.get_outbound(outbox_id))
    assert row is not None
    return row.state


def _count(metrics: Metrics, outcome: str) -> float:
    return float(metrics.receipts.labels(operator="mts", outcome=outcome)._value.get())


async def test_receipts_before_their_resps_are_applied_when_the_ids_come(store: Store) -> None:
    metrics = Metrics()
    book = ReceiptBook(store, hold_seconds=HOLD, metrics=metrics)
    await _queued(store, "o1")

    # both parts' receipts overtake both resps; part 2's id written in decimal
    first = await book.accept_receipt("mts", "3ec", DELIVERED, at(1))
    second = await book.accept_receipt("mts", "1003", DELIVERED, at(1))
    await book.record_part("o1", "mts", 1, 2, "3eb", at(2))
    between = await _state(store, "o1")
    await book.record_part("o1", "mts", 2, 2, "3ec", at(2))

    assert (first, second) == (False, False)
    assert between == OutboxState.PENDING
    assert await _state(store, "o1") == DELIVERED
    assert await store.transact(lambda tx: tx.held_receipts(10)) == []
    assert (_count(metrics, "held"), _count(metrics, "matched")) == (2, 2)
    final = metrics.mt_final.labels(operator="mts", state="delivered")._value.get()
    assert final == 1


async def test_one_failed_part_fails_the_reply(store: Store) -> None:
    book = ReceiptBook(store, hold_seconds=HOLD)
    await _queued(store, "o1")
    await book.record_part("o1", "mts", 1, 2, "a1", at(1))
    await book.record_part("o1", "mts", 2, 2, "a2", at(1))

    assert await book.accept_receipt("mts", "a2", FAILED, at(2))
    assert await book.accept_receipt("mts", "a1", DELIVERED, at(2))
    assert await _state(store, "o1") == FAILED


async def test_the_id_as_written_wins_over_its_other_base(store: Store) -> None:
    book = ReceiptBook(store, hold_seconds=HOLD)
    await _queued(store, "hex-a", "hex-10")
    await book.record_part("hex-a", "mts", 1, 1, "a", at(1))  # 10 in hex
    await book.record_part("hex-10", "mts", 1, 1, "10", at(2))  # 16 in hex

    await book.accept_receipt("mts", "10", DELIVERED, at(3))

    assert await _state(store, "hex-10") == DELIVERED
    assert await _state(store, "hex-a") == OutboxState.PENDING


async def test_the_sweep_applies_what_a_parallel_resp_recorded_and_expires_the_rest(
    store: Store,
) -> None:
    metrics = Metrics()
    book = ReceiptBook(store, hold_seconds=HOLD, metrics=metrics)
    await _queued(store, "o1")
    await book.accept_receipt("mts", "77", DELIVERED, at(1))
    await book.accept_receipt("mts", "never-sent", DELIVERED, at(1))
    # the resp's transaction ran alongside the receipt's and did not see it held
    await store.transact(lambda tx: tx.record_outbound_part("o1", 1, 1, "77", at(1)))

    early = await book.sweep_held(at(2))
    still = [h.message_id for h in await store.transact(lambda tx: tx.held_receipts(10))]
    late = await book.sweep_held(at(1) + timedelta(seconds=HOLD))

    assert early == (1, 0)
    assert still == ["never-sent"]
    assert late == (0, 1)
    assert await _state(store, "o1") == DELIVERED
    assert _count(metrics, "expired") == 1


async def test_an_http_report_by_outbox_id_still_settles_its_row(store: Store) -> None:
    book = ReceiptBook(store, hold_seconds=HOLD)
    await _queued(store, "kannel-1")

    assert await book.accept_receipt("mts", "kannel-1", DELIVERED, at(1))
    assert await _state(store, "kannel-1") == DELIVERED


@given(number=st.integers(0, 2**64))
def test_decimal_and_hex_forms_of_one_number_meet(number: int) -> None:
    decimal, lower, upper = str(number), format(number, "x"), format(number, "X")
    for written in (decimal, lower, upper):
        forms = id_forms(written)
        assert forms[0] == written
    assert lower in id_forms(decimal) and upper in id_forms(decimal)
    assert decimal in id_forms(lower) and decimal in id_forms(upper)
