"""Pause and resume against the real service (real Docker): a queued job held back, a
running one frozen by the engine (docker state Paused) for longer than its wall limit
and judged as if it never was (an interactive one too: both its boxes frozen, no
silence counted), jobs submitted paused, webhook notices, cancel and delete of paused jobs,
the CODEEXEC_MAX_PAUSE_S cancellation, a pause asked of another process sharing the
database, and paused jobs across a restart (the frozen job's lease was kept: released,
still paused, it runs anew; a queued one had none) on SQLite and MariaDB."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

import docker
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from codeexec.http.keys import SETTINGS
from tests.conftest import assert_only_warm_containers, sandboxes_of

Client = TestClient[Any, Any]
TOKEN = "pause-admin"
ADMIN = {"Authorization": f"Bearer {TOKEN}"}
BASE = "/api/v1/submissions"
NAP = "nap"
# Sleeps 1.5 s a test under a 3 s wall limit: a 4 s pause counted as wall time is a TLE.
SLEEPY = "import time\ntime.sleep(1.5)\na, b = map(int, input().split())\nprint(a + b)"
GOOD = "a, b = map(int, input().split())\nprint(a + b)"
PAUSE_S = 4.0


async def start(service: Callable[..., Any], tests: int = 2, **overrides: Any) -> Client:
    """A service with problem ``nap`` of ``tests`` tests (the first shown)."""
    values: dict[str, Any] = {"admin_token": TOKEN, "job_poll_s": 0.1, "auth": "off"}
    client: Client = await service(**(values | overrides))
    cases = [{"input": f"{i} 2\n", "expected_output": f"{i + 2}\n"} for i in range(1, tests + 1)]
    response = await client.post(
        "/api/v1/problems",
        json={
            "id": NAP,
            "title": "Nap, then add",
            "time_limit_ms": 1000,
            "wall_time_limit_ms": 3000,
            "tests": [cases[0], *({**c, "hidden": True} for c in cases[1:])],
        },
        headers=ADMIN,
    )
    assert response.status in (201, 409), await response.text()  # 409: a restart's store
    return client


async def submit(client: Client, source: str, query: str = "", **extra: Any) -> Any:
    body = {"problem_id": NAP, "language": "python", "source": source, **extra}
    response = await client.post(BASE + query, json=body)
    assert response.status in (200, 202), await response.text()
    return await response.json()


async def job(client: Client, sid: str) -> Any:
    response = await client.get(f"{BASE}/{sid}")
    assert response.status == 200
    return await response.json()


async def post(client: Client, sid: str, action: str, status: int = 200) -> Any:
    response = await client.post(f"{BASE}/{sid}/{action}")
    body = await response.json()
    assert response.status == status, body
    return body


async def kinds(client: Client, sid: str) -> list[str]:
    response = await client.get(f"{BASE}/{sid}/events")
    return [e["kind"] for e in (await response.json())["events"]]


async def wait_for(client: Client, sid: str, statuses: tuple[str, ...], within: float = 60) -> Any:
    deadline = time.monotonic() + within
    while (body := await job(client, sid))["status"] not in statuses:
        assert time.monotonic() < deadline, f"{sid} still {body['status']}"
        await asyncio.sleep(0.05)
    return body


async def until_frozen(engine: docker.DockerClient, instance: str) -> None:
    """Some container of the instance is frozen (a job paused just after its claim has
    its box frozen as it opens)."""
    deadline = time.monotonic() + 10
    while paused_containers(engine, instance) == 0:
        assert time.monotonic() < deadline, "no container was frozen"
        await asyncio.sleep(0.05)


def paused_containers(engine: docker.DockerClient, instance: str) -> int:
    states = []
    for cid in sandboxes_of(engine, instance):
        try:
            states.append(engine.api.inspect_container(cid)["State"])
        except docker.errors.NotFound:
            continue
    return sum(1 for s in states if s.get("Paused"))


def talking(engine: docker.DockerClient, instance: str) -> int:
    """Containers of the instance running a program besides their runner."""
    count = 0
    for cid in sandboxes_of(engine, instance):
        try:
            count += len(engine.api.top(cid)["Processes"] or []) >= 2
        except docker.errors.APIError:
            continue
    return count


def judged(body: Any) -> tuple[Any, ...]:
    return body["verdict"], [(r["verdict"], r.get("hidden")) for r in body["results"]]


async def test_a_frozen_job_is_judged_as_if_it_had_never_been_paused(
    service: Callable[..., Any], docker_engine: docker.DockerClient, instance_name: str
) -> None:
    client = await start(service, concurrency=1)
    plain = await submit(client, SLEEPY, "?wait=true")
    assert plain["status"] == "finished" and plain["verdict"] == "AC"

    created = await submit(client, SLEEPY)
    sid = created["id"]
    await wait_for(client, sid, ("running",))
    await asyncio.sleep(0.5)  # into the first test's sleep
    paused = await post(client, sid, "pause")
    assert paused["status"] == "paused" and paused["state"] == "STARTED" and paused["paused_at"]
    assert paused_containers(docker_engine, instance_name) >= 1  # frozen by the engine
    assert (await post(client, sid, "pause"))["paused_at"] == paused["paused_at"]  # idempotent
    listed = await (await client.get(BASE + "?status=paused")).json()
    assert [j["id"] for j in listed["items"]] == [sid]
    await asyncio.sleep(PAUSE_S)  # longer than the wall limit, added to the 1.5 s sleep
    assert (await job(client, sid))["status"] == "paused"
    assert "test" not in await kinds(client, sid)  # nothing ran on meanwhile
    resumed = await post(client, sid, "resume")
    assert resumed["status"] in ("running", "finished") and "paused_at" not in resumed
    assert paused_containers(docker_engine, instance_name) == 0
    done = await wait_for(client, sid, ("finished", "failed", "cancelled"))
    assert judged(done) == judged(plain)  # AC, each test as without the pause
    # The pause is not wall time (a sleep's timer runs on while frozen: it may end early).
    assert done["results"][0]["wall_ms"] < 3000
    assert done["attempts"] == 1
    events = await kinds(client, sid)
    assert events[:4] == ["queued", "started", "paused", "resumed"], events
    assert (await post(client, sid, "pause", 409))["status"] == "finished"
    await assert_only_warm_containers(client.app, docker_engine, instance_name)


class Receiver:
    """A local webhook receiver: each call's event and the job's status."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str]] = []
        app = web.Application()
        app.router.add_post("/hook", self._hook)
        self.server = TestServer(app, host="127.0.0.1")

    async def _hook(self, request: web.Request) -> web.Response:
        body = await request.json()
        self.calls.append((request.headers["X-Codeexec-Event"], body["status"]))
        return web.Response(status=204)


