"""Scheduled work: reminders, session ends, charge deadlines and charge retries; and
`Pruner`, which deletes stored rows past their retention.

`run_due(now)` claims the due jobs (leased to this node, so two nodes never run one job
at once) and runs each in its own unit of work, which completes the job first and may
schedule it again. A job that fails stays leased until the lease runs out and is then
claimed again, on any node. Replies are named after the job and the moment they are
about, so a job that runs twice sends once.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

import structlog

from smsgw.clock import Clock
from smsgw.domain.parking import (
    ParkingSession,
    SessionState,
    expire,
    extend_example,
    reminder_due_at,
)
from smsgw.domain.tariffs import as_utc
from smsgw.service.charging_flow import ChargeFlow, run_charge_expiry, run_charge_retry
from smsgw.service.ports import CALLBACK_MAX_SKEW, Job, JobKind
from smsgw.service.runner import Moment, Ran, UnitRunner
from smsgw.service.session_flow import job_reply_id, schedule_session_jobs
from smsgw.service.settings import Deployment
from smsgw.service.store_port import Store, Tx
from smsgw.service.unit import PostCommit, Unit, local_time, lock_phone_unit

log = structlog.get_logger(__name__)


class Scheduler:
    def __init__(self, runner: UnitRunner, deployment: Deployment, flow: ChargeFlow) -> None:
        self._runner = runner
        self._deployment = deployment
        self._flow = flow

    async def run_due(self, now: datetime | None = None) -> int:
        """Run every job due by `now` (the clock's time by default); how many ran."""
        at = now or self._runner.clock.now()
        settings = self._deployment.settings
        jobs = await self._runner.store.transact(
            lambda tx: tx.claim_due_jobs(
                at, settings.node_id, settings.lease_seconds, settings.batch_size
            )
        )
        # the batch's units first, then its network work: the claimed jobs run promptly
        actions: list[PostCommit] = []
        for job in jobs:
            await self._run(job, at, actions)
        await self._runner.dispatch(actions)
        return len(jobs)

    async def run_forever(self, stop: asyncio.Event) -> None:
        tick = self._deployment.settings.scheduler_tick_seconds
        while not stop.is_set():
            try:
                while await self.run_due() >= self._deployment.settings.batch_size:
                    pass  # a full batch: more may be due right now
            except Exception:
                log.exception("scheduler_failed")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=tick)

    async def _run(self, job: Job, now: datetime, actions: list[PostCommit] | None = None) -> None:
        """Run one job in its own unit; its after-commit actions go to `actions` (the
        batch's, sent together) or, without it, right away."""

        async def work(tx: Tx, moment: Moment) -> Ran[None]:
            await tx.complete_job(job.id)
            unit = await self._unit_for(tx, job, moment)
            if unit is not None:
                await _JOBS[job.kind](unit, job)
            return Ran(None, unit)

        try:
            await self._runner.run(work, moment=self._runner.moment(now), defer_to=actions)
        except Exception:
            log.exception("job_failed", job_id=job.id, kind=job.kind.value)

    async def _unit_for(self, tx: Tx, job: Job, moment: Moment) -> Unit | None:
        phone = await _phone_of(tx, job)
        if phone is None:
            return None
        return await lock_phone_unit(
            tx,
            self._deployment,
            msisdn=phone,
            operator_id=None,
            now=moment.now,
            cause=f"job:{job.id}",
            seed=moment.seed,
            can_charge=self._flow.can_charge,
        )


async def _phone_of(tx: Tx, job: Job) -> str | None:
    if job.kind in (JobKind.REMINDER, JobKind.SESSION_END):
        session = await tx.get_session(job.reference)
        return session.phone if session is not None else None
    stored = await tx.get_charge(job.reference)
    return stored.charge.phone if stored is not None else None


async def _current_session(unit: Unit, job: Job) -> ParkingSession | None:
    """Read again under the phone's lock: an extension or a stop may have come first."""
    return await unit.tx.get_session(job.reference)


async def _remind(unit: Unit, job: Job) -> None:
    session = await _current_session(unit, job)
    if session is None or not session.is_running(unit.now):
        return
    due = as_utc(reminder_due_at(session, unit.settings.reminder_minutes))
    if unit.now < due:  # the session was extended since: remind for the new end
        await schedule_session_jobs(unit, session)
        return
    await _reply_about_end(
        unit, job, session, "session.reminder", example=extend_example(session.plate)
    )


