"""The asynchronous submissions API against the real service (real Docker; SQLite and
MariaDB): lifecycle, the 303 flow, listing, cancel, rerun, delete, events and their live
stream, batches, webhooks, keys and roles, rate limits and the queue bound."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import docker
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from codeexec.http.keys import EVENTS
from tests.conftest import assert_only_warm_containers

Client = TestClient[Any, Any]
TOKEN = "jobs-admin"
ADMIN = {"Authorization": f"Bearer {TOKEN}"}
SUM = "HQ000000000000000001"  # demo: sum of two integers, 2 shown + 2 hidden tests
LOWER = "HQ000000000000000002"
GOOD = "a, b = map(int, input().split())\nprint(a + b)"
WRONG = "a, b = map(int, input().split())\nprint(a - b)"
SLOW = "import time\ntime.sleep(30)\nprint(0)"


async def start(service: Callable[..., Any], **overrides: Any) -> Client:
    values: dict[str, Any] = {"admin_token": TOKEN, "job_poll_s": 0.1}
    values.update(overrides)
    client: Client = await service(**values)
    return client


async def submit(
    client: Client, source: str, problem: str = SUM, headers: dict[str, str] | None = None,
    query: str = "", **extra: Any,
) -> tuple[int, Any, Any]:  # fmt: skip
    response = await client.post(
        f"/api/v1/submissions{query}",
        json={"problem_id": problem, "language": "python", "source": source, **extra},
        headers=headers or {},
    )
    return response.status, await response.json(), response.headers


async def get(client: Client, path: str, headers: dict[str, str] | None = None) -> Any:
    response = await client.get(path, headers=headers or {})
    assert response.status == 200, (path, response.status, await response.text())
    return await response.json()


async def wait_for(
    client: Client, sid: str, statuses: tuple[str, ...], headers: dict[str, str] | None = None
) -> Any:
    for _ in range(600):
        body = await get(client, f"/api/v1/submissions/{sid}", headers)
        if body["status"] in statuses:
            return body
        await asyncio.sleep(0.05)
    raise AssertionError(f"{sid} never reached {statuses}")


async def test_lifecycle_and_the_303_flow(service: Callable[..., Any], database_url: str) -> None:
    client = await start(service, database_url=database_url)
    status, created, headers = await submit(client, GOOD)
    assert status == 202 and headers["Location"] == f"/api/v1/submissions/{created['id']}"
    assert created["status"] in ("queued", "running") and created["state"] in (
        "NOT_STARTED",
        "STARTED",
    )
    sid = created["id"]
    # /status: 200 while not done, then 303 to /result.
    for _ in range(600):
        response = await client.get(f"/api/v1/submissions/{sid}/status", allow_redirects=False)
        if response.status == 303:
            break
        assert response.status == 200
        assert (await response.json())["done"] is False
        await asyncio.sleep(0.05)
    assert response.headers["Location"] == f"/api/v1/submissions/{sid}/result"
    result = await get(client, response.headers["Location"])
    assert result["status"] == "finished" and result["verdict"] == "AC" and result["passed"]
    assert result["state"] == "FINISHED_OK"
    assert result["tests"] == {
        "shown": {"passed": 2, "failed": 0},
        "hidden": {"passed": 2, "failed": 0},
    }
    shown = [r for r in result["results"] if not r["hidden"]]
    hidden = [r for r in result["results"] if r["hidden"]]
    assert len(shown) == 2 and all("time_ms" in r and "memory_kb" in r for r in shown)
    assert hidden == [
        {"position": 3, "hidden": True, "verdict": "AC"},
        {"position": 4, "hidden": True, "verdict": "AC"},
    ]
    assert result["created_at"] <= result["started_at"] <= result["finished_at"]

    events = (await get(client, f"/api/v1/submissions/{sid}/events"))["events"]
    kinds = [e["kind"] for e in events]
    assert kinds == ["queued", "started", "test", "test", "test", "test", "finished"]
    assert [e["data"]["position"] for e in events if e["kind"] == "test"] == [1, 2, 3, 4]

    # ?wait=true answers with the finished resource.
    status, waited, _ = await submit(client, WRONG, query="?wait=true")
    assert status == 200 and waited["status"] == "finished" and waited["verdict"] == "WA"
    assert waited["state"] == "FINISHED_ERROR"
    status, ce, _ = await submit(client, "print(", query="?wait=true")
    assert ce["verdict"] == "CE" and ce["compile_output"]

    response = await client.get(f"/api/v1/submissions/{'0' * 32}")
    assert response.status == 404
    ready = await get(client, "/readyz")
    assert ready["jobs"] == {"workers": 2, "running_here": 0, "queued": 0}


async def test_bad_submissions(service: Callable[..., Any]) -> None:
    client = await start(service)
    status, body, _ = await submit(client, GOOD, problem="nope")
    assert status == 404
    status, body, _ = await submit(client, "eval('1')")
    assert status == 403 and body["error"] == "Found disallowed functions in code (eval)"
    status, body, _ = await submit(client, GOOD, language="cobol")
    assert status == 400 and "cobol" in body["detail"]
    response = await client.post("/api/v1/submissions", json={"problem_id": SUM})
    assert response.status == 400 and "code" in (await response.json())["detail"]
    response = await client.post("/api/v1/submissions", json={"language": 5})
    assert response.status == 422
    fields = {e["field"] for e in (await response.json())["errors"]}
    assert {"problem_id", "language"} <= fields
    status, body, _ = await submit(client, GOOD, callback_url="http://127.0.0.1:9/hook")
    assert status == 422 and "loopback or private" in body["detail"]
    status, body, _ = await submit(client, GOOD, callback_url="ftp://example.com/")
    assert status == 422
    response = await client.get("/api/v1/submissions?status=done")
    assert response.status == 400
    # Fuzzing (tests/test_fuzz_api.py): ?wait=AAA made a job and answered 202, where the
    # document lists true/false/1/0/yes/no; refused before a job is made.
    before = (await (await client.get("/api/v1/submissions")).json())["total"]
    response = await client.post(
        "/api/v1/submissions?wait=AAA", json={"problem_id": SUM, "source": GOOD}
    )
    assert response.status == 400 and "wait" in (await response.json())["detail"]
    assert (await (await client.get("/api/v1/submissions")).json())["total"] == before
    response = await client.post("/api/v1/runs?wait=maybe", json={"source": GOOD})
    assert response.status == 400
    assert (await client.get(f"/api/v1/problems/{SUM}?tests=AAA")).status == 400
    assert (await client.get(f"/api/v1/problems/{SUM}?tests=Summary")).status == 200
    # A 405's Allow names the methods of the path's own template: /submissions/batch
    # also matches /submissions/{sid} (GET, DELETE), which aiohttp listed too.
    response = await client.request("OPTIONS", "/api/v1/submissions/batch")
    assert response.status == 405
    assert response.headers["Allow"] == "GET,HEAD,POST"


SAMPLES_ONLY = "a, b = map(int, input().split())\nprint(f' {a + b} ' if a < 5 else 0)"


async def test_scope_shown_judges_the_shown_tests_only(
    service: Callable[..., Any], database_url: str
) -> None:
    client = await start(service, database_url=database_url)

    def case(given: str, expected: str, hidden: bool = False) -> dict[str, Any]:
        return {"input": given, "expected_output": expected, "hidden": hidden}

    problem = {
        "id": "mixed",
        "checker": {"mode": "tokens"},  # the problem's own checker judges the samples
        "tests": [
            case("5 5\n", "10\n", hidden=True),
            case("1 2\n", "3\n"),
            case("7 7\n", "14\n", hidden=True),
            case("2 2\n", "4\n"),
        ],
    }
    response = await client.post("/api/v1/problems", json=problem, headers=ADMIN)
    assert response.status == 201, await response.text()
    # Right on the samples only: AC on the shown tests, WA on every test.
    status, samples, _ = await submit(
        client, SAMPLES_ONLY, "mixed", query="?wait=true", scope="shown"
    )
    assert status == 200 and samples["scope"] == "shown" and samples["verdict"] == "AC"
    assert samples["tests"] == {
        "shown": {"passed": 2, "failed": 0},
        "hidden": {"passed": 0, "failed": 0},
    }
    assert [(r["position"], r["hidden"]) for r in samples["results"]] == [(2, False), (4, False)]
    assert samples["results"][0]["got"].strip("\n") == " 3 "  # AC by tokens (lines: WA)
    events = (await get(client, f"/api/v1/submissions/{samples['id']}/events"))["events"]
    assert [e["kind"] for e in events] == ["queued", "started", "test", "test", "finished"]
    assert [(e["data"]["position"], e["data"]["total"]) for e in events if e["kind"] == "test"] == [
        (2, 2),
        (4, 2),
    ]
    status, every, _ = await submit(client, SAMPLES_ONLY, "mixed", query="?wait=true")
    assert every["scope"] == "all" and every["verdict"] == "WA"
    assert every["tests"]["hidden"] == {"passed": 0, "failed": 2}
    # A rerun judges the same tests; a batch takes the scope per submission.
    response = await client.post(f"/api/v1/submissions/{samples['id']}/rerun?wait=true")
    rerun = await response.json()
    assert (rerun["scope"], rerun["verdict"], len(rerun["results"])) == ("shown", "AC", 2)
    items = [
        {"problem_id": "mixed", "source": SAMPLES_ONLY, "scope": "shown"},
        {"problem_id": SUM, "source": GOOD},
    ]
    response = await client.post("/api/v1/submissions/batch", json={"submissions": items})
    assert response.status == 202
    assert [c["scope"] for c in (await response.json())["items"]] == ["shown", "all"]

    # Refusals, in the API's error format, and no job made.
    before = (await get(client, "/api/v1/submissions"))["total"]
    status, body, _ = await submit(client, GOOD, scope="hidden")
    assert status == 422 and body["error"] == "Invalid submission"
    assert [e["field"] for e in body["errors"]] == ["scope"]
    hidden_only = {"id": "secret", "tests": [case("1 2\n", "3\n", hidden=True)]}
    response = await client.post("/api/v1/problems", json=hidden_only, headers=ADMIN)
    assert response.status == 201
    status, body, _ = await submit(client, GOOD, "secret", scope="shown")
    assert status == 422 and body["error"] == "Problem has no shown tests"
    assert "problem 'secret' (version 1) has 1 test(s), none shown" in body["detail"]
    response = await client.post(
        "/api/v1/submissions/batch",
        json={"submissions": [{"problem_id": "secret", "source": GOOD, "scope": "shown"}]},
    )
    assert response.status == 422 and (await response.json())["index"] == 0
    assert (await get(client, "/api/v1/submissions"))["total"] == before


async def test_listing_filters_sorting_pagination(
    service: Callable[..., Any], database_url: str
) -> None:
    client = await start(service, database_url=database_url)
    ids = []
    for source, problem in [(GOOD, SUM), (WRONG, SUM), ("print(input().lower())", LOWER)]:
        status, body, _ = await submit(client, source, problem, query="?wait=true")
        assert status == 200
        ids.append(body["id"])
    page = await get(client, "/api/v1/submissions?limit=2&sort=created_at")
    assert page["total"] == 3 and [s["id"] for s in page["items"]] == ids[:2]
    rest = await get(client, "/api/v1/submissions?limit=2&offset=2&sort=created_at")
    assert [s["id"] for s in rest["items"]] == ids[2:]
    newest = await get(client, "/api/v1/submissions?limit=10")  # default: newest first
    assert [s["id"] for s in newest["items"]] == ids[::-1]
    by_finish = await get(client, "/api/v1/submissions?sort=-finished_at")
    assert [s["id"] for s in by_finish["items"]] == ids[::-1]
    assert (await get(client, f"/api/v1/submissions?problem_id={LOWER}"))["total"] == 1
    assert (await get(client, "/api/v1/submissions?verdict=WA"))["items"][0]["id"] == ids[1]
    assert (await get(client, "/api/v1/submissions?status=finished&language=python"))["total"] == 3
    assert (await get(client, "/api/v1/submissions?language=c"))["total"] == 0
    first = page["items"][0]["created_at"]
    after = await get(client, f"/api/v1/submissions?created_after={first}&sort=created_at")
    assert [s["id"] for s in after["items"]] == ids
    before = await get(client, f"/api/v1/submissions?created_before={first}")
    assert before["total"] == 0
    batch = await get(client, f"/api/v1/submissions/batch?ids={ids[0]},{ids[2]},nope")
    assert [s["id"] for s in batch["items"]] == [ids[0], ids[2]] and batch["missing"] == ["nope"]


async def test_cancel_queued_and_running_jobs(
    service: Callable[..., Any], docker_engine: docker.DockerClient, instance_name: str
) -> None:
    client = await start(service, concurrency=1)
    _, running, _ = await submit(client, SLOW)
    await wait_for(client, running["id"], ("running",))
    _, queued, _ = await submit(client, GOOD)
    await asyncio.sleep(0.3)
    assert (await get(client, f"/api/v1/submissions/{queued['id']}"))["status"] == "queued"

    response = await client.post(f"/api/v1/submissions/{queued['id']}/cancel")
    body = await response.json()
    assert response.status == 200 and body["status"] == "cancelled"
    assert body["state"] == "NOT_EXECUTED"
    again = await client.post(f"/api/v1/submissions/{queued['id']}/cancel")  # idempotent
    assert again.status == 200 and (await again.json())["status"] == "cancelled"

    response = await client.post(f"/api/v1/submissions/{running['id']}/cancel")
    assert response.status == 200 and (await response.json())["status"] == "cancelled"
    await assert_only_warm_containers(client.app, docker_engine, instance_name)

    events = (await get(client, f"/api/v1/submissions/{queued['id']}/events"))["events"]
    assert [e["kind"] for e in events] == ["queued", "cancelled"]  # it never ran
    _, later, _ = await submit(client, GOOD, query="?wait=true")  # the worker is free again
    assert later["verdict"] == "AC"
    assert (await get(client, f"/api/v1/submissions/{queued['id']}"))["status"] == "cancelled"


async def test_rerun_and_delete(service: Callable[..., Any]) -> None:
    client = await start(service)
    _, first, _ = await submit(client, GOOD, query="?wait=true")
    response = await client.post(f"/api/v1/submissions/{first['id']}/rerun?wait=true")
    rerun = await response.json()
    assert response.status == 200 and rerun["rerun_of"] == first["id"]
    assert rerun["id"] != first["id"] and rerun["verdict"] == "AC"
    assert rerun["files"] == first["files"]

    _, slow, _ = await submit(client, SLOW)
    await wait_for(client, slow["id"], ("running",))
    for sid in (first["id"], slow["id"]):
        response = await client.delete(f"/api/v1/submissions/{sid}")
        assert response.status == 204
        assert (await client.get(f"/api/v1/submissions/{sid}")).status == 404
        assert await client.app[EVENTS].events(sid) == []  # the log went with it


async def test_live_event_stream(service: Callable[..., Any]) -> None:
    client = await start(service)
    slowish = "import time\ntime.sleep(0.3)\na, b = map(int, input().split())\nprint(a + b)"
    _, created, _ = await submit(client, slowish)
    response = await client.get(
        f"/api/v1/submissions/{created['id']}/events",
        headers={"Accept": "text/event-stream"},
    )
    assert response.headers["Content-Type"].startswith("text/event-stream")
    frames = (await response.text()).strip().split("\n\n")
    kinds = [
        line.split(": ", 1)[1]
        for f in frames
        for line in f.splitlines()
        if line.startswith("event:")
    ]
    assert kinds[0] == "queued" and kinds[-1] == "finished"
    tests = [json.loads(f.split("data: ", 1)[1]) for f in frames if "event: test" in f]
    assert [t["data"]["position"] for t in tests] == [1, 2, 3, 4]
    assert tests[-1]["data"]["total"] == 4
    # Resuming after the last id the client saw sends only what came later.
    resumed = await client.get(
        f"/api/v1/submissions/{created['id']}/events",
        headers={"Accept": "text/event-stream", "Last-Event-ID": "6"},
    )
    assert [x for x in (await resumed.text()).splitlines() if x.startswith("event:")] == [
        "event: finished"
    ]


async def test_batch(service: Callable[..., Any]) -> None:
    client = await start(service, batch_max=3)
    items = [{"problem_id": SUM, "source": s} for s in (GOOD, WRONG, GOOD)]
    response = await client.post("/api/v1/submissions/batch", json={"submissions": items})
    assert response.status == 202
    created = (await response.json())["items"]
    verdicts = [(await wait_for(client, c["id"], ("finished",)))["verdict"] for c in created]
    assert verdicts == ["AC", "WA", "AC"]
    response = await client.post(
        "/api/v1/submissions/batch", json={"submissions": items + items[:1]}
    )
    assert response.status == 422 and "at most 3" in (await response.json())["detail"]


async def test_signed_webhook_with_retries(service: Callable[..., Any]) -> None:
    received: list[tuple[bytes, dict[str, str]]] = []

    async def hook(request: web.Request) -> web.Response:
        received.append((await request.read(), dict(request.headers)))
        return web.Response(status=500 if len(received) < 3 else 200)

    receiver = web.Application()
    receiver.router.add_post("/hook", hook)
    server = TestServer(receiver, host="127.0.0.1")
    await server.start_server()
    try:
        client = await start(
            service, webhook_allow_private=True, webhook_backoff_s=0.05, webhook_attempts=4
        )
        response = await client.post(
            "/api/v1/keys", json={"name": "grader", "role": "submitter"}, headers=ADMIN
        )
        key = await response.json()
        auth = {"Authorization": f"Bearer {key['token']}"}
        url = str(server.make_url("/hook"))
        _, created, _ = await submit(client, GOOD, headers=auth, callback_url=url)
        for _ in range(200):
            if len(received) >= 3:
                break
            await asyncio.sleep(0.05)
        assert len(received) == 3  # two failures, then delivered
        body, headers = received[-1]
        expected = hmac.new(key["webhook_secret"].encode(), body, hashlib.sha256).hexdigest()
        assert headers["X-Codeexec-Signature"] == f"sha256={expected}"
        assert [h["X-Codeexec-Attempt"] for _, h in received] == ["1", "2", "3"]
        payload = json.loads(body)
        assert payload["id"] == created["id"] and payload["verdict"] == "AC"
        for _ in range(100):  # recorded once the third answer is back
            state = await get(client, f"/api/v1/submissions/{created['id']}", auth)
            if state["webhook"] != "pending":
                break
            await asyncio.sleep(0.05)
        assert state["webhook"] == "delivered"
    finally:
        await server.close()


async def test_keys_and_roles(service: Callable[..., Any]) -> None:
    client = await start(service, auth="on")
    assert (await client.get("/api/v1/submissions")).status == 401
    assert (await client.post("/exec", json={"id": SUM, "code": GOOD})).status == 401
    assert (await client.get("/healthz")).status == 200

    async def make(role: str) -> dict[str, str]:
        response = await client.post(
            "/api/v1/keys", json={"name": role, "role": role}, headers=ADMIN
        )
        assert response.status == 201
        return {"Authorization": f"Bearer {(await response.json())['token']}"}

    alice, bob = await make("submitter"), await make("submitter")
    _, mine, _ = await submit(client, GOOD, headers=alice, query="?wait=true")
    assert (await client.get(f"/api/v1/submissions/{mine['id']}", headers=bob)).status == 404
    assert (
        await client.post(f"/api/v1/submissions/{mine['id']}/cancel", headers=bob)
    ).status == 404
    assert (await get(client, "/api/v1/submissions", bob))["total"] == 0
    listed = await get(client, "/api/v1/submissions?owner=somebody", alice)
    assert [s["id"] for s in listed["items"]] == [mine["id"]]  # its own, whatever it asks
    assert (await get(client, "/api/v1/submissions", ADMIN))["total"] == 1

    response = await client.post("/api/v1/problems", json={"id": "x"}, headers=alice)
    assert response.status == 403 and (await response.json())["error"] == "Admin role required"
    assert (await client.get("/api/v1/keys", headers=alice)).status == 403
    keys = await get(client, "/api/v1/keys", ADMIN)
    assert len(keys["items"]) == 2 and all("token" not in k for k in keys["items"])
    victim = keys["items"][1]["id"]
    response = await client.delete(f"/api/v1/keys/{victim}", headers=ADMIN)
    assert (await response.json())["revoked_at"] is not None
    assert (await client.get("/api/v1/submissions", headers=bob)).status == 401
    admin_key = await make("admin")
    response = await client.post("/api/v1/problems", json={"id": "byadmin"}, headers=admin_key)
    assert response.status == 201


async def test_rate_limit_answers_429(service: Callable[..., Any]) -> None:
    client = await start(service, rate_limit_per_s=0.5, rate_limit_burst=3)
    statuses = []
    for _ in range(5):
        response = await client.get("/api/v1/languages")
        statuses.append(response.status)
        if response.status == 200:
            assert response.headers["RateLimit-Limit"] == "3"
            assert "RateLimit-Remaining" in response.headers
        else:
            last = response
    assert statuses[:3] == [200, 200, 200] and statuses[3:] == [429, 429]
    assert last.headers["Retry-After"] == "2" and last.headers["RateLimit-Remaining"] == "0"
    assert (await last.json())["error"] == "Too many requests"
    assert (await client.get("/healthz")).status == 200  # probes are never limited


async def test_full_job_queue_is_503(service: Callable[..., Any]) -> None:
    client = await start(service, concurrency=1, job_queue_size=1)
    _, running, _ = await submit(client, SLOW)
    await wait_for(client, running["id"], ("running",))
    status, _, _ = await submit(client, GOOD)
    assert status == 202  # queued
    status, _, headers = await submit(client, GOOD)
    assert status == 503 and headers["Retry-After"] == "2"
    await client.post(f"/api/v1/submissions/{running['id']}/cancel")


def keys_cli(database_url: str, *args: str) -> str:
    env = dict(os.environ, CODEEXEC_DATABASE_URL=database_url, CODEEXEC_LOG_LEVEL="WARNING")
    done = subprocess.run(
        [sys.executable, "-m", "codeexec", "keys", *args],
        env=env, capture_output=True, text=True, timeout=60, check=True,
    )  # fmt: skip
    return done.stdout


async def test_keys_cli_makes_keys_the_service_accepts(
    service: Callable[..., Any], tmp_path: Path
) -> None:
    database_url = f"sqlite:///{tmp_path / 'codeexec.sqlite3'}"  # the service fixture's
    made = keys_cli(database_url, "create", "--name", "ci grader", "--role", "submitter")
    token = next(line.split()[-1] for line in made.splitlines() if line.startswith("token:"))
    key_id = made.split()[1]
    assert key_id in keys_cli(database_url, "list")
    client = await start(service, auth="on")
    auth = {"Authorization": f"Bearer {token}"}
    status, body, _ = await submit(client, GOOD, headers=auth, query="?wait=true")
    assert status == 200 and body["owner"] == key_id
    keys_cli(database_url, "revoke", key_id)
    assert "revoked" in keys_cli(database_url, "list")
    assert (await client.get("/api/v1/submissions", headers=auth)).status == 401


async def test_runs_are_stored_on_mysql(service: Callable[..., Any], mysql_url: str) -> None:
    """An ad-hoc run's inline problem (stdin as bytes) is stored and read back, and a
    rerun judges it again (runs are jobs: tests/test_runs_api.py tests the rest)."""
    mysql_client: Client = await service(database_url=mysql_url, languages=("python",))
    source = "import sys\nsys.stdout.buffer.write(sys.stdin.buffer.read().upper())"
    stdin = base64.b64encode(b"\xffa\n").decode()
    body = {"language": "python", "source": source, "stdin_b64": stdin}
    response = await mysql_client.post("/api/v1/runs?wait=true", json=body)
    answer = await response.json()
    assert response.status == 200 and answer["stdout"] == "\ufffdA\n", answer
    again = await mysql_client.post(f"/api/v1/submissions/{answer['id']}/rerun?wait=true")
    assert (await again.json())["verdict"] == "AC"
