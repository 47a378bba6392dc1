"""The inbound pipeline: an MO is stored and processed in one unit of work, and only
once that has committed is it acknowledged; whatever needs the network is done after.

    admit_mo ─▶ store the MO ─▶ lock phone ─▶ parse ─▶ handler
                 ─▶ state + ledger + jobs + outbox replies ─▶ mark processed ─▶ COMMIT
                 ─▶ True (the transport acks the SMSC) ─▶ task: charge requests

One COMMIT per MO: storing it first in a transaction of its own and processing it in a
second cost a commit, a task and a lock round more per message for nothing (the MO is
stored before its acknowledgement either way; docs/architecture.md, "The flow of one
MO"). A refusal (`DomainError`) rolls the whole unit back and the MO is stored again
with the refusal's answer in a unit of its own, so a refused command never leaves half
its writes behind. If processing fails otherwise, the MO is stored alone and processed
in the background, where it gets the temporary-error reply; if even that cannot be
stored, it stays unprocessed and the sweep (`process_pending`, also what picks up after
a crash) takes it again. Replies are named after the MO (`{inbound id}:1`), so
processing an MO a second time cannot send twice, and `mark_inbound_processed` makes the
second unit roll back.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Coroutine, Mapping
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from typing import Any

import structlog

from smsgw.commands import ParseError, parse_with
from smsgw.domain.errors import DomainError
from smsgw.observability import Metrics, mask_msisdn
from smsgw.service import ops
from smsgw.service.charging_flow import ChargeFlow
from smsgw.service.handlers import handle
from smsgw.service.messages import InboundSms
from smsgw.service.ports import (
    CallbackAnswer,
    CallbackVerdict,
    OutboxState,
    StoredInbound,
    StoreFigures,
)
from smsgw.service.receipts import ReceiptBook
from smsgw.service.runner import Moment, Ran, UnitRunner
from smsgw.service.settings import Deployment
from smsgw.service.store_port import Tx
from smsgw.service.unit import Unit, UnitReport, lock_phone_unit

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


MoWork = Callable[[Tx, Moment], Awaitable[Ran[MoResult]]]
AdmitUnit = Callable[[Tx], Awaitable[StoredInbound | None]]


class MessageService:
    """The service as the transports see it (structurally, `ServiceApi`).

    `runtime.Service` holds it as `service.messages`, next to the background loops."""

    def __init__(
        self,
        runner: UnitRunner,
        deployment: Deployment,
        flow: ChargeFlow,
        metrics: Metrics | None = None,
    ) -> None:
        self._runner = runner
        self._store = runner.store
        self._clock = runner.clock
        self._deployment = deployment
        self._metrics = metrics
        self.flow = flow
        self._tasks: set[asyncio.Task[None]] = set()
        self._in_flight: set[str] = set()

    # --- the transports' entry points --------------------------------------------------

    async def accept_mo(self, sms: InboundSms) -> bool:
        """True once the MO is durably stored (or was before); errors propagate, so the
        transport answers with a temporary error and the SMSC retries."""

        async def store_it(tx: Tx) -> StoredInbound | None:
            inbound_id = await tx.insert_inbound(sms)
            return None if inbound_id is None else StoredInbound(inbound_id, sms)

        if await self.admit_mo(store_it) is None:
            log.info("mo_duplicate", phone=mask_msisdn(sms.sender), link=sms.link_id)
            if self._metrics is not None:
                self._metrics.mo_duplicates.labels(link=sms.link_id, operator=sms.operator_id).inc()
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
    ) -> CallbackAnswer:
        try:
            return await self.flow.accept_callback(operator_id, headers, body)
        except Exception:
            # not applied, nonce not remembered: the operator sends it again
            log.exception("charge_callback_failed", operator=operator_id)
            return CallbackAnswer(CallbackVerdict.UNAVAILABLE, "try again later")

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
        await self._runner.settle()

    async def process(self, stored: StoredInbound) -> None:
        if stored.id in self._in_flight:
            return  # this node is on it already
        self._in_flight.add(stored.id)
        try:
            await self._process_once(stored)
        finally:
            self._in_flight.discard(stored.id)

    async def _process_once(self, stored: StoredInbound) -> None:
        moment = self._runner.moment()
        try:
            await self._run_mo_unit(stored, self._command_unit(stored), moment)
            return
        except AlreadyProcessedError:
            return
        except RefusedError as refused:
            answer = self._reply_unit(stored, refused.command, refused.error)
        except Exception:
            log.exception("mo_failed", inbound_id=stored.id, phone=mask_msisdn(stored.sms.sender))
            answer = self._reply_unit(stored, INVALID, None)
        try:
            await self._run_mo_unit(stored, answer, moment)
        except AlreadyProcessedError:
            return
        except Exception:
            # left unprocessed: the sweep tries again once the lease is over
            log.exception("mo_unanswered", inbound_id=stored.id)

    async def _run_mo_unit(self, stored: StoredInbound, work: MoWork, moment: Moment) -> MoResult:
        """Run one of an MO's units; once committed, log and count what it did."""

        def processed(result: MoResult, report: UnitReport) -> None:
            self._log_and_count(stored.sms, result, report)

        return await self._runner.run(work, moment=moment, on_commit=processed)

    def _command_unit(self, stored: StoredInbound) -> MoWork:
        async def work(tx: Tx, moment: Moment) -> Ran[MoResult]:
            unit = await self._unit(tx, stored, moment)
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
            await _mark_processed(tx, stored.id, f"{command}:{outcome}", moment.now)
            return Ran(MoResult(command, outcome), unit)

        return work

    def _reply_unit(self, stored: StoredInbound, command: str, error: DomainError | None) -> MoWork:
        """Answer a refusal (or, without one, a failure) and mark the MO processed."""
        key = error.reply_key if error is not None else "error.temporary"
        facts = error.facts if error is not None else {}
        outcome = "refused" if error is not None else "error"

        async def work(tx: Tx, moment: Moment) -> Ran[MoResult]:
            unit = await self._unit(tx, stored, moment)
            await unit.reply(key, **facts)
            await _mark_processed(tx, stored.id, f"{command}:{outcome}:{key}", moment.now)
            return Ran(MoResult(command, f"{outcome}:{key}"), unit)

        return work

    async def _unit(self, tx: Tx, stored: StoredInbound, moment: Moment) -> Unit:
        sms = stored.sms
        return await lock_phone_unit(
            tx,
            self._deployment,
            msisdn=sms.sender,
            operator_id=sms.operator_id,
            now=moment.now,
            cause=stored.id,
            seed=moment.seed,
            can_charge=self.flow.can_charge,
        )

    def _log_and_count(self, sms: InboundSms, result: MoResult, report: UnitReport) -> None:
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
            if report.replies_queued:
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
        return len(tasks) + await self._runner.cancel_later()

    # --- transports that store their own way (SMPP: parts, redeliveries) ----------------

    async def admit_mo(self, unit: AdmitUnit) -> StoredInbound | None:
        """Run a transport's unit that stores an MO (or decides not to) and, in the same
        transaction, process what it stored; return once that has committed."""
        moment = self._runner.moment(draw_seed=False)
        try:
            return await self._admit(unit, self._command_unit, moment)
        except RefusedError as refused:
            answer = partial(self._reply_unit, command=refused.command, error=refused.error)
            return await self._admit(unit, answer, moment)
        except Exception as error:
            # a store that cannot take the MO at all fails this too, and the transport
            # answers with a temporary error; otherwise it was the processing that failed
            stored = await self._admit_for_later(unit)
            log.error("mo_failed_on_admission", exc_info=error)
            return stored

    async def admit_incomplete_mo(self, unit: AdmitUnit) -> StoredInbound | None:
        """Run a transport's unit that stores a text which arrived incomplete and, in the
        same transaction, answer it with `mo.incomplete` (it is not parsed)."""

        answer = partial(self._reply_unit, command=INCOMPLETE, error=IncompleteTextError())
        return await self._admit(unit, answer, self._runner.moment())

    async def _admit(
        self,
        unit: AdmitUnit,
        answer: Callable[[StoredInbound], MoWork],
        moment: Moment,
    ) -> StoredInbound | None:
        """Store (by `unit`) and answer (by the work `answer` makes) in one unit of work;
        the charge requests it leaves go out in the background, so the transport's
        acknowledgement does not wait for an operator's API."""

        async def work(tx: Tx, moment: Moment) -> Ran[_Admitted | None]:
            stored = await unit(tx)
            if stored is None:
                return Ran(None)
            ran = await answer(stored)(tx, moment)
            return Ran(_Admitted(stored, ran.value), ran.unit)

        def admitted(done: _Admitted | None, report: UnitReport) -> None:
            if done is not None:
                self._count_received(done.stored.sms)
                self._log_and_count(done.stored.sms, done.result, report)

        done = await self._runner.run(work, moment=moment, on_commit=admitted, dispatch_later=True)
        return None if done is None else done.stored

    async def _admit_for_later(self, unit: AdmitUnit) -> StoredInbound | None:
        """Store the MO alone and process it in the background (processing it on
        admission failed: the background attempt answers it, or the sweep will)."""

        async def work(tx: Tx, _moment: Moment) -> Ran[StoredInbound | None]:
            return Ran(await unit(tx))

        stored = await self._runner.run(work, moment=self._runner.moment(draw_seed=False))
        if stored is not None:
            self._count_received(stored.sms)
            self._spawn(self.process(stored))
        return stored

    def _count_received(self, sms: InboundSms) -> None:
        if self._metrics is not None:
            self._metrics.mo_received.labels(link=sms.link_id, operator=sms.operator_id).inc()


@dataclass(frozen=True, slots=True)
class _Admitted:
    """An MO stored and answered in one unit of work."""

    stored: StoredInbound
    result: MoResult


async def _mark_processed(tx: Tx, inbound_id: str, outcome: str, now: datetime) -> None:
    if not await tx.mark_inbound_processed(inbound_id, outcome, now):
        raise AlreadyProcessedError(inbound_id)
