"""An ad-hoc run's problem as the JSON its job row carries, and back: limits, options
and tests (data as base64: a run's stdin need not be text)."""

from __future__ import annotations

import base64
import json
from typing import Any

from codeexec.model import AD_HOC_ID, AdHoc, CheckerSpec, Problem, ProblemSnapshot, TestCase

_LIMITS = (
    "time_limit_ms",
    "memory_limit_mb",
    "output_limit_kb",
    "wall_time_limit_ms",
    "process_limit",
)


def inline_json(snapshot: ProblemSnapshot) -> str:
    problem = snapshot.problem
    assert problem.ad_hoc is not None, "only an ad-hoc run's problem travels with its job"
    data: dict[str, Any] = {name: getattr(problem, name) for name in _LIMITS}
    data |= {
        "checker": problem.checker.mode,
        "args": list(problem.ad_hoc.args),
        "merge_stderr": problem.ad_hoc.merge_stderr,
    }
    # A run's tests are its one test repeated: stored once.
    test = snapshot.tests[0]
    assert all(t == test for t in snapshot.tests), "an ad-hoc run has one test, repeated"
    data["test"] = {
        "input": base64.b64encode(test.input).decode(),
        "expected_output": base64.b64encode(test.expected_output).decode(),
    }
    data["repeat"] = len(snapshot.tests)
    return json.dumps(data)


def inline_of(text: str) -> ProblemSnapshot:
    data = json.loads(text)
    problem = Problem(
        id=AD_HOC_ID,
        checker=CheckerSpec(mode=str(data["checker"])),
        ad_hoc=AdHoc(tuple(str(a) for a in data["args"]), bool(data["merge_stderr"])),
        **{name: data[name] for name in _LIMITS},
    )
    test = data["test"]
    once = TestCase(base64.b64decode(test["input"]), base64.b64decode(test["expected_output"]))
    return ProblemSnapshot(problem, (once,) * int(data["repeat"]))
