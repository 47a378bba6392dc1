"""`smsgw bench --against kannel` end to end: a short, light run through Debian's Kannel
(bearerbox + smsbox + the reply app) and through `smsgw serve`, as a user runs it. Only
the report's shape and that nothing was lost are checked: figures are not asserted.
Without Kannel the test skips, except under CI=true where it fails."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from simulator.bench.kannel import find_kannel

# with the Kannel interop tests in one test process (pyproject's addopts runs several): one
# Kannel at a time, and the check that every process of a run stopped looks at the whole
# machine
pytestmark = pytest.mark.xdist_group("kannel")

SIDE_FIELDS = {
    "replies_per_s",
    "mo_per_s",
    "p50_ms",
    "p99_ms",
    "lost",
    "duplicated",
    "refused",
    "skipped",
    "cpu_cores",
    "cpu_seconds",
}
PROCESSES = {
    "kannel": {"bearerbox", "smsbox", "reply_app", "load_generator"},
    "smsgw": {"gateway", "load_generator"},
}


def _require_kannel() -> None:
    if find_kannel() is None:
        reason = "Kannel's bearerbox/smsbox are not installed (apt-get install kannel)"
        if os.environ.get("CI") == "true":
            pytest.fail(reason)
        pytest.skip(reason)


def _bench_processes() -> set[int]:
    """Processes whose command line is one of the run's: the boxes on a bench
    configuration, the load generator, the reply app."""
    markers = (b"smsgw-bench-against-", b"simulator.bench.smscload", b"simulator.bench.replyapp")
    found = set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                cmdline = (entry / "cmdline").read_bytes()
            except OSError:
                continue
            if any(marker in cmdline for marker in markers):
                found.add(int(entry.name))
    return found


def test_a_short_run_against_kannel_reports_both_sides_and_loses_nothing(
    tmp_path: Path,
) -> None:
    _require_kannel()
    command = [sys.executable, "-m", "smsgw.cli", "bench", "--against", "kannel"]
    options = ["--in-flight", "20", "--duration", "1", "--warmup", "0.25", "--grace", "5"]
    before = _bench_processes()
    result = subprocess.run(
        [*command, *options, "--json"],
        capture_output=True,
        text=True,
        timeout=180,
        cwd=tmp_path,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads(result.stdout)
    assert report["against"] == "kannel" and report["mode"] == "closed"
    assert report["in_flight"] == 20 and report["runs"] == 1
    assert set(report["sides"]) == {"kannel", "smsgw"}
    for name, side in report["sides"].items():
        assert set(side) == SIDE_FIELDS, name
        assert side["lost"] == 0 and side["duplicated"] == 0 and side["refused"] == 0, name
        assert side["replies_per_s"] > 0, name
        assert set(side["cpu_cores"]) == PROCESSES[name], name
    assert isinstance(report["ratio"], float)
    assert len(report["each_run"]["kannel"]) == len(report["each_run"]["smsgw"]) == 1
    gateway = report["each_run"]["smsgw"][0]["gateway"]
    assert gateway["exit_code"] == 0
    assert _bench_processes() <= before  # every process of the run was stopped


def test_bad_options_get_a_clear_message(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "smsgw.cli", "bench", "--against", "kannel", "--runs", "0"],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
    )
    assert result.returncode == 2
    assert "--runs" in result.stderr