async def test_queued_and_submitted_paused_jobs_wait_for_their_resume(
    service: Callable[..., Any],
) -> None:
    receiver = Receiver()
    await receiver.server.start_server()
    client = await start(service, concurrency=1, webhook_allow_private=True)
    busy = await submit(client, SLEEPY)  # holds the only worker for ~3 s
    await wait_for(client, busy["id"], ("running",))
    hook = str(receiver.server.make_url("/hook"))
    queued = await submit(client, GOOD, callback_url=hook)
    assert queued["status"] == "queued"
    held = await post(client, queued["id"], "pause")
    assert held["status"] == "paused" and held["state"] == "NOT_STARTED"
    born_paused = await submit(client, GOOD, "?paused=true")
    assert born_paused["status"] == "paused" and born_paused["paused_at"]
    await wait_for(client, busy["id"], ("finished",))
    await asyncio.sleep(1.0)  # the worker is free: it takes neither
    for sid in (queued["id"], born_paused["id"]):
        assert (await job(client, sid))["status"] == "paused"
        assert "started" not in await kinds(client, sid)
        resumed = await post(client, sid, "resume")
        assert resumed["status"] in ("queued", "running", "finished")
        assert (await wait_for(client, sid, ("finished",)))["verdict"] == "AC"
    assert await kinds(client, born_paused["id"]) == [
        "queued", "paused", "resumed", "started", "test", "test", "finished",
    ]  # fmt: skip
    bad = await client.post(BASE + "?paused=maybe", json={"problem_id": NAP, "source": GOOD})
    assert bad.status == 400
    # Its callback: a notice when paused and when resumed, then the outcome.
    deadline = time.monotonic() + 10
    while len(receiver.calls) < 3:
        assert time.monotonic() < deadline, receiver.calls
        await asyncio.sleep(0.05)
    await receiver.server.close()
    assert receiver.calls[0] == ("submission.paused", "paused"), receiver.calls
    # The resume notice sends the job as it is when sent: queued, running or finished
    # already; it may even arrive after the outcome.
    assert sorted(event for event, _ in receiver.calls[1:]) == [
        "submission.finished", "submission.resumed",
    ]  # fmt: skip
    assert ("submission.finished", "finished") in receiver.calls
    assert (await job(client, queued["id"]))["webhook"] == "delivered"


