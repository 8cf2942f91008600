"""Attacks on containers that serve several submissions (``CODEEXEC_SANDBOX_USES``), on
the real engine, from a submitter's side: each test leaves something in a container
through one submission and looks for it from the next, which the one-slot, one-warm-
container service hands the container the previous one gave back when the rules allow.
``tests/test_sandbox_reuse.py`` has the first two (files and IPC, hidden counters)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_asyncio
from aiohttp.test_utils import TestClient

from codeexec.http.keys import LANGUAGES, SANDBOXES, STORE
from codeexec.model import Problem, RunLimits, TestCase
from codeexec.sandbox.api import SandboxFile
from tests.conftest import started_service
from tests.test_sandbox_reuse import ANY, COUNTER_PROBE, FORKS, judged

pytestmark = pytest.mark.asyncio(loop_scope="module")


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def client(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[TestClient[Any, Any]]:
    tmp = tmp_path_factory.mktemp("reuse-attacks")
    service = await started_service(
        tmp, "reuse-attacks", pool_size=1, concurrency=1, sandbox_uses=50
    )
    store = service.app[STORE]
    # Shown and hidden runs that both fork: a clean and a tainted container come back.
    await store.save(
        Problem(id="forks", time_limit_ms=10_000, screening=ANY),
        [TestCase(b"fork\n", b"ok\n"), TestCase(b"fork\n", b"ok\n", hidden=True)],
    )
    await store.save(
        Problem(id="isolated", isolation="test", time_limit_ms=10_000, screening=ANY),
        [TestCase(b"pid\n", b"?\n"), TestCase(b"fresh?\n", b"fresh\n", hidden=True)],
    )
    await store.save(
        Problem(id="runner", time_limit_ms=10_000, screening=ANY), [TestCase(b"", b"?\n")]
    )
    for problem, memory_mb in (("small", 64), ("large", 512)):
        await store.save(
            Problem(id=problem, memory_limit_mb=memory_mb, time_limit_ms=10_000, screening=ANY),
            [TestCase(b"", b"?\n")],
        )
    yield service
    await service.close()


async def test_test_isolation_never_runs_in_a_container_another_submission_used(
    client: TestClient[Any, Any],
) -> None:
    # "test" isolation promises each test a container nothing else used (guarantee 1):
    # one that served another submission carries its counters, and a tainted one its
    # hidden tests' (a hidden test's verdict can tell one bit of it).
    pool = client.app[SANDBOXES].pool
    await pool.settled()
    first = await judged(client, COUNTER_PROBE, "forks")
    assert first["passed"] is True, first
    assert pool.stats()["tainted"].get("python") == 1
    second = await judged(client, COUNTER_PROBE, "isolated")
    assert int(second["shownTests"][0]["got"]) < FORKS, second  # not the "forks" one's
    assert second["hiddenTests"] == {"passed": 1, "failed": 0}, second  # nor the tainted


async def test_a_run_cut_short_leaves_no_runner_out_of_step_in_the_pool(
    client: TestClient[Any, Any],
) -> None:
    # A submission cancelled mid-run (a job cancelled, a request gone): the run's answer
    # is still coming. Given back, the next submission would read it as its own.
    factory, python = client.app[SANDBOXES], client.app[LANGUAGES]["python"]
    pool = factory.pool
    memory_mb, processes = factory.default_shape(python)
    limits = RunLimits(5_000, 10_000, memory_mb, 1 << 20, 1 << 16, 1 << 20)
    await pool.settled()
    printing, used = asyncio.Event(), []

    async def cut_short() -> None:
        async with factory.open(python, memory_mb, processes, reuse=True) as box:
            used.append(box.container_id)
            # After its output only the run's answer is still to come: "ok", like a reset's.
            late = "import time\nprint('theirs', flush=True)\ntime.sleep(1)\n"
            await box.put_files((SandboxFile.source("main.py", late),))
            await box.run(python.run, b"", limits, stdout_to=lambda _: printing.set())

    task = asyncio.create_task(cut_short())
    await printing.wait()
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
    await pool.settled()
    assert used[0] not in pool.idle_ids()
    for _ in range(2):  # whichever container comes next answers its own run
        async with factory.open(python, memory_mb, processes, reuse=True) as box:
            await box.put_files((SandboxFile.source("main.py", "print('mine')\n"),))
            ran = await box.run(python.run, b"", limits)
        assert ran.stdout == b"mine\n", ran
        await pool.settled()


async def test_a_program_gets_its_own_problems_stack_in_a_container_a_smaller_one_used(
    client: TestClient[Any, Any],
) -> None:
    # The runner pins its own hard stack limit to a run's (execve would otherwise write
    # back the one it started with); it can never raise it again. A container that
    # served a problem (or an ad-hoc run) of less memory would give every later program
    # that smaller stack: deep recursion fails (RE) well within its memory limit.
    code = "import resource\nprint(resource.getrlimit(resource.RLIMIT_STACK)[0] >> 20)\n"
    pool = client.app[SANDBOXES].pool
    await pool.settled()
    small = await judged(client, code, "small")
    assert small["shownTests"][0]["got"] == "64", small
    # Offered the container "small" gave back (the one idle of its kind), this printed 64.
    large = await judged(client, code, "large")
    assert large["shownTests"][0]["got"] == "512", large


# How a program might read the runner's memory: with containers reused, it holds (freed,
# not zeroed) the sources and inputs of every submission its container served.
READ_THE_RUNNER = """
import ctypes, os
libc = ctypes.CDLL(None, use_errno=True)
found = []
if libc.ptrace(0x4206, 1, None, None) == 0:  # PTRACE_SEIZE
    found.append("ptrace")
