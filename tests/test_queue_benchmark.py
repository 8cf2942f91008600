"""``python -m benchmarks queue --quick`` against MariaDB: sane numbers per worker count,
every job finished exactly once, and a dead worker's jobs recovered within the lease
bound (its late finishes refused)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from benchmarks.job_queue import account

REPO = Path(__file__).resolve().parent.parent


def test_exactly_once_accounting_catches_lost_and_doubled_jobs() -> None:
    ids = ["a", "b", "c"]
    assert account(ids, ["a", "b", "c"], {"a": 1, "b": 1, "c": 1}) == {
        "jobs": 3,
        "lost": 0,
        "finished_twice": 0,
        "strays": 0,
    }
    lost = account(ids, ["a", "b"], {"a": 1, "b": 1})  # c never finished
    assert lost["lost"] == 1 and lost["finished_twice"] == 0
    no_event = account(ids, ["a", "b", "c"], {"a": 1, "b": 1})  # accepted, event missing
    assert no_event["lost"] == 1
    doubled = account(ids, ["a", "b", "c"], {"a": 1, "b": 2, "c": 1})  # two finished events
    assert doubled["finished_twice"] == 1 and doubled["lost"] == 0
    accepted_twice = account(ids, ["a", "b", "c", "c"], {"a": 1, "b": 1, "c": 1})
    assert accepted_twice["finished_twice"] == 1
    assert account(ids, ["a", "b", "c", "x"], {"a": 1, "b": 1, "c": 1})["strays"] == 1


@pytest.mark.mysql
def test_quick_run_on_mariadb(mysql_url: str, tmp_path: Path) -> None:
    out = tmp_path / "queue.json"
    command = ["-m", "benchmarks", "queue", "--quick", "--database-url", mysql_url]
    done = subprocess.run(
        [sys.executable, *command, "--out", str(out)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-4000:]
    report = json.loads(out.read_text())
    assert report["machine"]["cpus"] >= 1
    (name,) = report["databases"]
    assert name in ("mariadb", "mysql")
    run = report["databases"][name]

    phases = run["throughput"]
    assert [p["workers"] for p in phases] == [1, 4, 16, 64]
    assert [p["processes"] for p in phases] == [1, 1, 1, 4]
    for p in phases:
        assert p["jobs"] == 100, p
        assert p["lost"] == 0 and p["finished_twice"] == 0 and p["strays"] == 0, p
        assert p["store_errors"] == 0, p
        assert p["jobs_per_s"] > 0 and p["enqueue_per_s"] > 0 and p["seconds"] > 0, p
        assert 0 < p["claim_p50_ms"] <= p["claim_p99_ms"], p
        assert p["workers_cpu_ms_per_job"] > 0, p
        assert p["jobs_per_s"] * p["seconds"] == pytest.approx(p["jobs"]), p

    trials = run["recovery"]
    assert len(trials) == 2
    for t in trials:
        assert t["lease_s"] == 1.0 and t["jobs"] == 4, t
        assert t["lost"] == 0 and t["finished_twice"] == 0, t
        assert t["late_finishes_accepted"] == 0, t  # the dead worker's finishes refused
        # Not before its lease ran out; within a reaper period after it (plus slack for
        # a loaded machine).
        assert t["requeued_after_s"] is not None and t["recovered_after_s"] is not None, t
        assert 0.9 <= t["requeued_after_s"] <= t["recovered_after_s"] <= 1.5 + 1.5, t
