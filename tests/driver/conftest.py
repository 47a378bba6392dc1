"""The driver API's actions over the service harness (a real SQLite store, scripted
operators, a settable clock)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from smsgw.service.driver_actions import DriverActions

from ..service.harness import Harness, make_deployment


@pytest.fixture
async def harness(tmp_path: Path) -> AsyncIterator[Harness]:
    opened = await Harness(tmp_path / "smsgw.sqlite3", make_deployment()).open()
    try:
        yield opened
    finally:
        await opened.close()


@pytest.fixture
def actions(harness: Harness) -> DriverActions:
    return make_actions(harness)


def make_actions(harness: Harness) -> DriverActions:
    service = harness.svc
    return DriverActions(service.runner, harness.deployment, service.gateway.flow.can_charge)