async def test_cancel_and_delete_paused_jobs(
    service: Callable[..., Any], docker_engine: docker.DockerClient, instance_name: str
) -> None:
    client = await start(service, concurrency=1)
    frozen = await submit(client, SLEEPY)
    await wait_for(client, frozen["id"], ("running",))
    await post(client, frozen["id"], "pause")
    await until_frozen(docker_engine, instance_name)
    cancelled = await post(client, frozen["id"], "cancel")
    assert cancelled["status"] == "cancelled"
    await assert_only_warm_containers(client.app, docker_engine, instance_name)

    frozen = await submit(client, SLEEPY)
    await wait_for(client, frozen["id"], ("running",))
    await post(client, frozen["id"], "pause")
    response = await client.delete(f"{BASE}/{frozen['id']}")
    assert response.status == 204
    assert (await client.get(f"{BASE}/{frozen['id']}")).status == 404
    await assert_only_warm_containers(client.app, docker_engine, instance_name)

    waiting = await submit(client, GOOD, "?paused=true")
    assert (await post(client, waiting["id"], "cancel"))["status"] == "cancelled"
    waiting = await submit(client, GOOD, "?paused=true")
    assert (await client.delete(f"{BASE}/{waiting['id']}")).status == 204


async def test_a_job_paused_too_long_is_cancelled_with_the_reason(
    service: Callable[..., Any], docker_engine: docker.DockerClient, instance_name: str
) -> None:
    client = await start(service, concurrency=1, max_pause_s=1.5, job_lease_s=2)
    frozen = await submit(client, SLEEPY)
    await wait_for(client, frozen["id"], ("running",))
    await post(client, frozen["id"], "pause")
    waiting = await submit(client, GOOD, "?paused=true")
    for sid in (frozen["id"], waiting["id"]):
        await wait_for(client, sid, ("cancelled",), within=15)
        response = await client.get(f"{BASE}/{sid}/events")
        last = (await response.json())["events"][-1]
        assert last["kind"] == "cancelled"
        assert last["data"]["reason"] == "paused for longer than 1.5 s (CODEEXEC_MAX_PAUSE_S)"
    await assert_only_warm_containers(client.app, docker_engine, instance_name)


async def test_a_pause_asked_of_another_process_freezes_the_job_where_it_runs(
    service: Callable[..., Any], docker_engine: docker.DockerClient, instance_name: str
) -> None:
    client = await start(service, tests=12, concurrency=1)  # ~18 s: outlasts a start-up
    frozen = await submit(client, SLEEPY)
    await wait_for(client, frozen["id"], ("running",))
    # A second process on the same database, which runs nothing of it.
    other = await service(
        admin_token=TOKEN,
        auth="off",
        job_poll_s=0.1,
        concurrency=1,
        database_url=client.app[SETTINGS].store.database_url,
        instance_name=instance_name + "-b",
        pool_size=0,
    )
    response = await other.post(f"{BASE}/{frozen['id']}/pause")
    assert response.status == 200 and (await response.json())["status"] == "paused"
    await until_frozen(docker_engine, instance_name)  # by its worker, which polls
    await asyncio.sleep(PAUSE_S)
    response = await other.post(f"{BASE}/{frozen['id']}/resume")
    assert (await response.json())["status"] in ("running", "finished")
    done = await wait_for(client, frozen["id"], ("finished",))
    assert done["verdict"] == "AC" and done["attempts"] == 1


