"""The one way the service runs a unit of work: in one transaction, then, only once it
has committed, everything the unit left for afterwards.

    runner.run(work) ─▶ Store.transact(work(tx, moment)) ─▶ COMMIT
                          ─▶ count the charges it moved (metrics)
                          ─▶ wake the outbox if it queued replies
                          ─▶ the caller's own after-commit step (log, spawn processing)
                          ─▶ each action it left (charge requests, polls) to its handler

A rolled-back unit leaves nothing behind: its report is only read after COMMIT. The
actions go through a small message bus: the part of the service that owns an action
(`ChargeFlow` for `RequestCharge` and `PollCharge`) registers its handler, so whoever
runs a unit does not need to know who does what afterwards. An action that fails is
logged and dropped: every action has a job stored in the same unit as its fallback.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, TypeVar

import structlog

from smsgw.clock import Clock
from smsgw.observability import Metrics
from smsgw.service.settings import IdFactory, random_id
from smsgw.service.store_port import Store, Tx
from smsgw.service.unit import PostCommit, Unit, UnitReport

log = structlog.get_logger(__name__)

T = TypeVar("T")
A = TypeVar("A", bound=PostCommit)


class Moment:
    """The facts a unit runs with, fixed before its transaction starts, so a retried
    transaction replays with the same time and ids. The seed is drawn from the id
    factory up front, or (`draw_now=False`, for units that make no ids, such as storing
    an MO) the first time it is asked for."""

    __slots__ = ("_ids", "_seed", "now")

    def __init__(self, now: datetime, ids: IdFactory, *, draw_now: bool = True) -> None:
        self.now = now
        self._ids = ids
        self._seed: str | None = ids() if draw_now else None

    @property
    def seed(self) -> str:
        if self._seed is None:
            self._seed = self._ids()
        return self._seed


@dataclass(frozen=True, slots=True)
class Ran(Generic[T]):
    """What a unit's work gives back: its value for the caller and the unit it built
    (None when it found nothing to do), whose report is acted on after COMMIT."""

    value: T
    unit: Unit | None = None


Work = Callable[[Tx, Moment], Awaitable[Ran[T]]]
ActionHandler = Callable[[Any], Awaitable[None]]


class UnitRunner:
    def __init__(
        self,
        store: Store,
        clock: Clock,
        *,
        ids: IdFactory = random_id,
        metrics: Metrics | None = None,
        wake_outbox: Callable[[], None] | None = None,
    ) -> None:
        self.store = store
        self.clock = clock
        self._ids = ids
        self._metrics = metrics
        self._wake_outbox = wake_outbox
        self._handlers: dict[type[Any], ActionHandler] = {}
        self._later: set[asyncio.Task[None]] = set()  # see `run(dispatch_later=True)`

    def handle(self, kind: type[A], handler: Callable[[A], Awaitable[None]]) -> None:
        """Who runs actions of this kind after COMMIT (one handler per kind)."""
        self._handlers[kind] = handler

    def moment(self, now: datetime | None = None, *, draw_seed: bool = True) -> Moment:
        return Moment(now or self.clock.now(), self._ids, draw_now=draw_seed)

    async def run(
        self,
        work: Work[T],
        *,
        moment: Moment | None = None,
        on_commit: Callable[[T, UnitReport], None] | None = None,
        defer_to: list[PostCommit] | None = None,
        dispatch_later: bool = False,
    ) -> T:
        """Run `work` in one transaction and, once committed, what it left to do.

        `on_commit` runs after the counting and the outbox wake-up, before the actions
        (it is the place for logs and spawned processing). With `defer_to`, the actions
        are appended there for the caller to `dispatch` later (a batch of units that
        goes to the network together); errors in `work` propagate and nothing follows.
        With `dispatch_later`, the actions run in a task of their own and `run` returns at
        COMMIT: a caller that answers a peer on it (the SMSC's deliver_sm_resp, an HTTP
        request) does not wait for an operator's API; `settle` waits for those tasks."""
        moment = moment or self.moment()

        async def transaction(tx: Tx) -> tuple[T, UnitReport]:
            ran = await work(tx, moment)
            return ran.value, UnitReport.of(ran.unit)

        value, report = await self.store.transact(transaction)
        self._committed(report)
        if on_commit is not None:
            on_commit(value, report)
        if defer_to is not None:
            defer_to.extend(report.actions)
        elif dispatch_later:
            self._dispatch_later(report.actions)
        else:
            await self.dispatch(report.actions)
        return value

    def _dispatch_later(self, actions: tuple[PostCommit, ...]) -> None:
        if not actions:
            return
        task = asyncio.create_task(self.dispatch(actions))
        self._later.add(task)
        task.add_done_callback(self._later.discard)

    async def settle(self) -> None:
        """Wait for the actions dispatched later (tests, and a clean stop)."""
        while self._later:
            await asyncio.gather(*list(self._later), return_exceptions=True)

    async def cancel_later(self) -> int:
        """Cancel the actions still being dispatched later; how many. Each has its job
        stored with its unit, which does it again."""
        tasks = list(self._later)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        return len(tasks)

    async def dispatch(self, actions: Iterable[PostCommit]) -> None:
        for action in actions:
            handler = self._handlers.get(type(action))
            if handler is None:
                log.error("no_action_handler", action=type(action).__name__)
                continue
            try:
                await handler(action)
            except Exception:
                # the action's job is stored already and will do it again
                log.exception("after_commit_action_failed", action=repr(action))

    def _committed(self, report: UnitReport) -> None:
        if self._metrics is not None:
            for operator_id, stage in report.charge_stages:
                self._metrics.count_charge(operator_id, stage)
            for seconds in report.confirmation_seconds:
                self._metrics.charge_confirmation_seconds.observe(seconds)
        if report.replies_queued and self._wake_outbox is not None:
            self._wake_outbox()
