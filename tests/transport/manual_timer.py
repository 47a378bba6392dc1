"""A `LinkTimer` whose time moves only when the test moves it: link timing (reconnect
back-off, throttling pause, token bucket) is then driven instantly and exactly."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass


@dataclass
class ManualHandle:
    when: float
    callback: Callable[[], object]
    cancelled: bool = False

    def cancel(self) -> None:
        self.cancelled = True


class ManualTimer:
    def __init__(self, start: float = 1000.0) -> None:
        self.now = start
        self._handles: list[ManualHandle] = []

    def time(self) -> float:
        return self.now

    def call_at(self, when: float, callback: Callable[[], object]) -> ManualHandle:
        handle = ManualHandle(when, callback)
        self._handles.append(handle)
        return handle

    def next_deadline(self) -> float | None:
        """When the earliest armed callback is due, or None."""
        armed = [handle.when for handle in self._handles if not handle.cancelled]
        return min(armed, default=None)

    def advance(self, seconds: float) -> None:
        """Move time on and run, in order, every callback due by then."""
        self.now += seconds
        while True:
            due = [h for h in self._handles if not h.cancelled and h.when <= self.now]
            if not due:
                break
            handle = min(due, key=lambda h: h.when)
            self._handles.remove(handle)
            handle.callback()
        self._handles = [handle for handle in self._handles if not handle.cancelled]

    def advance_to_next(self) -> float:
        """Move time to the earliest armed deadline and run what is due; returns the gap."""
        deadline = self.next_deadline()
        assert deadline is not None, "nothing is armed"
        gap = max(0.0, deadline - self.now)
        self.advance(gap)
        return gap
