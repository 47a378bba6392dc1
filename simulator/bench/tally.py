"""What a bench run counts: the tallies, latency percentiles, progress and the report."""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from simulator.bench.settings import LoadSettings
from simulator.bench.texts import UNRECOGNISED


@dataclass(frozen=True, slots=True)
class Progress:
    elapsed: float
    measuring: bool
    sent: int
    completed: int
    replies: int
    paid_sessions: int
    in_flight: int
    sent_per_s: float  # since the previous report
    replies_per_s: float
    p99_ms: float | None  # of the first replies since the previous report


def percentiles_ms(
    samples: list[float], ranks: tuple[int, ...] = (50, 95, 99)
) -> dict[str, float | int | None]:
    """The given percentiles (nearest rank, p50/p95/p99 unless told) and the maximum of
    latencies in seconds, in milliseconds, with the number of samples."""
    if not samples:
        return {**{f"p{rank}": None for rank in ranks}, "max": None, "samples": 0}
    ordered = sorted(samples)

    def at(rank: int) -> float:
        index = min(len(ordered) - 1, max(0, math.ceil(rank / 100 * len(ordered)) - 1))
        return round(ordered[index] * 1000, 2)

    return {
        **{f"p{rank}": at(rank) for rank in ranks},
        "max": round(ordered[-1] * 1000, 2),
        "samples": len(ordered),
    }


@dataclass(slots=True)
class Tally:
    """Counters; `*_in_window` count only what happened while measuring."""

    sent: Counter[str] = field(default_factory=Counter)
    sent_in_window: int = 0
    replies: int = 0
    replies_in_window: int = 0
    completed: int = 0
    completed_in_window: int = 0
    paid_sessions: int = 0
    paid_in_window: int = 0
    sessions_from_balance: int = 0
    duplicated: int = 0
    unsolicited: int = 0
    unknown_receiver: int = 0
    refused: int = 0
    skipped: int = 0
    retries: int = 0
    outcomes: Counter[str] = field(default_factory=Counter)
    latencies: list[float] = field(default_factory=list)
    paid_latencies: list[float] = field(default_factory=list)
    recent_latencies: list[float] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class LoadReport:
    settings: LoadSettings
    window: float  # seconds actually measured
    tally: Tally
    lost: int
    sending_seconds: float  # warm-up and measured window: the load generator's busy time
    loadgen_cpu_seconds: float
    run_seconds: float  # sending and waiting for the last answers
    loadgen_gc: dict[str, float | int] = field(default_factory=dict)
    lost_examples: list[dict[str, Any]] = field(default_factory=list)
    # parts of a long reply identical to an earlier one to the same phone, under a
    # reference that came round: a phone that drops repeats would not show it
    repeated_parts: int = 0

    def per_second(self, count: int) -> float:
        return round(count / self.window, 1) if self.window > 0 else 0.0

    def to_json(self) -> dict[str, Any]:
        tally, settings = self.tally, self.settings
        return {
            "phones": settings.phones,
            "mode": "max" if settings.rate is None else "rate",
            "target_rate": settings.rate,
            "duration_s": round(self.window, 3),
            "warmup_s": settings.warmup,
            "mix": settings.mix.as_dict(),
            "mo_sent": tally.sent_in_window,
            "mo_per_s": self.per_second(tally.sent_in_window),
            "replies": tally.replies_in_window,
            "replies_per_s": self.per_second(tally.replies_in_window),
            "completed": tally.completed_in_window,
            "completed_per_s": self.per_second(tally.completed_in_window),
            "paid_sessions": tally.paid_in_window,
            "paid_sessions_per_s": self.per_second(tally.paid_in_window),
            "latency_ms": percentiles_ms(tally.latencies),
            "paid_session_latency_ms": percentiles_ms(tally.paid_latencies),
            "lost": self.lost,
            "lost_examples": self.lost_examples,
            "duplicated": tally.duplicated,
            "refused": tally.refused,
            "skipped": tally.skipped,
            "unsolicited": tally.unsolicited,
            "unrecognised": tally.outcomes.get(UNRECOGNISED, 0),
            "mo_retries": tally.retries,
            "repeated_parts": self.repeated_parts,
            "totals": {
                "mo_sent": sum(tally.sent.values()),
                "replies": tally.replies,
                "completed": tally.completed,
                "paid_sessions": tally.paid_sessions,
                "sessions_from_balance": tally.sessions_from_balance,
            },
            "sent_by_command": dict(sorted(tally.sent.items())),
            "replies_by_key": dict(sorted(tally.outcomes.items())),
            "loadgen_cpu_per_s": round(self.loadgen_cpu_seconds / self.sending_seconds, 3)
            if self.sending_seconds > 0
            else None,
            "loadgen_gc": self.loadgen_gc,
        }
