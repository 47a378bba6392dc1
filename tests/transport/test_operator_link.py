"""An OperatorLink over real TCP (our SmscServer on port 0) and a real SQLite file: the
ESME link, its MO intake and its sender come built together and see each other only
through public interfaces."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from simulator.smsc_server import SmscServer
from smsgw.clock import SystemClock
from smsgw.service.ports import OutboxState, StoredInbound
from smsgw.service.store_port import Store
from smsgw.smpp.constants import CommandStatus
from smsgw.smpp.pdu import DeliverSm
from smsgw.storage import open_store
from smsgw.transport.smpp_client import EsmeLinkConfig
from smsgw.transport.smpp_link import IntakePort, IntakeSettings, OperatorLink
from smsgw.transport.smpp_mo import AdmitUnit
from tests.transport.conftest import GUARD, Recorder

DRIVER = "79161234567"


class StoringService:
    """The service as the intake sees it, reduced to storing."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.stored: list[StoredInbound] = []

    async def admit_mo(self, unit: AdmitUnit) -> StoredInbound | None:
        stored = await self.store.transact(unit)
        if stored is not None:
            self.stored.append(stored)
        return stored

    async def admit_incomplete_mo(self, unit: AdmitUnit) -> StoredInbound | None:
        return await self.store.transact(unit)

    async def accept_receipt(self, operator_id: str, message_id: str, state: OutboxState) -> bool:
        return True


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[Store]:
    opened = await open_store(f"sqlite:///{tmp_path / 'gateway.sqlite3'}")
    yield opened
    await opened.close()


@pytest.fixture
async def built(
    server: SmscServer, link_config: EsmeLinkConfig, store: Store
) -> AsyncIterator[tuple[OperatorLink, IntakePort]]:
    port = IntakePort()
    link = OperatorLink(
        "mts-1",
        "mts",
        link_config,
        IntakeSettings(short_numbers=("7757",), parts_timeout=300.0),
        store=store,
        service=port,
        clock=SystemClock(),
    )
    await link.start()
    yield link, port
    async with asyncio.timeout(GUARD):
        await link.close_link()
        await link.close_intake()


def _mo(text: str) -> DeliverSm:
    return DeliverSm(
        source_addr_ton=1, source_addr=DRIVER, destination_addr="7757", short_message=text.encode()
    )


async def test_mo_before_the_service_is_connected_gets_a_temporary_error(
    built: tuple[OperatorLink, IntakePort], recorder: Recorder
) -> None:
    link, _ = built
    await recorder.until(lambda: len(recorder.bound) == 1)
    async with asyncio.timeout(GUARD):
        answer = await recorder.bound[0].deliver(_mo("I"))
    assert answer.command_status == CommandStatus.ESME_RX_T_APPN  # the SMSC keeps it
    assert not link.intake.draining


async def test_the_intake_sees_the_link_binds(
    built: tuple[OperatorLink, IntakePort], recorder: Recorder, store: Store
) -> None:
    link, port = built
    service = StoringService(store)
    port.connect(service)
    async with asyncio.timeout(GUARD):
        await link.esme.wait_bound()
    assert link.is_up and link.intake.bind.receiving
    first_bind = link.intake.bind_id
    assert (await recorder.bound[0].deliver(_mo("I"))).command_status == CommandStatus.ESME_ROK
    recorder.bound[0].abort()
    await recorder.until(lambda: len(recorder.bound) == 2)
    async with asyncio.timeout(GUARD):
        while link.esme.receiver_binds < 2:  # the bind_resp is read after the server's hook
            await asyncio.sleep(0.01)
    # a new receiving bind is what makes an SMSC redeliver: the intake's bind id changes
    assert link.intake.bind_id != first_bind
    assert [stored.sms.text for stored in service.stored] == ["I"]


async def test_a_drained_link_refuses_new_mo_for_now(
    built: tuple[OperatorLink, IntakePort], recorder: Recorder, store: Store
) -> None:
    link, port = built
    service = StoringService(store)
    port.connect(service)
    await recorder.until(lambda: len(recorder.bound) == 1)
    link.drain()
    async with asyncio.timeout(GUARD):
        answer = await recorder.bound[0].deliver(_mo("I"))
    assert answer.command_status == CommandStatus.ESME_RX_T_APPN
    assert service.stored == []
