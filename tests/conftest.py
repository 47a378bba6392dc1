"""Settings every test shares: Hypothesis profiles, and how many parallel test processes.

Property tests must give the same verdict on every machine and every run:

- no example database: a failure found once is not replayed from a hidden `.hypothesis`
  directory on later runs (it is reported with a reproduction blob instead), so a fresh
  clone and an old one behave alike;
- under CI (the `CI` variable set, as every CI service does) the examples are derived from
  each test's name (`derandomize`), so a pipeline run can be repeated exactly.

`HYPOTHESIS_PROFILE=dev|ci` picks a profile by hand.
"""

from __future__ import annotations

import os
from collections.abc import Generator, Mapping

import pytest
from hypothesis import settings

DEV_PROFILE = "dev"
CI_PROFILE = "ci"

settings.register_profile(DEV_PROFILE, database=None, print_blob=True)
settings.register_profile(CI_PROFILE, database=None, derandomize=True, print_blob=True)


def hypothesis_profile(environ: Mapping[str, str]) -> str:
    """The profile for this environment: explicit choice, else CI, else dev."""
    chosen = environ.get("HYPOTHESIS_PROFILE", "")
    if chosen:
        return chosen
    return (
        CI_PROFILE
        if environ.get("CI", "").strip().lower() not in ("", "0", "false")
        else DEV_PROFILE
    )


settings.load_profile(hypothesis_profile(os.environ))


@pytest.hookimpl(wrapper=True)
def pytest_xdist_auto_num_workers(config: pytest.Config) -> Generator[None, int, int]:
    """`-n auto` (pyproject's addopts): half again as many test processes as cores.

    Much of the suite waits rather than computes (`smsgw serve` child processes starting
    and draining, PostgreSQL commits, Kannel, Chromium), so one process per core leaves
    cores idle. PYTEST_XDIST_AUTO_NUM_WORKERS, when set, is taken as it is."""
    cores = yield
    if os.environ.get("PYTEST_XDIST_AUTO_NUM_WORKERS"):
        return cores
    return cores + cores // 2
