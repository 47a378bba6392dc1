"""One event-loop timer kept at a sans-IO object's next deadline.

The sans-IO parts (the SMPP `Session`, a link's `LinkPacing`, a `Reassembler`) never
read a clock: they say when they next have work (`get_timer()`) and do it when told
(`handle_timer(now)`). `DeadlineTimer` is the asyncio side of that contract, written
once: `arm(get_timer())` after every call that may have moved the deadline, and the
timer calls back with the time when the deadline is reached.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol


class TimerHandle(Protocol):
    def cancel(self) -> None: ...


class LinkTimer(Protocol):
    """Where the link reads monotonic seconds and arms its timer: the running event loop,
    or in tests a clock they move."""

    def time(self) -> float: ...

    def call_at(self, when: float, callback: Callable[[], object]) -> TimerHandle: ...


class DeadlineTimer:
    """At most one handle, armed at the latest deadline it was given."""

    def __init__(
        self, clock: Callable[[], LinkTimer], on_deadline: Callable[[float], None]
    ) -> None:
        # a callable, so that a link built before the loop runs finds the loop later
        self._clock = clock
        self._on_deadline = on_deadline
        self._handle: TimerHandle | None = None
        self._at: float | None = None

    def arm(self, at: float | None) -> None:
        """Fire at `at` (monotonic seconds), or never when None; keeps a handle in place."""
        if at == self._at and (at is None or self._handle is not None):
            return
        self.cancel()
        if at is not None:
            self._at = at
            self._handle = self._clock().call_at(at, self._fire)

    def cancel(self) -> None:
        if self._handle is not None:
            self._handle.cancel()
        self._handle = None
        self._at = None

    def _fire(self) -> None:
        # The loop may run a handle a hair early; the owner must see the deadline reached.
        now = max(self._at or 0.0, self._clock().time())
        self._handle = None
        self._at = None
        self._on_deadline(now)
