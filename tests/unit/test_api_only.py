"""``serve --no-workers``: the API without Docker or job workers. Jobs are screened and
queued for ``codeexec worker`` processes, which show on each job as its ``worker``;
``/exec`` is judged the same way and answered in its own shape."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from aiohttp.test_utils import TestClient, TestServer

from codeexec.config import Settings
from codeexec.http.app import make_app
from codeexec.http.keys import DOCKER, JOB_QUEUE, JUDGE
from codeexec.model import Outcome, Result, Status, Verdict

SUM = "HQ000000000000000001"
PROGRAM = "a, b = map(int, input().split())\nprint(a + b)"


async def api_only(tmp_path: Path, **overrides: Any) -> TestClient[Any, Any]:
    settings = Settings(
        database_url=f"sqlite:///{tmp_path / 'api.sqlite3'}",
        languages=("python",),
        screening_workers=1,
        auth="off",
        **overrides,
    )
    client: TestClient[Any, Any] = TestClient(TestServer(make_app(settings, workers=False)))
    await client.start_server()
    return client


async def test_an_api_only_process_queues_jobs_for_workers_elsewhere(tmp_path: Path) -> None:
    client = await api_only(tmp_path)
    try:
        assert DOCKER not in client.app and JUDGE not in client.app  # no engine touched
        ready = await client.get("/readyz")
        body = await ready.json()
        assert ready.status == 200, body
        assert body["docker"] is None and body["pool"] is None
        assert body["jobs"] == {"workers": 0, "running_here": 0, "queued": 0}
        assert body["languages"] == {"python": {"available": True}}

        created = await client.post(
            "/api/v1/submissions", json={"problem_id": SUM, "source": PROGRAM}
        )
        job = await created.json()
        assert created.status == 202, job
        assert (job["status"], job["worker"]) == ("queued", None)
        refused = await client.post(
            "/api/v1/submissions", json={"problem_id": SUM, "source": "eval(input())"}
        )
        assert refused.status == 403  # screened here, before any worker sees it

        # A worker elsewhere claims it: the job says which.
        claimed = await client.app[JOB_QUEUE].claim("rack-2", 30, name="rack-2:4242")
        assert claimed is not None and claimed.id == job["id"]
        assert claimed.status == Status.RUNNING
        shown = await (await client.get(f"/api/v1/submissions/{job['id']}")).json()
        assert (shown["status"], shown["worker"]) == ("running", "rack-2:4242")
        events = await (await client.get(f"/api/v1/submissions/{job['id']}/events")).json()
        started = [e for e in events["events"] if e["kind"] == "started"]
        assert started[0]["data"] == {"worker": "rack-2:4242"}
        # Cancelling is a request the worker sees at its next lease renewal.
        cancel = await client.post(f"/api/v1/submissions/{job['id']}/cancel")
        assert cancel.status in (200, 202), await cancel.text()
        assert await client.app[JOB_QUEUE].renew(job["id"], "rack-2", 30) == (True, True)
    finally:
        await client.close()


async def test_exec_is_judged_as_a_job_by_a_worker_elsewhere(tmp_path: Path) -> None:
    client = await api_only(tmp_path)
    try:
        asked = asyncio.create_task(client.post("/exec", json={"id": SUM, "code": PROGRAM}))
        queue = client.app[JOB_QUEUE]
        job = None
        for _ in range(200):  # a worker elsewhere claims it ...
            if (job := await queue.claim("rack-2", 30, name="rack-2:1")) is not None:
                break
            await asyncio.sleep(0.02)
        assert job is not None and (job.problem_id, job.files) == (SUM, (("main.py", PROGRAM),))
        result = Result(1, Verdict.CE, False, "SyntaxError: nothing", ())
        await queue.finish(job.id, "rack-2", Outcome(Status.FINISHED, result))  # ... judges it
        response = await asked
        body = await response.json()
        assert response.status == 200, body
        assert (body["passed"], body["error"], body["shownTests"]) == (
            False,
            "SyntaxError: nothing",
            [],
        )
        refused = await client.post("/exec", json={"id": SUM, "code": "eval(input())"})
        assert refused.status == 403  # screened here, as any /exec
    finally:
        await client.close()


async def test_exec_not_judged_in_time_points_at_its_job(tmp_path: Path) -> None:
    client = await api_only(tmp_path, max_wait_s=0.3)  # and no worker runs
    try:
        response = await client.post("/exec", json={"id": SUM, "code": PROGRAM})
        body = await response.json()
        assert response.status == 504, body
        job = await (await client.get(response.headers["Location"])).json()
        assert job["status"] == "queued"  # judged later; its result will be there
    finally:
        await client.close()
