"""The load generator's own garbage-collector pauses, shown beside the figures."""

from __future__ import annotations

import gc
import time


class GcWatch:
    """The garbage collector's pauses in this process while the load runs: a pause here
    is latency the gateway did not cause, so the report shows it beside the figures."""

    def __init__(self) -> None:
        self.collections = 0
        self.total = 0.0
        self.longest = 0.0
        self._started = 0.0

    def __enter__(self) -> GcWatch:
        gc.freeze()  # the phones and the world, made before the run, are never garbage
        gc.callbacks.append(self._on_gc)
        return self

    def __exit__(self, *_: object) -> None:
        gc.callbacks.remove(self._on_gc)
        gc.unfreeze()

    def _on_gc(self, phase: str, _info: dict[str, int]) -> None:
        if phase == "start":
            self._started = time.perf_counter()
            return
        pause = time.perf_counter() - self._started
        self.collections += 1
        self.total += pause
        self.longest = max(self.longest, pause)

    def to_json(self) -> dict[str, float | int]:
        return {
            "collections": self.collections,
            "total_ms": round(self.total * 1000, 1),
            "max_ms": round(self.longest * 1000, 2),
        }
