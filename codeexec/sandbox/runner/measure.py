"""Step 3 of a run: the program's CPU time and memory, from the container's counters
(``accounting``): read before it starts, sampled every ``POLL_S`` while it runs (the
limits the kernel does not enforce itself are checked then), and read at its end."""

import resource

from .accounting import Cgroup, Gvisor, peak_rss_kb, self_cpu_ns

POLL_S = 0.02  # CPU and memory are sampled this often while a program runs
# ... after a first sample this soon, the period doubling up to POLL_S: a program that
# ends within the first period is sampled too (its ru_maxrss cannot tell, floored by
# the runner's own, which spawned it: such a program showed 0 to 84 kB).
FIRST_SAMPLE_S = 0.001
CPU_GRACE_NS = 50_000_000  # CPU time over the limit before the runner stops a program


class Meter:
    def __init__(self, counters: Cgroup | Gvisor, memory_base: int, gvisor: bool) -> None:
        """``memory_base`` is the container's memory before the program's files were
        restored, so they count as the program's."""
        self.counters = counters
        self.memory_base = memory_base
        self.gvisor = gvisor
        self.cpu_before = counters.cpu_ns()
        self.oom_before = counters.oom_kills()
        self.memory_peak = memory_base
        self.own_peak = 0  # kB: the program's own peak RSS, where the counters miss it
        self.self_before = self_cpu_ns()  # the runner's time is not the program's

    def sample(self, pid: int, limits: dict[str, int]) -> str | None:
        """One sample while the program runs; the limit it broke, if any."""
        self.memory_peak = max(self.memory_peak, self.counters.memory_bytes() or 0)
        self.own_peak = max(self.own_peak, peak_rss_kb(pid))
        # gVisor's kernel kills nothing for memory, and the host kills the whole
        # sandbox only at its ceiling: the runner stops the program at its limit.
        if self.gvisor and self.memory_peak - self.memory_base > limits["memory_bytes"]:
            return "memory"
        used = self.counters.cpu_ns()
        own = self_cpu_ns() - self.self_before
        over = limits["cpu_ms"] * 1_000_000 + CPU_GRACE_NS
        if self.cpu_before is not None and used is not None and used - self.cpu_before - own > over:
            return "cpu"
        return None

    def ended(self) -> None:
        """Read as the program ends: what it still holds (files, shared memory) counts."""
        self.memory_peak = max(self.memory_peak, self.counters.memory_bytes() or 0)

    def result(self, usage: resource.struct_rusage, rss_floor: int) -> dict[str, int | bool]:
        """CPU time, peak memory and OOM kills, once every process is dead and reaped
        (``usage``: the program's own, the fallback where counters are missing)."""
        cpu_after = self.counters.cpu_ns()
        if self.cpu_before is not None and cpu_after is not None:
            cpu_ns = max(0, cpu_after - self.cpu_before - (self_cpu_ns() - self.self_before))
        else:
            cpu_ns = int((usage.ru_utime + usage.ru_stime) * 1e9)
        oom_after = self.counters.oom_kills()
        own_peak = self.own_peak
        if usage.ru_maxrss > rss_floor:
            own_peak = max(own_peak, usage.ru_maxrss)
        return {
            "cpu_ms": cpu_ns // 1_000_000,
            "memory_kb": max(own_peak, (self.memory_peak - self.memory_base) // 1024),
            "oom_killed": bool(self.oom_before is not None and (oom_after or 0) > self.oom_before),
        }
