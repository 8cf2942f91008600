"""``python -m benchmarks throughput``: codeexec as a percentage of the floor.

Runs only the floor and codeexec (no peers) on the same workload, and prints per
language: the floor's and codeexec's tests per second with N concurrent clients,
codeexec's as a percentage of the floor's, the one-client p50 ratio (codeexec / floor)
and ``/healthz`` p99 under that load. ``--check BASELINE`` fails (exit 1) when a ratio
regressed by more than 30 % relative to the baseline: the percentage of the floor below
0.7 x the baseline's, or the p50 ratio above 1.3 x the baseline's. Ratios, not absolute
figures, so a slower or busier machine moves both sides.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import docker

from benchmarks import floor
from benchmarks.service import REPO, Beside, run_codeexec
from benchmarks.stats import summarise
from benchmarks.workload import WORKLOADS, Workload

RESULTS = REPO / "benchmarks" / "results" / "throughput.json"
BASELINE = REPO / "benchmarks" / "baseline.json"
TOLERANCE = 0.3  # relative regression of a ratio that fails the check
# 10 sequential submissions, not 5: the p50 of 5 moved C's p50 ratio by ~20 % between
# two runs on a busy 2-core machine, close to the 30 % the check allows.
QUICK = {"submissions": 10, "load_submissions": 48}
FULL = {"submissions": 20, "load_submissions": 250}
RUNS_ONLY = "floor, runs only"

Summary = dict[str, dict[str, dict[str, float]]]  # language -> way -> figures


def summaries(raw: Mapping[str, Mapping[str, Any]]) -> Summary:
    """Each way's summary per language; for a compiled language also the floor without
    its compile step (``floor, runs only``: the floor of tables before the compile was
    counted)."""
    out: Summary = {}
    for language, ways in raw.items():
        work = next(w for w in WORKLOADS if w.language == language)
        out[language] = {}
        for way, r in ways.items():
            out[language][way] = summarise(r, len(work.tests))
            if way == "floor" and work.compile:  # the row after the floor's
                out[language][RUNS_ONLY] = summarise(r["runs_only"], len(work.tests))
    return out


def ratios(summary: Summary, service: Mapping[str, Any]) -> dict[str, dict[str, float]]:
    """Per language measured by codeexec: its throughput as a percentage of the floor's
    (N clients), its one-client p50 over the floor's, and ``/healthz`` p99 under load."""
    out: dict[str, dict[str, float]] = {}
    for language, ways in summary.items():
        if "codeexec" not in ways:
            continue
        f, c = ways["floor"], ways["codeexec"]
        bare = ways.get(RUNS_ONLY, f)
        out[language] = {
            "floor_tests_per_s": f["tests_per_s_n"],
            "codeexec_tests_per_s": c["tests_per_s_n"],
            "pct_of_floor": 100 * c["tests_per_s_n"] / f["tests_per_s_n"],
            "floor_p50_ms": f["p50_ms"],
            "codeexec_p50_ms": c["p50_ms"],
            "p50_ratio": c["p50_ms"] / f["p50_ms"],
            "healthz_p99_ms": service[language]["healthz_p99_ms"],
            "runs_only_floor_tests_per_s": bare["tests_per_s_n"],
            "runs_only_floor_p50_ms": bare["p50_ms"],
        }
    return out


def check(
    measured: Mapping[str, Mapping[str, float]],
    baseline: Mapping[str, Mapping[str, float]],
    tolerance: float = TOLERANCE,
) -> list[str]:
    """What regressed (empty: nothing did). A language of the baseline must be measured
    and one measured must be in the baseline (else the baseline is stale: regenerate)."""
    failures = []
    for language, base in baseline.items():
        got = measured.get(language)
        if got is None:
            failures.append(f"{language}: in the baseline but not measured")
            continue
        least = (1 - tolerance) * base["pct_of_floor"]
        if got["pct_of_floor"] < least:
            failures.append(
                f"{language}: throughput {got['pct_of_floor']:.1f} % of the floor, below "
                f"{least:.1f} % ({1 - tolerance:.1f} x the baseline's {base['pct_of_floor']:.1f} %)"
            )
        most = (1 + tolerance) * base["p50_ratio"]
        if got["p50_ratio"] > most:
            failures.append(
                f"{language}: p50 {got['p50_ratio']:.2f} x the floor's, above {most:.2f} "
                f"({1 + tolerance:.1f} x the baseline's {base['p50_ratio']:.2f})"
            )
    for language in sorted(set(measured) - set(baseline)):
        failures.append(f"{language}: measured but not in the baseline (regenerate it)")
    return failures


