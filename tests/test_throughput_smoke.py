"""``python -m benchmarks throughput --quick --check benchmarks/baseline.json`` on the
real engine: the smoke CI runs so a change that costs codeexec more than 30 % of its
share of the floor (or of its p50 ratio) fails. Ratios to a floor measured in the same
run, so a slower machine moves both sides; the baseline is regenerated with
``--write-baseline`` (docs/benchmarks.md)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from benchmarks.throughput import QUICK
from benchmarks.workload import WORKLOADS

REPO = Path(__file__).resolve().parent.parent

pytestmark = pytest.mark.docker


# A quick run on 2 shared cores moves by up to ~30 % (the floor's p50 too: C's was 51 to
# 77 ms within an hour), about the tolerance itself: a regression is one that a second
# run confirms. A real one (e.g. a fresh container per submission again: Python 18 % of
# the floor against a baseline of 59 %) fails both.
RUNS = 2


def test_quick_throughput_holds_the_baseline(docker_engine: object, tmp_path: Path) -> None:
    out = tmp_path / "throughput.json"
    command = ["-m", "benchmarks", "throughput", "--quick", "--out", str(out)]
    for _ in range(RUNS):
        done = subprocess.run(
            [sys.executable, *command, "--check", "benchmarks/baseline.json"],
            cwd=REPO,
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )
        if done.returncode == 0:
            break
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert "check against benchmarks/baseline.json: passed" in done.stdout
    report = json.loads(out.read_text())
    assert {k: report["settings"][k] for k in QUICK} == QUICK
    assert set(report["ratios"]) == {w.language for w in WORKLOADS}
    for language, r in report["ratios"].items():
        # Each side measured and the ratios made of them (codeexec cannot beat the floor
        # by much: it runs the same processes plus its own work).
        assert r["floor_tests_per_s"] > 0 and r["codeexec_tests_per_s"] > 0, language
        assert r["pct_of_floor"] == pytest.approx(
            100 * r["codeexec_tests_per_s"] / r["floor_tests_per_s"]
        )
        assert 0 < r["pct_of_floor"] < 150, (language, r)
        assert 0.5 < r["p50_ratio"] < 50, (language, r)
        assert 0 < r["healthz_p99_ms"] < 1000, (language, r)
    # C's floor counts its compile: slower than the bare runs measured beside it.
    c = report["ratios"]["c"]
    assert c["floor_p50_ms"] > c["runs_only_floor_p50_ms"]
    assert report["raw"]["c"]["floor"]["runs_only"]["load"]["tests"] > 0


def test_an_interleaved_ab_measures_each_side_under_its_own_settings(
    docker_engine: object, tmp_path: Path
) -> None:
    out = tmp_path / "ab.json"
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks", "ab", "--language", "python", "--submissions", "2",
         "--a", "CODEEXEC_SANDBOX_USES=1", "--out", str(out)],
        cwd=REPO, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    report = json.loads(out.read_text())
    assert report["settings"] == {"a": {"CODEEXEC_SANDBOX_USES": "1"}, "b": {}, "submissions": 2}
    for side in ("a", "b"):
        figures = report["python"][side]
        assert 0 < figures["p25_ms"] <= figures["p50_ms"] <= figures["p75_ms"], report
    # A made a fresh container for every submission; B (the default) reused them.
    assert report["pools"]["a"]["reused"] == 0, report["pools"]
    assert report["pools"]["b"]["reused"] > 0, report["pools"]
    assert "| python | a |" in done.stdout and "| python | b |" in done.stdout
