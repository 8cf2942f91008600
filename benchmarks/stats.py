"""Percentiles and the per-way summary every benchmark table is made of."""

from __future__ import annotations

import statistics
from typing import Any


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[index]


def summarise(raw: dict[str, Any], tests: int) -> dict[str, float]:
    """``raw``: one way's ``latencies`` (s per submission, one client) and ``load``
    (tests judged and seconds taken by the concurrent clients)."""
    latencies = raw["latencies"]
    p50 = percentile(latencies, 50)
    return {
        "p50_ms": p50 * 1000,
        "p95_ms": percentile(latencies, 95) * 1000,
        "tests_per_s_1": tests / statistics.mean(latencies),
        "tests_per_s_n": raw["load"]["tests"] / raw["load"]["seconds"],
    }
