"""What the Docker engine is: version, cgroup version and driver, runtimes, rootless
or user-namespaced. Logged at start-up and shown in ``/readyz``, so an operator sees
at once which of the supported hosts (docs/deploy.md) a service runs on."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from codeexec.sandbox.docker_gateway import DockerGateway


@dataclass(frozen=True)
class EngineInfo:
    product: str  # "Docker" or "Podman" (its Docker-compatible API)
    version: str
    api_version: str
    os: str
    kernel: str
    cgroup_version: int | None
    cgroup_driver: str
    storage_driver: str
    runtime: str  # the runtime sandboxes are created with
    runtimes: tuple[str, ...]
    rootless: bool
    userns: bool
    security_options: tuple[str, ...]
    # Limits the engine says it cannot enforce (e.g. rootless without cgroup delegation).
    unenforced: tuple[str, ...] = ()
    runtime_path: str = ""  # the runtime's binary, as the engine has it registered

    @property
    def gvisor(self) -> bool:
        """Sandboxes run on gVisor's kernel (runsc), which needs more of the host's
        processes and memory than the program it runs (SandboxFactory)."""
        return self.runtime_path.rsplit("/", 1)[-1].startswith("runsc")

    def problem(self) -> str | None:
        """Why no sandbox can be made on this engine, or None."""
        if self.runtime not in self.runtimes:
            return (
                f"the container runtime {self.runtime!r} is not registered with the Docker"
                f" engine (registered: {', '.join(self.runtimes)})"
            )
        if self.unenforced:
            rootless = " (rootless engines need cgroup v2 with delegated controllers)"
            return (
                f"the Docker engine cannot enforce {', '.join(self.unenforced)}"
                f"{rootless if self.rootless else ''}: judging would be blind"
            )
        return None

    def summary(self) -> str:
        cgroup = f"cgroup v{self.cgroup_version}" if self.cgroup_version else "cgroup unknown"
        return (
            f"{self.product} {self.version} (API {self.api_version}) on {self.os},"
            f" kernel {self.kernel};"
            f" {cgroup} ({self.cgroup_driver} driver), storage {self.storage_driver};"
            f" runtime {self.runtime}; rootless {'yes' if self.rootless else 'no'};"
            f" user namespaces {'yes' if self.userns else 'no'}"
        )

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


# `docker info` fields saying whether the engine can enforce a limit the sandbox relies on.
ENFORCED = {
    "MemoryLimit": "memory limits",
    "SwapLimit": "swap limits (memory would spill to swap)",
    "PidsLimit": "process limits",
    "CpuCfsQuota": "CPU quotas",
}


def engine_info(info: dict[str, Any], version: dict[str, Any], runtime: str | None) -> EngineInfo:
    """From the engine's ``/info`` and ``/version`` and the runtime sandboxes ask for."""
    options = tuple(str(o) for o in info.get("SecurityOptions") or ())
    names = {o.split(",")[0].removeprefix("name=") for o in options}
    cgroup = info.get("CgroupVersion")
    components = {str(c.get("Name", "")) for c in version.get("Components") or ()}
    runtime = runtime or str(info.get("DefaultRuntime", "runc"))
    registered = (info.get("Runtimes") or {}).get(runtime)
    return EngineInfo(
        product="Podman" if "Podman Engine" in components else "Docker",
        version=str(info.get("ServerVersion", "")),
        api_version=str(version.get("ApiVersion", "")),
        os=str(info.get("OperatingSystem", "")),
        kernel=str(info.get("KernelVersion", "")),
        cgroup_version=int(str(cgroup)) if str(cgroup).isdigit() else None,
        cgroup_driver=str(info.get("CgroupDriver", "")),
        storage_driver=str(info.get("Driver", "")),
        runtime=runtime,
        runtimes=tuple(sorted(info.get("Runtimes") or {})),
        rootless="rootless" in names,
        userns="userns" in names,
        security_options=options,
        unenforced=tuple(
            what for key, what in ENFORCED.items() if key in info and info[key] is False
        ),
        runtime_path=str(registered.get("path", "")) if isinstance(registered, dict) else "",
    )


async def inspect_engine(gateway: DockerGateway, runtime: str | None) -> EngineInfo:
    info = await gateway.call(gateway.client.info)
    version = await gateway.call(gateway.client.version)
    return engine_info(info, version, runtime)
