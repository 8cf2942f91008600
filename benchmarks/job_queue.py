"""``python -m benchmarks queue``: the jobs per second the job queue alone sustains.

Judging is faked (no containers; ``--judge-ms`` of sleep, by default none), so what is
measured is the store's side of a job: enqueue it the way the API does
(``SubmissionStore.create``), then claim, finish and (while it runs) renew it the way
the job runner does (``JobQueue``; see ``benchmarks/queue_host.py``), against MariaDB in
a database of its own (``<db>_tq<pid>``, dropped afterwards), optionally SQLite too.

Per worker count: enqueue ``--jobs`` jobs (``--enqueue-clients`` at a time), then
let that many workers drain them; printed are jobs/s, claim latency p50/p99, the
database server's and the workers' CPU time per job (when the server runs here), and
that every job finished exactly once (its ``finished`` events, and the finishes the
workers saw accepted). Workers are asyncio tasks, ``--per-process`` (16) to a process
as in one service process with 16 job workers; 64 workers are four processes, as a
deployment with that many would run (one process's workers share one interpreter and
one connection pool).

Lease recovery: a worker claims jobs and dies (never renews nor finishes them); the
time until live workers have finished them all, per lease length, with the runner's
reaper (every lease/2); afterwards the dead worker's late finishes must be refused.

Results: ``benchmarks/results/queue.json``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import math
import multiprocessing
import os
import platform
import queue
import random
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import func, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine

from benchmarks.queue_host import DONE, Host
from codeexec.store.engine import async_url, create_engine, migrate
from codeexec.store.schema import submission_events
from codeexec.store.submissions import SubmissionStore

REPO = Path(__file__).resolve().parent.parent
RESULTS = REPO / "benchmarks" / "results" / "queue.json"
DEFAULT_MYSQL = os.environ.get(
    "CODEEXEC_TEST_MYSQL_URL", "mysql://codeexec:codeexec@127.0.0.1:3306/codeexec"
)
FILES = (("main.py", "print(input())\n"),)
POLL_S = 0.5  # the runner's default job_poll_s
THROUGHPUT_LEASE_S = 30.0  # the default job_lease_s


def percentile(values: Sequence[float], q: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, math.ceil(q / 100 * len(ordered)) - 1))
    return ordered[index]


def account(
    enqueued: Sequence[str], accepted: Sequence[str], events: dict[str, int]
) -> dict[str, int]:
    """Exactly once: every enqueued job has one ``finished`` event and one accepted
    finish. ``events``: finished events per job id (as the database holds them)."""
    mine = set(enqueued)
    lost = sum(1 for sid in mine if events.get(sid, 0) == 0 or sid not in accepted)
    twice = sum(1 for sid in mine if events.get(sid, 0) > 1)
    twice += len(accepted) - len(set(accepted))  # a finish accepted twice
    strays = len(set(accepted) - mine)  # finished, yet never enqueued here
    return {"jobs": len(mine), "lost": lost, "finished_twice": twice, "strays": strays}


async def finished_events(engine: AsyncEngine) -> dict[str, int]:
    query = (
        select(submission_events.c.submission_id, func.count())
        .where(submission_events.c.kind == "finished")
        .group_by(submission_events.c.submission_id)
    )
    async with engine.connect() as conn:
        return {str(sid): int(n) for sid, n in (await conn.execute(query)).all()}


# --- the database ---------------------------------------------------------------------


@contextmanager
def fresh_database(url: str) -> Iterator[str]:
    """A database of this run's own, dropped afterwards: SQLite in a temporary folder;
    on MySQL/MariaDB ``<db>_tq<pid>`` next to the given one (the provisioned user may
    create ``codeexec_t*``)."""
    if make_url(url).get_backend_name() == "sqlite":
        with tempfile.TemporaryDirectory(prefix="codeexec-qbench-") as folder:
            yield f"sqlite:///{folder}/queue.sqlite3"
        return
    base = make_url(url)
    name = f"{base.database or 'codeexec'}_tq{os.getpid()}"
    asyncio.run(_server_sql(url, f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4"))
    try:
        yield base.set(database=name).render_as_string(hide_password=False)
    finally:
        asyncio.run(_server_sql(url, f"DROP DATABASE IF EXISTS `{name}`"))


async def _server_sql(url: str, statement: str) -> None:
    engine = create_engine(url)
    try:
        async with engine.begin() as conn:
            await conn.execute(text(statement))
    finally:
        await engine.dispose()


async def _database_facts(url: str) -> dict[str, Any]:
    engine = create_engine(url)
    try:
        await migrate(engine)
        if engine.dialect.name == "sqlite":
            return {"database": "sqlite", "version": engine.dialect.dbapi.sqlite_version}  # type: ignore[union-attr]
        wanted = (
            "version",
            "innodb_flush_log_at_trx_commit",
            "innodb_buffer_pool_size",
            "tx_isolation",  # MariaDB's name
            "transaction_isolation",  # MySQL 8's
            "max_connections",
        )
        names = ", ".join(f"'{name}'" for name in wanted)
        async with engine.connect() as conn:
            rows = await conn.execute(text(f"SHOW VARIABLES WHERE Variable_name IN ({names})"))
            found = {str(name): str(value) for name, value in rows.all()}
        return {
            "database": "mariadb" if "MariaDB" in found["version"] else "mysql",
            **found,
        }
    finally:
        await engine.dispose()


def server_pid(url: str) -> int | None:
    """The local MariaDB/MySQL server's process (its CPU time is read from /proc)."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite" or parsed.host not in (None, "127.0.0.1", "localhost"):
        return None
    for proc in Path("/proc").iterdir():
        try:
            if proc.name.isdigit() and (proc / "comm").read_text().strip() in (
                "mariadbd",
                "mysqld",
            ):
                return int(proc.name)
        except OSError:
            continue
    return None


