"""Containers that serve more than one submission (``CODEEXEC_SANDBOX_USES``), on the
real engine: what one submission leaves, the next never finds, and a hidden test's data
cannot reach a later submission's shown output through the kernel counters a reset
cannot clear. ``tests/unit/test_pool.py`` covers the pool's bookkeeping."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import docker
import pytest
import pytest_asyncio
from aiohttp.test_utils import TestClient

from codeexec.http.keys import SANDBOXES, SETTINGS, STORE
from codeexec.model import Problem, TestCase
from tests.conftest import assert_only_warm_containers, docker_client, started_service
from tests.hostile_cases import BY_NAME, source_of

pytestmark = pytest.mark.asyncio(loop_scope="module")

# Given "fork" the probe forks this many processes: a later run in the same container
# sees its own PID past it (the PID counter cannot be reset). Given "pid" it prints its
# PID; given anything else, whether its PID says no earlier run forked FORKS in its
# container (a hidden test's verdict shows that bit).
FORKS = 400
ANY = {"python": []}  # judged, not screened
COUNTER_PROBE = f"""
import os
line = input()
if line == "fork":
    for _ in range({FORKS}):
        pid = os.fork()
        if pid == 0:
            os._exit(0)
        os.waitpid(pid, 0)
    print("ok")
elif line == "pid":
    print(os.getpid())
else:
    print("fresh" if os.getpid() < {FORKS} else "used")
"""


@pytest.fixture(scope="module")
def engine() -> docker.DockerClient:
    return docker_client()


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def client(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[TestClient[Any, Any]]:
    # One slot and one warm container: every submission is offered the container the
    # previous one gave back, when the rules allow it.
    tmp = tmp_path_factory.mktemp("reuse")
    service = await started_service(tmp, "reuse", pool_size=1, concurrency=1, sandbox_uses=50)
    store = service.app[STORE]
    stash = BY_NAME["stash_hidden_input_everywhere_python"]
    secret = stash["tests"][0][0].encode()
    await store.save(
        Problem(id="stash", time_limit_ms=10_000, screening=ANY), [TestCase(secret, secret)]
    )
    await store.save(
        Problem(id="probe", time_limit_ms=10_000, screening=ANY), [TestCase(b"probe\n", b"probe\n")]
    )
    await store.save(
        Problem(id="counters", time_limit_ms=10_000, screening=ANY),
        [TestCase(b"pid\n", b"?\n"), TestCase(b"fork\n", b"ok\n", hidden=True)],
    )
    yield service
    await service.close()


async def judged(client: TestClient[Any, Any], code: str, problem: str) -> dict[str, Any]:
    response = await client.post("/exec", json={"code": code, "id": problem})
    body: dict[str, Any] = await response.json()
    assert response.status == 200, body
    await client.app[SANDBOXES].pool.settled()  # reset and back in the pool
    return body


async def test_nothing_one_submission_stashes_reaches_the_next_in_its_container(
    client: TestClient[Any, Any], engine: docker.DockerClient
) -> None:
    # The stash program (tests/hostile/trust.toml) leaves its input in files at any
    # depth, odd names, modes, xattrs, times, SysV IPC, /dev/mqueue, an inherited
    # descriptor and a daemon on an abstract socket; given "probe" it reports
    # whatever it finds of an earlier input instead of echoing.
    code = source_of(BY_NAME["stash_hidden_input_everywhere_python"])
    pool = client.app[SANDBOXES].pool
    await pool.settled()
    first = await judged(client, code, "stash")
    assert first["passed"] is True, first
    reused = pool.stats()["reused"]
    second = await judged(client, code, "probe")
    assert pool.stats()["reused"] == reused + 1  # it ran where the stash was made
    assert second["passed"] is True, second["shownTests"][0]["got"]
    await assert_only_warm_containers(client.app, engine, client.app[SETTINGS].instance_name)


async def test_a_hidden_test_never_shares_a_container_with_a_later_shown_one(
    client: TestClient[Any, Any],
) -> None:
    pool = client.app[SANDBOXES].pool
    reused = pool.stats()["reused"]
    pids = []
    for _ in range(4):
        body = await judged(client, COUNTER_PROBE, "counters")
        assert body["hiddenTests"] == {"passed": 1, "failed": 0}, body
        pids.append(int(body["shownTests"][0]["got"]))
    assert pool.stats()["reused"] > reused  # containers were reused meanwhile
    # Every shown run was in a container where no hidden test had forked its 400.
    assert max(pids) < FORKS, pids
    assert pool.stats()["tainted"].get("python") == 1  # the hidden runs' container
