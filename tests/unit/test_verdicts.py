"""How a run's ending maps to a verdict (pure logic; the real runs are in test_exec_api)."""

import signal

import pytest

from codeexec.judge.verdicts import limit_verdict
from codeexec.model import RunLimits, RunOutcome, Verdict

LIMITS = RunLimits(
    cpu_ms=1000, wall_ms=2000, memory_mb=64, output_bytes=1000, stderr_bytes=100, file_bytes=1000
)


def outcome(**changes: object) -> RunOutcome:
    values: dict[str, object] = {
        "exit_code": 0,
        "signal": None,
        "cpu_ms": 10,
        "wall_ms": 10,
        "memory_kb": 1000,
        "oom_killed": False,
        "killed_for": None,
        "stdout": b"",
        "stderr": b"",
    }
    values.update(changes)
    return RunOutcome(**values)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("changes", "verdict"),
    [
        ({}, None),
        ({"exit_code": 1}, Verdict.RE),
        ({"exit_code": None, "signal": signal.SIGSEGV}, Verdict.RE),
        ({"killed_for": "cpu", "exit_code": None, "signal": 9}, Verdict.TLE),
        ({"killed_for": "wall", "exit_code": None, "signal": 9}, Verdict.TLE),
        ({"cpu_ms": 1001}, Verdict.TLE),
        ({"exit_code": None, "signal": signal.SIGXCPU}, Verdict.TLE),
        ({"oom_killed": True, "exit_code": None, "signal": 9}, Verdict.MLE),
        ({"memory_kb": 64 * 1024 + 1}, Verdict.MLE),
        ({"killed_for": "output", "exit_code": None, "signal": 9}, Verdict.OLE),
        # Memory beats time: an OOM-killed program that also ran long is MLE.
        ({"oom_killed": True, "killed_for": "wall"}, Verdict.MLE),
    ],
)
def test_limit_verdicts(changes: dict[str, object], verdict: Verdict | None) -> None:
    assert limit_verdict(outcome(**changes), LIMITS) == verdict
