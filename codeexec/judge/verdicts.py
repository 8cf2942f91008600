"""Verdicts and how a run's outcome maps to one (before the checker looks at output)."""

from __future__ import annotations

import signal
from dataclasses import dataclass
from enum import StrEnum

from codeexec.sandbox.sandbox import RunLimits, RunOutcome


class Verdict(StrEnum):
    AC = "AC"  # accepted
    WA = "WA"  # wrong answer
    TLE = "TLE"  # time limit exceeded (CPU, or wall-clock backstop)
    MLE = "MLE"  # memory limit exceeded
    RE = "RE"  # runtime error: crash or non-zero exit
    OLE = "OLE"  # output limit exceeded
    CE = "CE"  # compile error
    IE = "IE"  # internal error: the service failed, never the submission's fault


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


@dataclass(frozen=True)
class TestResult:
    verdict: Verdict
    hidden: bool
    cpu_ms: int = 0
    wall_ms: int = 0
    memory_kb: int = 0
    exit_code: int | None = None
    signal: int | None = None
    stdout: bytes = b""  # at most the shown-output limit; empty for hidden tests
    stdout_truncated: bool = False
    stderr: bytes = b""
    feedback: str = ""  # the checker's message (shown tests only)

    __test__ = False  # not a pytest test class


@dataclass(frozen=True)
class Judgement:
    results: tuple[TestResult, ...]
    compile_output: str = ""
    compile_failed: bool = False

    @property
    def passed(self) -> bool:
        return all(r.verdict == Verdict.AC for r in self.results)


def shown_text(data: bytes) -> str:
    """What a person should see: UTF-8 (invalid bytes become U+FFFD), final newline dropped."""
    return data.decode("utf-8", errors="replace").rstrip("\r\n")
