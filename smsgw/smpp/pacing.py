"""When an ESME link may act: reconnect back-off, throttling pause, segment token bucket.

Sans-IO, like `Session`: time comes in as ``now`` (seconds on any monotonic scale) and
randomness through an injected callable. `LinkPacing` is the whole policy of one link;
the asyncio layer asks it `get_timer()`, arms that one deadline, and on it calls
`handle_timer(now)`, which says what became possible (a bind may retry, the pause is
over, tokens are there). Tests move ``now`` instead of waiting.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

Random = Callable[[], float]  # uniform in [0, 1), like random.random

# Tokens this close to enough are enough: the moment computed for them, added back to
# `now` in floating point, must not come out a hair short and re-arm the timer forever.
TOKEN_EPSILON = 1e-9


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
        if self._tokens + TOKEN_EPSILON >= needed:
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
    random: Random
    factor: float = 2.0
    jitter: float = 0.2
    attempts: int = field(default=0)

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


@dataclass(frozen=True, slots=True)
class PacingConfig:
    """The timing settings of one link (seconds; rates per second)."""

    segments_per_second: float = 50.0
    segment_burst: int = 10
    reconnect_initial_delay: float = 1.0
    reconnect_max_delay: float = 60.0
    jitter: float = 0.2
    throttle_initial_pause: float = 1.0
    throttle_max_pause: float = 30.0


@dataclass(frozen=True, slots=True)
class TimerOutcome:
    """What `handle_timer` found due: binds (by index) that may connect again, and
    whether submissions may have become possible (pause over, tokens refilled)."""

    retry_binds: tuple[int, ...] = ()
    may_submit: bool = False


class LinkPacing:
    """The timing policy of one ESME link with ``binds`` connections.

    - A bind that lost its connection or failed to bind waits a jittered, growing delay
      before it tries again (`bind_failed` / `may_connect`); a bind that came up starts
      from the first delay again (`bind_up`).
    - A submit_sm answered ESME_RTHROTTLED pauses every submission of the link for a
      growing delay (`throttled`); answers to the rest of the same burst extend nothing,
      and the first answer that is not a throttle starts the delays over (`accepted`).
    - Submissions spend segment tokens (`submit_delay`, `take`); a submission that has to
      wait is remembered, so `get_timer` includes the moment its tokens are there.
    """

    def __init__(self, config: PacingConfig, *, binds: int, random: Random, now: float) -> None:
        self.config = config
        self.bucket = TokenBucket(config.segments_per_second, config.segment_burst, now)
        self._reconnect = [
            Backoff(
                config.reconnect_initial_delay,
                config.reconnect_max_delay,
                random,
                jitter=config.jitter,
            )
            for _ in range(binds)
        ]
        self._retry_at: list[float | None] = [None] * binds
        self._pause = Backoff(
            config.throttle_initial_pause, config.throttle_max_pause, random, jitter=config.jitter
        )
        self._paused_until: float | None = None
        self._tokens_at: float | None = None  # when a waiting submission's tokens are there

    # --- binds ---------------------------------------------------------------------------

    def bind_failed(self, bind: int, now: float) -> float:
        """The bind's connection failed or ended: it may try again after the returned
        delay (armed in `get_timer`)."""
        delay = self._reconnect[bind].next_delay()
        self._retry_at[bind] = now + delay
        return delay

    def bind_up(self, bind: int) -> None:
        """The bind is up: its next failure waits the first delay again."""
        self._reconnect[bind].reset()
        self._retry_at[bind] = None

    def may_connect(self, bind: int, now: float) -> bool:
        at = self._retry_at[bind]
        return at is None or now >= at

    # --- submissions ---------------------------------------------------------------------

    def paused(self, now: float) -> bool:
        """True while a throttling pause holds all submissions."""
        return self._paused_until is not None and now < self._paused_until

    def throttled(self, now: float) -> float | None:
        """A submit_sm was answered ESME_RTHROTTLED: start a pause and return its length,
        or None when a pause is running already (the rest of one burst's answers)."""
        if self.paused(now):
            return None
        pause = self._pause.next_delay()
        self._paused_until = now + pause
        return pause

    def accepted(self) -> None:
        """A submit_sm got an answer other than a throttle: pauses start small again."""
        self._pause.reset()

    def submit_delay(self, segments: int, now: float) -> float:
        """Seconds until ``segments`` may be submitted (0.0: now). A wait is remembered
        for `get_timer` until `take` or the timer."""
        if self.paused(now):
            assert self._paused_until is not None
            return self._paused_until - now
        delay = self.bucket.delay_until_available(segments, now)
        self._tokens_at = now + delay if delay > 0 else None
        return delay

    def take(self, segments: int, now: float) -> None:
        """Spend the tokens of ``segments`` submitted now."""
        self.bucket.take(segments, now)
        self._tokens_at = None

    # --- the one timer -------------------------------------------------------------------

    def get_timer(self) -> float | None:
        """The next moment something becomes possible, or None."""
        moments = [at for at in self._retry_at if at is not None]
        moments += [at for at in (self._paused_until, self._tokens_at) if at is not None]
        return min(moments, default=None)

    def handle_timer(self, now: float) -> TimerOutcome:
        """Clear what is due at ``now`` and say what it allows."""
        retry: list[int] = []
        for bind, at in enumerate(self._retry_at):
            if at is not None and now >= at:
                self._retry_at[bind] = None
                retry.append(bind)
        may_submit = False
        if self._paused_until is not None and now >= self._paused_until:
            self._paused_until = None
            may_submit = True
        if self._tokens_at is not None and now >= self._tokens_at:
            self._tokens_at = None
            may_submit = True
        return TimerOutcome(tuple(retry), may_submit)
