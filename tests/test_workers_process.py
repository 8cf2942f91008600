"""Worker-only hosts as real processes (real Docker): an API that judges nothing
(``serve --no-workers``) and ``codeexec worker`` processes on one database. Jobs spread
over the workers, each job names the worker that ran it, and a worker killed with
SIGKILL mid-job loses nothing: its lease runs out and another worker judges the job."""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import aiohttp
import docker
import pytest

from tests.conftest import CodeexecProcess as Process
from tests.conftest import sandboxes_of
from tests.test_jobs_process import SUM, all_done, events_of

SUM_PROGRAM = "a, b = map(int, input().split())\nprint(a + b)"
SLEEPY = "import time\ntime.sleep({s})\na, b = map(int, input().split())\nprint(a + b)"


@pytest.fixture
def hosts(tmp_path: Path, docker_engine: docker.DockerClient) -> Iterator[Any]:
    """``hosts(database_url)`` -> (start_api, start_worker)."""
    started: list[Process] = []
    instances: list[str] = []

    def on(database_url: str) -> tuple[Any, Any]:
        common = {
            "CODEEXEC_DATABASE_URL": database_url,
            "CODEEXEC_LANGUAGES": "python",
            "CODEEXEC_JOB_POLL_S": "0.1",
            "CODEEXEC_JOB_LEASE_S": "3",  # a lost worker's job is queued again within ~5 s
            "CODEEXEC_DRAIN_TIMEOUT_S": "10",
            "CODEEXEC_BUILD_IMAGES": os.environ.get("CODEEXEC_BUILD_IMAGES", "startup"),
        }

        def api() -> Process:
            env = common | {"CODEEXEC_INSTANCE_NAME": f"api-{uuid.uuid4().hex[:8]}"}
            process = Process(["serve", "--no-workers"], "--port", env, tmp_path / "api.log")
            started.append(process)
            return process

        def worker(**env: str) -> Process:
            instance = f"worker-{uuid.uuid4().hex[:8]}"  # one per process on this engine
            instances.append(instance)
            values = common | {"CODEEXEC_INSTANCE_NAME": instance, "CODEEXEC_CONCURRENCY": "1"}
            log = tmp_path / f"{instance}.log"
            process = Process(["worker"], "--health-port", values | env, log)
            started.append(process)
            return process

        return api, worker

    yield on
    for process in started:
        process.stop()
    for instance in instances:
        for cid in sandboxes_of(docker_engine, instance):  # a killed worker's container
            docker_engine.api.remove_container(cid, force=True)


async def submit(url: str, sleep_s: float, count: int) -> list[str]:
    async with aiohttp.ClientSession() as session:
        ids = []
        for _ in range(count):
            body = {"problem_id": SUM, "source": SLEEPY.format(s=sleep_s)}
            async with session.post(f"{url}/api/v1/submissions", json=body) as response:
                assert response.status == 202, await response.text()
                ids.append((await response.json())["id"])
        return ids


async def running_job(url: str, ids: list[str]) -> dict[str, Any]:
    async with aiohttp.ClientSession() as session:
        for _ in range(400):
            async with session.get(f"{url}/api/v1/submissions/batch?ids={','.join(ids)}") as r:
                running = [s for s in (await r.json())["items"] if s["status"] == "running"]
            if running:
                return dict(running[0])
            await asyncio.sleep(0.05)
    raise AssertionError("no job started")


async def test_jobs_spread_over_workers_and_survive_a_killed_one(
    hosts: Any, mysql_url: str
) -> None:
    start_api, start_worker = hosts(mysql_url)
    api = start_api()
    await api.wait_ready()  # migrates the database first: the workers find it set up
    a, b = start_worker(), start_worker()
    ready_a, _ = await asyncio.gather(a.wait_ready(), b.wait_ready())
    assert ready_a["jobs"]["workers"] == 1 and ready_a["docker"] is True
    names = {f"{os.uname().nodename}:{a.proc.pid}": a, f"{os.uname().nodename}:{b.proc.pid}": b}

    async with aiohttp.ClientSession() as session:
        async with session.get(f"{api.url}/readyz") as r:
            assert (await r.json())["jobs"]["workers"] == 0  # the API judges nothing itself
        # /exec too is judged by a worker, answered in its own shape.
        async with session.post(f"{api.url}/exec", json={"id": SUM, "code": SUM_PROGRAM}) as r:
            body = await r.json()
            assert r.status == 200, body
            assert body["passed"] is True and body["hiddenTests"] == {"failed": 0, "passed": 2}

    ids = await submit(api.url, 0.3, 8)
    finished = await all_done(api.url, ids)
    assert all(s["status"] == "finished" and s["verdict"] == "AC" for s in finished)
    assert {s["worker"] for s in finished} == set(names)  # both workers judged some

    # One worker dies mid-job: nothing is lost, nothing is judged twice.
    ids = await submit(api.url, 2, 4)
    victim = await running_job(api.url, ids)
    killed = names[victim["worker"]]
    (survivor_name,) = set(names) - {victim["worker"]}
    killed.proc.kill()  # SIGKILL: no drain, no release
    killed.proc.wait()
    finished = await all_done(api.url, ids, within_s=180)
    assert all(s["status"] == "finished" and s["verdict"] == "AC" for s in finished)
    assert {s["worker"] for s in finished} == {survivor_name}  # it ran the lost one too
    requeued = 0
    for sid in ids:
        kinds = await events_of(api.url, sid)
        assert kinds.count("finished") == 1 and kinds[-1] == "finished"
        assert kinds.count("started") == kinds.count("requeued") + 1
        requeued += kinds.count("requeued")
    assert requeued == 1  # the job the dead worker held
    lost = next(s for s in finished if s["id"] == victim["id"])
    assert lost["attempts"] == 2


async def test_one_api_and_one_worker_share_a_sqlite_file(hosts: Any, tmp_path: Path) -> None:
    start_api, start_worker = hosts(f"sqlite:///{tmp_path / 'shared.sqlite3'}")
    api = start_api()
    await api.wait_ready()
    worker = start_worker(CODEEXEC_WORKER_NAME="bench-7")
    await worker.wait_ready()
    ids = await submit(api.url, 0, 5)
    finished = await all_done(api.url, ids)
    assert all(s["status"] == "finished" and s["verdict"] == "AC" for s in finished)
    assert {s["worker"] for s in finished} == {"bench-7"}
    async with (
        aiohttp.ClientSession() as session,
        session.get(f"{api.url}/api/v1/submissions/{ids[0]}/events") as r,
    ):
        started = [e for e in (await r.json())["events"] if e["kind"] == "started"]
    assert started[0]["data"] == {"worker": "bench-7"}
