"""A fresh harness (SQLite file in tmp_path, doubles, settable clock) per test."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from .harness import Harness, make_deployment


@pytest.fixture
async def harness(tmp_path: Path) -> AsyncIterator[Harness]:
    opened = await Harness(tmp_path / "smsgw.sqlite3", make_deployment()).open()
    try:
        yield opened
    finally:
        await opened.close()
