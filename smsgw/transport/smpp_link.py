"""One configured SMPP link to an operator, built complete: its ESME link, its MO
intake and its MT sender.

The service needs the links' senders and each link's intake needs the service: links
are built first with an `IntakePort`, the service with their senders, and then the port
is `connect`ed to the service — before any link starts, so no MO can come in between.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Collection
from dataclasses import dataclass
from typing import Protocol

import structlog

from smsgw.clock import Clock
from smsgw.observability import Metrics
from smsgw.service.ports import OutboxState, StoredInbound
from smsgw.service.store_port import Store
from smsgw.smpp.events import DeliveryReceiptReceived
from smsgw.smpp.pdu import DataSm, DeliverSm
from smsgw.transport.smpp_client import EsmeLink, EsmeLinkConfig, LinkState, LinkTimer
from smsgw.transport.smpp_mo import AdmitUnit, MoAdmission, SmppInbound
from smsgw.transport.smpp_sender import SmppSender


class IntakeService(MoAdmission, Protocol):
    """What the links' intake needs from the service (the `MessageService`)."""

    async def accept_receipt(self, operator_id: str, message_id: str, state: OutboxState) -> bool:
        """Apply (or hold) a final delivery receipt; True when it matched a part."""


class IntakePort:
    """The service side of every link's intake, connected once the service exists."""

    def __init__(self) -> None:
        self._service: IntakeService | None = None

    def connect(self, service: IntakeService) -> None:
        """Hand over to the service; call before any link starts."""
        self._service = service

    def _connected(self) -> IntakeService:
        if self._service is None:
            raise RuntimeError("the SMPP intake is not connected to the service yet")
        return self._service

    async def admit_mo(self, unit: AdmitUnit) -> StoredInbound | None:
        return await self._connected().admit_mo(unit)

    async def admit_incomplete_mo(self, unit: AdmitUnit) -> StoredInbound | None:
        return await self._connected().admit_incomplete_mo(unit)

    async def accept_receipt(self, operator_id: str, message_id: str, state: OutboxState) -> bool:
        return await self._connected().accept_receipt(operator_id, message_id, state)


@dataclass(frozen=True, slots=True)
class IntakeSettings:
    short_numbers: Collection[str]
    parts_timeout: float  # seconds an incomplete long MO is kept


class OperatorLink:
    """An SMPP link with everything that hangs on it (see the module docstring)."""

    def __init__(
        self,
        link_id: str,
        operator_id: str,
        config: EsmeLinkConfig,
        intake: IntakeSettings,
        *,
        store: Store,
        service: IntakePort,
        clock: Clock,
        metrics: Metrics | None = None,
        random: Callable[[], float] = random.random,
        timer: LinkTimer | None = None,
    ) -> None:
        self.link_id = link_id
        self.operator_id = operator_id
        self.metrics = metrics
        self.esme = EsmeLink(
            config,
            on_deliver=self._on_deliver,
            on_receipt=self._on_receipt,
            on_state=self._on_state,
            random=random,
            timer=timer,
        )
        self.intake = SmppInbound(
            link_id=link_id,
            operator_id=operator_id,
            store=store,
            admission=service,
            accept_receipt=service.accept_receipt,
            short_numbers=intake.short_numbers,
            clock=clock,
            parts_timeout=intake.parts_timeout,
            metrics=metrics,
            bind=self.esme,
        )
        self.sender = SmppSender(self.esme)

    @property
    def is_up(self) -> bool:
        return self.esme.state is LinkState.BOUND

    async def start(self) -> None:
        """Start connecting and the intake's timer; every log line of theirs names the
        link (their tasks inherit this context)."""
        with structlog.contextvars.bound_contextvars(link=self.link_id, operator=self.operator_id):
            await self.esme.start()
            self.intake.start()

    def drain(self) -> None:
        """Stop taking MO (answered with a temporary error, so the SMSC keeps them)."""
        self.intake.drain()

    async def close_link(self) -> None:
        """Answer what is in hand, unbind and stop reconnecting."""
        await self.esme.close()

    async def close_intake(self) -> None:
        """Stop the intake's timer and record its bind down (after `close_link`)."""
        await self.intake.close()

    async def _on_deliver(self, pdu: DeliverSm | DataSm) -> int:
        return await self.intake.on_deliver(pdu)

    async def _on_receipt(self, event: DeliveryReceiptReceived) -> int:
        return await self.intake.on_receipt(event)

    def _on_state(self, state: LinkState) -> None:
        if self.metrics is not None:
            self.metrics.set_link_up(self.link_id, state is LinkState.BOUND)
