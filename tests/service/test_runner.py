"""The unit runner on a real SQLite file: a unit's after-commit work (outbox wake-up,
actions, the caller's own step) happens only once it has committed, and for every
caller through the same runner."""

from __future__ import annotations

import ast
from datetime import UTC, datetime
from pathlib import Path

import pytest

from smsgw.service.messages import OutboundSms
from smsgw.service.ports import Job, JobKind
from smsgw.service.runner import Moment, Ran, UnitRunner
from smsgw.service.store_port import Tx
from smsgw.service.unit import PollCharge, PostCommit, RequestCharge, Unit, UnitReport

from .harness import Harness

SERVICE = Path(__file__).resolve().parents[2] / "smsgw" / "service"


class Wakes:
    def __init__(self) -> None:
        self.count = 0

    def __call__(self) -> None:
        self.count += 1


def _runner(harness: Harness, wakes: Wakes) -> UnitRunner:
    return UnitRunner(harness.db, harness.clock, ids=harness.ids, wake_outbox=wakes)


def _reply(outbox_id: str, harness: Harness) -> OutboundSms:
    return OutboundSms(
        outbox_id=outbox_id,
        operator_id="mts",
        sender="7700",
        receiver="77010000001",
        text="hello",
        created_at=harness.clock.now(),
    )


def _unit_with(tx: Tx, moment: Moment, harness: Harness, *actions: PostCommit) -> Unit:
    unit = Unit(
        tx=tx,
        deployment=harness.deployment,
        now=moment.now,
        msisdn="77010000001",
        operator_id="mts",
        language=harness.deployment.language_for(None),
        cause="test",
        seed=moment.seed,
    )
    unit.actions.extend(actions)
    return unit


async def test_after_commit_sees_the_committed_unit_and_wakes_the_outbox_once(
    harness: Harness,
) -> None:
    wakes = Wakes()
    runner = _runner(harness, wakes)
    seen_by_handler: list[bool] = []

    async def request(action: RequestCharge) -> None:
        # the network step reads what the unit wrote: it is there, committed
        stored = await harness.db.transact(lambda tx: tx.get_outbound("r:1"))
        seen_by_handler.append(stored is not None)

    runner.handle(RequestCharge, request)

    async def work(tx: Tx, moment: Moment) -> Ran[str]:
        unit = _unit_with(tx, moment, harness, RequestCharge("c1"))
        if await tx.enqueue_outbound(_reply("r:1", harness)):
            unit.replies_queued += 1
        return Ran("done", unit)

    steps: list[tuple[str, UnitReport]] = []
    value = await runner.run(work, on_commit=lambda v, report: steps.append((v, report)))

    assert value == "done"
    assert seen_by_handler == [True]
    assert wakes.count == 1
    [(committed_value, report)] = steps
    assert committed_value == "done" and report.replies_queued == 1


async def test_a_unit_that_rolls_back_leaves_no_after_commit_work(harness: Harness) -> None:
    wakes = Wakes()
    runner = _runner(harness, wakes)
    handled: list[PostCommit] = []

    async def request(action: RequestCharge) -> None:
        handled.append(action)

    runner.handle(RequestCharge, request)

    async def work(tx: Tx, moment: Moment) -> Ran[None]:
        unit = _unit_with(tx, moment, harness, RequestCharge("c1"))
        await tx.enqueue_outbound(_reply("r:1", harness))
        unit.replies_queued += 1
        raise RuntimeError("the unit fails before COMMIT")

    with pytest.raises(RuntimeError):
        await runner.run(work, on_commit=lambda _v, _r: handled.append(PollCharge("x")))

    assert handled == []
    assert wakes.count == 0
    assert await harness.db.transact(lambda tx: tx.get_outbound("r:1")) is None


async def test_a_failing_action_is_logged_and_the_others_still_run(harness: Harness) -> None:
    runner = _runner(harness, Wakes())
    polled: list[str] = []

    async def request(action: RequestCharge) -> None:
        raise ConnectionError("operator unreachable")

    async def poll(action: PollCharge) -> None:
        polled.append(action.charge_id)

    runner.handle(RequestCharge, request)
    runner.handle(PollCharge, poll)

    async def work(tx: Tx, moment: Moment) -> Ran[None]:
        return Ran(None, _unit_with(tx, moment, harness, RequestCharge("c1"), PollCharge("c2")))

    await runner.run(work)

    assert polled == ["c2"]


async def test_deferred_actions_wait_for_the_caller(harness: Harness) -> None:
    runner = _runner(harness, Wakes())
    polled: list[str] = []

    async def poll(action: PollCharge) -> None:
        polled.append(action.charge_id)

    runner.handle(PollCharge, poll)
    batch: list[PostCommit] = []
    for charge_id in ("c1", "c2"):

        async def work(tx: Tx, moment: Moment, charge_id: str = charge_id) -> Ran[None]:
            return Ran(None, _unit_with(tx, moment, harness, PollCharge(charge_id)))

        await runner.run(work, defer_to=batch)
    assert polled == []

    await runner.dispatch(batch)

    assert polled == ["c1", "c2"]


async def test_a_replayed_moment_keeps_its_time_and_seed(harness: Harness) -> None:
    runner = _runner(harness, Wakes())
    moment = runner.moment()
    seen: list[tuple[object, str]] = []

    async def work(tx: Tx, given: Moment) -> Ran[None]:
        seen.append((given.now, given.seed))
        return Ran(None)

    harness.clock.advance(minutes=5)
    await runner.run(work, moment=moment)
    await runner.run(work, moment=moment)

    assert seen == [(moment.now, moment.seed)] * 2


def test_jobs_are_built_in_one_place() -> None:
    """`Job.of` names a job after its kind and reference; nothing in the service builds
    a `Job` (or its id) by hand."""
    builders = []
    for path in sorted(SERVICE.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Name)
                and node.func.id in {"Job", "job_id"}
            ):
                builders.append(f"{path.name}:{node.lineno}")

    assert builders == []
    job = Job.of(JobKind.CHARGE_RETRY, "chg_1", datetime(2026, 1, 1, tzinfo=UTC))
    assert (job.id, job.kind, job.reference) == (
        "charge_retry:chg_1",
        JobKind.CHARGE_RETRY,
        "chg_1",
    )
