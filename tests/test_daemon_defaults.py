"""The sandbox does not depend on the Docker daemon's defaults (issue 12, class 9).

A second Docker daemon runs with the defaults an operator might have set: an init
process in every container (``--init``), low default ulimits, and another seccomp
profile (none at all, or one refusing a call the runner needs). The service judges
through it: the sandbox's guarantees must hold, or the language is refused with a
reason that says why, never judged blind."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import docker
import pytest
import pytest_asyncio
from aiohttp.test_utils import TestClient, TestServer

from codeexec.config import Settings
from codeexec.http.app import make_app
from codeexec.http.keys import STORE
from codeexec.sandbox.api import SandboxError
from codeexec.sandbox.docker_gateway import DockerGateway
from codeexec.sandbox.languages import discover_languages
from codeexec.sandbox.sandbox import SandboxFactory
from tests import alt_daemon
from tests.conftest import base_settings, current_image, unavailable
from tests.hostile_cases import BY_NAME, assert_judged_as_case, problem_of

pytestmark = [pytest.mark.docker, pytest.mark.asyncio(loop_scope="module")]

HOSTILE_DEFAULTS = (
    "--init",
    "--default-ulimit=nofile=32:32",
    "--default-ulimit=nproc=8:8",
    "--default-ulimit=stack=1048576:1048576",
    "--default-ulimit=core=-1:-1",
)
# Cases that would break if the daemon's defaults reached the sandbox.
CASES = [
    "kill_everything_python",  # the runner must be PID 1, not docker-init's child
    "fork_bomb_python",  # nproc=8 would end it as RE "cannot fork", not TLE
    "every_abi_refused_python",  # no daemon seccomp: the runner's own filter still holds
    "limits_cannot_be_raised",
    "stash_hidden_input_everywhere_python",
    "daemon_outlives_test_1",
]


def write_profile(path: Path, refuse: list[str]) -> str:
    """A seccomp profile allowing everything but ``refuse`` (EPERM)."""
    rules = [{"names": refuse, "action": "SCMP_ACT_ERRNO", "errnoRet": 1}] if refuse else []
    path.write_text(json.dumps({"defaultAction": "SCMP_ACT_ALLOW", "syscalls": rules}))
    return str(path)


@pytest.fixture(scope="module")
def main_engine() -> docker.DockerClient:
    reason = alt_daemon.can_run()
    if reason:
        unavailable(reason)
    try:
        client = docker.from_env()
        client.ping()
    except Exception as exc:
        unavailable(f"no Docker engine: {exc}")
        raise
    return client


@pytest.fixture(scope="module")
def image(main_engine: docker.DockerClient) -> str:
    return current_image("python")


@pytest.fixture(scope="module")
def log_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("dockerd") / "dockerd.log"


async def start_service(tmp: Path) -> TestClient[Any, Any]:
    settings = base_settings(
        database_url=f"sqlite:///{tmp / 'store.sqlite3'}",
        instance_name=f"daemon-{uuid.uuid4().hex[:8]}",
        languages=("python",),
        build_images="off",
        pool_size=1,
    )
    client: TestClient[Any, Any] = TestClient(TestServer(make_app(settings)))
    await client.start_server()
    return client


class TestHostileDefaults:
    """One daemon with every hostile default at once, shared by these tests."""

    @pytest_asyncio.fixture(loop_scope="module", scope="class")
    @classmethod
    async def service(
        cls,
        main_engine: docker.DockerClient,
        image: str,
        log_file: Path,
        tmp_path_factory: pytest.TempPathFactory,
    ) -> AsyncIterator[TestClient[Any, Any]]:
        tmp = tmp_path_factory.mktemp("hostile-daemon")
        profile = write_profile(tmp / "allow-all.json", [])
        flags = (*HOSTILE_DEFAULTS, f"--seccomp-profile={profile}")
        with (
            pytest.MonkeyPatch.context() as patch,
            alt_daemon.running(*flags, log=log_file) as engine,
        ):
            alt_daemon.copy_image(main_engine, engine, image)
            patch.setenv("DOCKER_HOST", alt_daemon.HOST)  # the service's engine
            client = await start_service(tmp)
            for name in CASES:
                await client.app[STORE].save(*problem_of(BY_NAME[name]))
            yield client
            await client.close()
            assert engine.containers.list(all=True) == []

    async def test_the_daemon_really_has_those_defaults(
        self, service: TestClient[Any, Any], image: str
    ) -> None:
        """The premise: a plain container there gets docker-init as PID 1 and the low
        ulimits, so the cases below prove something."""
        engine = docker.DockerClient(base_url=alt_daemon.HOST)
        probe = "import resource as r; print(open('/proc/1/comm').read(), *(r.getrlimit(n)[0]"
        probe += " for n in (r.RLIMIT_NOFILE, r.RLIMIT_NPROC, r.RLIMIT_STACK)))"
        command = ["python3", "-c", probe]
        container = engine.containers.create(image, command)
        try:
            container.start()
            container.wait(timeout=60)
            out = container.logs()
        finally:
            container.remove(force=True)
        assert out.decode().split() == ["docker-init", "32", "8", "1048576"]

    @pytest.mark.parametrize("name", CASES)
    async def test_sandbox_holds_whatever_the_daemon_defaults(
        self, name: str, service: TestClient[Any, Any]
    ) -> None:
        await assert_judged_as_case(service, BY_NAME[name])


async def test_a_profile_refusing_what_the_runner_needs_is_reported(
    main_engine: docker.DockerClient,
    image: str,
    log_file: Path,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    """A seccomp profile that refuses pidfd_open (as Docker's before 20.10 did): the
    language is unavailable, with the reason, and nothing is judged."""
    profile = write_profile(tmp_path / "strict.json", ["pidfd_open"])
    with alt_daemon.running(f"--seccomp-profile={profile}", log=log_file) as engine:
        alt_daemon.copy_image(main_engine, engine, image)
        monkeypatch.setenv("DOCKER_HOST", alt_daemon.HOST)  # the service's engine
        client = await start_service(tmp_path)
        try:
            languages = await (await client.get("/api/v1/languages")).json()
            python = next(lang for lang in languages["languages"] if lang["id"] == "python")
            assert python["available"] is False
            assert "pidfd_open" in python["reason"]
            payload = {"code": "print(1)", "id": "HQ000000000000000002"}
            response = await client.post("/exec", json=payload)
            assert response.status == 400
            ready = await client.get("/readyz")
            assert "pidfd_open" in await ready.text()
        finally:
            await client.close()


async def test_runner_refuses_to_run_under_an_init_process(
    main_engine: docker.DockerClient,
) -> None:
    """Started under docker-init anyway (a runtime that ignores Init=false), the runner
    says so instead of judging where a program could kill it."""

    class WithInit(SandboxFactory):
        def container_config(self, *args: Any, **kwargs: Any) -> dict[str, Any]:
            return {**super().container_config(*args, **kwargs), "init": True}

    settings: Settings = base_settings(instance_name=f"init-{uuid.uuid4().hex[:8]}")
    language = discover_languages(settings.sandbox.languages_dir, ("python",))["python"]
    gateway = DockerGateway(2)
    factory = WithInit(settings, gateway)
    try:
        with pytest.raises(SandboxError, match="not 1"):
            await factory.start(language, 64, 8)
    finally:
        await factory.remove_all()
        gateway.close()