def table(figures: Mapping[str, Mapping[str, float]], clients: int) -> str:
    rows = [
        f"| language | floor tests/s ({clients} clients) | codeexec tests/s | % of floor "
        "| p50 floor ms | p50 codeexec ms | p50 ratio | /healthz p99 ms |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for language, r in figures.items():
        rows.append(
            f"| {language} | {r['floor_tests_per_s']:.1f} | {r['codeexec_tests_per_s']:.1f} | "
            f"{r['pct_of_floor']:.1f} | {r['floor_p50_ms']:.0f} | {r['codeexec_p50_ms']:.0f} | "
            f"{r['p50_ratio']:.2f} | {r['healthz_p99_ms']:.1f} |"
        )
    return "\n".join(rows)


def commit() -> str:
    """This checkout's commit, ``+dirty`` when tracked files differ from it."""
    git = ["git", "-C", str(REPO)]
    head = subprocess.run([*git, "rev-parse", "--short", "HEAD"], capture_output=True, text=True)
    if head.returncode != 0:
        return "unknown"
    dirty = subprocess.run(
        [*git, "status", "--porcelain", "--untracked-files=no"], capture_output=True, text=True
    ).stdout.strip()
    return head.stdout.strip() + ("+dirty" if dirty else "")


def sandbox_images(client: docker.DockerClient) -> dict[str, str]:
    """Each workload's sandbox image, as the service names it; they must exist."""
    from codeexec.config import Settings

    prefix = Settings().sandbox.image_prefix
    images = {w.language: f"{prefix}/{w.language}:latest" for w in WORKLOADS}
    for image in images.values():
        client.images.get(image)  # built by `codeexec images build` or a first `make run`
    return images


def parse_env(pairs: Sequence[str], option: str = "--env") -> dict[str, str]:
    env = {}
    for pair in pairs:
        name, equals, value = pair.partition("=")
        if not equals or not name:
            raise ValueError(f"{option} wants NAME=VALUE, got {pair!r}")
        env[name] = value
    return env


def parse(argv: Sequence[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks throughput",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help=f"CI-sized (~2-3 min on 2 cores): {QUICK['submissions']} sequential and "
        f"{QUICK['load_submissions']} load submissions per language",
    )
    parser.add_argument("--submissions", type=int, help="sequential submissions per way")
    parser.add_argument(
        "--load-submissions", type=int, help="submissions per language under load, per way"
    )
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument(
        "--env",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="a setting for the service (repeatable), e.g. CODEEXEC_CONCURRENCY=4",
    )
    parser.add_argument("--check", type=Path, metavar="BASELINE", help="fail on a regression")
    parser.add_argument("--out", type=Path, default=RESULTS)
    parser.add_argument(
        "--write-baseline", type=Path, metavar="FILE", help="save this run's ratios as a baseline"
    )
    args = parser.parse_args(argv)
    sizes = QUICK if args.quick else FULL
    for name, default in sizes.items():
        if getattr(args, name) is None:
            setattr(args, name, default)
    try:
        args.env = parse_env(args.env)
    except ValueError as exc:
        parser.error(str(exc))
    return args


def floor_of(
    client: docker.DockerClient, submissions: int, load_submissions: int, clients: int
) -> Beside:
    """The floor of a workload, sized like codeexec's run (as many submissions under
    load)."""
    images = sandbox_images(client)
    per_client = floor.load_repetitions(load_submissions, clients)

    def measure(work: Workload) -> dict[str, Any]:
        print(f"floor, {work.language} ...", flush=True)
        return floor.measure(client, images[work.language], work, submissions, clients, per_client)

    return measure


def floor_and_codeexec(
    client: docker.DockerClient,
    submissions: int,
    load_submissions: int,
    clients: int,
    env: Mapping[str, str],
) -> tuple[dict[str, dict[str, Any]], dict[str, Any]]:
    """Per language the floor, then codeexec right after it (raw figures per language
    and way, and the service's own figures)."""
    measure_floor = floor_of(client, submissions, load_submissions, clients)
    service = run_codeexec(submissions, load_submissions, clients, env, beside=measure_floor)
    raw = {
        w.language: {"floor": service["beside"][w.language], "codeexec": service[w.language]}
        for w in WORKLOADS
    }
    return raw, service


def baseline_from(report: Mapping[str, Any]) -> dict[str, Any]:
    settings = report["settings"]
    quick = {k: settings[k] for k in QUICK} == QUICK
    command = "python -m benchmarks throughput" + (" --quick" if quick else "")
    return {
        "measured": (
            f"{command} on {report['date']} at commit {report['commit']}, "
            f"{report['machine']['cpus']} CPUs, Docker {report['machine']['docker']}"
        ),
        "settings": settings,
        "tolerance": TOLERANCE,
        "languages": {
            language: {name: round(value, 3) for name, value in figures.items()}
            for language, figures in report["ratios"].items()
        },
    }


def main(argv: Sequence[str]) -> int:
    args = parse(argv)
    baseline = json.loads(args.check.read_text()) if args.check else None
    client = docker.from_env()
    raw, service = floor_and_codeexec(
        client, args.submissions, args.load_submissions, args.clients, args.env
    )
    summary = summaries(raw)
    figures = ratios(summary, service)
    report = {
        "date": datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "commit": commit(),
        "machine": {"cpus": os.cpu_count(), "docker": client.version().get("Version")},
        "settings": {
            "clients": args.clients,
            "submissions": args.submissions,
            "load_submissions": args.load_submissions,
            "env": args.env,
        },
        "ratios": figures,
        "healthz_p99_ms": max(r["healthz_p99_ms"] for r in figures.values()),
        "summary": summary,
        "raw": raw,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2))
    print()
    print(table(figures, args.clients))
    print(f"\nresults: {args.out}")
    status = 0
    if baseline is not None:
        if baseline.get("settings") != report["settings"]:
            print(f"note: the baseline was measured with {baseline.get('settings')}")
        failures = check(figures, baseline["languages"])
        for failure in failures:
            print(f"REGRESSION {failure}", flush=True)
        print(f"check against {args.check}: {'FAILED' if failures else 'passed'}")
        status = 1 if failures else 0
    if args.write_baseline:
        args.write_baseline.write_text(json.dumps(baseline_from(report), indent=2) + "\n")
        print(f"baseline written: {args.write_baseline}")
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
