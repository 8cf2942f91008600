"""Sandboxes on every other container runtime registered with the engine (issue 13):
``scripts/provision.sh`` registers gVisor's ``runsc`` and ``crun``. For each, the
service is started with ``CODEEXEC_RUNTIME`` set to it; it either judges a
representative set of hostile cases with the verdicts they get under runc, and measures
time and memory as runc does, or refuses loudly (every language unavailable with the
reason in /readyz). A refusal is a failure in CI unless it is one recorded below.

gVisor's accounting (the runner reads /proc/meminfo and /proc/<pid>/stat there, since
it shows no cgroup counters) is exercised even where the runner refuses gVisor: a
second service sends a runner whose descriptor check is off, as the service never does.
"""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import docker
import pytest
import pytest_asyncio
from aiohttp.test_utils import TestClient, TestServer

import codeexec.sandbox.sandbox as sandbox_module
from codeexec.http.app import make_app
from codeexec.http.keys import SETTINGS, STORE
from codeexec.sandbox.engine import engine_info
from codeexec.store.problems import Problem, TestCase
from tests.conftest import IN_CI, base_settings, sandboxes_of, unavailable
from tests.hostile_cases import BY_NAME, problem_of, source_of

pytestmark = [pytest.mark.docker, pytest.mark.asyncio(loop_scope="module")]

DEFAULT_RUNTIMES = {"runc", "io.containerd.runc.v2", "io.containerd.runtime.v1.linux"}
# Runtimes that cannot judge on these machines, and what /readyz must then say
# (docs/security.md, "Container runtimes").
EXPECTED_REFUSALS = {
    # crun 1.8.1 (Debian 12) refuses a cgroup v1 host with any controller on the v2
    # hierarchy (hugetlb is, here); the host's cgroups must stay as they are.
    "crun": "cgroups in hybrid mode not supported",
    # runsc 20221219 (Debian 12) lets a program open the runner's stdin and stdout
    # through /proc/1/fd; fixed upstream in 2025-12.
    "runsc": "can open the runner's descriptors through /proc/1/fd",
}
CASES = [
    "busy_loop",  # TLE by CPU time
    "sleep_forever",  # TLE by wall time
    "fork_bomb_python",  # the process limit
    "memory_bomb_loop_python",  # MLE
    "memory_tmpfs_files_python",  # files in scratch are memory
    "memory_sysv_shm_python",  # System V shared memory is memory, and is removed
    "kill_everything_python",  # the runner is PID 1 and survives
    "daemon_outlives_test_1",  # nothing survives a test
    "stash_hidden_input_everywhere_python",  # nor anything it left anywhere
    "limits_cannot_be_raised",
    "prlimit_on_the_runner",  # the runner's seccomp filter
    "open_the_runners_descriptors",  # the channel to the service is out of reach
]
# Where a case's verdict differs under gVisor, and why (docs/security.md):
GVISOR_VERDICTS: dict[str, list[list[str]]] = {}
HONEST = "print(input().lower())"
# A program whose CPU time and memory are known: 300 ms of CPU, 1 s asleep (not CPU
# time), 48 MB held.
MEASURED = """
import time
t = time.process_time()
while time.process_time() - t < 0.3:
    pass
time.sleep(1.0)
block = bytearray(48 << 20)
for i in range(0, len(block), 4096):
    block[i] = 1
print(input())
"""
MB = 1024


def other_runtimes() -> list[str]:
    try:
        info = docker.from_env().info()
    except Exception:
        return []
    return sorted(set(info.get("Runtimes") or {}) - DEFAULT_RUNTIMES)


RUNTIMES = other_runtimes()


def is_gvisor(runtime: str) -> bool:
    client = docker.from_env()
    return engine_info(client.info(), client.version(), runtime).gvisor


async def start(tmp: Path, runtime: str | None) -> TestClient[Any, Any]:
    settings = base_settings(
        database_url=f"sqlite:///{tmp / 'store.sqlite3'}",
        instance_name=f"runtime-{uuid.uuid4().hex[:8]}",
        languages=("python",),
        build_images="off",
        pool_size=1,
        runtime=runtime,
    )
    client: TestClient[Any, Any] = TestClient(TestServer(make_app(settings)))
    await client.start_server()
    for name in CASES:
        await client.app[STORE].save(*problem_of(BY_NAME[name]))
    measured = Problem(id="measured", time_limit_ms=2000, memory_limit_mb=128)
    await client.app[STORE].save(measured, [TestCase(b"x\n", b"x\n")])
    return client


async def stop(client: TestClient[Any, Any]) -> None:
    instance = client.app[SETTINGS].instance_name
    await client.close()
    assert sandboxes_of(docker.from_env(), instance) == []


