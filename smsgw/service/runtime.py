"""The service's background work in one place: the inbound sweep, the scheduler and the
outbox sender, started together and stopped together.

    service = build_service(store, deployment, clock, charging, senders, metrics,
                            verify_callback=parse_callback)  # smsgw.charging.callbacks
    await service.start()       # the transports call service.messages
    ...
    await service.stop()
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass, field

from smsgw.clock import Clock
from smsgw.observability import Metrics
from smsgw.service.charging_flow import ChargeFlow
from smsgw.service.outbox import OutboxSender
from smsgw.service.pipeline import MessageService
from smsgw.service.ports import CallbackVerifier, ChargingApi, MtSender
from smsgw.service.runner import UnitRunner
from smsgw.service.scheduler import Pruner, Retention, Scheduler
from smsgw.service.settings import Deployment, IdFactory, random_id
from smsgw.service.store_port import Store


@dataclass(slots=True)
class Service:
    messages: MessageService
    scheduler: Scheduler
    outbox: OutboxSender
    runner: UnitRunner  # runs every unit and what follows its COMMIT
    _stop: asyncio.Event = field(default_factory=asyncio.Event)
    _loops: list[asyncio.Task[None]] = field(default_factory=list)
    pruner: Pruner | None = None

    async def start(self) -> None:
        self._stop.clear()
        self._loops = [
            asyncio.create_task(self.messages.sweep_forever(self._stop), name="smsgw-inbound"),
            asyncio.create_task(self.scheduler.run_forever(self._stop), name="smsgw-scheduler"),
            asyncio.create_task(self.outbox.run_forever(self._stop), name="smsgw-outbox"),
        ]
        if self.pruner is not None:
            task = asyncio.create_task(self.pruner.run_forever(self._stop), name="smsgw-prune")
            self._loops.append(task)

    async def stop(self) -> None:
        """Let the loops finish their round and the MO in hand be processed."""
        self._stop.set()
        await asyncio.gather(*self._loops, return_exceptions=True)
        self._loops = []
        await self.messages.drain()

    async def abort(self) -> int:
        """Stop now: cancel the loops and the processing in flight; how many MO were cut.

        What was cut stays in the store: replies claimed by this node are taken back at
        the next start, unprocessed MO are swept up, charges have their retry jobs."""
        self._stop.set()
        for loop in self._loops:
            loop.cancel()
        await asyncio.gather(*self._loops, return_exceptions=True)
        self._loops = []
        return await self.messages.cancel_in_flight()


def build_service(
    store: Store,
    deployment: Deployment,
    clock: Clock,
    charging: Mapping[str, ChargingApi],
    senders: Mapping[str, MtSender],
    metrics: Metrics | None = None,
    *,
    ids: IdFactory = random_id,
    retention: Retention | None = None,
    verify_callback: CallbackVerifier,
) -> Service:
    outbox = OutboxSender(store, senders, clock, deployment.settings, metrics=metrics)
    # one runner for every unit: it wakes the outbox and runs the after-commit actions
    runner = UnitRunner(store, clock, ids=ids, metrics=metrics, wake_outbox=outbox.wake)
    flow = ChargeFlow(runner, deployment, charging, verify_callback)
    messages = MessageService(runner, deployment, flow, metrics)
    scheduler = Scheduler(runner, deployment, flow)
    pruner = None if retention is None else Pruner(store, clock, retention)
    return Service(
        messages=messages, scheduler=scheduler, outbox=outbox, runner=runner, pruner=pruner
    )
