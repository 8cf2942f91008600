"""Run inside a sandbox-shaped container in the cgroup v2 guest (deploy/guest/guest-init):
print the container's cgroup files the runner reads, and what the runner's own
``Cgroup`` class (codeexec/sandbox/runner/accounting.py, mounted at /diag/accounting.py)
makes of them
before and after some CPU work, an allocation and an OOM kill in a child."""

import importlib.util
import os
import time

ROOT = "/sys/fs/cgroup"
FILES = (
    "cgroup.controllers",
    "cpu.stat",
    "memory.stat",
    "memory.events",
    "memory.current",
    "memory.peak",
    "memory.max",
    "memory.swap.max",
    "pids.max",
    "pids.current",
    "pids.peak",
)


def show(name: str) -> None:
    path = f"{ROOT}/{name}"
    try:
        with open(path) as f:
            text = f.read().rstrip("\n")
    except OSError as exc:
        text = f"<{type(exc).__name__}: {exc.strerror}>"
    print(f"$ cat {path}\n{text}", flush=True)


def counters(cgroup: object, when: str) -> None:
    c = cgroup
    print(
        f"runner Cgroup ({when}): version={c.version} cpu_ns={c.cpu_ns()} "  # type: ignore[attr-defined]
        f"memory_bytes={c.memory_bytes()} oom_kills={c.oom_kills()} "  # type: ignore[attr-defined]
        f"missing={c.missing()}",  # type: ignore[attr-defined]
        flush=True,
    )


spec = importlib.util.spec_from_file_location("accounting", "/diag/accounting.py")
assert spec and spec.loader
runner = importlib.util.module_from_spec(spec)
spec.loader.exec_module(runner)

with open("/proc/self/cgroup") as f:
    print("$ cat /proc/self/cgroup\n" + f.read().rstrip())
with open("/proc/self/mountinfo") as f:
    for line in f:
        if " /sys/fs/cgroup " in line:
            print("mountinfo: " + line.rstrip())
print("$ ls /sys/fs/cgroup\n" + " ".join(sorted(os.listdir(ROOT))), flush=True)
for name in FILES:
    show(name)

cg = runner.Cgroup()
counters(cg, "at start")
cpu0 = cg.cpu_ns() or 0
t = time.process_time()
while time.process_time() - t < 0.5:
    pass
print(f"0.5 s of CPU in this process: cpu_ns grew by {((cg.cpu_ns() or 0) - cpu0) / 1e6:.0f} ms")
mem0 = cg.memory_bytes() or 0
block = bytearray(20 * 1024 * 1024)
print(f"a 20 MB bytearray: memory_bytes grew by {((cg.memory_bytes() or 0) - mem0) / 2**20:.1f} MB")
del block
oom0 = cg.oom_kills() or 0
pid = os.fork()
if pid == 0:
    hog = []
    while True:
        hog.append(bytearray(8 * 1024 * 1024))
_, status = os.waitpid(pid, 0)
ended = (
    f"killed by signal {os.WTERMSIG(status)}"
    if os.WIFSIGNALED(status)
    else f"exit {os.WEXITSTATUS(status)}"
)
print(f"a child allocating without end: {ended}; oom_kills grew by {(cg.oom_kills() or 0) - oom0}")
counters(cg, "at the end")
for name in ("memory.events", "memory.peak", "pids.peak"):
    show(name)