async def _end(unit: Unit, job: Job) -> None:
    session = await _current_session(unit, job)
    if session is None:
        return
    if session.state is SessionState.ACTIVE:
        if unit.now < as_utc(session.end):  # extended since: end it at the new end
            await schedule_session_jobs(unit, session)
            return
        session = expire(session, unit.now)
        await unit.tx.update_session(session)
    if session.state is not SessionState.EXPIRED:
        return  # stopped: the stop reply said it all
    # also when another payment for the plate closed it first: the driver still hears
    await _reply_about_end(unit, job, session, "session.ended")


async def _reply_about_end(
    unit: Unit, job: Job, session: ParkingSession, key: str, **facts: object
) -> None:
    """Text the driver once per job and session end (a job run again after a crash does
    not text twice) about the session's end, in the zone's local time."""
    zone = unit.deployment.zones.get(session.zone)
    await unit.reply_once(
        job_reply_id(job, session.end),
        key,
        plate=session.plate,
        zone=session.zone,
        end=local_time(session.end, zone),
        **facts,
    )


async def _charge_job(unit: Unit, job: Job) -> None:
    stored = await unit.tx.get_charge(job.reference)
    if stored is None:
        return
    if job.kind is JobKind.CHARGE_EXPIRY:
        await run_charge_expiry(unit, stored)
    else:
        await run_charge_retry(unit, stored)


_JOBS = {
    JobKind.REMINDER: _remind,
    JobKind.SESSION_END: _end,
    JobKind.CHARGE_EXPIRY: _charge_job,
    JobKind.CHARGE_RETRY: _charge_job,
}


# --- retention -------------------------------------------------------------------------------

# A callback is fresh within CALLBACK_MAX_SKEW of its timestamp, and its nonce was stored
# within that of the same timestamp: past twice that no replay of it can be fresh.
NONCE_KEEP = 2 * CALLBACK_MAX_SKEW
# The driver API's codes count toward its per-hour limits for an hour, and a day more
# leaves them for a support question; a dead sign-in is of no use at all.
DRIVER_CODE_KEEP = timedelta(days=1)


@dataclass(frozen=True, slots=True)
class Retention:
    inbound: timedelta = timedelta(days=90)
    outbox: timedelta = timedelta(days=90)
    charges: timedelta = timedelta(days=365)
    nonces: timedelta = NONCE_KEEP
    batch_rows: int = 500  # per transaction: the store's writer is never held for long
    interval: timedelta = timedelta(hours=1)


Prune = Callable[[Tx], Awaitable[int]]


class Pruner:
    """Deletes what is past its retention, oldest first, `batch_rows` rows per unit of
    work, yielding to other work between units. Rows still needed stay whatever their
    age: unprocessed MO, pending replies, pending charges and charges of running
    sessions (the Tx methods' conditions). Several nodes may prune at once."""

    def __init__(self, store: Store, clock: Clock, retention: Retention) -> None:
        self._store = store
        self._clock = clock
        self._retention = retention

    async def prune_once(self, now: datetime | None = None) -> dict[str, int]:
        """Prune everything due at `now` (the clock's time by default); rows per table."""
        at = now or self._clock.now()
        keep = self._retention
        batch = keep.batch_rows
        tables: dict[str, Callable[[Tx], Awaitable[int]]] = {
            "inbound": lambda tx: tx.prune_inbound(at - keep.inbound, batch),
            "outbox": lambda tx: tx.prune_outbox(at - keep.outbox, batch),
            "charges": lambda tx: tx.prune_charges(at - keep.charges, batch),
            "callback_nonces": lambda tx: tx.prune_nonces(at - keep.nonces, batch),
            "driver_codes": lambda tx: tx.prune_driver_codes(at - DRIVER_CODE_KEEP, batch),
            "driver_sessions": lambda tx: tx.prune_driver_sessions(at, batch),
        }
        deleted = {table: await self._in_batches(prune) for table, prune in tables.items()}
        if any(deleted.values()):
            log.info("retention.pruned", **deleted)
        return deleted

    async def _in_batches(self, prune: Prune) -> int:
        total = 0
        while True:
            count = await self._store.transact(prune)
            total += count
            if count < self._retention.batch_rows:
                return total
            await asyncio.sleep(0)  # let MO and replies in between batches

    async def run_forever(self, stop: asyncio.Event) -> None:
        interval = self._retention.interval.total_seconds()
        while not stop.is_set():
            try:
                await self.prune_once()
            except Exception:
                log.exception("retention_failed")  # tried again at the next interval
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=interval)
