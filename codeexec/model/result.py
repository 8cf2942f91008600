"""What judging a program produced: a result per test, in the problem's test order."""

from __future__ import annotations

from dataclasses import dataclass

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

    @property
    def verdict(self) -> Verdict:
        """CE if it did not compile, else the first test's verdict that is not AC, else AC."""
        if self.compile_failed:
            return Verdict.CE
        return next((r.verdict for r in self.results if r.verdict != Verdict.AC), Verdict.AC)
