"""The hostile-code suite (cases in tests/hostile/*.toml), through the real HTTP API and
the real Docker engine. Every case also checks the post-conditions all cases share:
no container left behind, an honest submission still passes, and (for output floods)
the service's memory grew by no more than its output cap. Cases marked ``jobs = true``
are also judged through the jobs API, with the same verdicts expected."""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import docker
import pytest
import pytest_asyncio
from aiohttp.test_utils import TestClient, TestServer

from codeexec.http.app import make_app
from codeexec.http.keys import STORE
from tests.conftest import (
    assert_only_warm_containers,
    base_settings,
    docker_client,
    sandboxes_of,
)
from tests.hostile_cases import CASES, OUTPUT_CAP_MB, problem_of, source_of

pytestmark = pytest.mark.asyncio(loop_scope="module")

JOB_CASES = [case for case in CASES if case.get("jobs")]
HONEST = {"code": "x = input()\nprint(x.lower())", "id": "HQ000000000000000002"}
RSS_SLACK_MB = 48


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmRSS")


@pytest.fixture(scope="module")
def engine() -> docker.DockerClient:
    return docker_client()


@pytest.fixture(scope="module")
def instance() -> str:
    return f"hostile-{uuid.uuid4().hex[:8]}"


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def client(
    engine: docker.DockerClient, instance: str, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[TestClient[Any, Any]]:
    database = tmp_path_factory.mktemp("hostile") / "store.sqlite3"
    used = tuple(sorted({case.get("language", "python") for case in CASES}))
    settings = base_settings(
        database_url=f"sqlite:///{database}", instance_name=instance, languages=used
    )
    test_client: TestClient[Any, Any] = TestClient(TestServer(make_app(settings)))
    await test_client.start_server()
    for case in CASES:
        await test_client.app[STORE].save(*problem_of(case))
    yield test_client
    await test_client.close()
    assert sandboxes_of(engine, instance) == []


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
async def test_hostile_case(
    case: dict[str, Any],
    client: TestClient[Any, Any],
    engine: docker.DockerClient,
    instance: str,
) -> None:
    problem, tests = problem_of(case)
    before = rss_mb()
    payload = {
        "code": source_of(case),
        "id": problem.id,
        "language": case.get("language", "python"),
    }
    latencies: list[float] = []

    async def watch_healthz() -> None:
        while True:
            started = time.monotonic()
            await (await client.get("/healthz")).read()
            latencies.append(time.monotonic() - started)
            await asyncio.sleep(0.1)

    watcher = asyncio.create_task(watch_healthz()) if "healthz_max_s" in case else None
    response = await client.post("/exec", json=payload)
    text = await response.text()
    assert response.status == case.get("status", 200), text[:500]
    if watcher is not None:  # the program must not stall the service's event loop
        watcher.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await watcher
        assert latencies and max(latencies) < case["healthz_max_s"], f"/healthz: {latencies}"

    if response.status == 200:
        body = await response.json()
        shown = iter(body["shownTests"])
        hidden_expected = {"passed": 0, "failed": 0}
        for test, allowed in zip(tests, case["verdicts"], strict=True):
            if test.hidden:
                hidden_expected["passed" if allowed == ["AC"] else "failed"] += 1
            else:
                got = next(shown)
                assert got["verdict"] in allowed, (
                    f"{got['verdict']} not in {allowed}: {str(got)[:300]}"
                )
        assert body["hiddenTests"] == hidden_expected
        if "got_contains" in case:
            assert case["got_contains"] in body["shownTests"][0]["got"]
        if "error_contains" in case:
            assert case["error_contains"] in body["error"]
    if "response_lacks" in case:
        assert case["response_lacks"] not in text

    # Shared post-conditions.
    await assert_only_warm_containers(client.app, engine, instance)
    if case.get("rss_bound"):
        grown = rss_mb() - before
        assert grown < OUTPUT_CAP_MB + RSS_SLACK_MB, f"service RSS grew {grown:.0f} MB"
    honest = await client.post("/exec", json=HONEST)
    assert honest.status == 200 and (await honest.json())["passed"] is True


@pytest.mark.parametrize("case", JOB_CASES, ids=[c["name"] for c in JOB_CASES])
async def test_hostile_case_as_a_job(
    case: dict[str, Any],
    client: TestClient[Any, Any],
    engine: docker.DockerClient,
    instance: str,
) -> None:
    problem, _ = problem_of(case)
    payload = {
        "problem_id": problem.id,
        "language": case.get("language", "python"),
        "source": source_of(case),
    }
    response = await client.post("/api/v1/submissions?wait=true", json=payload)
    text = await response.text()
    assert response.status == 200, text[:500]
    body = await response.json()
    assert body["status"] == "finished", text[:500]
    verdicts = [r["verdict"] for r in body["results"]]
    for got, allowed in zip(verdicts, case["verdicts"], strict=True):
        assert got in allowed, f"{got} not in {allowed}: {text[:300]}"
    if "response_lacks" in case:
        assert case["response_lacks"] not in text
    await assert_only_warm_containers(client.app, engine, instance)


async def test_hostile_neighbours_do_not_disturb_an_honest_submission(
    client: TestClient[Any, Any],
) -> None:
    hostile = [
        {
            "code": source_of(c),
            "id": f"hostile-{c['name']}",
            "language": c.get("language", "python"),
        }
        for c in CASES
        if c["name"] in ("fork_bomb_c", "memory_bomb_loop_python", "busy_loop", "stdout_flood_1gb")
    ]
    attacks = [asyncio.create_task(client.post("/exec", json=p)) for p in hostile]
    honest = await client.post("/exec", json=HONEST)
    assert honest.status == 200
    body = await honest.json()
    assert body["passed"] is True
    assert all(t["verdict"] == "AC" for t in body["shownTests"])
    for attack in attacks:
        assert (await attack).status == 200
