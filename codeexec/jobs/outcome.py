"""A job's stored outcome: the judgement's result, or why it could not be judged."""

from __future__ import annotations

from codeexec.judge.report import report
from codeexec.model import Judgement, Outcome, ProblemSnapshot, Status


def outcome_of(snapshot: ProblemSnapshot, judgement: Judgement) -> Outcome:
    return Outcome(status=Status.FINISHED, result=report(snapshot, judgement))


def failure(error: str, problem_version: int | None = None) -> Outcome:
    """The job could not be judged (not a verdict on the program)."""
    return Outcome(status=Status.FAILED, error=error, problem_version=problem_version)
