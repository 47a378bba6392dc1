"""When a stored MO may come again: its answer lost, refused, or never written."""

from __future__ import annotations

import itertools

from hypothesis import given
from hypothesis import strategies as st

from smsgw.smpp.redelivery import ANSWER_LOST_SECONDS, Forgetting, may_be_redelivered

times = st.floats(0, 1e6, allow_nan=False)


@given(st.one_of(st.none(), times))
def test_an_mo_never_answered_may_come_again(down: float | None) -> None:
    assert may_be_redelivered(answered_at=None, answer_status=None, bind_down_at=down)


@given(times, times, st.integers(1, 0xFF))
def test_an_mo_answered_with_an_error_may_come_again(
    answered: float, down: float, status: int
) -> None:
    assert may_be_redelivered(answered_at=answered, answer_status=status, bind_down_at=down)


@given(times, st.floats(0, 1e5, allow_nan=False))
def test_an_ok_answer_may_be_lost_only_just_before_its_bind_went_down(
    answered: float, before_down: float
) -> None:
    down = answered + before_down
    lost = may_be_redelivered(answered_at=answered, answer_status=0, bind_down_at=down)
    assert lost == (answered >= down - ANSWER_LOST_SECONDS)


def test_twelve_seconds_before_the_end_is_not_lost_one_second_is() -> None:
    assert not may_be_redelivered(answered_at=100.0, answer_status=0, bind_down_at=112.0)
    assert may_be_redelivered(answered_at=111.0, answer_status=0, bind_down_at=112.0)


def test_an_mo_on_a_forgotten_bind_does_not_come_again() -> None:
    assert not may_be_redelivered(answered_at=100.0, answer_status=0, bind_down_at=None)


def test_forgetting_runs_at_once_then_every_interval() -> None:
    forgetting = Forgetting(every=60.0, remember=86_400.0)
    assert forgetting.get_timer() is None  # due now: no round yet
    assert forgetting.handle_timer(100_000.0) == 100_000.0 - 86_400.0
    assert forgetting.get_timer() == 100_060.0
    assert forgetting.handle_timer(100_059.0) is None
    assert forgetting.handle_timer(100_060.0) == 100_060.0 - 86_400.0


@given(st.lists(st.integers(0, 1000), max_size=30))
def test_rounds_of_forgetting_are_never_closer_than_the_interval(steps: list[int]) -> None:
    forgetting = Forgetting(every=60.0, remember=3600.0)
    now, rounds = 0.0, []
    for step in steps:
        now += step
        if forgetting.handle_timer(now) is not None:
            rounds.append(now)
    assert all(later - earlier >= 60.0 for earlier, later in itertools.pairwise(rounds))
