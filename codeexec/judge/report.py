"""A judgement becomes a ``Result`` once, here: each result paired with its test, shown
tests' data and output as text; every view renders that and computes nothing more."""

from __future__ import annotations

from codeexec.judge.scoring import score
from codeexec.judge.verdicts import shown_text
from codeexec.model import (
    Judgement,
    Output,
    ProblemSnapshot,
    Result,
    ScoreReport,
    Shown,
    TestReport,
    TestResult,
    Verdict,
)

STDERR_SHOWN = 8192  # the end of a shown test's stderr that is kept


def _output(result: TestResult) -> Output:
    return Output(result.stdout, result.stderr, result.stdout_truncated, result.stderr_truncated)


def report(snapshot: ProblemSnapshot, judgement: Judgement) -> Result:
    """An ad-hoc run's tests carry the program's output whole (``Output``) instead of a
    shown test's text."""
    ad_hoc = snapshot.problem.ad_hoc is not None
    scoring, verdicts, scores = _scoring(snapshot, judgement)
    tests = tuple(
        TestReport(
            position=test.position_at(index),
            hidden=test.hidden,
            verdict=verdicts.get(index, result.verdict),
            name=test.name,
            time_ms=result.cpu_ms,
            wall_ms=result.wall_ms,
            memory_kb=result.memory_kb,
            exit_code=result.exit_code,
            signal=result.signal,
            output=_output(result) if ad_hoc else None,
            score=scores.get(index),
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
    verdict = judgement.verdict
    if verdicts:  # a validator's score file was wrong: those tests are IE
        verdict = next((t.verdict for t in tests if t.verdict != Verdict.AC), verdict)
    return Result(
        problem_version=snapshot.problem.version,
        verdict=verdict,
        passed=judgement.passed and not verdicts,
        compile_output=judgement.compile_output,
        tests=tests,
        scoring=scoring,
    )


def _scoring(
    snapshot: ProblemSnapshot, judgement: Judgement
) -> tuple[ScoreReport | None, dict[int, Verdict], dict[int, float]]:
    """A scoring problem's score, and the tests a judge error in scoring made IE; none
    for a job of some tests only (the shown ones keep their ``position``)."""
    scoring = snapshot.problem.scoring
    if scoring is None or any(t.position is not None for t in snapshot.tests):
        return None, {}, {}
    return score(scoring, snapshot.tests, judgement.results, judgement.compile_failed)