async def test_paused_jobs_after_a_restart(
    service: Callable[..., Any], database_url: str, docker_engine: docker.DockerClient,
    instance_name: str,
) -> None:  # fmt: skip
    first = await start(service, concurrency=1, database_url=database_url)
    frozen = await submit(first, SLEEPY)  # its worker holds it (and its lease), frozen
    await wait_for(first, frozen["id"], ("running",))
    await post(first, frozen["id"], "pause")
    waiting = await submit(first, GOOD, "?paused=true")  # no worker, no lease
    began = time.monotonic()
    await first.close()  # a frozen job is given back at once, still paused
    assert time.monotonic() - began < 15
    assert sandboxes_of(docker_engine, instance_name) == []

    again = await start(service, concurrency=1, database_url=database_url)
    await asyncio.sleep(1.0)
    for sid in (frozen["id"], waiting["id"]):
        body = await job(again, sid)
        assert body["status"] == "paused" and body["state"] == "NOT_STARTED", body
    assert (await kinds(again, frozen["id"]))[-1] == "released"
    for sid in (frozen["id"], waiting["id"]):
        assert (await post(again, sid, "resume"))["status"] in ("queued", "running", "finished")
    done = await wait_for(again, frozen["id"], ("finished",))
    assert done["verdict"] == "AC" and done["attempts"] == 2  # run again from its start
    assert (await wait_for(again, waiting["id"], ("finished",)))["attempts"] == 1


INTERACTOR = "import sys\nprint('ask', flush=True)\nsys.exit(42 if input() == 'ok' else 43)\n"
# Answers after 1.5 s: a 4 s pause counted as silence (3 s, the wall limit) is a TLE.
SLOW_TALKER = "import time\ninput()\ntime.sleep(1.5)\nprint('ok', flush=True)\n"


async def test_an_interactive_job_has_both_boxes_frozen_and_no_silence_counted(
    service: Callable[..., Any], docker_engine: docker.DockerClient, instance_name: str
) -> None:
    client = await start(service, pool_size=0)  # every container is the job's
    response = await client.post(
        "/api/v1/problems",
        json={
            "id": "talk",
            "title": "Talk",
            "time_limit_ms": 1000,
            "wall_time_limit_ms": 3000,
            "checker": {"mode": "interactive", "language": "python", "source": INTERACTOR},
            "tests": [{"input": "1\n", "expected_output": ""}],
        },
        headers=ADMIN,
    )
    assert response.status == 201, await response.text()
    body = {"problem_id": "talk", "language": "python", "source": SLOW_TALKER}
    plain = await (await client.post(BASE + "?wait=true", json=body)).json()
    assert plain["verdict"] == "AC", plain

    sid = (await (await client.post(BASE, json=body)).json())["id"]
    deadline = time.monotonic() + 30
    while talking(docker_engine, instance_name) < 2:  # the submission's, the interactor's
        assert time.monotonic() < deadline, "the conversation did not start"
        await asyncio.sleep(0.05)
    await asyncio.sleep(0.5)  # the interactor asked; the submission takes its time
    await post(client, sid, "pause")
    while paused_containers(docker_engine, instance_name) < 2:
        assert time.monotonic() < deadline, "not both boxes were frozen"
        await asyncio.sleep(0.05)
    await asyncio.sleep(PAUSE_S)
    await post(client, sid, "resume")
    done = await wait_for(client, sid, ("finished", "failed", "cancelled"))
    assert judged(done) == judged(plain) == ("AC", [("AC", False)]), done
