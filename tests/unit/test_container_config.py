"""The container a sandbox is made of, as the engine is asked for it: what the sandbox
guarantees rely on, independent of the daemon's defaults (docs/security.md)."""

from __future__ import annotations

from typing import Any

import pytest

from codeexec.sandbox.engine import engine_info
from codeexec.sandbox.languages import discover_languages
from codeexec.sandbox.sandbox import SandboxFactory
from tests.conftest import base_settings


def config(**settings: Any) -> tuple[SandboxFactory, dict[str, Any]]:
    s = base_settings(**settings)
    factory = SandboxFactory(s, None)  # type: ignore[arg-type]  # no engine calls here
    language = discover_languages(s.sandbox.languages_dir, ("python",))["python"]
    return factory, factory.container_config(language, 256, 32)


def test_nothing_is_left_to_the_daemon_s_defaults() -> None:
    _, cfg = config()
    assert cfg["init"] is False  # the runner is PID 1, even under "init": true
    assert cfg["network_mode"] == "none" and cfg["read_only"] is True
    assert cfg["cap_drop"] == ["ALL"] and "no-new-privileges" in cfg["security_opt"]
    assert cfg["ipc_mode"] == "none"
    names = {u["Name"] for u in cfg["ulimits"]}
    assert {"nofile", "nproc", "core", "fsize", "memlock", "msgqueue", "stack"} <= names
    assert cfg["mem_limit"] == cfg["memswap_limit"]  # no swap


def test_memory_is_the_limit_plus_the_runner() -> None:
    factory, cfg = config(sandbox_memory_overhead_mb=32)
    assert cfg["mem_limit"] == "288m"  # 256 + 32
    assert factory.hard_memory_mb(64, program_bytes=5 << 20) == 64 + 32 + 5


def test_each_sandbox_gets_its_own_uid() -> None:
    """Per-uid kernel quotas (pending signals, pipe pages) are then per sandbox."""
    s = base_settings(sandbox_uids=3, sandbox_uid_base=300_000)
    factory = SandboxFactory(s, None)  # type: ignore[arg-type]
    language = discover_languages(s.sandbox.languages_dir, ("python",))["python"]
    users = [factory.container_config(language, 64, 8)["user"] for _ in range(4)]
    assert users == ["300000:65534", "300001:65534", "300002:65534", "300000:65534"]
    scratch = factory.container_config(language, 64, 8)["tmpfs"]["/tmp"]
    assert "uid=300001" in scratch  # the scratch belongs to that sandbox's user


def test_a_fixed_user_when_the_pool_is_off() -> None:
    _, cfg = config(sandbox_uids=0, sandbox_user="1234:1234")
    assert cfg["user"] == "1234:1234" and "uid=1234,gid=1234" in cfg["tmpfs"]["/tmp"]


@pytest.mark.parametrize("product", ["Docker", "Podman"])
def test_scratch_options_the_engine_takes(product: str) -> None:
    components = [{"Name": "Podman Engine"}] if product == "Podman" else [{"Name": "Engine"}]
    engine = engine_info({"Runtimes": {"runc": {}}}, {"Components": components}, None)
    s = base_settings()
    factory = SandboxFactory(s, None, engine)  # type: ignore[arg-type]
    language = discover_languages(s.sandbox.languages_dir, ("python",))["python"]
    scratch = factory.container_config(language, 64, 8)["tmpfs"]["/tmp"]
    assert "noexec" in scratch and "mode=0700" in scratch and "size=" in scratch
    if product == "Podman":  # its API refuses uid/gid/nr_inodes and owns by "U"
        assert ",U," in scratch and "uid=" not in scratch and "nr_inodes" not in scratch
    else:
        assert "nr_inodes=" in scratch and "uid=" in scratch


def test_a_gvisor_sandbox_gets_room_for_its_kernel() -> None:
    """runsc's sentry lives in the container's cgroup: its threads count against the
    host's pids limit (the program's processes are held by RLIMIT_NPROC in the runner)
    and its memory against the ceiling (the runner judges MLE at the limit)."""
    runtimes = {"runc": {"path": "runc"}, "runsc": {"path": "/usr/bin/runsc"}}
    engine = engine_info({"Runtimes": runtimes}, {"Components": []}, "runsc")
    assert engine.gvisor and not engine_info({"Runtimes": runtimes}, {}, "runc").gvisor
    s = base_settings(sandbox_memory_overhead_mb=32)
    factory = SandboxFactory(s, None, engine)  # type: ignore[arg-type]
    language = discover_languages(s.sandbox.languages_dir, ("python",))["python"]
    cfg = factory.container_config(language, 256, 32)
    assert cfg["pids_limit"] == 256 + 32 * 33
    assert cfg["mem_limit"] == f"{256 + 32 + 32 + 2 * 32}m"
