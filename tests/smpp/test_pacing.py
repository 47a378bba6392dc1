"""Link timing as sans-IO policies: the segment token bucket, the jittered back-off and
the whole link's `LinkPacing` (reconnects, throttling pause, its one timer) — driven by
a moved `now` and an injected random, so nothing here waits."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from smsgw.smpp.pacing import Backoff, LinkPacing, PacingConfig, TokenBucket


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
    backoff = Backoff(initial=1.0, maximum=5.0, random=lambda: 0.5, jitter=0.0)
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


def _pacing(**settings: float) -> LinkPacing:
    config = PacingConfig(
        segments_per_second=settings.get("rate", 10.0),
        segment_burst=int(settings.get("burst", 2)),
        reconnect_initial_delay=1.0,
        reconnect_max_delay=60.0,
        jitter=0.2,
        throttle_initial_pause=1.0,
        throttle_max_pause=30.0,
    )
    draw = settings.get("draw", 0.5)
    return LinkPacing(config, binds=2, random=lambda: draw, now=100.0)


def test_a_failed_bind_waits_its_delay_then_the_timer_lets_it_retry() -> None:
    pacing = _pacing()
    assert pacing.get_timer() is None
    assert pacing.bind_failed(0, 100.0) == 1.0
    assert not pacing.may_connect(0, 100.5)
    assert pacing.may_connect(1, 100.5), "the other bind has its own back-off"
    assert pacing.get_timer() == 101.0
    assert pacing.handle_timer(101.0).retry_binds == (0,)
    assert pacing.may_connect(0, 101.0)
    assert pacing.get_timer() is None


def test_refused_binds_in_a_row_wait_twice_as_long_each_time_until_one_is_up() -> None:
    pacing = _pacing()
    now = 100.0
    delays = []
    for _ in range(3):
        delay = pacing.bind_failed(0, now)
        delays.append(delay)
        now += delay
        pacing.handle_timer(now)
    assert delays == [1.0, 2.0, 4.0]
    pacing.bind_up(0)
    assert pacing.bind_failed(0, now) == 1.0


@pytest.mark.parametrize(("draw", "delay"), [(0.0, 0.8), (1.0, 1.2)])
def test_reconnect_jitter_comes_from_the_injected_random(draw: float, delay: float) -> None:
    assert _pacing(draw=draw).bind_failed(1, 0.0) == pytest.approx(delay)


def test_a_throttle_pauses_every_submission_until_the_timer() -> None:
    pacing = _pacing()
    assert pacing.throttled(100.0) == 1.0
    assert pacing.paused(100.9)
    assert pacing.submit_delay(1, 100.4) == pytest.approx(0.6)
    assert pacing.throttled(100.5) is None, "the rest of one burst's answers extend nothing"
    assert pacing.get_timer() == 101.0
    assert pacing.handle_timer(101.0).may_submit
    assert not pacing.paused(101.0)
    assert pacing.submit_delay(1, 101.0) == 0.0


def test_throttles_in_a_row_pause_longer_until_an_answer_gets_through() -> None:
    pacing = _pacing()
    assert pacing.throttled(0.0) == 1.0
    assert pacing.throttled(1.0) == 2.0
    pacing.accepted()
    assert pacing.throttled(10.0) == 1.0


def test_a_submission_short_of_tokens_arms_the_timer_for_when_they_are_there() -> None:
    pacing = _pacing(rate=10.0, burst=2)
    assert pacing.submit_delay(2, 100.0) == 0.0
    pacing.take(2, 100.0)
    assert pacing.submit_delay(1, 100.0) == pytest.approx(0.1)
    timer = pacing.get_timer()
    assert timer == pytest.approx(100.1)
    assert timer is not None
    assert pacing.handle_timer(timer).may_submit
    assert pacing.submit_delay(1, timer) == 0.0
    assert pacing.get_timer() is None


@settings(max_examples=200)
@given(
    events=st.lists(
        st.tuples(st.sampled_from(["fail0", "fail1", "throttle", "tokens"]), st.floats(0, 5)),
        max_size=30,
    )
)
def test_the_timer_is_always_the_earliest_pending_deadline(
    events: list[tuple[str, float]],
) -> None:
    """Whatever happened, `get_timer` is never later than something pending, and firing
    it at its time leaves nothing due at that moment."""
    pacing = _pacing(rate=1.0, burst=1)
    now = 100.0
    for kind, step in events:
        now += step
        if kind == "fail0":
            pacing.bind_failed(0, now)
        elif kind == "fail1":
            pacing.bind_failed(1, now)
        elif kind == "throttle":
            pacing.throttled(now)
        elif pacing.submit_delay(1, now) == 0.0:
            pacing.take(1, now)
        timer = pacing.get_timer()
        if timer is not None and timer <= now:
            pacing.handle_timer(now)
            timer = pacing.get_timer()
        assert timer is None or timer > now
    while (timer := pacing.get_timer()) is not None:
        pacing.handle_timer(timer)
        after = pacing.get_timer()
        assert after is None or after > timer
    assert pacing.may_connect(0, now) or pacing.may_connect(0, timer or now)
