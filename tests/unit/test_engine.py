"""What ``/readyz`` and the start-up log say about the Docker engine, from ``docker info``
of the hosts codeexec supports (shapes as Docker 20.10 to 27 report them)."""

from __future__ import annotations

from codeexec.sandbox.engine import engine_info

DEBIAN_V1 = {
    "ServerVersion": "20.10.24+dfsg1",
    "OperatingSystem": "Debian GNU/Linux 12 (bookworm)",
    "KernelVersion": "6.1.0-27-cloud-amd64",
    "CgroupVersion": "1",
    "CgroupDriver": "cgroupfs",
    "Driver": "overlay2",
    "DefaultRuntime": "runc",
    "Runtimes": {"runc": {"path": "runc"}, "io.containerd.runc.v2": {"path": "runc"}},
    "SecurityOptions": ["name=seccomp,profile=default"],
}
DOCKER = {"ApiVersion": "1.41", "Components": [{"Name": "Engine"}, {"Name": "containerd"}]}
PODMAN = {
    "ApiVersion": "1.41",
    "Components": [{"Name": "Podman Engine"}, {"Name": "Conmon"}, {"Name": "OCI Runtime (crun)"}],
}
ROOTLESS_V2 = {
    "ServerVersion": "27.3.1",
    "OperatingSystem": "Ubuntu 24.04.1 LTS",
    "KernelVersion": "6.8.0-48-generic",
    "CgroupVersion": "2",
    "CgroupDriver": "systemd",
    "Driver": "overlay2",
    "DefaultRuntime": "runc",
    "Runtimes": {"runc": {"path": "runc"}, "runsc": {"path": "/usr/bin/runsc"}},
    "SecurityOptions": [
        "name=seccomp,profile=builtin",
        "name=rootless",
        "name=cgroupns",
    ],
}


def test_a_rootful_cgroup_v1_engine() -> None:
    engine = engine_info(DEBIAN_V1, DOCKER, None)
    assert engine.cgroup_version == 1 and engine.cgroup_driver == "cgroupfs"
    assert engine.runtime == "runc" and not engine.rootless and not engine.userns
    assert engine.problem() is None
    assert "cgroup v1 (cgroupfs driver)" in engine.summary()
    assert "rootless no" in engine.summary()


def test_a_rootless_cgroup_v2_engine_with_gvisor() -> None:
    engine = engine_info(ROOTLESS_V2, DOCKER, "runsc")
    assert engine.cgroup_version == 2 and engine.cgroup_driver == "systemd"
    assert engine.rootless and engine.runtime == "runsc"
    assert engine.problem() is None


def test_user_namespaces_are_recognised() -> None:
    info = DEBIAN_V1 | {"SecurityOptions": ["name=seccomp,profile=default", "name=userns"]}
    assert engine_info(info, DOCKER, None).userns


def test_an_unregistered_runtime_is_a_problem_that_names_the_registered_ones() -> None:
    problem = engine_info(DEBIAN_V1, DOCKER, "crun").problem()
    assert problem is not None and "'crun' is not registered" in problem
    assert "runc" in problem


def test_an_engine_that_does_not_say_its_cgroup_version() -> None:
    info = {k: v for k, v in DEBIAN_V1.items() if k != "CgroupVersion"}
    assert engine_info(info, DOCKER, None).cgroup_version is None


def test_an_engine_that_cannot_enforce_limits_is_refused() -> None:
    """Rootless Docker on cgroup v1 (or v2 without delegation) says so in docker info."""
    info = ROOTLESS_V2 | {"MemoryLimit": False, "PidsLimit": False, "CpuCfsQuota": True}
    problem = engine_info(info, DOCKER, None).problem()
    assert problem is not None
    assert "memory limits" in problem and "process limits" in problem
    assert "delegated" in problem and "blind" in problem
    assert engine_info(DEBIAN_V1 | {"MemoryLimit": True}, DOCKER, None).problem() is None


def test_podman_is_recognised_by_its_components() -> None:
    info = DEBIAN_V1 | {"ServerVersion": "4.3.1", "DefaultRuntime": "crun"}
    info["Runtimes"] = {"crun": {"path": "/usr/bin/crun"}, "runc": {"path": "/usr/bin/runc"}}
    engine = engine_info(info, PODMAN, None)
    assert engine.product == "Podman" and engine.runtime == "crun"
    assert engine.summary().startswith("Podman 4.3.1 (API 1.41)")
    assert engine_info(DEBIAN_V1, DOCKER, None).product == "Docker"


def test_the_runtime_s_binary_says_whether_it_is_gvisor() -> None:
    info = ROOTLESS_V2 | {"Runtimes": ROOTLESS_V2["Runtimes"] | {"gvisor": {"path": "runsc"}}}
    assert engine_info(info, DOCKER, "runsc").gvisor
    assert engine_info(info, DOCKER, "gvisor").gvisor  # any name, runsc's binary
    assert not engine_info(info, DOCKER, None).gvisor
    assert not engine_info(info, DOCKER, "kata").gvisor  # not registered: no path
