"""No sequence of commands, answers, duplicates, replays and time creates or loses money.

Each example drives two phones (MTS and Beeline, whose 10 ₽ minimum leaves change on
the account) through random payments, extensions, stops, callbacks (confirmed,
declined, duplicated, replayed) and time passing with the scheduler running, against a
fresh SQLite store, then checks the books against the sessions and charges.
"""

from __future__ import annotations

import asyncio
import sqlite3
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from smsgw.service.ports import ChargeOutcome

from .harness import OTHER_PHONE, PHONE, Harness, make_deployment

PHONES = ((PHONE, "mts"), (OTHER_PHONE, "beeline"))
PLATES = ("A123BC77", "B456CE77")

phone = st.integers(0, len(PHONES) - 1)
steps = st.one_of(
    st.tuples(st.just("pay"), phone, st.integers(0, 1), st.integers(1, 3)),
    st.tuples(st.just("extend"), phone, st.integers(1, 2)),
    st.tuples(st.just("stop"), phone),
    st.tuples(st.just("pay"), phone, st.integers(0, 1), st.integers(1, 3)),
    st.tuples(st.just("stop"), phone),
    st.tuples(st.just("callback"), phone, st.sampled_from(["confirmed", "declined"])),
    st.tuples(st.just("repeat"), phone),
    st.tuples(st.just("replay"), phone),
    st.tuples(st.just("wait"), st.sampled_from([1, 7, 20, 65])),
    st.tuples(st.just("answers"), st.sampled_from(list(ChargeOutcome))),
)


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(
    st.sampled_from([ChargeOutcome.CONFIRMED, ChargeOutcome.ACCEPTED]),
    st.lists(steps, min_size=1, max_size=16),
)
def test_the_books_always_balance(first: ChargeOutcome, script: list[tuple[object, ...]]) -> None:
    with tempfile.TemporaryDirectory() as directory:
        asyncio.run(_play(Path(directory) / "smsgw.sqlite3", first, script))


async def _play(path: Path, first: ChargeOutcome, script: list[tuple[object, ...]]) -> None:
    harness = await Harness(path, make_deployment()).open()
    for charging in harness.charging.values():
        charging.request_default = first
    last_callback: dict[int, tuple[bytes, dict[str, str]]] = {}
    try:
        for step in script:
            await _step(harness, step, last_callback)
            await harness.flush()
            await harness.assert_books_balance()
        await _check_books_against_state(harness)
    finally:
        await harness.close()


async def _step(
    harness: Harness,
    step: tuple[object, ...],
    last_callback: dict[int, tuple[bytes, dict[str, str]]],
) -> None:
    match step:
        case ("pay", int(who), int(plate), int(hours)):
            msisdn, operator = PHONES[who]
            await harness.mo(f"1001*{PLATES[plate]}*{hours}", msisdn, operator)
        case ("extend", int(who), int(hours)):
            msisdn, operator = PHONES[who]
            await harness.mo(f"X*{hours}", msisdn, operator)
        case ("stop", int(who)):
            msisdn, operator = PHONES[who]
            await harness.mo("S", msisdn, operator)
        case ("callback", int(who), str(status)):
            _, operator = PHONES[who]
            if harness.charging[operator].requests:
                charge_id = harness.last_charge_id(operator)
                signed = harness.signed_callback(charge_id, status, operator)
                last_callback[who] = signed
                await harness.svc.messages.accept_charge_callback(operator, signed[1], signed[0])
        case ("repeat", int(who)) if who in last_callback:
            _, operator = PHONES[who]
            body, _ = last_callback[who]
            status = "confirmed" if b'"confirmed"' in body else "declined"
            charge_id = harness.last_charge_id(operator)
            await harness.callback(charge_id, status, operator=operator)
        case ("replay", int(who)) if who in last_callback:
            _, operator = PHONES[who]
            body, headers = last_callback[who]
            await harness.svc.messages.accept_charge_callback(operator, headers, body)
        case ("wait", int(minutes)):
            await harness.run_due(minutes=minutes)
        case ("answers", ChargeOutcome() as outcome):
            for charging in harness.charging.values():
                charging.request_default = outcome
                charging.status_default = outcome
        case _:
            pass


async def _check_books_against_state(harness: Harness) -> None:
    """Revenue is what the sessions kept; each applied charge was credited exactly once
    with its amount, and nothing else was."""
    with sqlite3.connect(harness.path) as db:
        kept = db.execute(
            "SELECT COALESCE(SUM(prepaid_minor), 0) FROM sessions"
            " WHERE state IN ('active', 'stopped', 'expired')"
        ).fetchone()[0]
        revenue = db.execute(
            "SELECT COALESCE(SUM(amount_minor), 0) FROM ledger_entries"
            " WHERE account LIKE 'revenue:%'"
        ).fetchone()[0]
        credited = dict(
            db.execute(
                "SELECT t.reference, e.amount_minor FROM ledger_transactions t"
                " JOIN ledger_entries e ON e.transaction_id = t.id"
                " WHERE t.kind = 'charge_confirmed' AND e.account LIKE 'phone:%'"
            ).fetchall()
        )
        applied = dict(
            db.execute(
                "SELECT id, amount_minor FROM charges WHERE state IN ('applied', 'confirmed')"
            ).fetchall()
        )
        credits = db.execute(
            "SELECT COUNT(*) FROM ledger_transactions WHERE kind = 'charge_confirmed'"
        ).fetchone()[0]
        active_plates = db.execute(
            "SELECT plate, COUNT(*) FROM sessions WHERE state = 'active' GROUP BY plate"
        ).fetchall()
    assert revenue == kept
    assert credited == applied
    assert credits == len(applied)
    assert all(count == 1 for _, count in active_plates)
