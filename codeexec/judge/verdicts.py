"""Verdicts and how a run's outcome maps to one (before the checker looks at output)."""

from __future__ import annotations

import signal

from codeexec.model import RunLimits, RunOutcome, Verdict

MESSAGES = {
    Verdict.TLE: "Time limit exceeded",
    Verdict.MLE: "Memory limit exceeded",
    Verdict.OLE: "Output limit exceeded",
}


def limit_verdict(outcome: RunOutcome, limits: RunLimits) -> Verdict | None:
    """The verdict a run earns by how it ended, or None when its output must be checked.

    Precedence: memory, then time, then output size, then crashes: a program killed
    for one limit often also looks like it crashed.
    """
    if outcome.oom_killed or outcome.memory_kb > limits.memory_mb * 1024:
        return Verdict.MLE
    if (
        outcome.killed_for in ("cpu", "wall")
        or outcome.cpu_ms > limits.cpu_ms
        or outcome.signal == signal.SIGXCPU
    ):
        return Verdict.TLE
    if outcome.killed_for == "output" or outcome.signal == signal.SIGXFSZ:
        return Verdict.OLE
    if outcome.signal is not None or outcome.exit_code != 0:
        return Verdict.RE
    return None


def shown_text(data: bytes) -> str:
    """What a person should see: UTF-8 (invalid bytes become U+FFFD), final newline dropped."""
    return data.decode("utf-8", errors="replace").rstrip("\r\n")
