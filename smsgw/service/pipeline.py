"""The inbound pipeline: an MO is stored (and only then acknowledged), then processed in
one unit of work, then whatever needs the network is done after COMMIT.

    accept_mo ─insert_inbound─▶ COMMIT ─▶ True (the transport acks the SMSC)
                                  └─▶ task: process ─▶ lock phone ─▶ parse ─▶ handler
                                        ─▶ state + ledger + jobs + outbox replies
                                        ─▶ mark processed ─▶ COMMIT ─▶ charge requests

A refusal (`DomainError`) rolls the whole unit back and is answered in a unit of its own,
so a refused command never leaves half its writes behind. An MO whose processing failed
otherwise gets the temporary-error reply; if even that cannot be stored, it stays
unprocessed and the sweep (`process_pending`, also what picks up after a crash) takes it
again. Replies are named after the MO (`{inbound id}:1`), so processing an MO a second
time cannot send twice, and `mark_inbound_processed` makes the second unit roll back.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Coroutine, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import structlog

from smsgw.clock import Clock
from smsgw.commands import ParseError, parse_with
from smsgw.domain.errors import DomainError
from smsgw.observability import Metrics, mask_msisdn
from smsgw.service import ops
from smsgw.service.charging_flow import ChargeFlow, UnitReport
from smsgw.service.handlers import handle
from smsgw.service.messages import InboundSms
from smsgw.service.ports import ChargingGateway, OutboxState, StoredInbound, StoreFigures
from smsgw.service.receipts import ReceiptBook
from smsgw.service.settings import Deployment, IdFactory, random_id
from smsgw.service.store_port import Store, Tx
from smsgw.service.unit import Unit, lock_phone_unit

log = structlog.get_logger(__name__)

INVALID = "invalid"  # the command name of a text that is not a command
INCOMPLETE = "incomplete"  # ... of a long text whose parts did not all arrive


class IncompleteTextError(DomainError):
    """A long text of which some parts never arrived: the driver is asked to resend."""

    reply_key = "mo.incomplete"


class AlreadyProcessedError(RuntimeError):
    """Another unit (another node, or the sweep) processed this MO first: roll back."""


class RefusedError(RuntimeError):
    """Carries a handler's refusal out of its unit of work, which then rolls back."""

    def __init__(self, error: DomainError, command: str) -> None:
        super().__init__(error.reply_key)
        self.error = error
        self.command = command


@dataclass(frozen=True, slots=True)
class MoResult:
    command: str
    outcome: str
    report: UnitReport


