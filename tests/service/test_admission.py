"""An MO is stored and processed in one unit of work, acknowledged after its COMMIT;
a drained outbox batch is recorded in one unit (docs/architecture.md, "The flow of one
MO"; bench/README.md for what the units cost)."""

from __future__ import annotations

import sqlite3

import pytest

from smsgw.service import pipeline

from .harness import OTHER_PHONE, PHONE, Harness

THIRD_PHONE = "79265550011"


def _inbound_rows(harness: Harness) -> list[tuple[str | None, str | None]]:
    with sqlite3.connect(harness.path) as connection:
        return list(connection.execute("SELECT processed_at, outcome FROM inbound"))


def _outbox_texts(harness: Harness) -> list[str]:
    with sqlite3.connect(harness.path) as connection:
        return [text for (text,) in connection.execute("SELECT text FROM outbox")]


async def test_an_mo_is_answered_in_the_unit_that_stores_it(harness: Harness) -> None:
    units_before = harness.db.stats.units

    assert await harness.svc.messages.accept_mo(harness.inbound("I"))

    # no background processing waited for: the acknowledgement came after both
    [(processed_at, outcome)] = _inbound_rows(harness)
    assert processed_at is not None and outcome == "status:none"
    assert _outbox_texts(harness) == ["No running parking. Parking account 0 RUB"]
    assert harness.db.stats.units - units_before == 1


async def test_a_refused_command_is_stored_with_its_refusal_and_nothing_else(
    harness: Harness,
) -> None:
    assert await harness.svc.messages.accept_mo(harness.inbound("S"))

    [(processed_at, outcome)] = _inbound_rows(harness)
    assert processed_at is not None and outcome == "stop:refused:stop.no_session"
    assert _outbox_texts(harness) == ["No running parking to stop"]
    assert await harness.flush() == ["No running parking to stop"]


async def test_a_duplicate_is_neither_stored_nor_answered_twice(harness: Harness) -> None:
    sms = harness.inbound("I", dedup="same")
    assert await harness.svc.messages.accept_mo(sms)
    assert await harness.svc.messages.accept_mo(sms)

    assert len(_inbound_rows(harness)) == 1
    assert await harness.flush() == ["No running parking. Parking account 0 RUB"]


async def test_an_mo_whose_processing_fails_is_stored_and_answered_later(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def broken(*_args: object) -> str:
        raise RuntimeError("a bug in a handler")

    monkeypatch.setattr(pipeline, "handle", broken)

    assert await harness.svc.messages.accept_mo(harness.inbound("I"))
    await harness.svc.messages.drain()

    [(processed_at, outcome)] = _inbound_rows(harness)
    assert processed_at is not None and outcome == "invalid:error:error.temporary"
    assert await harness.flush() == ["We could not process your message now. Please send it again"]


async def test_a_drained_batch_is_recorded_in_one_unit(harness: Harness) -> None:
    for phone in (PHONE, OTHER_PHONE, THIRD_PHONE):
        assert await harness.svc.messages.accept_mo(harness.inbound("I", phone=phone))
    units_before = harness.db.stats.units

    assert await harness.svc.outbox.drain(harness.clock.now()) == 3

    # one unit claims the batch, one records its three sends
    assert harness.db.stats.units - units_before == 2
    assert len(harness.senders["mts"].sent) == 3
    with sqlite3.connect(harness.path) as connection:
        states = [state for (state,) in connection.execute("SELECT state FROM outbox")]
    assert states == ["sent"] * 3
