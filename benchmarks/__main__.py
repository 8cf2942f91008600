"""``python -m benchmarks``: codeexec against its peers, in one run on one machine.

The same workload (a Python and a C problem, 10 tests each, trivial correct solutions)
and the same images go through:

1. codeexec's ``POST /exec`` over HTTP, end to end (the service as its own process);
2. a container per test via the Docker SDK (seed 004's design);
3. epicbox, one ``epicbox.run`` per test (in its own virtual environment);
4. the floor: each test as a bare process inside one already running container.

It prints one table (p50/p95 latency per submission, tests per second with 1 and N
concurrent clients, ratio to the floor), and reports ``/healthz`` latency under load,
the service's idle and loaded RSS, and containers left afterwards. Results go to
``benchmarks/results/latest.json`` and the chart to ``docs/benchmarks.png``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import aiohttp
import docker

from benchmarks import container_per_test, floor
from benchmarks.workload import WORKLOADS, Workload
from codeexec.config import Settings
from codeexec.model import Problem, TestCase
from codeexec.store.engine import create_engine, migrate
from codeexec.store.problems import ProblemStore

REPO = Path(__file__).resolve().parent.parent
RESULTS = REPO / "benchmarks" / "results" / "latest.json"
CHART = REPO / "docs" / "benchmarks.png"
EPICBOX_VENV = REPO / ".venv-epicbox"
EPICBOX_PINS = ("docker<7", "urllib3<2", "requests<2.32")
INSTANCE = "benchmark"
ONE_CLIENT_PAUSE_S = 0.5


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[index]


def summarise(raw: dict[str, Any], tests: int) -> dict[str, float]:
    latencies = raw["latencies"]
    p50 = percentile(latencies, 50)
    return {
        "p50_ms": p50 * 1000,
        "p95_ms": percentile(latencies, 95) * 1000,
        "tests_per_s_1": tests / statistics.mean(latencies),
        "tests_per_s_n": raw["load"]["tests"] / raw["load"]["seconds"],
    }


# --- codeexec over HTTP ---------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


async def seed_problems(database_url: str) -> None:
    engine = create_engine(database_url)
    await migrate(engine)
    store = ProblemStore(engine, 0)
    for work in WORKLOADS:
        tests = [TestCase(i.encode(), o.encode()) for i, o in work.tests]
        await store.save(Problem(id=work.problem_id, screening={work.language: []}), tests)
    await engine.dispose()


async def codeexec_submission(session: aiohttp.ClientSession, url: str, work: Workload) -> float:
    payload = {"code": work.source, "id": work.problem_id, "language": work.language}
    started = time.perf_counter()
    async with session.post(f"{url}/exec", json=payload) as response:
        body = await response.json()
    elapsed = time.perf_counter() - started
    assert response.status == 200 and body["passed"], body
    return elapsed


async def measure_codeexec(
    url: str, pid: int, work: Workload, submissions: int, load_submissions: int, clients: int
) -> dict[str, Any]:
    async with aiohttp.ClientSession() as session:
        for _ in range(3):  # warm-up: images cached, pool full
            await codeexec_submission(session, url, work)
        await asyncio.sleep(1)
        latencies = []
        for _ in range(submissions):
            latencies.append(await codeexec_submission(session, url, work))
            # One client submitting now and then: the engine has time to replace the
            # container the submission used. Back-to-back load is the N-client run.
            await asyncio.sleep(ONE_CLIENT_PAUSE_S)

        health: list[float] = []
        peak_rss = 0.0
        done = asyncio.Event()

        async def probe() -> None:
            nonlocal peak_rss
            while not done.is_set():
                started = time.perf_counter()
                async with session.get(f"{url}/healthz") as response:
                    await response.read()
                health.append(time.perf_counter() - started)
                peak_rss = max(peak_rss, rss_mb(pid))
                await asyncio.sleep(0.02)

        queue: asyncio.Queue[int] = asyncio.Queue()
        for i in range(load_submissions):
            queue.put_nowait(i)

        async def client() -> None:
            while not queue.empty():
                queue.get_nowait()
                await codeexec_submission(session, url, work)

        prober = asyncio.create_task(probe())
        started = time.perf_counter()
        await asyncio.gather(*(client() for _ in range(clients)))
        elapsed = time.perf_counter() - started
        done.set()
        await prober
    return {
        "latencies": latencies,
        "load": {"tests": load_submissions * len(work.tests), "seconds": elapsed},
        "healthz_p99_ms": percentile(health, 99) * 1000,
        "healthz_max_ms": max(health) * 1000,
        "loaded_rss_mb": peak_rss,
    }


async def wait_ready(url: str) -> None:
    async with aiohttp.ClientSession() as session:
        for _ in range(600):
            try:
                async with session.get(f"{url}/readyz") as response:
                    if response.status == 200:
                        return
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.2)
    raise RuntimeError("codeexec did not become ready")


async def measure_service(url: str, pid: int, args: argparse.Namespace) -> dict[str, Any]:
    await wait_ready(url)
    await asyncio.sleep(2)  # let the warm pool fill
    results: dict[str, Any] = {"idle_rss_mb": rss_mb(pid)}
    for work in WORKLOADS:
        results[work.language] = await measure_codeexec(
            url, pid, work, args.submissions, args.load_submissions, args.clients
        )
    return results


def run_codeexec(args: argparse.Namespace) -> dict[str, Any]:
    """Start codeexec as its own process on a fresh SQLite store and measure it."""
    workdir = Path(tempfile.mkdtemp(prefix="codeexec-bench-"))
    database_url = f"sqlite:///{workdir / 'bench.sqlite3'}"
    asyncio.run(seed_problems(database_url))
    port = free_port()
    env = {
        **os.environ,
        "CODEEXEC_DATABASE_URL": database_url,
        "CODEEXEC_INSTANCE_NAME": INSTANCE,
        "CODEEXEC_SEED_DEMO_PROBLEMS": "false",
        "CODEEXEC_LOG_LEVEL": "WARNING",
        # The judge is measured, not the per-caller limiter (all clients share 127.0.0.1).
        "CODEEXEC_RATE_LIMIT_PER_S": "0",
    }
    with (workdir / "service.log").open("wb") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "codeexec", "serve", "--port", str(port)],
            cwd=REPO,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            return asyncio.run(measure_service(f"http://127.0.0.1:{port}", proc.pid, args))
        finally:
            proc.terminate()
            proc.wait(timeout=120)


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
        ways = list(next(iter(summary.values())))
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
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks",
        description=__doc__,
        epilog="python -m benchmarks queue --help: the job queue alone, on MariaDB",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--submissions", type=int, default=20, help="sequential submissions per way"
    )
    parser.add_argument(
        "--load-submissions",
        type=int,
        default=250,
        help="codeexec submissions per language under load",
    )
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument(
        "--ways",
        default="floor,codeexec,container-per-test,epicbox",
        help="comma-separated subset to run (floor is always run: ratios need it)",
    )
    args = parser.parse_args()
    selected = set(args.ways.split(",")) | {"floor"}

    settings = Settings()
    images = {w.language: f"{settings.sandbox.image_prefix}/{w.language}:latest" for w in WORKLOADS}
    client = docker.from_env()
    for image in images.values():
        client.images.get(image)  # built by `codeexec images build` or a first `make run`

    raw: dict[str, dict[str, Any]] = {w.language: {} for w in WORKLOADS}
    print("floor ...", flush=True)
    for work in WORKLOADS:
        raw[work.language]["floor"] = floor.measure(
            client, images[work.language], work, args.submissions, args.clients
        )
    service: dict[str, Any] = {}
    if "codeexec" in selected:
        print("codeexec ...", flush=True)
        service = run_codeexec(args)
        for work in WORKLOADS:
            raw[work.language]["codeexec"] = service[work.language]
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
    summary = {
        lang: {way: summarise(r, len(WORKLOADS[0].tests)) for way, r in ways.items()}
        for lang, ways in raw.items()
    }
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
        "codeexec": codeexec_report,
        "raw": raw,
    }
    RESULTS.write_text(json.dumps(report, indent=2))
    print()
    print(table(summary, args.clients))
    c = report["codeexec"]
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
