"""Step 4 of a run: end it and make its answer — every process killed and reaped, the
pipes read to their end, the measurements taken."""

import contextlib
import os
import signal
import time
from typing import Any

from .measure import Meter
from .spawn import Process
from .watch import Watch


def collect(
    watch: Watch, process: Process, meter: Meter, started: float, credit: float
) -> dict[str, Any]:
    wall_ns = int((time.monotonic() - started - credit) * 1e9)
    meter.ended()
    with contextlib.suppress(ProcessLookupError):
        os.kill(-1, signal.SIGKILL)  # whatever it left running dies with it
    _, status, usage = os.wait4(process.pid, 0)
    watch.drain_to_end()
    watch.ship()
    if watch.killed_for is None and watch.out_total > watch.limits["output_bytes"]:
        watch.killed_for = "output"  # found while reading what it left in the pipe
    if process.stdin is not None:
        os.close(process.stdin)
        process.stdin = None
    return {
        "exit_code": os.WEXITSTATUS(status) if os.WIFEXITED(status) else None,
        "signal": os.WTERMSIG(status) if os.WIFSIGNALED(status) else None,
        "wall_ms": max(0, wall_ns) // 1_000_000,
        **meter.result(usage, process.rss_floor),
        "killed_for": watch.killed_for,
        "stdout_overflow": watch.out_total > watch.limits["output_bytes"],
        "stdout_total": watch.out_total,
        "stderr_total": watch.err_total,
    }


def not_started(watch: Watch, argv0: str, exc: OSError) -> dict[str, Any]:
    """The answer when the command could not be executed (as a shell says it)."""
    watch.err += f"cannot execute {argv0}: {exc.strerror}\n".encode()
    return {
        "exit_code": 127,
        "signal": None,
        "cpu_ms": 0,
        "wall_ms": 0,
        "memory_kb": 0,
        "oom_killed": False,
        "killed_for": None,
        "stdout_overflow": False,
        "stdout_total": 0,
        "stderr_total": 0,
    }