class Iov(ctypes.Structure):
    _fields_ = [("base", ctypes.c_void_p), ("len", ctypes.c_size_t)]
buf = ctypes.create_string_buffer(16)
local, remote = Iov(ctypes.addressof(buf), 16), Iov(0x400000, 16)
n = libc.process_vm_readv(1, ctypes.byref(local), 1, ctypes.byref(remote), 1, 0)
if n >= 0 or ctypes.get_errno() != 1:  # EPERM, not EFAULT: not even looked at
    found.append("process_vm_readv")
for name in ("mem", "maps", "environ", "fd/0", "pagemap"):
    try:
        open(f"/proc/1/{name}", "rb").read(1)
        found.append(name)
    except OSError:
        pass
print(found)
"""


async def test_no_program_reads_the_runner_that_served_earlier_submissions(
    client: TestClient[Any, Any],
) -> None:
    await judged(client, COUNTER_PROBE, "forks")  # the runner now holds another program and input
    body = await judged(client, READ_THE_RUNNER, "runner")
    assert body["shownTests"][0]["got"] == "[]", body


async def test_a_submission_cancelled_while_its_container_is_resized_leaves_no_container(
    client: TestClient[Any, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    # A container taken from the pool is resized before the submission's block starts;
    # cancelled there, it was neither given back nor removed: it ran on, unknown to the
    # pool, until shutdown.
    factory, python = client.app[SANDBOXES], client.app[LANGUAGES]["python"]
    pool = factory.pool
    memory_mb, processes = factory.default_shape(python)
    # An idle container of the default size (this one, or one alike kept instead), taken
    # for a smaller program and resized (a smaller one has the stack it needs).
    pool.give_back(await factory.start(python, memory_mb, processes), python)
    await pool.settled()
    resizing = asyncio.Event()
    update = factory.gateway.update_memory

    async def stuck(container_id: str, hard_mb: int) -> None:
        resizing.set()
        await asyncio.sleep(3600)

    monkeypatch.setattr(factory.gateway, "update_memory", stuck)

    async def submission() -> None:
        async with factory.open(python, memory_mb - 37, processes, reuse=True):
            raise AssertionError("never reached")

    task = asyncio.create_task(submission())
    resized = asyncio.create_task(resizing.wait())
    await asyncio.wait((task, resized), return_when=asyncio.FIRST_COMPLETED)
    resized.cancel()
    assert resizing.is_set()
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
    monkeypatch.setattr(factory.gateway, "update_memory", update)
    await factory.removals_done()
    await pool.settled()
    assert factory.live_ids() == pool.idle_ids()  # every container not idle: gone
