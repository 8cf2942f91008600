"""``/metrics`` of the real service (real Docker, SQLite): submissions through every door
(``/exec``, the jobs API, runs, Judge0, Piston) each counted once, with their tests,
times, HTTP routes and containers; admin-only unless ``CODEEXEC_METRICS_PUBLIC``; the
build info names the engine."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from typing import Any

import docker
import pytest
import pytest_asyncio
from aiohttp.test_utils import TestClient

from codeexec.http.keys import SANDBOXES
from tests.conftest import started_service
from tests.scrape import Samples, delta, parse, total

pytestmark = [pytest.mark.docker, pytest.mark.asyncio(loop_scope="module")]

Client = TestClient[Any, Any]
ADMIN = {"Authorization": "Bearer root"}
PROBLEM = "HQ000000000000000002"  # the demo problem: 4 tests, print the line in lower case
AC = "print(input().lower())"
WA = "print(input())"  # every test has a capital letter
CE_C = "int main(void) { return x; }"


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def client(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Client]:
    service = await started_service(
        tmp_path_factory.mktemp("metrics"), "metrics", languages=("python", "c"),
        auth="on", admin_token="root", job_poll_s=0.05,
    )  # fmt: skip
    yield service
    await service.close()


async def scrape(client: Client) -> Samples:
    # What served a submission is removed after the response, and the pool refilled:
    # counted once done.
    factory = client.app[SANDBOXES]
    await factory.removals_done()
    if factory.pool is not None:
        await factory.pool.settled()
    response = await client.get("/metrics", headers=ADMIN)
    assert response.status == 200
    return parse(await response.text())


async def post(client: Client, path: str, body: dict[str, Any], status: int = 200) -> Any:
    response = await client.post(path, json=body, headers=ADMIN)
    answer = await response.json()
    assert response.status == status, answer
    return answer


async def test_every_door_counts_each_submission_once(
    client: Client, docker_engine: docker.DockerClient
) -> None:
    before = await scrape(client)
    for code, language in ((AC, "python"), (WA, "python"), (CE_C, "c")):
        await post(client, "/exec", {"id": PROBLEM, "code": code, "language": language})
    jobs = [
        await post(
            client,
            "/api/v1/submissions?wait=true",
            {"problem_id": PROBLEM, "source": code, "language": language},
        )
        for code, language in ((AC, "python"), (WA, "python"), (CE_C, "c"))
    ]
    assert [j["verdict"] for j in jobs] == ["AC", "WA", "CE"]
    run = await post(client, "/api/v1/runs?wait=true", {"language": "python", "source": "print(1)"})
    judge0 = await post(
        client, "/judge0/submissions?wait=true", {"source_code": "print(1)", "language_id": 71}, 201
    )
    piston = await post(
        client,
        "/piston/api/v2/execute",
        {"language": "python", "version": "*", "files": [{"content": "print(1)"}]},
    )
    assert (run["verdict"], judge0["status"]["id"], piston["run"]["code"]) == ("AC", 3, 0)
    found = await client.get(f"/api/v1/submissions/{jobs[0]['id']}", headers=ADMIN)
    assert found.status == 200
    after = await scrape(client)

    def d(name: str, **labels: str) -> float:
        return delta(before, after, name, **labels)

    # Submissions: three doors' AC, and /exec's and the jobs API's WA and CE: nine, once each.
    assert d("codeexec_submissions_total") == 9
    assert d("codeexec_submissions_total", language="python", verdict="AC") == 5
    assert d("codeexec_submissions_total", language="python", verdict="WA") == 2
    assert d("codeexec_submissions_total", language="c", verdict="CE") == 2
    # Tests: the problem's four per submission, a run's one.
    assert d("codeexec_tests_total", language="python", verdict="AC") == 2 * 4 + 3
    assert d("codeexec_tests_total", language="python", verdict="WA") == 2 * 4
    assert d("codeexec_tests_total", language="c", verdict="CE") == 2 * 4
    # Histograms: every submission timed, each python test's run, the two C compiles;
    # /exec waited for a slot three times, six jobs for a worker.
    assert d("codeexec_submission_seconds_count") == 9
    assert d("codeexec_test_run_seconds_count", language="python") == 2 * 4 + 2 * 4 + 3
    assert d("codeexec_test_run_seconds_count", language="c") == 0
    assert d("codeexec_compile_seconds_count", language="c") == 2
    assert d("codeexec_compile_seconds_sum", language="c") > 0
    assert d("codeexec_queue_wait_seconds_count", queue="exec") == 3
    assert d("codeexec_queue_wait_seconds_count", queue="jobs") == 6
    # HTTP, by route template and status.
    requests = "codeexec_http_requests_total"
    assert d(requests, method="POST", route="/exec", status="200") == 3
    assert d(requests, method="POST", route="/api/v1/submissions", status="200") == 3
    assert d(requests, method="GET", route="/api/v1/submissions/{sid}", status="200") == 1
    assert d(requests, method="POST", route="/api/v1/runs", status="200") == 1
    assert d(requests, method="POST", route="/judge0/submissions", status="201") == 1
    assert d(requests, method="POST", route="/piston/api/v2/execute", status="200") == 1
    latency = "codeexec_http_request_duration_seconds_count"
    assert d(latency, route="/exec") == 3
    assert not any(jobs[0]["id"] in str(labels) for _, labels in after)
    # Containers: each submission's work took a container, made for it or for the warm
    # pool, or one given back by an earlier submission (reset and checked clean); a C
    # compile error too ran its compiler in one.
    created = d("codeexec_containers_created_total")
    reused = d("codeexec_containers_reused_total")
    assert reused >= 1 and created + reused >= 9
    # Live state, read when scraped.
    assert total(after, "codeexec_jobs_queued") == 0
    assert total(after, "codeexec_jobs_running") == 0
    assert total(after, "codeexec_job_workers_alive") == 2  # CODEEXEC_CONCURRENCY
    assert ("codeexec_pool_idle_containers", frozenset({("language", "python")})) in after
    # The engine this service drives.
    info = docker_engine.info()
    [build] = [dict(labels) for name, labels in after if name == "codeexec_build_info"]
    assert build["engine_version"] == info["ServerVersion"]
    assert build["cgroup_version"] == str(info["CgroupVersion"])
    assert build["engine"] == "Docker" and build["version"] != "unknown"


async def test_a_stream_counts_until_it_began_not_how_long_it_ran(client: Client) -> None:
    slow = "import time\ntime.sleep(0.5)\nprint(input().lower())"
    job = await post(
        client, "/api/v1/submissions", {"problem_id": PROBLEM, "source": slow}, status=202
    )
    before = await scrape(client)
    started = time.monotonic()
    stream = await client.get(
        f"/api/v1/submissions/{job['id']}/events",
        headers=ADMIN | {"Accept": "text/event-stream"},
    )
    assert b"event: finished" in await stream.read()
    lasted = time.monotonic() - started
    after = await scrape(client)
    route = "/api/v1/submissions/{sid}/events"
    count = "codeexec_http_request_duration_seconds_count"
    assert delta(before, after, count, route=route) == 1
    measured = delta(before, after, "codeexec_http_request_duration_seconds_sum", route=route)
    assert lasted > 1.5  # four tests of half a second each
    assert measured < 0.5 * lasted


async def test_metrics_need_the_admin_token_when_auth_is_on(client: Client) -> None:
    before = await scrape(client)
    assert (await client.get("/metrics")).status == 401
    assert (await client.get("/metrics", headers={"Authorization": "Bearer nope"})).status == 401
    after = await scrape(client)
    requests = "codeexec_http_requests_total"
    assert delta(before, after, requests, route="/metrics", status="401") == 2


async def test_metrics_public_opens_them_without_a_token(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    service = await started_service(
        tmp_path_factory.mktemp("public"), "metrics-public", languages=("python",),
        auth="on", admin_token="root", metrics_public=True, pool_size=0,
    )  # fmt: skip
    try:
        response = await service.get("/metrics")
        assert response.status == 200
        samples = parse(await response.text())
        [build] = [dict(labels) for name, labels in samples if name == "codeexec_build_info"]
        assert build["engine_version"] not in ("", "unknown")
        # Everything else still needs a token.
        assert (await service.get("/api/v1/submissions")).status == 401
    finally:
        await service.close()
