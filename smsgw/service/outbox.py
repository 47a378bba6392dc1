"""The outbox: replies written in the same transaction as the change that caused them,
sent afterwards through the operator's link.

`drain(now)` claims pending rows (leased to this node), sends each through its
operator's `MtSender` and records the result: sent with its message id, retried later
with back-off (a temporary error), or failed (permanent, or too many attempts). The
loop runs a drain when woken (`wake()`, right after a unit of work queued replies) and
every few seconds anyway, which picks up what a crashed node left behind.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from datetime import datetime

import structlog

from smsgw.observability import Metrics, mask_msisdn
from smsgw.service.ports import MtSender, OutboxState, SendError, Store, StoredOutbound
from smsgw.service.settings import Clock, ServiceSettings

log = structlog.get_logger(__name__)

# an error text stored with a row: enough to diagnose, never a whole stack
_MAX_ERROR_CHARS = 200


class OutboxSender:
    def __init__(
        self,
        store: Store,
        senders: Mapping[str, MtSender],
        clock: Clock,
        settings: ServiceSettings,
        *,
        metrics: Metrics | None = None,
    ) -> None:
        self._store = store
        self._senders = senders
        self._clock = clock
        self._settings = settings
        self._metrics = metrics
        self._wakeup = asyncio.Event()
        self._limit = asyncio.Semaphore(settings.outbox_concurrency)

    def wake(self) -> None:
        self._wakeup.set()

    async def drain(self, now: datetime | None = None) -> int:
        """Send one claimed batch; how many rows it held."""
        at = now or self._clock.now()
        settings = self._settings
        rows = await self._store.transact(
            lambda tx: tx.claim_outbound(
                at, settings.node_id, settings.lease_seconds, settings.batch_size
            )
        )
        # one phone's replies go out one after another, in the order they were queued;
        # different phones' at once
        by_phone: dict[str, list[StoredOutbound]] = {}
        for row in rows:
            by_phone.setdefault(row.sms.receiver, []).append(row)
        await asyncio.gather(*(self._send_in_order(queue) for queue in by_phone.values()))
        return len(rows)

    async def _send_in_order(self, queue: list[StoredOutbound]) -> None:
        for row in queue:
            try:
                await self._send_one(row)
            except Exception as error:
                # not recorded: the lease runs out and the row is claimed again (so a
                # message may go out twice, never not at all)
                log.error("mt_unrecorded", outbox_id=row.sms.outbox_id, error=repr(error))

    async def run_forever(self, stop: asyncio.Event) -> None:
        sweep = self._settings.outbox_sweep_seconds
        while not stop.is_set():
            self._wakeup.clear()
            try:
                while await self.drain() >= self._settings.batch_size:
                    pass  # a full batch: more is waiting
            except Exception:
                log.exception("outbox_drain_failed")
            waiters = {
                asyncio.ensure_future(self._wakeup.wait()),
                asyncio.ensure_future(stop.wait()),
            }
            _, pending = await asyncio.wait(
                waiters, timeout=sweep, return_when=asyncio.FIRST_COMPLETED
            )
            for waiter in pending:
                waiter.cancel()

    async def accept_receipt(self, operator_id: str, message_id: str, state: OutboxState) -> bool:
        now = self._clock.now()
        return await self._store.transact(
            lambda tx: tx.record_receipt(operator_id, message_id, state, now)
        )

    async def _send_one(self, row: StoredOutbound) -> None:
        sms = row.sms
        sender = self._senders.get(sms.operator_id)
        async with self._limit:
            if sender is None:
                await self._fail(row, f"no link for operator {sms.operator_id!r}")
                return
            try:
                message_id = await sender.send(sms)
            except SendError as error:
                await self._not_sent(row, error)
                return
            except Exception as error:  # a broken link is worth another try later
                await self._not_sent(row, SendError(repr(error)))
                return
        now = self._clock.now()
        await self._store.transact(lambda tx: tx.mark_outbound_sent(sms.outbox_id, message_id, now))
        self._count(sms.operator_id, "sent")

    async def _not_sent(self, row: StoredOutbound, error: SendError) -> None:
        attempts = row.attempts + 1
        if not error.temporary or attempts >= self._settings.outbox_max_attempts:
            await self._fail(row, str(error) or type(error).__name__)
            return
        not_before = self._clock.now() + self._settings.outbox_backoff.delay(attempts)
        text = _short(str(error) or type(error).__name__)
        await self._store.transact(
            lambda tx: tx.retry_outbound(row.sms.outbox_id, not_before, text)
        )
        self._count(row.sms.operator_id, "retry")
        log.info(
            "mt_retry",
            outbox_id=row.sms.outbox_id,
            receiver=mask_msisdn(row.sms.receiver),
            attempts=attempts,
            error=text,
        )

    async def _fail(self, row: StoredOutbound, error: str) -> None:
        now = self._clock.now()
        text = _short(error)
        await self._store.transact(lambda tx: tx.fail_outbound(row.sms.outbox_id, text, now))
        self._count(row.sms.operator_id, "failed")
        log.warning(
            "mt_failed",
            outbox_id=row.sms.outbox_id,
            receiver=mask_msisdn(row.sms.receiver),
            error=text,
        )

    def _count(self, operator_id: str, result: str) -> None:
        if self._metrics is not None:
            self._metrics.mt_sent.labels(operator=operator_id, result=result).inc()


def _short(text: str) -> str:
    return text[:_MAX_ERROR_CHARS]
