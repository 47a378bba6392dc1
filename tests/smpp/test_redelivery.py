"""When a stored MO may come again: its answer lost, refused, or never written."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from smsgw.smpp.redelivery import ANSWER_LOST_SECONDS, may_be_redelivered

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
