"""The throughput smoke's regression rule (``benchmarks.throughput.check``): a ratio may
regress by up to 30 % relative to the committed baseline, not more."""

from __future__ import annotations

import pytest

from benchmarks.service import REPO
from benchmarks.throughput import check, parse, parse_env, ratios

BASELINE = {
    "python": {"pct_of_floor": 40.0, "p50_ratio": 1.2},
    "c": {"pct_of_floor": 10.0, "p50_ratio": 8.0},
}


def scaled(language: str, pct: float = 1.0, p50: float = 1.0) -> dict[str, dict[str, float]]:
    """The baseline with one language's throughput share and p50 ratio scaled."""
    out = {lang: dict(figures) for lang, figures in BASELINE.items()}
    out[language]["pct_of_floor"] *= pct
    out[language]["p50_ratio"] *= p50
    return out


def test_the_baseline_itself_passes() -> None:
    assert check(BASELINE, BASELINE) == []


@pytest.mark.parametrize("language", ["python", "c"])
def test_throughput_share_31_percent_lower_fails_29_percent_lower_passes(language: str) -> None:
    (failure,) = check(scaled(language, pct=0.69), BASELINE)
    assert failure.startswith(f"{language}: throughput") and "of the floor" in failure
    assert check(scaled(language, pct=0.71), BASELINE) == []
    assert check(scaled(language, pct=3.0), BASELINE) == []  # faster is no regression


@pytest.mark.parametrize("language", ["python", "c"])
def test_p50_ratio_31_percent_higher_fails_29_percent_higher_passes(language: str) -> None:
    (failure,) = check(scaled(language, p50=1.31), BASELINE)
    assert failure.startswith(f"{language}: p50")
    assert check(scaled(language, p50=1.29), BASELINE) == []
    assert check(scaled(language, p50=0.5), BASELINE) == []


def test_both_ratios_regressed_are_both_reported() -> None:
    failures = check(scaled("c", pct=0.5, p50=2.0), BASELINE)
    assert len(failures) == 2 and all(f.startswith("c: ") for f in failures)


def test_a_language_missing_from_the_run_fails_by_name() -> None:
    measured = {"python": BASELINE["python"]}
    assert check(measured, BASELINE) == ["c: in the baseline but not measured"]


def test_a_language_missing_from_the_baseline_fails_by_name() -> None:
    measured = {**BASELINE, "java": {"pct_of_floor": 20.0, "p50_ratio": 2.0}}
    (failure,) = check(measured, BASELINE)
    assert failure.startswith("java: measured but not in the baseline")


def test_ratios_are_codeexec_over_the_floor_with_the_runs_only_floor_kept() -> None:
    way = {"p50_ms": 100.0, "p95_ms": 120.0, "tests_per_s_1": 100.0}
    summary = {
        "c": {
            "floor": {**way, "p50_ms": 60.0, "tests_per_s_n": 200.0},
            "floor, runs only": {**way, "p50_ms": 7.0, "tests_per_s_n": 900.0},
            "codeexec": {**way, "p50_ms": 90.0, "tests_per_s_n": 50.0},
        },
        "python": {
            "floor": {**way, "tests_per_s_n": 160.0},
            "codeexec": {**way, "p50_ms": 120.0, "tests_per_s_n": 40.0},
        },
    }
    service = {"c": {"healthz_p99_ms": 20.0}, "python": {"healthz_p99_ms": 30.0}}
    got = ratios(summary, service)
    assert got["c"]["pct_of_floor"] == pytest.approx(25.0)
    assert got["c"]["p50_ratio"] == pytest.approx(1.5)
    assert got["c"]["runs_only_floor_tests_per_s"] == 900.0
    assert got["python"]["pct_of_floor"] == pytest.approx(25.0)
    assert got["python"]["p50_ratio"] == pytest.approx(1.2)
    assert got["python"]["runs_only_floor_tests_per_s"] == 160.0  # no compile: the same
    assert got["python"]["healthz_p99_ms"] == 30.0


def test_options_quick_sizes_explicit_sizes_and_service_settings() -> None:
    quick = parse(["--quick"])
    assert (quick.submissions, quick.load_submissions, quick.clients) == (10, 48, 8)
    sized = parse(["--quick", "--load-submissions", "16", "--env", "A=1", "--env", "B=x=y"])
    assert sized.load_submissions == 16 and sized.env == {"A": "1", "B": "x=y"}
    assert parse([]).load_submissions == 250
    with pytest.raises(ValueError, match="NAME=VALUE"):
        parse_env(["CODEEXEC_SANDBOX_REUSE"])


def test_the_committed_baseline_covers_every_workload() -> None:
    import json

    from benchmarks.workload import WORKLOADS

    baseline = json.loads((REPO / "benchmarks" / "baseline.json").read_text())
    assert baseline["measured"]
    assert set(baseline["languages"]) == {w.language for w in WORKLOADS}
    for figures in baseline["languages"].values():
        assert figures["pct_of_floor"] > 0 and figures["p50_ratio"] > 0


def test_a_compiled_language_gets_the_runs_only_floor_row_after_the_floor() -> None:
    from benchmarks.throughput import summaries

    def way(seconds: float) -> dict[str, object]:
        return {"latencies": [seconds] * 3, "load": {"tests": 100, "seconds": seconds * 10}}

    raw = {
        "python": {"floor": {**way(0.1), "runs_only": way(0.1)}, "codeexec": way(0.2)},
        "c": {"floor": {**way(0.06), "runs_only": way(0.01)}, "codeexec": way(0.1)},
    }
    got = summaries(raw)
    assert list(got["python"]) == ["floor", "codeexec"]  # no compile step: one floor
    assert list(got["c"]) == ["floor", "floor, runs only", "codeexec"]
    assert got["c"]["floor"]["p50_ms"] == pytest.approx(60)
    assert got["c"]["floor, runs only"]["p50_ms"] == pytest.approx(10)
    assert got["c"]["floor, runs only"]["tests_per_s_n"] == pytest.approx(1000)
