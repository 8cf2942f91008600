"""Jobs across real processes: a service killed with SIGKILL mid-queue loses nothing
when it starts again, two services sharing one MariaDB never judge a job twice, and a
frozen job whose service was killed stays paused, released, and runs anew on resume."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import aiohttp
import docker
import pytest

from tests.conftest import sandboxes_of
from tests.test_pause import paused_containers
from tests.test_service_process import ServiceProcess

SUM = "HQ000000000000000001"
SLOWISH = "import time\ntime.sleep(0.2)\na, b = map(int, input().split())\nprint(a + b)"


@pytest.fixture
def services(tmp_path: Path, docker_engine: docker.DockerClient) -> Iterator[Any]:
    started: list[tuple[ServiceProcess, str]] = []

    def start(instance: str, **env: str) -> ServiceProcess:
        values = {
            "CODEEXEC_DATABASE_URL": f"sqlite:///{tmp_path / 'jobs.sqlite3'}",
            "CODEEXEC_INSTANCE_NAME": instance,
            "CODEEXEC_LANGUAGES": "python",
            "CODEEXEC_CONCURRENCY": "1",
            "CODEEXEC_JOB_POLL_S": "0.1",
            "CODEEXEC_JOB_LEASE_S": "3",
            "CODEEXEC_DRAIN_TIMEOUT_S": "10",
        }
        values.update(env)
        service = ServiceProcess(values, tmp_path / f"{instance}.log")
        started.append((service, instance))
        return service

    yield start
    for service, _ in started:
        service.stop()
    for _, instance in started:
        assert sandboxes_of(docker_engine, instance) == []


async def submit_many(url: str, count: int) -> list[str]:
    async with aiohttp.ClientSession() as session:
        ids = []
        for _ in range(count):
            body = {"problem_id": SUM, "source": SLOWISH}
            async with session.post(f"{url}/api/v1/submissions", json=body) as response:
                assert response.status == 202
                ids.append((await response.json())["id"])
        return ids


async def all_done(url: str, ids: list[str], within_s: float = 120) -> list[dict[str, Any]]:
    async with aiohttp.ClientSession() as session:
        for _ in range(int(within_s / 0.2)):
            async with session.get(f"{url}/api/v1/submissions/batch?ids={','.join(ids)}") as r:
                items = (await r.json())["items"]
            if len(items) == len(ids) and all(s["done"] for s in items):
                return list(items)
            await asyncio.sleep(0.2)
    raise AssertionError("not every job finished")


async def events_of(url: str, sid: str) -> list[str]:
    async with (
        aiohttp.ClientSession() as session,
        session.get(f"{url}/api/v1/submissions/{sid}/events") as response,
    ):
        return [e["kind"] for e in (await response.json())["events"]]


async def test_sigkill_loses_no_job_and_judges_none_twice(services: Any) -> None:
    instance = f"test-{uuid.uuid4().hex[:8]}"
    first = services(instance)
    await first.wait_ready()
    ids = await submit_many(first.url, 6)
    async with aiohttp.ClientSession() as session:
        for _ in range(200):  # one is running, the rest wait
            async with session.get(f"{first.url}/api/v1/submissions?status=running") as r:
                if (await r.json())["total"]:
                    break
            await asyncio.sleep(0.05)
    first.proc.kill()  # SIGKILL: no drain, no cleanup
    first.proc.wait()

    second = services(instance)  # the same instance: its strays and jobs are its own
    await second.wait_ready()
    finished = await all_done(second.url, ids)
    assert all(s["status"] == "finished" and s["verdict"] == "AC" for s in finished)
    requeued = 0
    for sid in ids:
        kinds = await events_of(second.url, sid)
        assert kinds.count("finished") == 1 and kinds[-1] == "finished"
        # A job that was running when the service died was queued again, then judged.
        assert kinds.count("started") == kinds.count("requeued") + 1
        requeued += kinds.count("requeued")
    assert requeued == 1  # the one that was running
    assert sum(s["attempts"] for s in finished) >= len(ids)


async def test_two_services_share_one_database(services: Any, mysql_url: str) -> None:
    a = services(f"test-a-{uuid.uuid4().hex[:6]}", CODEEXEC_DATABASE_URL=mysql_url)
    b = services(f"test-b-{uuid.uuid4().hex[:6]}", CODEEXEC_DATABASE_URL=mysql_url)
    await asyncio.gather(a.wait_ready(), b.wait_ready())
    ids = await submit_many(a.url, 10)
    finished = await all_done(b.url, ids)  # both see every job
    assert all(s["status"] == "finished" and s["verdict"] == "AC" for s in finished)
    for sid in ids:
        kinds = await events_of(a.url, sid)
        assert kinds == ["queued", "started", "test", "test", "test", "test", "finished"]
    async with aiohttp.ClientSession() as session:
        workers = set()
        for sid in ids:
            async with session.get(f"{a.url}/api/v1/submissions/{sid}/events") as r:
                started = [e for e in (await r.json())["events"] if e["kind"] == "started"]
                workers.add(started[0]["data"]["worker"])
    assert len(workers) == 2, workers  # both processes judged some of them


async def test_sigterm_puts_unfinished_jobs_back(services: Any) -> None:
    instance = f"test-{uuid.uuid4().hex[:8]}"
    first = services(instance, CODEEXEC_DRAIN_TIMEOUT_S="1")
    await first.wait_ready()
    slow = "import time\ntime.sleep(2)\na, b = map(int, input().split())\nprint(a + b)"
    async with aiohttp.ClientSession() as session:
        body = {"problem_id": SUM, "source": slow}
        async with session.post(f"{first.url}/api/v1/submissions", json=body) as response:
            sid = (await response.json())["id"]
        for _ in range(200):
            async with session.get(f"{first.url}/api/v1/submissions/{sid}") as r:
                if (await r.json())["status"] == "running":
                    break
            await asyncio.sleep(0.05)
    first.stop()  # SIGTERM: the job cannot finish within the 1 s drain
    assert first.proc.returncode == 0
    second = services(instance)
    await second.wait_ready()
    (done,) = await all_done(second.url, [sid])
    assert done["verdict"] == "AC"
    kinds = await events_of(second.url, sid)
    assert kinds[:3] == ["queued", "started", "requeued"] and kinds.count("finished") == 1


NAPPING = "import time\ntime.sleep(3)\na, b = map(int, input().split())\nprint(a + b)"


async def _post(url: str, path: str) -> dict[str, Any]:
    async with aiohttp.ClientSession() as session, session.post(url + path) as response:
        assert response.status in (200, 202), await response.text()
        return dict(await response.json())


async def _until(check: Any, within_s: float = 30) -> None:
    for _ in range(int(within_s / 0.1)):
        if await check():
            return
        await asyncio.sleep(0.1)
    raise AssertionError("never happened")


async def test_a_frozen_job_outlives_its_killed_service_paused(
    services: Any, docker_engine: docker.DockerClient
) -> None:
    """Both ways a frozen job's worker is lost (docs/decisions.md): its instance starts
    again while the lease still runs, or another instance finds the lease run out. The
    job stays paused, released; resumed, it runs from its start."""
    a, b = f"test-{uuid.uuid4().hex[:8]}", f"test-{uuid.uuid4().hex[:8]}"

    async def freeze_one(service: Any, instance: str) -> str:
        async with aiohttp.ClientSession() as session:
            body = {"problem_id": SUM, "source": NAPPING}
            async with session.post(f"{service.url}/api/v1/submissions", json=body) as r:
                sid = str((await r.json())["id"])

            async def running() -> bool:
                async with session.get(f"{service.url}/api/v1/submissions/{sid}") as r:
                    return (await r.json())["status"] == "running"

            await _until(running)
        await _post(service.url, f"/api/v1/submissions/{sid}/pause")

        async def frozen() -> bool:
            return paused_containers(docker_engine, instance) > 0

        await _until(frozen)
        return sid

    async def released(url: str, sid: str) -> bool:
        async with (
            aiohttp.ClientSession() as session,
            session.get(f"{url}/api/v1/submissions/{sid}") as response,
        ):
            job = await response.json()
        return job["status"] == "paused" and job["state"] == "NOT_STARTED"

    first = services(a)
    await first.wait_ready()
    kept = await freeze_one(first, a)
    first.proc.kill()  # SIGKILL while the job is frozen, its lease still running
    first.proc.wait()
    again = services(a)  # restarted at once: what it held is released, its strays go
    await again.wait_ready()
    assert await released(again.url, kept)
    assert (await events_of(again.url, kept))[-1] == "released"

    lost = await freeze_one(again, a)
    again.proc.kill()
    again.proc.wait()
    other = services(b)  # another instance: its reaper finds the lease run out (3 s)
    await other.wait_ready()
    await _until(lambda: released(other.url, lost))
    for sid in (kept, lost):
        await _post(other.url, f"/api/v1/submissions/{sid}/resume")
    finished = await all_done(other.url, [kept, lost])
    assert [(s["verdict"], s["attempts"]) for s in finished] == [("AC", 2), ("AC", 2)]
    # The killed instance starting again removes its frozen stray (checked at the end).
    await services(a).wait_ready()
