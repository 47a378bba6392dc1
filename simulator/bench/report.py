"""The bench report for people: a few lines, and a progress line a second."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, TextIO

from simulator.bench.tally import Progress


def summarise(report: Mapping[str, Any]) -> list[str]:
    """The report as a few lines for people."""
    latency = report["latency_ms"]
    paid = report["paid_session_latency_ms"]
    return [
        f"measured {report['duration_s']} s, {report['phones']} phones, mode {report['mode']}"
        + (f" at {report['target_rate']}/s" if report["target_rate"] else ""),
        f"MO sent        {report['mo_sent']:>9}  {report['mo_per_s']:>9.1f}/s",
        f"answered       {report['completed']:>9}  {report['completed_per_s']:>9.1f}/s",
        f"replies (MT)   {report['replies']:>9}  {report['replies_per_s']:>9.1f}/s",
        f"paid sessions  {report['paid_sessions']:>9}  {report['paid_sessions_per_s']:>9.1f}/s"
        " (pay, operator confirmation, callback, session, reply)",
        f"MO→reply ms    p50 {latency['p50']}  p95 {latency['p95']}  p99 {latency['p99']}"
        f"  max {latency['max']}",
        f"paid session ms p50 {paid['p50']}  p95 {paid['p95']}  p99 {paid['p99']}",
        f"lost {report['lost']}  duplicated {report['duplicated']}  refused {report['refused']}"
        f"  skipped {report['skipped']}  unrecognised {report['unrecognised']}",
    ]


class ProgressPrinter:
    """One line a second: rewritten in place on a terminal, appended otherwise."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.in_place = stream.isatty()
        self._written = False

    def __call__(self, progress: Progress) -> None:
        phase = "measuring" if progress.measuring else "warm-up/drain"
        p99 = "-" if progress.p99_ms is None else f"{progress.p99_ms:.1f}"
        line = (
            f"{progress.elapsed:6.1f}s {phase:13} MO {progress.sent} ({progress.sent_per_s:.0f}/s)"
            f"  replies {progress.replies} ({progress.replies_per_s:.0f}/s)"
            f"  paid {progress.paid_sessions}  open {progress.in_flight}  p99 {p99} ms"
        )
        if self.in_place:
            self.stream.write("\r\x1b[2K" + line)
        else:
            self.stream.write(line + "\n")
        self.stream.flush()
        self._written = True

    def finish(self) -> None:
        if self.in_place and self._written:
            self.stream.write("\n")
            self.stream.flush()


def print_report(report: dict[str, Any], *, as_json: bool) -> None:
    if as_json:
        print(json.dumps(report, ensure_ascii=False))
        return
    for line in summarise(report):
        print(line)
    gateway = report["gateway"]
    print(
        f"gateway CPU {gateway['cpu_per_s']} cores, load generator CPU "
        f"{report['loadgen_cpu_per_s']} cores, storage {report['storage']}, "
        f"gateway warnings {gateway['warnings']}"
    )
