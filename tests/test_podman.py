"""codeexec on Podman's Docker-compatible API (``podman system service``), unchanged but
for DOCKER_HOST: the engine is recognised, and the sandbox's verdicts and guarantees
hold (hostile cases of time, memory, processes and clean-up)."""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from typing import Any

import docker
import pytest
import pytest_asyncio
from aiohttp.test_utils import TestClient, TestServer

from codeexec.http.app import make_app
from codeexec.http.keys import STORE
from tests.conftest import base_settings, current_image, unavailable
from tests.hostile_cases import BY_NAME, assert_judged_as_case, problem_of

pytestmark = [pytest.mark.docker, pytest.mark.asyncio(loop_scope="module")]

CASES = [
    "memory_bomb_loop_python",
    "busy_loop",
    "fork_bomb_python",
    "kill_everything_python",
    "memory_tmpfs_files_python",
    "stash_hidden_input_everywhere_python",
    "limits_cannot_be_raised",
]
HONEST = "print(input().lower())"


@pytest.fixture(scope="module")
def podman_socket(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    if shutil.which("podman") is None:
        unavailable("no podman (apt-get install podman; scripts/provision.sh does)")
    tmp = tmp_path_factory.mktemp("podman")
    # runc: crun refuses hosts whose cgroups are mixed v1/v2, like these machines.
    (tmp / "containers.conf").write_text('[engine]\nruntime = "runc"\n')
    socket = tmp / "podman.sock"
    env = os.environ | {"CONTAINERS_CONF": str(tmp / "containers.conf")}
    with (tmp / "service.log").open("wb") as log:
        service = subprocess.Popen(
            ["podman", "system", "service", "--time=0", f"unix://{socket}"],
            stdout=log,
            stderr=subprocess.STDOUT,
            env=env,
        )
    try:
        deadline = time.monotonic() + 30
        while not socket.exists():
            if service.poll() is not None or time.monotonic() > deadline:
                pytest.fail(
                    f"podman system service did not start: {(tmp / 'service.log').read_text()}"
                )
            time.sleep(0.2)
        yield f"unix://{socket}"
    finally:
        service.terminate()
        with contextlib.suppress(subprocess.TimeoutExpired):
            service.wait(20)


@pytest.fixture(scope="module")
def python_image(podman_socket: str) -> str:
    """The Python sandbox image in Podman's store, copied from Docker's."""
    tag = current_image("python")
    wanted = docker.from_env().images.get(tag).id
    podman = docker.DockerClient(base_url=podman_socket)
    with contextlib.suppress(docker.errors.ImageNotFound):
        if podman.images.get(tag).id == wanted:
            return tag
    save = subprocess.Popen(["docker", "save", tag], stdout=subprocess.PIPE)
    subprocess.run(["podman", "load", "-q"], stdin=save.stdout, check=True)
    assert save.wait() == 0
    return tag


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def service(
    podman_socket: str, python_image: str, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[TestClient[Any, Any]]:
    tmp = tmp_path_factory.mktemp("podman-service")
    settings = base_settings(
        database_url=f"sqlite:///{tmp / 'store.sqlite3'}",
        instance_name=f"podman-{uuid.uuid4().hex[:8]}",
        languages=("python",),
        build_images="off",
        pool_size=1,
    )
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DOCKER_HOST", podman_socket)
        client: TestClient[Any, Any] = TestClient(TestServer(make_app(settings)))
        await client.start_server()
        for name in CASES:
            await client.app[STORE].save(*problem_of(BY_NAME[name]))
        yield client
        await client.close()
    podman = docker.DockerClient(base_url=podman_socket)
    left = podman.containers.list(all=True, filters={"label": "codeexec.sandbox=1"})
    assert left == []


async def test_the_engine_is_podman_and_ready(service: TestClient[Any, Any]) -> None:
    ready = await service.get("/readyz")
    body = await ready.json()
    assert ready.status == 200, body
    assert body["engine"]["product"] == "Podman"
    assert body["languages"]["python"]["available"] is True
    response = await service.post("/exec", json={"code": HONEST, "id": "HQ000000000000000002"})
    assert (await response.json())["passed"] is True


@pytest.mark.parametrize("name", CASES)
async def test_hostile_cases_judge_the_same(name: str, service: TestClient[Any, Any]) -> None:
    await assert_judged_as_case(service, BY_NAME[name])