async def _lock_waits(url: str) -> tuple[int, int] | None:
    """InnoDB's row lock waits so far, and the milliseconds spent in them (server-wide)."""
    engine = create_engine(url)
    try:
        if engine.dialect.name == "sqlite":
            return None
        async with engine.connect() as conn:
            rows = await conn.execute(
                text(
                    "SHOW GLOBAL STATUS WHERE Variable_name IN "
                    "('Innodb_row_lock_waits', 'Innodb_row_lock_time')"
                )
            )
            found = {str(name): int(value) for name, value in rows.all()}
        return found["Innodb_row_lock_waits"], found["Innodb_row_lock_time"]
    finally:
        await engine.dispose()


def cpu_s(pid: int | None) -> float | None:
    if pid is None:
        return None
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


# --- enqueue and drain ----------------------------------------------------------------


def queue_engine(url: str, isolation: str | None) -> AsyncEngine:
    """The store's engine; with ``isolation`` (e.g. READ COMMITTED) instead of the
    server's default, to compare."""
    engine = create_engine(url)
    return engine.execution_options(isolation_level=isolation) if isolation else engine


async def enqueue(
    url: str, jobs: int, clients: int, isolation: str | None
) -> tuple[list[str], float]:
    """``jobs`` jobs queued as the API does, ``clients`` at a time: their ids, seconds."""
    engine = queue_engine(url, isolation)
    store = SubmissionStore(engine)
    ids: list[str] = []
    left = iter(range(jobs))

    async def client() -> None:
        for _ in left:
            made = await store.create(None, "bench", "python", FILES, accepted_version=1)
            ids.append(made.id)

    try:
        started = time.perf_counter()
        await asyncio.gather(*(client() for _ in range(clients)))
        return ids, time.perf_counter() - started
    finally:
        await engine.dispose()


async def _drain(
    url: str, instance: str, workers: int, judge_s: float, isolation: str | None, barrier: Any
) -> dict[str, Any]:
    engine = queue_engine(url, isolation)
    try:
        # Open the connections the workers will use before the clock starts.
        conns = [await engine.connect() for _ in range(min(workers, 10))]
        for conn in conns:
            await conn.close()
        await asyncio.to_thread(barrier.wait)
        cpu = time.process_time()
        host = Host(engine, instance, workers, THROUGHPUT_LEASE_S, POLL_S, judge_s, drain=True)
        await host.run()
        t = host.tally
        return {
            "claim_s": t.claim_s,
            "empty_claims": t.empty_claims,
            "finished": t.finished,
            "first_claim": t.first_claim,
            "last_finish": t.last_finish,
            "cpu_s": time.process_time() - cpu,
            "errors": t.errors,
        }
    finally:
        await engine.dispose()


