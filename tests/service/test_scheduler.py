"""Reminders and end notices (docs/rules.md §3), driven by `run_due` and the test's clock."""

from __future__ import annotations

import pytest

from smsgw.domain.parking import SessionState
from smsgw.service.ports import ChargeOutcome

from .harness import Harness

PLATE = "A123BC77"
REMINDER = "Parking 1001 A123BC77 ends at 11:00. To extend: X*1*A123BC77"
ENDED = "Parking 1001 A123BC77 ended at 11:00"


@pytest.fixture
async def parked(harness: Harness) -> Harness:
    """A123BC77 parked in 1001 from 09:00 to 11:00 Moscow time."""
    harness.charging["mts"].request_default = ChargeOutcome.CONFIRMED
    await harness.mo(f"1001*{PLATE}*2")
    return harness


async def test_reminder_ten_minutes_before_and_the_end_notice(parked: Harness) -> None:
    assert await parked.run_due(minutes=109) == []
    assert await parked.run_due(minutes=1) == [REMINDER]
    assert await parked.run_due(minutes=9) == []
    assert await parked.run_due(minutes=1) == [ENDED]
    session = await parked.db.transact(lambda tx: tx.running_sessions("79161234567"))
    assert session == []
    assert await parked.paid_until(PLATE) is None


async def test_each_notice_is_sent_once_however_often_run_due_runs(parked: Harness) -> None:
    for minutes, expected in ((115, [REMINDER]), (30, [ENDED])):
        now = parked.clock.advance(minutes=minutes)
        for _ in range(3):
            await parked.svc.scheduler.run_due(now)
        assert await parked.flush() == expected


async def test_a_job_run_twice_by_two_nodes_sends_once(parked: Harness) -> None:
    """A node that lost its lease mid-job and finishes it anyway: the reply is named
    after the job and the session's end, so the second run sends nothing."""
    parked.clock.advance(minutes=111)
    [job] = await parked.db.transact(
        lambda tx: tx.claim_due_jobs(parked.clock.now(), "slow-node", 60, 10)
    )
    assert job.kind.value == "reminder"
    assert await parked.run_due(minutes=2) == [REMINDER]  # the lease ran out: taken over
    await parked.svc.scheduler._run(job, parked.clock.now())  # the slow node finishes
    assert await parked.flush() == []


async def test_an_extension_moves_the_reminder_and_the_end(parked: Harness) -> None:
    parked.clock.advance(minutes=30)
    await parked.mo("X*1")
    assert await parked.run_due(minutes=80) == []  # 10:50: the old reminder time
    assert await parked.run_due(minutes=10) == []  # 11:00: the old end
    assert await parked.run_due(minutes=50) == [
        "Parking 1001 A123BC77 ends at 12:00. To extend: X*1*A123BC77"
    ]
    assert await parked.run_due(minutes=10) == ["Parking 1001 A123BC77 ended at 12:00"]


async def test_a_plate_paid_again_after_its_end_before_the_job_ran(parked: Harness) -> None:
    """The scheduler was behind: the new payment closes the old session, and the old
    session's end notice still goes out, once."""
    parked.clock.advance(hours=2, minutes=5)
    texts = await parked.mo(f"1001*{PLATE}*1")
    assert texts[-1] == "Parking 1001 A123BC77 until 12:05. Paid 60 RUB. Parking account 0 RUB"
    old = await parked.db.transact(lambda tx: tx.get_session("ses_00001"))
    assert old is not None and old.state is SessionState.EXPIRED
    assert await parked.run_due() == [ENDED]  # a reminder after the end is pointless
    assert await parked.run_due(minutes=1) == []
    await parked.assert_books_balance()
