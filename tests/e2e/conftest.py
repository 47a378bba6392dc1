"""Fixtures shared by the end-to-end tests on the in-process rig (tests/e2e/rig.py).
A module that needs a rig set up differently defines its own `rig`, which wins."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest

from tests.e2e.rig import Rig, running_rig


@pytest.fixture
async def rig(tmp_path: Path) -> AsyncIterator[Rig]:
    """The gateway with the simulated SMSC and operators, as `running_rig` sets it up."""
    async with running_rig(tmp_path) as rig:
        yield rig


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    """A client session for the test's own HTTP requests."""
    async with aiohttp.ClientSession() as session:
        yield session