def _drain_process(
    url: str,
    instance: str,
    workers: int,
    judge_s: float,
    isolation: str | None,
    barrier: Any,
    out: Any,
) -> None:
    out.put(asyncio.run(_drain(url, instance, workers, judge_s, isolation, barrier)))
    out.close()
    out.join_thread()  # the tally is in the pipe before this process ends


def drain(
    url: str, workers: int, per_process: int, judge_s: float, isolation: str | None
) -> list[dict[str, Any]]:
    """Run ``workers`` workers, ``per_process`` to a process, until the queue is empty;
    each process's tally."""
    ctx = multiprocessing.get_context("spawn")
    processes = math.ceil(workers / per_process)
    barrier = ctx.Barrier(processes)  # all have connected: the clock starts
    out = ctx.Queue()
    shares = [workers // processes + (i < workers % processes) for i in range(processes)]
    procs = [
        ctx.Process(
            target=_drain_process,
            args=(url, f"bench-p{i}", share, judge_s, isolation, barrier, out),
        )
        for i, share in enumerate(shares)
    ]
    for proc in procs:
        proc.start()
    tallies: list[dict[str, Any]] = []
    try:
        while len(tallies) < len(procs):
            try:
                tallies.append(out.get(timeout=1))
            except queue.Empty:
                if any(p.exitcode not in (None, 0) for p in procs):
                    raise RuntimeError("a worker process failed") from None
    finally:
        for proc in procs:
            if len(tallies) < len(procs):
                proc.terminate()
            proc.join(timeout=30)
            if proc.is_alive():  # its tally is in: do not wait on a stuck exit
                proc.kill()
    return tallies


def throughput(url: str, workers: int, args: argparse.Namespace, pid: int | None) -> dict[str, Any]:
    sqlite = url.startswith("sqlite")
    # SQLite: one writer, and one process (codeexec serves SQLite from one); concurrent
    # enqueuers there outwait its 5 s busy timeout on a loaded machine ("database is locked").
    clients = 1 if sqlite else args.enqueue_clients
    ids, enqueue_s = asyncio.run(enqueue(url, args.jobs, clients, args.isolation))
    per_process = workers if sqlite else args.per_process
    server_cpu, waits = cpu_s(pid), asyncio.run(_lock_waits(url))
    tallies = drain(url, workers, per_process, args.judge_ms / 1000, args.isolation)
    server_used = None if server_cpu is None else (cpu_s(pid) or 0) - server_cpu
    waited = asyncio.run(_lock_waits(url))
    if waits is not None and waited is not None:
        waits = (waited[0] - waits[0], waited[1] - waits[1])
    seconds = max(t["last_finish"] or 0 for t in tallies) - min(
        t["first_claim"] or math.inf for t in tallies
    )
    claims = [s for t in tallies for s in t["claim_s"]]
    accepted = [sid for t in tallies for sid in t["finished"]]
    events = asyncio.run(_events(url))
    jobs = len(ids)
    return {
        "workers": workers,
        "processes": len(tallies),
        "jobs": jobs,
        "enqueue_per_s": jobs / enqueue_s,
        "jobs_per_s": jobs / seconds,
        "seconds": seconds,
        "claim_p50_ms": percentile(claims, 50) * 1000,
        "claim_p99_ms": percentile(claims, 99) * 1000,
        "empty_claims": sum(t["empty_claims"] for t in tallies),
        "server_cpu_ms_per_job": None if server_used is None else server_used * 1000 / jobs,
        "workers_cpu_ms_per_job": sum(t["cpu_s"] for t in tallies) * 1000 / jobs,
        # row lock waits during the run and their total ms (server-wide: other clients too)
        "row_lock_waits": None if waits is None else waits[0],
        "row_lock_wait_ms": None if waits is None else waits[1],
        # store calls that raised (the job then waits for its lease to run out: without
        # a reaper while draining, it counts as lost)
        "store_errors": sum(len(t["errors"]) for t in tallies),
        "error_samples": sorted({e for t in tallies for e in t["errors"]})[:3],
        **account(ids, accepted, events),
    }


async def _events(url: str) -> dict[str, int]:
    engine = create_engine(url)
    try:
        return await finished_events(engine)
    finally:
        await engine.dispose()


# --- lease recovery -------------------------------------------------------------------


async def recovery(
    url: str, lease_s: float, jobs: int, live_workers: int, isolation: str | None
) -> dict[str, Any]:
    """A worker claims ``jobs`` jobs and dies; the seconds until live workers (and their
    reaper, at a random phase to the death) have finished them all."""
    engine = queue_engine(url, isolation)
    store = SubmissionStore(engine)
    host = Host(engine, "bench-live", live_workers, lease_s, POLL_S, drain=False)
    host.gate.clear()  # the dead worker claims first
    running = asyncio.create_task(host.run())
    try:
        await asyncio.sleep(random.uniform(0, lease_s / 2))
        ids = [(await store.create(None, "bench", "python", FILES)).id for _ in range(jobs)]
        held = [await host.queue.claim("bench-dead", lease_s) for _ in range(jobs)]
        died = time.time()  # its last lease renewal: it never renews nor finishes again
        assert sorted(j.id for j in held if j) == sorted(ids), "the dead worker got other jobs"
        host.gate.set()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(host.finished(ids), 2 * lease_s + 30)
        finished = [host.tally.finished_at[s] for s in ids if s in host.tally.finished_at]
        requeued = [t for t, found in host.tally.requeued if set(found) & set(ids)]
        # The dead worker comes back late: its finishes must be refused.
        late = [await host.queue.finish(s, "bench-dead", DONE) for s in ids]
        accepted = [s for s in host.tally.finished if s in ids]
        accepted += [s for s, done in zip(ids, late, strict=True) if done is not None]
        return {
            "lease_s": lease_s,
            "reap_every_s": lease_s / 2,
            "jobs": jobs,
            "requeued_after_s": (min(requeued) - died) if requeued else None,
            "recovered_after_s": (max(finished) - died) if len(finished) == jobs else None,
            "late_finishes_accepted": sum(1 for d in late if d is not None),
            **account(ids, accepted, await finished_events(engine)),
        }
    finally:
        running.cancel()
        await asyncio.gather(running, return_exceptions=True)
        await engine.dispose()


# --- report ---------------------------------------------------------------------------


def machine() -> dict[str, Any]:
    mem_kb = next(
        int(line.split()[1])
        for line in Path("/proc/meminfo").read_text().splitlines()
        if line.startswith("MemTotal:")
    )
    return {
        "cpus": os.cpu_count(),
        "memory_gib": round(mem_kb / 1024 / 1024, 1),
        "cpu_model": next(
            (
                line.split(":", 1)[1].strip()
                for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")
            ),
            platform.processor(),
        ),
        "python": platform.python_version(),
        "load_at_start": os.getloadavg()[0],
    }


def table(runs: dict[str, list[dict[str, Any]]]) -> str:
    rows = [
        "| database | workers (processes) | jobs | jobs/s | enqueue/s | claim p50 ms "
        "| claim p99 ms | empty claims | lock waits | DB CPU ms/job | workers CPU ms/job "
        "| lost | twice |",
        "| --- " + "| ---: " * 12 + "|",
    ]
    for database, phases in runs.items():
        for p in phases:
            server = p["server_cpu_ms_per_job"]
            rows.append(
                f"| {database} | {p['workers']} ({p['processes']}) | {p['jobs']} "
                f"| {p['jobs_per_s']:.0f} | {p['enqueue_per_s']:.0f} "
                f"| {p['claim_p50_ms']:.1f} | {p['claim_p99_ms']:.1f} | {p['empty_claims']} "
                f"| {'-' if p['row_lock_waits'] is None else p['row_lock_waits']} "
                f"| {'-' if server is None else f'{server:.2f}'} "
                f"| {p['workers_cpu_ms_per_job']:.2f} | {p['lost']} | {p['finished_twice']} |"
            )
    return "\n".join(rows)


def recovery_table(trials: list[dict[str, Any]]) -> str:
    rows = [
        "| lease s | reaper every s | trials | requeued after s | finished after s "
        "| bound (1.5 x lease) | late finishes accepted | lost | twice |",
        "| ---: | ---: | ---: | --- | --- | ---: | ---: | ---: | ---: |",
    ]
    for lease in sorted({t["lease_s"] for t in trials}):
        mine = [t for t in trials if t["lease_s"] == lease]

        def span(key: str, mine: list[dict[str, Any]] = mine) -> str:
            values = [t[key] for t in mine if t[key] is not None]
            if len(values) < len(mine):
                return "never (timed out)"
            return f"{min(values):.2f} - {max(values):.2f}"

        rows.append(
            f"| {lease:g} | {lease / 2:g} | {len(mine)} | {span('requeued_after_s')} "
            f"| {span('recovered_after_s')} | {lease * 1.5:g} "
            f"| {sum(t['late_finishes_accepted'] for t in mine)} "
            f"| {sum(t['lost'] for t in mine)} | {sum(t['finished_twice'] for t in mine)} |"
        )
    return "\n".join(rows)


def parse(argv: Sequence[str]) -> argparse.Namespace:
    doc = __doc__ or ""
    parser = argparse.ArgumentParser(prog="python -m benchmarks queue", description=doc)
    parser.add_argument("--database-url", default=DEFAULT_MYSQL, help="MySQL/MariaDB server")
    parser.add_argument("--sqlite", action="store_true", help="also SQLite, for comparison")
    parser.add_argument("--workers", default="1,4,16,64", help="worker counts")
    parser.add_argument("--per-process", type=int, default=16, help="workers per process")
    parser.add_argument("--jobs", type=int, default=1000, help="jobs per worker count")
    parser.add_argument("--enqueue-clients", type=int, default=8)
    parser.add_argument("--judge-ms", type=float, default=0.0, help="fake judging time")
    parser.add_argument("--leases", default="1,2,5,10,30", help="lease lengths, seconds")
    parser.add_argument("--trials", type=int, default=2, help="recovery trials per lease")
    parser.add_argument("--dead-jobs", type=int, default=4, help="jobs the dead worker held")
    parser.add_argument(
        "--isolation",
        help="transaction isolation for the store's engine, e.g. 'READ COMMITTED' "
        "(default: the server's, as codeexec runs)",
    )
    parser.add_argument("--out", type=Path, default=RESULTS)
    parser.add_argument(
        "--quick", action="store_true", help="CI-sized: 100 jobs, lease 1 s, 2 trials"
    )
    args = parser.parse_args(argv)
    if args.quick:
        args.jobs, args.leases, args.trials = 100, "1", 2
    return args


def run(
    url: str, args: argparse.Namespace
) -> tuple[dict[str, Any], list[dict[str, Any]], list[dict[str, Any]]]:
    """One database: its facts, a throughput phase per worker count, recovery trials."""
    with fresh_database(url) as fresh:
        facts = asyncio.run(_database_facts(fresh))
        pid = server_pid(fresh)
        phases = []
        for workers in (int(w) for w in args.workers.split(",")):
            print(f"{facts['database']}: {workers} worker(s) ...", end=" ", flush=True)
            started = time.perf_counter()
            phases.append(throughput(fresh, workers, args, pid))
            print(
                f"{phases[-1]['jobs_per_s']:.0f} jobs/s ({time.perf_counter() - started:.0f} s)",
                flush=True,
            )
        trials = []
        for lease in (float(s) for s in args.leases.split(",") if s):
            print(f"{facts['database']}: lease {lease:g} s recovery ...", flush=True)
            for _ in range(args.trials):
                trials.append(
                    asyncio.run(recovery(fresh, lease, args.dead_jobs, 4, args.isolation))
                )
    return facts, phases, trials


def main(argv: Sequence[str]) -> int:
    args = parse(argv)
    report: dict[str, Any] = {
        "machine": machine(),
        "settings": {k: v for k, v in vars(args).items() if k not in ("database_url", "out")},
        "databases": {},
    }
    urls = [args.database_url] + (["sqlite://"] if args.sqlite else [])
    runs: dict[str, list[dict[str, Any]]] = {}
    recoveries: dict[str, list[dict[str, Any]]] = {}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    for url in urls:
        async_url(url)  # a bad URL fails here, before any work
        facts, phases, trials = run(url, args)
        name = str(facts["database"])
        report["databases"][name] = {"facts": facts, "throughput": phases, "recovery": trials}
        runs[name], recoveries[name] = phases, trials
        report["machine"]["load_at_end"] = os.getloadavg()[0]  # a shared machine's noise
        args.out.write_text(json.dumps(report, indent=2))  # each database's as it is done
    print()
    print(table(runs))
    for name, trials in recoveries.items():
        print(f"\nlease recovery, {name} ({args.dead_jobs} jobs held by a dead worker):")
        print(recovery_table(trials))
    print(f"\nresults: {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
