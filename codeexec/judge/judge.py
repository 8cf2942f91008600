"""Judging one submission: one fresh sandbox, compile once, run every test, check each.

The sandbox sees the source and, for each test, only that test's input; expected
outputs stay here, where the checker compares them with what the program printed.
"""

from __future__ import annotations

import logging

from codeexec.checker import CHECKERS
from codeexec.config import Settings
from codeexec.judge.verdicts import Judgement, TestResult, Verdict, limit_verdict
from codeexec.sandbox.languages import Language
from codeexec.sandbox.sandbox import RunLimits, RunOutcome, SandboxFactory
from codeexec.store.problems import Problem, ProblemSnapshot

log = logging.getLogger(__name__)

_COMPILE_OUTPUT_LIMIT = 64 * 1024


class Judge:
    def __init__(self, settings: Settings, sandboxes: SandboxFactory) -> None:
        self._settings = settings
        self._sandboxes = sandboxes

    def limits_for(self, problem: Problem) -> RunLimits:
        s = self._settings
        time_ms = s.clamp_time_ms(problem.time_limit_ms)
        output_bytes = s.clamp_output_kb(problem.output_limit_kb) * 1024
        return RunLimits(
            cpu_ms=time_ms,
            # Wall-clock backstop for programs that sleep, block or stop themselves.
            wall_ms=max(2 * time_ms, time_ms + 1000),
            memory_mb=s.clamp_memory_mb(problem.memory_limit_mb),
            output_bytes=output_bytes,
            stderr_bytes=s.stderr_limit_kb * 1024,
            file_bytes=s.sandbox_scratch_mb * 1024 * 1024,
        )

    def compile_limits(self, language: Language) -> RunLimits:
        c = language.compile_limits
        return RunLimits(
            cpu_ms=c.time_ms,
            wall_ms=2 * c.time_ms,
            memory_mb=c.memory_mb,
            output_bytes=c.output_kb * 1024,
            stderr_bytes=c.output_kb * 1024,
            file_bytes=self._settings.sandbox_scratch_mb * 1024 * 1024,
        )

    async def judge(
        self, language: Language, source: bytes, snapshot: ProblemSnapshot
    ) -> Judgement:
        problem, tests = snapshot.problem, snapshot.tests
        limits = self.limits_for(problem)
        check = CHECKERS[problem.checker]
        memory_mb = max(limits.memory_mb, language.compile_limits.memory_mb)
        async with self._sandboxes.open(language, memory_mb) as box:
            await box.put_files({language.source_file: source})
            if language.compile is not None:
                climits = self.compile_limits(language)
                outcome = await box.run(language.compile, b"", climits, keep_files=True)
                failure = limit_verdict(outcome, climits)
                if failure is not None:
                    message = _compile_message(outcome, failure)
                    failed = tuple(TestResult(Verdict.CE, t.hidden) for t in tests)
                    return Judgement(failed, compile_output=message, compile_failed=True)
            results: list[TestResult] = []
            for test in tests:
                outcome = await box.run(language.run, test.input, limits)
                verdict = limit_verdict(outcome, limits)
                if verdict is None:
                    matched = check(test.expected_output, outcome.stdout)
                    verdict = Verdict.AC if matched else Verdict.WA
                results.append(_result(verdict, test.hidden, outcome))
        return Judgement(tuple(results))


def _result(verdict: Verdict, hidden: bool, outcome: RunOutcome) -> TestResult:
    return TestResult(
        verdict=verdict,
        hidden=hidden,
        cpu_ms=outcome.cpu_ms,
        wall_ms=outcome.wall_ms,
        memory_kb=outcome.memory_kb,
        exit_code=outcome.exit_code,
        signal=outcome.signal,
        stdout=outcome.stdout,
        stderr=outcome.stderr,
    )


def _compile_message(outcome: RunOutcome, failure: Verdict) -> str:
    text = (outcome.stderr + outcome.stdout)[:_COMPILE_OUTPUT_LIMIT]
    message = text.decode("utf-8", errors="replace").strip()
    if failure in (Verdict.TLE, Verdict.MLE, Verdict.OLE):
        reason = {Verdict.TLE: "time", Verdict.MLE: "memory", Verdict.OLE: "output"}[failure]
        message = f"Compilation exceeded its {reason} limit\n{message}".strip()
    return message or "Compilation failed"
