"""What judging a program produced: a result per test, in the problem's test order."""

from __future__ import annotations

import base64
from dataclasses import dataclass
from typing import Any

from codeexec.model.scoring import ScoreReport
from codeexec.model.verdict import Verdict


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
    stderr_truncated: bool = False
    feedback: str = ""  # the checker's message (shown tests only)
    # What a scoring problem's validator wrote in score.txt / score_multiplier.txt.
    score: float | None = None
    score_multiplier: float | None = None

    __test__ = False  # not a pytest test class


@dataclass(frozen=True)
class Judgement:
    results: tuple[TestResult, ...]
    compile_output: str = ""
    compile_failed: bool = False
    compile_ms: int | None = None  # the compile step's wall time; None: nothing compiled

    @property
    def passed(self) -> bool:
        return all(r.verdict == Verdict.AC for r in self.results)

    @property
    def verdict(self) -> Verdict:
        """CE if it did not compile, else the first test's verdict that is not AC, else AC."""
        if self.compile_failed:
            return Verdict.CE
        return next((r.verdict for r in self.results if r.verdict != Verdict.AC), Verdict.AC)


@dataclass(frozen=True)
class Shown:
    """What a shown test was given and did, as a person reads it (UTF-8 text)."""

    input: str
    expected: str
    got: str
    got_truncated: bool
    stderr: str
    feedback: str


_SHOWN_FIELDS = ("input", "expected", "got", "got_truncated", "stderr", "feedback")


@dataclass(frozen=True)
class Output:
    """An ad-hoc run's output as the program wrote it (bytes: it need not be text), whole
    up to the run's output and stderr limits."""

    stdout: bytes
    stderr: bytes
    stdout_truncated: bool = False
    stderr_truncated: bool = False

    def as_json(self) -> dict[str, Any]:
        return {
            "stdout_b64": base64.b64encode(self.stdout).decode(),
            "stderr_b64": base64.b64encode(self.stderr).decode(),
            "stdout_truncated": self.stdout_truncated,
            "stderr_truncated": self.stderr_truncated,
        }

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> Output:
        return cls(
            base64.b64decode(d["stdout_b64"]),
            base64.b64decode(d["stderr_b64"]),
            bool(d["stdout_truncated"]),
            bool(d["stderr_truncated"]),
        )


@dataclass(frozen=True)
class TestReport:
    """One test's result as every view renders it (``shown`` None for a hidden test:
    its data and output are never kept)."""

    position: int  # 1-based, in the problem's order
    hidden: bool
    verdict: Verdict
    name: str | None
    time_ms: int
    wall_ms: int
    memory_kb: int
    exit_code: int | None
    signal: int | None
    shown: Shown | None
    output: Output | None = None  # ad-hoc runs only
    score: float | None = None  # a scoring problem's tests only

    __test__ = False  # not a pytest test class

    def as_json(self) -> dict[str, Any]:
        """Its JSON form, flat: how the jobs API shows it and how it is stored."""
        out: dict[str, Any] = {
            "position": self.position,
            "hidden": self.hidden,
            "verdict": self.verdict.value,
            "name": self.name,
            "time_ms": self.time_ms,
            "wall_ms": self.wall_ms,
            "memory_kb": self.memory_kb,
            "exit_code": self.exit_code,
            "signal": self.signal,
        }
        if self.shown is not None:
            out |= {k: getattr(self.shown, k) for k in _SHOWN_FIELDS}
        if self.output is not None:
            out["output"] = self.output.as_json()
        if self.score is not None:
            out["score"] = self.score
        return out

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> TestReport:
        shown = Shown(**{k: d[k] for k in _SHOWN_FIELDS}) if "input" in d else None
        return cls(
            position=int(d["position"]),
            hidden=bool(d["hidden"]),
            verdict=Verdict(d["verdict"]),
            name=d.get("name"),
            time_ms=int(d["time_ms"]),
            wall_ms=int(d["wall_ms"]),
            memory_kb=int(d["memory_kb"]),
            exit_code=d.get("exit_code"),
            signal=d.get("signal"),
            shown=shown,
            output=Output.from_json(d["output"]) if "output" in d else None,
            score=d.get("score"),
        )


@dataclass(frozen=True)
class Result:
    """A judged submission: what every door answers with, in its own format."""

    problem_version: int
    verdict: Verdict
    passed: bool
    compile_output: str
    tests: tuple[TestReport, ...]
    scoring: ScoreReport | None = None  # scoring problems only

    def count(self, hidden: bool, passed: bool) -> int:
        return sum(
            1 for t in self.tests if t.hidden == hidden and (t.verdict == Verdict.AC) == passed
        )
