"""Pacing arithmetic for SMPP links: a segment token bucket and a jittered back-off.

Both are pure: time comes in as ``now`` and randomness through an injected callable, so
the asyncio link decides when to sleep and the tests drive them with fake values.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field


class TokenBucket:
    """A throughput cap counted in SMS segments, not messages.

    ``rate`` tokens per second refill up to ``burst``; sending an n-part message takes n
    tokens at once, so the operator's per-second limit holds for concatenated texts too.
    """

    def __init__(self, rate: float, burst: float, now: float) -> None:
        if rate <= 0:
            raise ValueError("rate must be positive")
        if burst < 1:
            raise ValueError("burst must be at least one segment")
        self.rate = rate
        self.burst = burst
        self._tokens = burst
        self._updated = now

    def tokens(self, now: float) -> float:
        """The tokens available at ``now`` (refilled, capped at ``burst``)."""
        self._refill(now)
        return self._tokens

    def delay_until_available(self, segments: int, now: float) -> float:
        """Seconds to wait before ``segments`` tokens are there (0.0 when they are now).

        A message longer than the burst is let through once the bucket is full, otherwise
        it could never be sent; the bucket then goes negative and later sends wait longer.
        """
        self._refill(now)
        needed = min(float(segments), self.burst)
        if self._tokens >= needed:
            return 0.0
        return (needed - self._tokens) / self.rate

    def take(self, segments: int, now: float) -> None:
        """Spend ``segments`` tokens (call once ``delay_until_available`` returned 0)."""
        self._refill(now)
        self._tokens -= segments

    def _refill(self, now: float) -> None:
        elapsed = max(0.0, now - self._updated)
        self._tokens = min(self.burst, self._tokens + elapsed * self.rate)
        self._updated = max(self._updated, now)


@dataclass(slots=True)
class Backoff:
    """Exponential back-off with proportional jitter: initial * factor**n, capped.

    ``jitter`` is the fraction by which each delay is spread (0.2 → ±20 %), so that many
    links dropped at once by the same SMSC do not reconnect in lock-step.
    """

    initial: float
    maximum: float
    factor: float = 2.0
    jitter: float = 0.2
    random: Callable[[], float] = field(default=random.random)
    attempts: int = 0

    def next_delay(self) -> float:
        """The delay before the next attempt; each call counts one more failure."""
        # The exponent is bounded so that a link down for days cannot overflow a float.
        base = min(self.maximum, self.initial * self.factor ** min(self.attempts, 64))
        self.attempts += 1
        spread = 1.0 + self.jitter * (2.0 * self.random() - 1.0)
        return max(0.0, base * spread)

    def reset(self) -> None:
        """Start again from ``initial`` (after a success)."""
        self.attempts = 0
