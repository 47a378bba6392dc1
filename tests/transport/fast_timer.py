"""A `LinkTimer` on the event loop's clock running faster: link timing (reconnect
back-off, throttling pauses) passes in a fraction of its real length, for tests where
that the link recovers matters and how long it waits does not."""

from __future__ import annotations

import asyncio
from collections.abc import Callable


class FastLinkTimer:
    """The running event loop's monotonic clock, `speed` times faster."""

    def __init__(self, speed: float) -> None:
        self._loop = asyncio.get_running_loop()
        self._speed = speed

    def time(self) -> float:
        return self._loop.time() * self._speed

    def call_at(self, when: float, callback: Callable[[], object]) -> asyncio.TimerHandle:
        return self._loop.call_at(when / self._speed, callback)
