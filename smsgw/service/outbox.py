"""The outbox: replies written in the same transaction as the change that caused them,
sent afterwards through the operator's link.

`drain(now)` claims pending rows (leased to this node), sends each through its
operator's `MtSender` and records the result: sent with its message id, retried later
with back-off (a temporary error), or failed (permanent, or too many attempts). The
loop runs a drain when woken (`wake()`, right after a unit of work queued replies) and
every few seconds anyway, which picks up what a crashed node left behind.

A sender that reports parts (`PartwiseSender`, the SMPP one) has each part's message id
recorded as soon as its submit_sm_resp comes, not after the last part's: a receipt may
come first (see smsgw/service/receipts.py). Every sweep period the loop also applies or
expires receipts held for a resp that had not come.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

import structlog

from smsgw.clock import Clock
from smsgw.observability import Metrics, mask_msisdn
from smsgw.service.messages import OutboundSms
from smsgw.service.ports import (
    MtSender,
    PartReceipt,
    SendError,
    StoredOutbound,
)
from smsgw.service.receipts import ReceiptBook, record_part_in
from smsgw.service.settings import ServiceSettings
from smsgw.service.store_port import Store, Tx

log = structlog.get_logger(__name__)

# an error text stored with a row: enough to diagnose, never a whole stack
_MAX_ERROR_CHARS = 200
# (part number from 1, number of parts, the SMSC's message id)
_Part = tuple[int, int, str]


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
        self.receipts = ReceiptBook(
            store, hold_seconds=settings.receipt_hold_seconds, metrics=metrics
        )
        self._next_receipt_sweep: datetime | None = None
        # sends waiting to be recorded, and the task recording them (see `_sent`)
        self._unrecorded: list[_Sent] = []
        self._recording: asyncio.Task[None] | None = None

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
        if self._recording is not None:
            await self._recording  # the batch is recorded before the next is claimed
        return len(rows)

    async def _send_in_order(self, queue: list[StoredOutbound]) -> None:
        for row in queue:
            try:
                done = await self._send_one(row)
            except Exception as error:
                log.error("mt_unrecorded", outbox_id=row.sms.outbox_id, error=repr(error))
            else:
                if done is not None:
                    self._sent(done)

    def _sent(self, done: _Sent) -> None:
        """Have a send recorded as soon as the store can: the sends that complete while
        one record is being written are written together by the next, one unit for many
        (one unit per reply cost a transaction each: bench/README.md), yet none waits
        for the slowest send of its batch — a row sent but unrecorded past its lease
        would be claimed and sent again by another node."""
        self._unrecorded.append(done)
        if self._recording is None or self._recording.done():
            self._recording = asyncio.create_task(self._record_unrecorded())

    async def _record_unrecorded(self) -> None:
        while self._unrecorded:
            sent, self._unrecorded = self._unrecorded, []
            await self._record_sent(sent)

    async def _record_sent(self, sent: list[_Sent]) -> None:
        """Record sends in one unit of work. If it fails, the rows stay leased and are
        claimed again once the lease runs out, so a message may go out twice, never not
        at all."""

        async def mark_sent(tx: Tx) -> list[PartReceipt]:
            applied: list[PartReceipt] = []
            for done in sent:
                sms = done.sms
                for part in done.last_part:
                    applied += await record_part_in(
                        tx, sms.outbox_id, sms.operator_id, *part, done.at
                    )
                await tx.mark_outbound_sent(sms.outbox_id, done.message_id, done.at)
            return applied

        try:
            applied = await self._store.transact(mark_sent)
        except Exception as error:
            for done in sent:
                log.error("mt_unrecorded", outbox_id=done.sms.outbox_id, error=repr(error))
            return
        for receipt in applied:
            self.receipts.count_applied(receipt.operator_id, [receipt])
        for done in sent:
            self._count(done.sms.operator_id, "sent")

    async def run_forever(self, stop: asyncio.Event) -> None:
        sweep = self._settings.outbox_sweep_seconds
        while not stop.is_set():
            self._wakeup.clear()
            try:
                while await self.drain() >= self._settings.batch_size:
                    pass  # a full batch: more is waiting
            except Exception:
                log.exception("outbox_drain_failed")
            try:
                await self.sweep_receipts()
            except Exception:
                log.exception("receipt_sweep_failed")
            waiters = {
                asyncio.ensure_future(self._wakeup.wait()),
                asyncio.ensure_future(stop.wait()),
            }
            _, pending = await asyncio.wait(
                waiters, timeout=sweep, return_when=asyncio.FIRST_COMPLETED
            )
            for waiter in pending:
                waiter.cancel()

    async def sweep_receipts(self, now: datetime | None = None) -> tuple[int, int]:
        """Apply or expire held receipts, at most once per sweep period (a wake-up
        after every queued reply must not scan them each time); (matched, expired)."""
        at = now or self._clock.now()
        if self._next_receipt_sweep is not None and at < self._next_receipt_sweep:
            return 0, 0
        self._next_receipt_sweep = at + timedelta(seconds=self._settings.outbox_sweep_seconds)
        return await self.receipts.sweep_held(at)

    async def _send_one(self, row: StoredOutbound) -> _Sent | None:
        """Send one row; what to record if it went out (None: its failure is recorded)."""
        sms = row.sms
        sender = self._senders.get(sms.operator_id)
        async with self._limit:
            if sender is None:
                await self._fail(row, f"no link for operator {sms.operator_id!r}")
                return None
            last: list[_Part] = []
            try:
                message_id = await self._send(sender, sms, last)
            except SendError as error:
                await self._not_sent(row, error)
                return None
            except Exception as error:  # a broken link is worth another try later
                await self._not_sent(row, SendError(repr(error)))
                return None
        return _Sent(sms, message_id, tuple(last), self._clock.now())

    async def _send(self, sender: MtSender, sms: OutboundSms, last: list[_Part]) -> str:
        """Send `sms`; each part's id is recorded as its resp comes, but the last one
        answered is left in `last`, to be recorded with the send itself: one transaction
        fewer per reply, and a single-part reply costs none extra."""
        # a plain attribute look-up: a runtime Protocol check per reply costs more
        send_parts = getattr(sender, "send_parts", None)
        if send_parts is None:
            return await sender.send(sms)
        answered = 0

        async def on_part(part: int, parts: int, message_id: str) -> None:
            nonlocal answered
            answered += 1
            if answered == parts:
                last.append((part, parts, message_id))
                return
            try:
                await self.receipts.record_part(
                    sms.outbox_id, sms.operator_id, part, parts, message_id, self._clock.now()
                )
            except Exception:
                # the part went out all the same: its receipt will be held, then
                # reported unmatched; resending the message for this would send it twice
                log.exception("mt_part_unrecorded", outbox_id=sms.outbox_id, part=part)

        message_id: str = await send_parts(sms, on_part)
        return message_id

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


@dataclass(frozen=True, slots=True)
class _Sent:
    """A reply that went out, to be recorded with the rest of its batch."""

    sms: OutboundSms
    message_id: str
    last_part: tuple[_Part, ...]  # the part answered last, recorded with the send
    at: datetime


def _short(text: str) -> str:
    return text[:_MAX_ERROR_CHARS]
