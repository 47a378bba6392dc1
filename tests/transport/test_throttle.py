"""The segment token bucket and the jittered back-off, with injected time and randomness."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from smsgw.transport.throttle import Backoff, TokenBucket


def test_bucket_starts_full_and_charges_per_segment() -> None:
    bucket = TokenBucket(rate=10.0, burst=5, now=0.0)
    assert bucket.delay_until_available(5, 0.0) == 0.0
    bucket.take(3, 0.0)  # a three-part message takes three tokens
    assert bucket.tokens(0.0) == pytest.approx(2.0)
    assert bucket.delay_until_available(3, 0.0) == pytest.approx(0.1)
    assert bucket.delay_until_available(3, 0.1) == 0.0


def test_bucket_never_holds_more_than_the_burst() -> None:
    bucket = TokenBucket(rate=10.0, burst=5, now=0.0)
    assert bucket.tokens(1000.0) == 5


def test_message_longer_than_the_burst_goes_once_the_bucket_is_full() -> None:
    bucket = TokenBucket(rate=1.0, burst=2, now=0.0)
    assert bucket.delay_until_available(6, 0.0) == 0.0
    bucket.take(6, 0.0)
    # The debt is paid back before anything else goes.
    assert bucket.delay_until_available(1, 0.0) == pytest.approx(5.0)


def test_time_going_backwards_does_not_mint_tokens() -> None:
    bucket = TokenBucket(rate=10.0, burst=5, now=10.0)
    bucket.take(5, 10.0)
    assert bucket.tokens(9.0) == 0.0
    assert bucket.tokens(10.1) == pytest.approx(1.0)


@pytest.mark.parametrize(("rate", "burst"), [(0.0, 1), (-1.0, 1), (1.0, 0)])
def test_bucket_rejects_nonsense(rate: float, burst: int) -> None:
    with pytest.raises(ValueError):
        TokenBucket(rate=rate, burst=burst, now=0.0)


@settings(max_examples=200)
@given(
    rate=st.floats(0.5, 100.0),
    burst=st.integers(1, 20),
    messages=st.lists(st.integers(1, 8), min_size=1, max_size=40),
)
def test_bucket_keeps_the_rate_over_any_message_mix(
    rate: float, burst: int, messages: list[int]
) -> None:
    """Sending as early as the bucket allows never beats burst + rate × elapsed."""
    bucket = TokenBucket(rate=rate, burst=burst, now=0.0)
    now = 0.0
    sent = 0
    for segments in messages:
        now += bucket.delay_until_available(segments, now)
        bucket.take(segments, now)
        sent += segments
        # Only a message longer than the burst may overdraw, by its own excess.
        allowance = burst + rate * now + max(0, max(messages) - burst)
        assert sent <= allowance + 1e-6


def test_backoff_doubles_up_to_the_cap_and_resets() -> None:
    backoff = Backoff(initial=1.0, maximum=5.0, jitter=0.0)
    assert [backoff.next_delay() for _ in range(5)] == [1.0, 2.0, 4.0, 5.0, 5.0]
    backoff.reset()
    assert backoff.next_delay() == 1.0


@pytest.mark.parametrize(("draw", "factor"), [(0.0, 0.8), (0.5, 1.0), (1.0, 1.2)])
def test_backoff_jitter_spreads_by_the_fraction(draw: float, factor: float) -> None:
    backoff = Backoff(initial=10.0, maximum=100.0, jitter=0.2, random=lambda: draw)
    assert backoff.next_delay() == pytest.approx(10.0 * factor)


@settings(max_examples=200)
@given(
    attempts=st.integers(0, 5000),
    draw=st.floats(0.0, 1.0),
    jitter=st.floats(0.0, 1.0),
)
def test_backoff_stays_within_bounds(attempts: int, draw: float, jitter: float) -> None:
    backoff = Backoff(initial=0.5, maximum=30.0, jitter=jitter, random=lambda: draw)
    backoff.attempts = attempts
    delay = backoff.next_delay()
    assert 0.0 <= delay <= 30.0 * (1.0 + jitter)
