"""``python -m benchmarks``: codeexec against its peers, in one run on one machine.

The same workload (a Python and a C problem, 10 tests each, trivial correct solutions)
and the same images go through:

1. codeexec's ``POST /exec`` over HTTP, end to end (the service as its own process);
2. a container per test via the Docker SDK (seed 004's design);
3. epicbox, one ``epicbox.run`` per test (in its own virtual environment);
4. the floor: each submission as bare processes inside one already running container
   (the compile step, when the language has one, then the 10 test runs).

Each problem stores its tests as a real one does: 2 shown samples, 8 hidden.
It prints one table (p50/p95 latency per submission, tests per second with 1 and N
concurrent clients, ratio to the floor), then codeexec's throughput as a percentage of
the floor's and its p50 ratio per language, and reports ``/healthz`` latency under load,
the service's idle and loaded RSS, and containers left afterwards. Results go to
``benchmarks/results/latest.json`` and the chart to ``docs/benchmarks.png``.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import docker

from benchmarks import container_per_test, throughput
from benchmarks.service import INSTANCE, REPO
from benchmarks.workload import WORKLOADS

RESULTS = REPO / "benchmarks" / "results" / "latest.json"
CHART = REPO / "docs" / "benchmarks.png"
EPICBOX_VENV = REPO / ".venv-epicbox"
EPICBOX_PINS = ("docker<7", "urllib3<2", "requests<2.32")


# --- epicbox in its own virtual environment -------------------------------------------


def ensure_epicbox() -> Path | None:
    python = EPICBOX_VENV / "bin" / "python"
    if not python.exists():
        print("setting up epicbox in .venv-epicbox ...", flush=True)
        subprocess.run([sys.executable, "-m", "venv", str(EPICBOX_VENV)], check=True)
        installed = subprocess.run(
            [
                str(python),
                "-m",
                "pip",
                "install",
                "--quiet",
                "epicbox",
                "docker<7",
                "urllib3<2",
                "requests<2.32",
            ],
            check=False,
        )
        if installed.returncode != 0:
            return None
    return python


def run_epicbox(args: argparse.Namespace, images: dict[str, str]) -> dict[str, Any] | None:
    python = ensure_epicbox()
    if python is None:
        print("epicbox could not be installed; skipping it", flush=True)
        return None
    spec = {
        "images": images,
        "submissions": args.submissions,
        "clients": args.clients,
        "workloads": [
            {
                "language": w.language,
                "profile": w.language,
                "source": w.source,
                "source_file": w.source_file,
                "compile": w.compile,
                "run": w.run,
                "tests": w.tests,
            }
            for w in WORKLOADS
        ],
    }
    done = subprocess.run(
        [str(python), str(REPO / "benchmarks" / "epicbox_runner.py")],
        input=json.dumps(spec),
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        print(f"epicbox failed:\n{done.stderr[-2000:]}", flush=True)
        return None
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


# --- report ---------------------------------------------------------------------------


def table(summary: dict[str, dict[str, dict[str, float]]], clients: int) -> str:
    rows = [
        "| language | way | p50 ms | p95 ms | tests/s (1 client) "
        f"| tests/s ({clients} clients) | p50 / floor |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for language, ways in summary.items():
        floor_p50 = ways["floor"]["p50_ms"]
        for way, s in ways.items():
            rows.append(
                f"| {language} | {way} | {s['p50_ms']:.0f} | {s['p95_ms']:.0f} | "
                f"{s['tests_per_s_1']:.1f} | {s['tests_per_s_n']:.1f} | "
                f"{s['p50_ms'] / floor_p50:.2f} |"
            )
    return "\n".join(rows)


def chart(summary: dict[str, dict[str, dict[str, float]]]) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(11, 4))
    for ax, metric, title in (
        (axes[0], "p50_ms", "p50 latency per submission (10 tests), ms — lower is better"),
        (axes[1], "tests_per_s_n", "tests per second, concurrent clients — higher is better"),
    ):
        languages = list(summary)
        ways = list(dict.fromkeys(way for lang in languages for way in summary[lang]))
        width = 0.8 / len(ways)
        for i, way in enumerate(ways):
            values = [summary[lang].get(way, {}).get(metric, 0) for lang in languages]
            ax.bar([x + i * width for x in range(len(languages))], values, width, label=way)
        ax.set_xticks([x + width * (len(ways) - 1) / 2 for x in range(len(languages))], languages)
        ax.set_title(title, fontsize=9)
        ax.set_yscale("log")
    axes[0].legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(CHART, dpi=120)


def service_report(service: dict[str, Any], args: argparse.Namespace) -> dict[str, Any]:
    return {
        "idle_rss_mb": service["idle_rss_mb"],
        "loaded_rss_mb": max(service[w.language]["loaded_rss_mb"] for w in WORKLOADS),
        "healthz_p99_ms": max(service[w.language]["healthz_p99_ms"] for w in WORKLOADS),
        "healthz_max_ms": max(service[w.language]["healthz_max_ms"] for w in WORKLOADS),
        "submissions": 2 * (args.submissions + args.load_submissions + 3),
    }


def main() -> int:
    if sys.argv[1:2] == ["queue"]:  # the job queue alone: benchmarks/job_queue.py
        from benchmarks import job_queue

        return job_queue.main(sys.argv[2:])
    if sys.argv[1:2] == ["ab"]:  # one client's latency under two settings, interleaved
        from benchmarks import latency_ab

        return latency_ab.main(sys.argv[2:])
    if sys.argv[1:2] == ["throughput"]:  # floor and codeexec alone, with a regression check
        return throughput.main(sys.argv[2:])
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks",
        description=__doc__,
        epilog="python -m benchmarks queue --help: the job queue alone, on MariaDB; "
        "python -m benchmarks throughput --help: codeexec as a percentage of the floor; "
        "python -m benchmarks ab --help: one client's latency under two settings, interleaved",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--submissions", type=int, default=20, help="sequential submissions per way"
    )
    parser.add_argument(
        "--load-submissions",
        type=int,
        default=250,
        help="submissions per language under load (codeexec and the floor)",
    )
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument(
        "--ways",
        default="floor,codeexec,container-per-test,epicbox",
        help="comma-separated subset to run (floor is always run: ratios need it)",
    )
    args = parser.parse_args()
    selected = set(args.ways.split(",")) | {"floor"}

    client = docker.from_env()
    images = throughput.sandbox_images(client)
    sizes = (args.submissions, args.load_submissions, args.clients)
    service: dict[str, Any] = {}
    if "codeexec" in selected:  # each language's floor measured just before codeexec's
        raw, service = throughput.floor_and_codeexec(client, *sizes, {})
    else:
        measure_floor = throughput.floor_of(client, *sizes)
        raw = {w.language: {"floor": measure_floor(w)} for w in WORKLOADS}
    if "container-per-test" in selected:
        print("container per test ...", flush=True)
        for work in WORKLOADS:
            raw[work.language]["container per test"] = container_per_test.measure(
                client, images[work.language], work, max(3, args.submissions // 4), args.clients
            )
    if "epicbox" in selected:
        print("epicbox ...", flush=True)
        epic = run_epicbox(args, images)
        for work in WORKLOADS:
            if epic is not None:
                raw[work.language]["epicbox"] = epic[work.language]

    left = client.containers.list(all=True, filters={"label": f"codeexec.instance={INSTANCE}"})
    summary = throughput.summaries(raw)
    ratios = throughput.ratios(summary, service) if service else {}
    codeexec_report = service_report(service, args) if service else None
    if codeexec_report is not None:
        codeexec_report["containers_left"] = len(left)
    report: dict[str, Any] = {
        "machine": {"cpus": os.cpu_count(), "docker": client.version().get("Version")},
        "settings": {
            "clients": args.clients,
            "submissions": args.submissions,
            "load_submissions": args.load_submissions,
        },
        "summary": summary,
        "ratios": ratios,
        "codeexec": codeexec_report,
        "raw": raw,
    }
    RESULTS.write_text(json.dumps(report, indent=2))
    print()
    print(table(summary, args.clients))
    c = report["codeexec"]
    print()
    if ratios:
        print(throughput.table(ratios, args.clients))
        print()
    if c:
        print(
            f"codeexec: /healthz p99 {c['healthz_p99_ms']:.1f} ms under load "
            f"(max {c['healthz_max_ms']:.1f}); "
            f"RSS idle {c['idle_rss_mb']:.0f} MB, loaded {c['loaded_rss_mb']:.0f} MB; "
            f"{c['submissions']} submissions, containers left: {c['containers_left']}"
        )
    try:
        chart(summary)
        print(f"chart: {CHART.relative_to(REPO)}; results: {RESULTS.relative_to(REPO)}")
    except ImportError:
        print("matplotlib not installed: no chart (pip install -e '.[bench]')")
    return 0


if __name__ == "__main__":
    sys.exit(main())