class Gateway:
    """The service as the transports see it (structurally, `GatewayApi`)."""

    def __init__(
        self,
        store: Store,
        deployment: Deployment,
        clock: Clock,
        charging: Mapping[str, ChargingGateway],
        metrics: Metrics | None = None,
        *,
        ids: IdFactory = random_id,
        on_replies: Callable[[], None] | None = None,
    ) -> None:
        self._store = store
        self._deployment = deployment
        self._clock = clock
        self._metrics = metrics
        self._ids = ids
        self.flow = ChargeFlow(
            store, deployment, clock, charging, metrics=metrics, ids=ids, on_replies=on_replies
        )
        self._tasks: set[asyncio.Task[None]] = set()
        self._in_flight: set[str] = set()

    # --- the transports' entry points --------------------------------------------------

    async def accept_mo(self, sms: InboundSms) -> bool:
        """True once the MO is durably stored (or was before); errors propagate, so the
        transport answers with a temporary error and the SMSC retries."""
        inbound_id = await self._store.transact(lambda tx: tx.insert_inbound(sms))
        if inbound_id is None:
            log.info("mo_duplicate", phone=mask_msisdn(sms.sender), link=sms.link_id)
            if self._metrics is not None:
                self._metrics.mo_duplicates.labels(link=sms.link_id, operator=sms.operator_id).inc()
            return True
        if self._metrics is not None:
            self._metrics.mo_received.labels(link=sms.link_id, operator=sms.operator_id).inc()
        self._spawn(self.process(StoredInbound(inbound_id, sms)))
        return True

    async def accept_receipt(self, operator_id: str, message_id: str, state: OutboxState) -> bool:
        """True when the receipt found its reply; False when it is held for a
        submit_sm_resp still to come (stored either way)."""
        book = ReceiptBook(
            self._store,
            hold_seconds=self._deployment.settings.receipt_hold_seconds,
            metrics=self._metrics,
        )
        return await book.accept_receipt(operator_id, message_id, state, self._clock.now())

    async def accept_charge_callback(
        self, operator_id: str, headers: Mapping[str, str], body: bytes
    ) -> tuple[int, dict[str, object]]:
        try:
            return await self.flow.accept_callback(operator_id, headers, body)
        except Exception:
            # not applied, nonce not remembered: the operator sends it again
            log.exception("charge_callback_failed", operator=operator_id)
            return 503, {"error": "unavailable", "detail": "try again later"}

    async def plate_status(
        self, plate: str, zone: str, now: datetime
    ) -> Mapping[str, object] | None:
        return await ops.plate_status(self._store, self._deployment, plate, zone, now)

    async def phone_overview(self, msisdn: str) -> Mapping[str, object]:
        return await ops.phone_overview(self._store, self._deployment, msisdn, self._clock.now())

    async def outbox_view(self, outbox_id: str) -> Mapping[str, object] | None:
        return await ops.outbox_view(self._store, outbox_id)

    async def ready(self) -> bool:
        try:
            await self._store.ping()
        except Exception as error:
            log.warning("not_ready", error=repr(error))
            return False
        return True

    async def plate_everywhere(self, plate: str, now: datetime) -> Mapping[str, object]:
        return await ops.plate_everywhere(self._store, self._deployment, plate, now)

    async def phone_history(
        self, msisdn: str, limit: int, before: str | None
    ) -> Mapping[str, object]:
        return await ops.phone_history(
            self._store, self._deployment, msisdn, limit=limit, before=before
        )

    async def store_figures(self) -> StoreFigures:
        return await ops.store_figures(self._store)

    # --- processing --------------------------------------------------------------------

    async def process_pending(self, now: datetime | None = None) -> int:
        """Process stored MOs nobody processed (a crash, a restart, a failed attempt)."""
        at = now or self._clock.now()
        settings = self._deployment.settings
        claimed = await self._store.transact(
            lambda tx: tx.claim_inbound(
                at, settings.node_id, settings.lease_seconds, settings.batch_size
            )
        )
        for stored in claimed:
            await self.process(stored)
        return len(claimed)

    async def sweep_forever(self, stop: asyncio.Event) -> None:
        interval = self._deployment.settings.inbound_sweep_seconds
        while not stop.is_set():
            try:
                await self.process_pending()
            except Exception:
                log.exception("inbound_sweep_failed")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=interval)

    async def drain(self) -> None:
        """Wait for the processing started by `accept_mo` (tests, and a clean stop)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    async def process(self, stored: StoredInbound) -> None:
        if stored.id in self._in_flight:
            return  # this node is on it already
        self._in_flight.add(stored.id)
        try:
            result = await self._process_once(stored)
        finally:
            self._in_flight.discard(stored.id)
        if result is None:
            return
        self.flow.committed(result.report)
        self._log_and_count(stored.sms, result)
        await self.flow.run_actions(result.report.actions)

    async def _process_once(self, stored: StoredInbound) -> MoResult | None:
        now, seed = self._clock.now(), self._ids()
        try:
            return await self._store.transact(self._command_unit(stored, now, seed))
        except AlreadyProcessedError:
            return None
        except RefusedError as refused:
            answer = self._reply_unit(stored, now, seed, refused.command, refused.error)
        except Exception:
            log.exception("mo_failed", inbound_id=stored.id, phone=mask_msisdn(stored.sms.sender))
            answer = self._reply_unit(stored, now, seed, INVALID, None)
        try:
            return await self._store.transact(answer)
        except AlreadyProcessedError:
            return None
        except Exception:
            # left unprocessed: the sweep tries again once the lease is over
            log.exception("mo_unanswered", inbound_id=stored.id)
            return None

    def _command_unit(
        self, stored: StoredInbound, now: datetime, seed: str
    ) -> Callable[[Tx], Coroutine[Any, Any, MoResult]]:
        async def work(tx: Tx) -> MoResult:
            unit = await self._unit(tx, stored, now, seed)
            parsed = parse_with(stored.sms.text, self._deployment.settings.parse)
            if isinstance(parsed, ParseError):
                await unit.reply(parsed.reply_key, **parsed.facts)
                command, outcome = INVALID, parsed.reply_key
            else:
                command = parsed.name
                try:
                    outcome = await handle(unit, parsed)
                except DomainError as error:
                    raise RefusedError(error, command) from error
            await _mark_processed(tx, stored.id, f"{command}:{outcome}", now)
            return MoResult(command, outcome, UnitReport.of(unit))

        return work

    def _reply_unit(
        self,
        stored: StoredInbound,
        now: datetime,
        seed: str,
        command: str,
        error: DomainError | None,
    ) -> Callable[[Tx], Coroutine[Any, Any, MoResult]]:
        """Answer a refusal (or, without one, a failure) and mark the MO processed."""
        key = error.reply_key if error is not None else "error.temporary"
        facts = error.facts if error is not None else {}
        outcome = "refused" if error is not None else "error"

        async def work(tx: Tx) -> MoResult:
            unit = await self._unit(tx, stored, now, seed)
            await unit.reply(key, **facts)
            await _mark_processed(tx, stored.id, f"{command}:{outcome}:{key}", now)
            return MoResult(command, f"{outcome}:{key}", UnitReport.of(unit))

        return work

    async def _unit(self, tx: Tx, stored: StoredInbound, now: datetime, seed: str) -> Unit:
        sms = stored.sms
        return await lock_phone_unit(
            tx,
            self._deployment,
            msisdn=sms.sender,
            operator_id=sms.operator_id,
            now=now,
            cause=stored.id,
            seed=seed,
            can_charge=self.flow.can_charge,
        )

    def _log_and_count(self, sms: InboundSms, result: MoResult) -> None:
        latency = self._clock.now() - sms.received_at
        log.info(
            "mo_processed",
            command=result.command,
            outcome=result.outcome,
            latency_ms=round(latency.total_seconds() * 1000),
            phone=mask_msisdn(sms.sender),
            operator=sms.operator_id,
            link=sms.link_id,
        )
        if self._metrics is not None:
            # outcomes are handler words and reply keys: a small, fixed set of labels
            self._metrics.command_outcomes.labels(
                command=result.command, outcome=result.outcome
            ).inc()
            if result.report.replies_queued:
                self._metrics.mo_to_reply_seconds.observe(max(0.0, latency.total_seconds()))

    def _spawn(self, coroutine: Coroutine[Any, Any, None]) -> None:
        task = asyncio.create_task(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def cancel_in_flight(self) -> int:
        """Cancel the processing still running (a stop past its drain deadline); how many.
        Nothing is lost: an MO not marked processed is taken up by the next start's sweep,
        and a charge whose request was cut has its retry job stored already."""
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        return len(tasks)

    # --- transports that store their own way (SMPP: parts, redeliveries) ----------------

    async def admit_mo(
        self, unit: Callable[[Tx], Awaitable[StoredInbound | None]]
    ) -> StoredInbound | None:
        """Run a transport's unit that stores an MO (or decides not to) in one
        transaction; what it stored is then processed as `accept_mo` would."""
        stored = await self._store.transact(unit)
        if stored is not None:
            if self._metrics is not None:
                sms = stored.sms
                self._metrics.mo_received.labels(link=sms.link_id, operator=sms.operator_id).inc()
            self._spawn(self.process(stored))
        return stored

    async def admit_incomplete_mo(
        self, unit: Callable[[Tx], Awaitable[StoredInbound | None]]
    ) -> StoredInbound | None:
        """Run a transport's unit that stores a text which arrived incomplete and, in the
        same transaction, answer it with `mo.incomplete` (it is not parsed)."""
        now, seed = self._clock.now(), self._ids()
        stored_by_unit: list[StoredInbound] = []

        async def work(tx: Tx) -> MoResult | None:
            stored_by_unit.clear()
            stored = await unit(tx)
            if stored is None:
                return None
            stored_by_unit.append(stored)
            reply = self._reply_unit(stored, now, seed, INCOMPLETE, IncompleteTextError())
            return await reply(tx)

        result = await self._store.transact(work)
        if result is None or not stored_by_unit:
            return None
        self.flow.committed(result.report)
        self._log_and_count(stored_by_unit[0].sms, result)
        await self.flow.run_actions(result.report.actions)
        return stored_by_unit[0]


async def _mark_processed(tx: Tx, inbound_id: str, outcome: str, now: datetime) -> None:
    if not await tx.mark_inbound_processed(inbound_id, outcome, now):
        raise AlreadyProcessedError(inbound_id)
