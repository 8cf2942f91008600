"""A judgement as a job's stored outcome: overall verdict, counts, and per-test results
(hidden tests: their verdict, name and measurements; never their data or output)."""

from __future__ import annotations

from typing import Any

from codeexec.judge.verdicts import shown_text
from codeexec.model import Judgement, Outcome, ProblemSnapshot, Status, Verdict


def outcome_of(snapshot: ProblemSnapshot, judgement: Judgement) -> Outcome:
    counts = {"shown_passed": 0, "shown_failed": 0, "hidden_passed": 0, "hidden_failed": 0}
    results: list[dict[str, Any]] = []
    for position, (test, result) in enumerate(
        zip(snapshot.tests, judgement.results, strict=True), 1
    ):
        ok = result.verdict == Verdict.AC
        counts[("hidden_" if test.hidden else "shown_") + ("passed" if ok else "failed")] += 1
        # Stored whole for admins; what others see of a hidden test is decided when
        # it is rendered (codeexec.http.visibility). A hidden test's data and output
        # are never stored: the problem has the data, and its output is not kept.
        item: dict[str, Any] = {
            "position": position,
            "hidden": test.hidden,
            "verdict": result.verdict.value,
            "name": test.name,
            "time_ms": result.cpu_ms,
            "wall_ms": result.wall_ms,
            "memory_kb": result.memory_kb,
            "exit_code": result.exit_code,
            "signal": result.signal,
        }
        if not test.hidden:
            item |= {
                "input": shown_text(test.input),
                "expected": shown_text(test.expected_output),
                "got": shown_text(result.stdout),
                "got_truncated": result.stdout_truncated,
                "stderr": shown_text(result.stderr[-8192:]),
                "feedback": result.feedback,
            }
        results.append(item)
    return Outcome(
        status=Status.FINISHED,
        problem_version=snapshot.problem.version,
        verdict=judgement.verdict.value,
        passed=judgement.passed,
        counts=counts,
        compile_output=judgement.compile_output or None,
        results=results,
    )


def failure(error: str, problem_version: int | None = None) -> Outcome:
    """The job could not be judged (not a verdict on the program)."""
    return Outcome(status=Status.FAILED, problem_version=problem_version, error=error)
