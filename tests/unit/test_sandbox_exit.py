"""How a sandbox whose runner hung up is judged: killed for memory or not, read from
the engine's state once the container has stopped (Podman on cgroup v1 never sets
OOMKilled, and the stream closes before any engine has noticed the exit)."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any, cast

import pytest

from codeexec.sandbox import sandbox as sandbox_module
from codeexec.sandbox.sandbox import Sandbox, SandboxFactory

RUNNING = {"Running": True, "OOMKilled": False, "ExitCode": 0}


class Engine:
    """Answers inspect with the given states in turn, the last one for ever."""

    def __init__(self, *states: dict[str, Any]) -> None:
        self.states = list(states)
        self.asked = 0

    async def inspect_state(self, container_id: str) -> dict[str, Any]:
        self.asked += 1
        return self.states.pop(0) if len(self.states) > 1 else self.states[0]


def box(engine: Engine, podman: bool = True) -> Sandbox:
    factory = cast(SandboxFactory, SimpleNamespace(gateway=engine, podman=podman))
    return Sandbox("c0ffee", cast(Any, None), cast(Any, None), factory, memory_mb=64, processes=1)


@pytest.mark.parametrize(
    ("exited", "killed"),
    [
        ({"Running": False, "OOMKilled": True, "ExitCode": 137}, True),
        # Podman: the runner was SIGKILLed by the kernel, and the flag stays false.
        ({"Running": False, "OOMKilled": False, "ExitCode": 137}, True),
        ({"Running": False, "OOMKilled": False, "ExitCode": 1}, False),
        ({"Running": False, "OOMKilled": False, "ExitCode": 0}, False),
    ],
)
async def test_state_is_read_once_the_container_has_stopped(
    exited: dict[str, Any], killed: bool
) -> None:
    engine = Engine(RUNNING, RUNNING, exited)
    assert await box(engine).was_oom_killed() is killed
    assert engine.asked == 3


async def test_on_docker_only_its_flag_counts() -> None:
    """Docker reports OOM kills; a runner SIGKILLed from outside (``docker kill``) is
    not the submission's doing (tests/test_exec_api.py has it for real)."""
    engine = Engine({"Running": False, "OOMKilled": False, "ExitCode": 137})
    assert await box(engine, podman=False).was_oom_killed() is False


async def test_a_runner_still_running_is_not_called_killed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(sandbox_module, "_EXIT_SETTLE_S", 0.2)
    engine = Engine(RUNNING)
    assert await box(engine).was_oom_killed() is False
    assert engine.asked >= 2


async def test_an_engine_that_cannot_answer_is_not_called_killed() -> None:
    class Gone:
        async def inspect_state(self, container_id: str) -> dict[str, Any]:
            raise RuntimeError("404 no such container")

    assert await box(cast(Engine, Gone())).was_oom_killed() is False
