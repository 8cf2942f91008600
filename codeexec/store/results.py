"""A finished job's ``Result`` as database columns and back (per test: its JSON form,
the flat keys rows have always had)."""

from __future__ import annotations

import json
from typing import Any

from codeexec.model import Result, ScoreReport, TestReport, Verdict


def result_columns(result: Result) -> dict[str, Any]:
    counts = {
        f"{'hidden' if hidden else 'shown'}_{'passed' if ok else 'failed'}": result.count(
            hidden, ok
        )
        for hidden in (False, True)
        for ok in (True, False)
    }
    return {
        "problem_version": result.problem_version,
        "verdict": result.verdict.value,
        "passed": result.passed,
        "compile_output": result.compile_output or None,
        "results": json.dumps([t.as_json() for t in result.tests], ensure_ascii=False),
        "score": json.dumps(result.scoring.as_json()) if result.scoring is not None else None,
        **counts,
    }


def result_of(row: Any) -> Result | None:
    """The result a row holds (None unless the job finished)."""
    if row.verdict is None or row.problem_version is None:
        return None
    return Result(
        problem_version=int(row.problem_version),
        verdict=Verdict(row.verdict),
        passed=bool(row.passed),
        compile_output=row.compile_output or "",
        tests=tuple(TestReport.from_json(d) for d in json.loads(row.results or "[]")),
        scoring=ScoreReport.from_json(json.loads(row.score)) if row.score else None,
    )