async def judge(client: TestClient[Any, Any], name: str) -> list[dict[str, Any]]:
    case = BY_NAME[name]
    problem, _ = problem_of(case)
    payload = {"code": source_of(case), "id": problem.id, "language": "python"}
    response = await client.post("/exec", json=payload)
    text = await response.text()
    assert response.status == 200, text[:500]
    if "response_lacks" in case:
        assert case["response_lacks"] not in text
    shown: list[dict[str, Any]] = (await response.json())["shownTests"]
    return shown


def expected_verdicts(name: str, gvisor: bool) -> list[list[str]]:
    case = BY_NAME[name]
    _, tests = problem_of(case)
    verdicts = GVISOR_VERDICTS.get(name, case["verdicts"]) if gvisor else case["verdicts"]
    return [v for t, v in zip(tests, verdicts, strict=True) if not t.hidden]


async def measure(client: TestClient[Any, Any]) -> dict[str, Any]:
    response = await client.post("/exec", json={"code": MEASURED, "id": "measured"})
    body = await response.json()
    assert response.status == 200 and body["passed"], body
    test: dict[str, Any] = body["shownTests"][0]
    return test


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def runc_measures(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The measures of MEASURED under the engine's default runtime, to compare with."""
    client = await start(tmp_path_factory.mktemp("runc"), None)
    try:
        return await measure(client)
    finally:
        await stop(client)


async def test_other_runtimes_are_registered() -> None:
    if not RUNTIMES:
        unavailable("no container runtime besides runc is registered (scripts/provision.sh)")


@pytest.mark.parametrize("runtime", RUNTIMES)
async def test_runtime_judges_like_runc_or_refuses_loudly(
    runtime: str, runc_measures: dict[str, Any], tmp_path_factory: pytest.TempPathFactory
) -> None:
    client = await start(tmp_path_factory.mktemp(runtime), runtime)
    try:
        ready = await client.get("/readyz")
        body = await ready.json()
        python = body["languages"]["python"]
        if not python["available"]:
            reason = python["reason"]
            expected = EXPECTED_REFUSALS.get(runtime)
            if expected is None or expected not in reason:
                message = f"{runtime} cannot judge here: {reason}"
                if IN_CI:
                    pytest.fail(message)
                pytest.skip(message)
            # Loud: not ready, the engine and the reason on /readyz, nothing judged.
            assert ready.status == 503 and body["status"] == "unavailable"
            assert body["engine"]["runtime"] == runtime
            response = await client.post("/exec", json={"code": HONEST, "id": "measured"})
            assert response.status == 400, await response.text()
            return
        assert ready.status == 200, body
        await judge_like_runc(client, is_gvisor(runtime), runc_measures)
    finally:
        await stop(client)


async def judge_like_runc(
    client: TestClient[Any, Any],
    gvisor: bool,
    runc_measures: dict[str, Any],
    cases: list[str] = CASES,
) -> dict[str, Any]:
    for name in cases:
        got = [t["verdict"] for t in await judge(client, name)]
        expected = expected_verdicts(name, gvisor)
        assert len(got) == len(expected), name
        for verdict, allowed in zip(got, expected, strict=True):
            assert verdict in allowed, f"{name}: {verdict} not in {allowed}"
    # The same quantities: the program's CPU time (its sleep not counted; gVisor charges
    # the program its sentry's work on its system calls and page faults, in ticks of
    # its own clock while a task runs: 100-300 ms more here, with a CI run alongside),
    # and the memory it held (not the runtime's own).
    measures = await measure(client)
    both = (measures, runc_measures)
    for got in both:
        assert 300 <= got["time_ms"] < 1000, both
        assert 48 * MB <= got["memory_kb"] < 72 * MB, both
    assert measures["time_ms"] - runc_measures["time_ms"] < 500, both
    assert abs(measures["memory_kb"] - runc_measures["memory_kb"]) < 12 * MB, both
    return measures


async def test_gvisor_accounting_judges_like_runc(
    runc_measures: dict[str, Any], tmp_path_factory: pytest.TempPathFactory
) -> None:
    """Where the runner refuses gVisor for its exposed descriptors, the rest of what
    gVisor needs (its accounting, no pidfd, System V ids, /dev/shm, NPROC) is still
    proved: the runner sent here has that one check off."""
    gvisor = [r for r in RUNTIMES if is_gvisor(r)]
    if not gvisor:
        unavailable("gVisor (runsc) is not registered with the engine (scripts/provision.sh)")
    source = sandbox_module.RUNNER_SOURCE
    patched = source.replace("\nCHECK_EXPOSURE = True\n", "\nCHECK_EXPOSURE = False\n")
    assert patched != source
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(sandbox_module, "RUNNER_SOURCE", patched)
        client = await start(tmp_path_factory.mktemp("gvisor"), gvisor[0])
        try:
            ready = await client.get("/readyz")
            body = await ready.json()
            assert ready.status == 200, body
            assert body["sandbox_accounting"] == "gvisor"
            # Every case but the one this runner cannot pass with its check off.
            cases = [c for c in CASES if c != "open_the_runners_descriptors"]
            await judge_like_runc(client, True, runc_measures, cases)
        finally:
            await stop(client)
