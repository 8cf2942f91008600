"""The service as a real process: MySQL backend, graceful shutdown, crash recovery."""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import aiohttp
import docker
import pytest

from tests.conftest import CodeexecProcess, sandboxes_of

SEED_REQUEST = {"code": "x = input()\nprint(x.lower())", "id": "HQ000000000000000002"}
SLOW_REQUEST = {
    "code": "import time\ntime.sleep(1.5)\nprint(input().lower())",
    "id": "HQ000000000000000002",
}


def ServiceProcess(env: dict[str, str], log: Path) -> CodeexecProcess:
    """``codeexec serve`` on a free port."""
    return CodeexecProcess(["serve"], "--port", env, log)


@pytest.fixture
def spawn(tmp_path: Path, instance_name: str, docker_engine: docker.DockerClient) -> Iterator[Any]:
    started: list[ServiceProcess] = []

    def start(**env: str) -> ServiceProcess:
        values = {
            "CODEEXEC_DATABASE_URL": f"sqlite:///{tmp_path / 'svc.sqlite3'}",
            "CODEEXEC_INSTANCE_NAME": instance_name,
            "CODEEXEC_DRAIN_TIMEOUT_S": "30",
            "CODEEXEC_LANGUAGES": "python,c",
        }
        values.update(env)
        service = ServiceProcess(values, tmp_path / "service.log")
        started.append(service)
        return service

    yield start
    for service in started:
        service.stop()
    # Guarantee 1: nothing of the instance outlives its (last) service.
    assert sandboxes_of(docker_engine, instance_name) == []


async def post(url: str, payload: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    async with aiohttp.ClientSession() as session, session.post(f"{url}/exec", json=payload) as r:
        return r.status, await r.json()


async def start_slow_submission(
    service: ServiceProcess, engine: docker.DockerClient, instance: str
) -> asyncio.Task[tuple[int, dict[str, Any]]]:
    """POST a submission that sleeps, and return once it is being judged."""
    task = asyncio.create_task(post(service.url, SLOW_REQUEST))
    async with aiohttp.ClientSession() as session:
        for _ in range(200):
            async with session.get(f"{service.url}/readyz") as response:
                if (await response.json())["execution"]["running"]:
                    assert sandboxes_of(engine, instance)
                    return task
            await asyncio.sleep(0.05)
    raise AssertionError("the submission never started")


async def test_exec_against_mysql(spawn: Any, mysql_url: str, docker_engine: Any) -> None:
    service = spawn(CODEEXEC_DATABASE_URL=mysql_url)
    await service.wait_ready()
    status, body = await post(service.url, SEED_REQUEST)
    assert status == 200
    assert body["passed"] is True
    assert body["hiddenTests"] == {"failed": 0, "passed": 2}


async def test_sigterm_drains_in_flight_requests(
    spawn: Any, docker_engine: docker.DockerClient, instance_name: str
) -> None:
    service = spawn()
    await service.wait_ready()
    in_flight = await start_slow_submission(service, docker_engine, instance_name)
    service.proc.send_signal(signal.SIGTERM)
    await asyncio.sleep(0.3)
    # New connections are refused (or answered 503) while the drain runs.
    try:
        status, body = await post(service.url, SEED_REQUEST)
        assert status == 503 and "shutting down" in body["error"]
    except aiohttp.ClientConnectionError:
        pass
    status, body = await in_flight
    assert status == 200 and body["passed"] is True
    assert await asyncio.to_thread(service.proc.wait, 60) == 0
    assert sandboxes_of(docker_engine, instance_name) == []


async def test_sigint_exits_cleanly(spawn: Any) -> None:
    service = spawn()
    await service.wait_ready()
    service.proc.send_signal(signal.SIGINT)
    assert await asyncio.to_thread(service.proc.wait, 60) == 0


async def test_containers_left_by_a_killed_service_are_removed_at_start(
    spawn: Any, docker_engine: docker.DockerClient, instance_name: str
) -> None:
    service = spawn()
    await service.wait_ready()
    in_flight = await start_slow_submission(service, docker_engine, instance_name)
    service.proc.kill()  # SIGKILL: no cleanup runs
    service.proc.wait()
    with pytest.raises(aiohttp.ClientError):
        await in_flight
    strays = set(sandboxes_of(docker_engine, instance_name))
    assert strays  # the used container (and the warm ones) are still there
    restarted = spawn()
    await restarted.wait_ready()
    assert strays.isdisjoint(sandboxes_of(docker_engine, instance_name))
    status, body = await post(restarted.url, SEED_REQUEST)
    assert status == 200 and body["passed"] is True


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmRSS")


async def test_service_memory_stays_flat_under_a_1gb_flood(spawn: Any) -> None:
    service = spawn(
        CODEEXEC_DEFAULT_OUTPUT_LIMIT_KB="16384", CODEEXEC_DEFAULT_TIME_LIMIT_MS="10000"
    )
    await service.wait_ready()
    await post(service.url, SEED_REQUEST)  # warm up
    before = rss_mb(service.proc.pid)
    flood = (
        "import sys\nc = b'x' * (1 << 20)\nfor _ in range(1024):\n    sys.stdout.buffer.write(c)\n"
    )
    for _ in range(3):
        status, body = await post(service.url, {"code": flood, "id": "HQ000000000000000002"})
        assert status == 200 and body["shownTests"][0]["verdict"] == "OLE"
    grown = rss_mb(service.proc.pid) - before
    # 3 GB printed; the service may hold about one capped output (16 MB) plus copies.
    assert grown < 48, f"service RSS grew {grown:.0f} MB"
