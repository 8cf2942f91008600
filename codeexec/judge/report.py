"""A judgement becomes a ``Result`` once, here: each result paired with its test, shown
tests' data and output as text; every view renders that and computes nothing more."""

from __future__ import annotations

from codeexec.judge.verdicts import shown_text
from codeexec.model import (
    Judgement,
    Output,
    ProblemSnapshot,
    Result,
    Shown,
    TestReport,
    TestResult,
)

STDERR_SHOWN = 8192  # the end of a shown test's stderr that is kept


def _output(result: TestResult) -> Output:
    return Output(result.stdout, result.stderr, result.stdout_truncated, result.stderr_truncated)


def report(snapshot: ProblemSnapshot, judgement: Judgement) -> Result:
    """An ad-hoc run's tests carry the program's output whole (``Output``) instead of a
    shown test's text."""
    ad_hoc = snapshot.problem.ad_hoc is not None
    tests = tuple(
        TestReport(
            position=test.position_at(index),
            hidden=test.hidden,
            verdict=result.verdict,
            name=test.name,
            time_ms=result.cpu_ms,
            wall_ms=result.wall_ms,
            memory_kb=result.memory_kb,
            exit_code=result.exit_code,
            signal=result.signal,
            output=_output(result) if ad_hoc else None,
            shown=None
            if test.hidden or ad_hoc
            else Shown(
                input=shown_text(test.input),
                expected=shown_text(test.expected_output),
                got=shown_text(result.stdout),
                got_truncated=result.stdout_truncated,
                stderr=shown_text(result.stderr[-STDERR_SHOWN:]),
                feedback=result.feedback,
            ),
        )
        # An ad-hoc run's repeats may stop early: fewer results than tests.
        for index, (test, result) in enumerate(
            zip(snapshot.tests, judgement.results, strict=not ad_hoc)
        )
    )
    return Result(
        problem_version=snapshot.problem.version,
        verdict=judgement.verdict,
        passed=judgement.passed,
        compile_output=judgement.compile_output,
        tests=tests,
    )
