"""Delivery receipts, matched whatever the order they come in.

An SMSC may send a part's receipt before the gateway has read that part's
submit_sm_resp (on a busy link, or on the receiver bind while the resp travels on the
transmitter bind). So each part's message id is recorded the moment its resp comes
(`record_part`), and a receipt that finds no part yet is held in the database
(`accept_receipt`) and applied when the id is recorded. What stays held past its time
limit is logged and counted as unmatched by `sweep_held` (README.md, "Running the
gateway").

A reply is delivered when every part's receipt says so and failed when any part's says
it failed. Ids are compared in the forms SMSCs mix up: the same number in decimal and in
hex (`id_forms`).
"""

from __future__ import annotations

import contextlib
from datetime import datetime, timedelta

import structlog

from smsgw.observability import Metrics
from smsgw.service.ports import HeldReceipt, OutboxState, PartReceipt
from smsgw.service.store_port import Store, Tx

log = structlog.get_logger(__name__)

SWEEP_BATCH = 500


def id_forms(message_id: str) -> list[str]:
    """The id as written, then its other base and letter case: SMSCs answer submit_sm
    in hex and write receipts in decimal, or the other way round."""
    forms = [message_id, message_id.lower(), message_id.upper()]
    if message_id.isdigit():
        number = int(message_id)
        forms += [format(number, "x"), format(number, "X")]
    with contextlib.suppress(ValueError):
        forms.append(str(int(message_id, 16)))
    return list(dict.fromkeys(form for form in forms if form))


async def _match(
    tx: Tx, operator_id: str, message_id: str, state: OutboxState, now: datetime
) -> PartReceipt | bool:
    """Apply a receipt to its part (a PartReceipt), or to a whole row the old way (True:
    HTTP senders report by our outbox id); False when nothing matches."""
    forms = id_forms(message_id)
    # the id as written first: "10" is part "10" when there is one, part "a" otherwise
    for form in forms:
        matched = await tx.record_part_receipt(operator_id, [form], state, now)
        if matched is not None:
            return matched
    for form in forms:
        if await tx.record_receipt(operator_id, form, state, now):
            return True
    return False


async def record_part_in(
    tx: Tx, outbox_id: str, operator_id: str, part: int, parts: int, message_id: str, now: datetime
) -> list[PartReceipt]:
    """Record a part's message id in `tx` and apply the receipts held for it."""
    await tx.record_outbound_part(outbox_id, part, parts, message_id, now)
    applied = []
    for held in await tx.held_receipts_for(operator_id, id_forms(message_id)):
        matched = await tx.record_part_receipt(
            operator_id, [message_id], held.state, held.received_at
        )
        if matched is not None:
            await tx.drop_held_receipt(held.id)
            applied.append(matched)
    return applied


class ReceiptBook:
    """Applies, holds and sweeps receipts for the outbox (one per process)."""

    def __init__(
        self, store: Store, *, hold_seconds: float, metrics: Metrics | None = None
    ) -> None:
        self._store = store
        self._hold = timedelta(seconds=hold_seconds)
        self._metrics = metrics

    async def accept_receipt(
        self, operator_id: str, message_id: str, state: OutboxState, now: datetime
    ) -> bool:
        """True when the receipt found its message now; False when it is held for a
        submit_sm_resp still to come. Either way it is stored: answer the SMSC ROK."""

        async def work(tx: Tx) -> PartReceipt | bool:
            matched = await _match(tx, operator_id, message_id, state, now)
            if matched is False:
                await tx.hold_receipt(operator_id, message_id, state, now, now + self._hold)
            return matched

        matched = await self._store.transact(work)
        if matched is False:
            self._count(operator_id, "held")
            log.info("receipt.held", operator=operator_id, message_id=message_id)
            return False
        self._matched(operator_id, matched, state)
        return True

    async def record_part(
        self,
        outbox_id: str,
        operator_id: str,
        part: int,
        parts: int,
        message_id: str,
        now: datetime,
    ) -> None:
        """A part's submit_sm_resp came: record its id and apply receipts held for it."""
        applied = await self._store.transact(
            lambda tx: record_part_in(tx, outbox_id, operator_id, part, parts, message_id, now)
        )
        self.count_applied(operator_id, applied)

    def count_applied(self, operator_id: str, applied: list[PartReceipt]) -> None:
        """Count held receipts that `record_part_in` applied."""
        for matched in applied:
            self._matched(operator_id, matched, matched.reply_state)

    async def sweep_held(self, now: datetime) -> tuple[int, int]:
        """Apply held receipts whose message is now known (a resp recorded by another
        node, or in a transaction that ran alongside the receipt's) and report those
        past their limit as unmatched; (matched, expired)."""

        async def work(
            tx: Tx,
        ) -> tuple[list[tuple[HeldReceipt, PartReceipt | bool]], list[HeldReceipt]]:
            matched: list[tuple[HeldReceipt, PartReceipt | bool]] = []
            expired: list[HeldReceipt] = []
            for held in await tx.held_receipts(SWEEP_BATCH):
                found = await _match(
                    tx, held.operator_id, held.message_id, held.state, held.received_at
                )
                if found is not False:
                    matched.append((held, found))
                elif held.expires_at <= now:
                    expired.append(held)
                else:
                    continue
                await tx.drop_held_receipt(held.id)
            return matched, expired

        matched, expired = await self._store.transact(work)
        for held, found in matched:
            self._matched(held.operator_id, found, held.state)
        for held in expired:
            self._count(held.operator_id, "expired")
            log.warning(
                "receipt.unmatched",
                operator=held.operator_id,
                message_id=held.message_id,
                state=str(held.state),
                received_at=held.received_at.isoformat(),
            )
        return len(matched), len(expired)

    def _matched(self, operator_id: str, matched: PartReceipt | bool, state: OutboxState) -> None:
        self._count(operator_id, "matched")
        if isinstance(matched, PartReceipt):
            if not matched.settled:
                return
            state = matched.reply_state
        # a whole-row receipt (HTTP) settles its reply by itself
        if self._metrics is not None:
            self._metrics.mt_final.labels(operator=operator_id, state=str(state)).inc()

    def _count(self, operator_id: str, outcome: str) -> None:
        if self._metrics is not None:
            self._metrics.receipts.labels(operator=operator_id, outcome=outcome).inc()
