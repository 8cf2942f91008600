"""One process run in a sandbox: the limits it gets and what happened to it."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class RunLimits:
    cpu_ms: int
    wall_ms: int
    memory_mb: int
    output_bytes: int
    stderr_bytes: int
    file_bytes: int
    open_files: int = 256


@dataclass(frozen=True)
class RunOutcome:
    """What happened to one process run in the sandbox (before any checking)."""

    exit_code: int | None
    signal: int | None
    cpu_ms: int
    wall_ms: int
    memory_kb: int
    oom_killed: bool
    killed_for: str | None  # "cpu" | "wall" | "output" | "memory" | "stopped" | None
    stdout: bytes
    stderr: bytes
    kept_bytes: int = 0  # with keep_files: the size of the program kept for later runs
    kept_error: str | None = None  # with keep_files: why what was made cannot be kept
