"""Property tests give one verdict on every run: no saved examples, fixed seed under CI."""

from __future__ import annotations

from hypothesis import settings

from tests.conftest import CI_PROFILE, DEV_PROFILE, hypothesis_profile


def test_no_example_database_is_kept_between_runs() -> None:
    # a failure saved in .hypothesis/ used to fail every later run of that clone only
    current = settings.default
    assert current is not None
    assert current.database is None


def test_ci_runs_a_fixed_seed_without_a_database() -> None:
    ci = settings.get_profile(CI_PROFILE)
    assert ci.derandomize
    assert ci.database is None


def test_profile_follows_the_ci_variable() -> None:
    assert hypothesis_profile({"CI": "true"}) == CI_PROFILE
    assert hypothesis_profile({"CI": "1"}) == CI_PROFILE
    assert hypothesis_profile({}) == DEV_PROFILE
    assert hypothesis_profile({"CI": "false"}) == DEV_PROFILE
    assert hypothesis_profile({"CI": "true", "HYPOTHESIS_PROFILE": DEV_PROFILE}) == DEV_PROFILE
