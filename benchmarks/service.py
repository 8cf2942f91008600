"""codeexec measured over HTTP: the service started as its own process from this
checkout on a fresh SQLite store, the workload's problems seeded, then one client and
N concurrent clients submitting to ``POST /exec`` while ``/healthz`` is probed."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import aiohttp

from benchmarks.stats import percentile
from benchmarks.workload import ONE_CLIENT_PAUSE_S, WORKLOADS, Workload
from codeexec.model import Problem, TestCase
from codeexec.store.engine import create_engine, migrate
from codeexec.store.problems import ProblemStore

REPO = Path(__file__).resolve().parent.parent
INSTANCE = "benchmark"


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
        tests = [
            TestCase(i.encode(), o.encode(), hidden=work.is_hidden(n))
            for n, (i, o) in enumerate(work.tests)
        ]
        await store.save(Problem(id=work.problem_id, screening={work.language: []}), tests)
    await engine.dispose()


async def codeexec_submission(session: aiohttp.ClientSession, url: str, work: Workload) -> float:
    payload = {"code": work.source, "id": work.problem_id, "language": work.language}
    started = time.perf_counter()
    async with session.post(f"{url}/exec", json=payload) as response:
        body = await response.json()
    elapsed = time.perf_counter() - started
    assert response.status == 200 and body["passed"], body
    # The problem is stored as a real one is: samples shown, the rest hidden.
    assert body["shownPassed"] == work.shown, body
    assert body["hiddenTests"] == {"passed": work.hidden, "failed": 0}, body
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


Beside = Callable[[Workload], dict[str, Any]]


async def measure_service(
    url: str,
    pid: int,
    submissions: int,
    load_submissions: int,
    clients: int,
    beside: Beside | None = None,
) -> dict[str, Any]:
    await wait_ready(url)
    await asyncio.sleep(2)  # let the warm pool fill
    results: dict[str, Any] = {"idle_rss_mb": rss_mb(pid), "beside": {}}
    for work in WORKLOADS:
        if beside is not None:  # the service idle meanwhile
            results["beside"][work.language] = await asyncio.to_thread(beside, work)
        print(f"codeexec, {work.language} ...", flush=True)
        results[work.language] = await measure_codeexec(
            url, pid, work, submissions, load_submissions, clients
        )
    return results


@contextmanager
def codeexec_process(
    instance: str = INSTANCE, extra_env: Mapping[str, str] | None = None
) -> Iterator[tuple[str, int]]:
    """codeexec as its own process on a fresh SQLite store with the workload's problems:
    its URL and PID, stopped afterwards. ``extra_env``: more ``CODEEXEC_*`` settings
    (an A/B from one checkout); they win over the benchmark's own."""
    workdir = Path(tempfile.mkdtemp(prefix="codeexec-bench-"))
    database_url = f"sqlite:///{workdir / 'bench.sqlite3'}"
    asyncio.run(seed_problems(database_url))
    port = free_port()
    env = {
        **os.environ,
        "CODEEXEC_DATABASE_URL": database_url,
        "CODEEXEC_INSTANCE_NAME": instance,
        "CODEEXEC_SEED_DEMO_PROBLEMS": "false",
        "CODEEXEC_LOG_LEVEL": "WARNING",
        # The judge is measured, not the per-caller limiter (all clients share 127.0.0.1).
        "CODEEXEC_RATE_LIMIT_PER_S": "0",
        # Only the measured languages: with all of them offered, filling every language's
        # warm pool after startup keeps the engine busy for many seconds and the first
        # measurements wait behind it (Python p50 ~1.1 s instead of ~0.18 s, 2026-11-30).
        "CODEEXEC_LANGUAGES": ",".join(w.language for w in WORKLOADS),
        **(extra_env or {}),
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
            yield f"http://127.0.0.1:{port}", proc.pid
        except Exception:
            print(f"codeexec's log: {workdir / 'service.log'}", file=sys.stderr, flush=True)
            raise
        finally:
            proc.terminate()
            proc.wait(timeout=120)


def run_codeexec(
    submissions: int,
    load_submissions: int,
    clients: int,
    extra_env: Mapping[str, str] | None = None,
    beside: Beside | None = None,
) -> dict[str, Any]:
    """Start codeexec as its own process (``codeexec_process``) and measure it.
    ``beside(workload)``: measured just before codeexec on each workload (the floor, so
    that what else the shared machine does drifts less between the two), its results
    under ``beside``."""
    with codeexec_process(extra_env=extra_env) as (url, pid):
        return asyncio.run(
            measure_service(url, pid, submissions, load_submissions, clients, beside)
        )
