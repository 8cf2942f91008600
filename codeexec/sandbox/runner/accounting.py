"""Accounting: CPU time, memory held and OOM kills of the container, from its cgroup
counters (v1 or v2) or, under gVisor, from what its kernel shows. Standard library
only and no imports of its own package: deploy/guest/cgroup-diag.py loads it alone."""

import os
import resource


def _read_stat(path: str) -> dict[bytes, int] | None:
    """A cgroup file of ``key value`` lines."""
    try:
        with open(path, "rb") as f:
            pairs = (line.split(b" ", 1) for line in f.read().splitlines() if b" " in line)
            return {key: int(value) for key, value in pairs}
    except (OSError, ValueError):
        return None


def _read_keys(path: str, keys: tuple[bytes, ...]) -> int | None:
    """The sum of ``keys`` in a cgroup file of ``key value`` lines."""
    values = _read_stat(path)
    if values is None or any(k not in values for k in keys):
        return None
    return sum(values[k] for k in keys)


# v2 kernels before "kernel" was added to memory.stat (5.18) list its parts.
V2_KERNEL_PARTS = (b"kernel_stack", b"pagetables", b"percpu", b"sock", b"slab_unreclaimable")


def _read_int(path: str) -> int | None:
    try:
        with open(path, "rb") as f:
            return int(f.read().strip())
    except (OSError, ValueError):
        return None


class Cgroup:
    """CPU time, memory held and OOM kills of the container, from its cgroup (v1 or v2).

    Memory counts what a program can hold and the kernel cannot simply drop: anonymous
    pages, shmem (tmpfs files, SysV and POSIX shared memory, memfd, shared anonymous
    mappings) and kernel memory charged to the cgroup (pipe and socket buffers, message
    queues, page tables, ...). Page cache of files it reads is not the program's."""

    def __init__(self, root: str = "/sys/fs/cgroup") -> None:
        self.kernel_file: str | None
        if os.path.exists(f"{root}/cgroup.controllers"):
            self.version = 2
            self.name = "cgroup v2"
            self.cpu_file = f"{root}/cpu.stat"
            self.memory_file = f"{root}/memory.stat"
            self.memory_keys: tuple[bytes, ...] = (b"anon", b"shmem")
            self.kernel_file = None
            self.oom_file = f"{root}/memory.events"
        else:
            self.version = 1
            self.name = "cgroup v1"
            self.cpu_file = f"{root}/cpuacct/cpuacct.usage"
            self.memory_file = f"{root}/memory/memory.stat"
            self.memory_keys = (b"total_rss", b"total_shmem")
            self.kernel_file = f"{root}/memory/memory.kmem.usage_in_bytes"
            self.oom_file = f"{root}/memory/memory.oom_control"

    def cpu_ns(self) -> int | None:
        if self.version == 2:
            usec = _read_keys(self.cpu_file, (b"usage_usec",))
            return None if usec is None else usec * 1000
        return _read_int(self.cpu_file)

    def memory_bytes(self) -> int | None:
        stat = _read_stat(self.memory_file)
        if stat is None or any(k not in stat for k in self.memory_keys):
            return None
        held = sum(stat[k] for k in self.memory_keys)
        if self.version == 1:
            kernel = _read_int(self.kernel_file) if self.kernel_file else None
            return held + (kernel or 0)
        # v2: "kernel" is every kernel charge, of which reclaimable slab (dentry and
        # inode caches) is not held by the program.
        if b"kernel" in stat:
            return held + stat[b"kernel"] - stat.get(b"slab_reclaimable", 0)
        return held + sum(stat.get(k, 0) for k in V2_KERNEL_PARTS)

    def oom_kills(self) -> int | None:
        return _read_keys(self.oom_file, (b"oom_kill",))

    def missing(self) -> list[str]:
        """Counters that cannot be read: judging without them would be blind."""
        checks = {
            self.cpu_file: self.cpu_ns(),
            self.memory_file: self.memory_bytes(),
            self.oom_file: self.oom_kills(),
        }
        return [path for path, value in checks.items() if value is None]


class Gvisor:
    """CPU time and memory held under gVisor (runsc), where the container's kernel is
    gVisor's sentry. It shows the container no cgroup counters (runsc 2022 drops
    Docker's cgroup mount; its --cgroupfs has no CPU usage, no memory.stat, no OOM
    count), but what it shows is the sandbox's alone, so the same quantities are read
    from other files:

    - memory: ``AnonPages`` of /proc/meminfo, which gVisor computes as anonymous
      memory plus tmpfs (its ``Shmem`` repeats the tmpfs part): what v1's
      ``total_rss + total_shmem`` counts. Page cache of files read is excluded, as on
      Linux. Kernel memory (pipe buffers, ...) is the sentry's heap and not shown: the
      host's cgroup limit on the whole sandbox bounds it (MLE when it kills).
    - CPU: every process's own time and its reaped children's (/proc/<pid>/stat, in
      clock ticks), the runner's from getrusage: the container's total, like cpuacct.
      gVisor charges time in 10 ms ticks of its own clock while a task runs.
    - OOM kills: the sentry kills nothing for memory; the host kills the whole sandbox,
      which the service judges MLE from Docker's OOMKilled."""

    version = None
    name = "gvisor"
    TICK_NS = 1_000_000_000 // os.sysconf("SC_CLK_TCK")

    def __init__(self, proc: str = "/proc") -> None:
        self.proc = proc

    def cpu_ns(self) -> int | None:
        total = 0
        for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN):
            usage = resource.getrusage(who)
            total += int((usage.ru_utime + usage.ru_stime) * 1e9)
        ticks = 0
        try:
            names = os.listdir(self.proc)
        except OSError:
            return None
        pids = (int(n) for n in names if n.isdigit() and int(n) != os.getpid())
        for pid in sorted(pids):  # parents first: a child reaped meanwhile is missed for
            try:  # one sample rather than counted twice
                with open(f"{self.proc}/{pid}/stat", "rb") as f:
                    fields = f.read().rsplit(b")", 1)[1].split()
                ticks += sum(int(v) for v in fields[11:15])  # utime stime cutime cstime
            except (OSError, IndexError, ValueError):
                continue  # gone (reaped: its time is in its parent's)
        return total + ticks * self.TICK_NS

    def memory_bytes(self) -> int | None:
        try:
            with open(f"{self.proc}/meminfo", "rb") as f:
                for line in f:
                    if line.startswith(b"AnonPages:"):
                        return int(line.split()[1]) * 1024  # in kB
        except (OSError, ValueError, IndexError):
            pass
        return None

    def oom_kills(self) -> int | None:
        return 0

    def missing(self) -> list[str]:
        checks = {"/proc/meminfo": self.memory_bytes(), "/proc/<pid>/stat": self.cpu_ns()}
        return [path for path, value in checks.items() if value is None]


def peak_rss_kb(pid: int) -> int:
    """A live process's own peak RSS (VmHWM of its address space), 0 if unknown."""
    try:
        with open(f"/proc/{pid}/status", "rb") as f:
            for line in f:
                if line.startswith(b"VmHWM:"):
                    return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        pass
    return 0


def self_cpu_ns() -> int:
    """The runner's own CPU time, which the container's counters include."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return int((usage.ru_utime + usage.ru_stime) * 1e9)
