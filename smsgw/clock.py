"""The one notion of "now" for the gateway's asyncio layers and its service.

The domain and the sans-IO SMPP core never read a clock: they are handed `now`. Whatever
does read one takes a `Clock`, so tests, the demo (`smsgw demo --clock … --speed …`) and
the simulator can move time instead of waiting for it.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime:
        """The current time, timezone-aware (UTC)."""


class SystemClock:
    """The wall clock."""

    def now(self) -> datetime:
        return datetime.now(UTC)
