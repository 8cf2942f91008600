"""What a caller may see of a problem, its tests and a submission's per-test results:
the one place where hidden data is left out of answers.

- **Admins** (the admin token or an admin API key) see everything.
- **Everyone else** (submitter keys; anonymous callers where authentication is off)
  sees what a contestant may see: a problem's settings, statement and limits, its
  checker's mode (not its program, language or arguments), its shown tests whole, and
  of a hidden test only where it is (``position``) and, in a submission's results and
  events, its verdict: never its name, size, data, output, stderr, time, memory, exit
  status or checker feedback. Counts of hidden tests are totals.

A contestant's view is built from what it may hold (allow-lists), never by deleting what
it may not: a field added later stays out of it until it is allowed here.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from codeexec.http.auth import is_admin
from codeexec.model import CheckerSpec, Problem, TestCase, TestSummary


@dataclass(frozen=True)
class Viewer:
    sees_hidden: bool  # hidden tests whole, the checker's program and arguments


ADMIN = Viewer(sees_hidden=True)
CONTESTANT = Viewer(sees_hidden=False)

# All of a hidden test a contestant sees, in a problem, a result or an event.
HIDDEN_TEST_FIELDS = ("position", "hidden", "verdict", "total")


def viewer_of(request: web.Request) -> Viewer:
    return ADMIN if is_admin(request) else CONTESTANT


def test_for(viewer: Viewer, test: dict[str, Any]) -> dict[str, Any]:
    """A test, a test's result or a test event as ``viewer`` may see it. A test not
    marked ``"hidden": false`` counts as hidden."""
    if viewer.sees_hidden or test.get("hidden") is False:
        return test
    return {k: test[k] for k in HIDDEN_TEST_FIELDS if k in test}


def checker_for(viewer: Viewer, spec: CheckerSpec) -> dict[str, Any]:
    if not viewer.sees_hidden:
        return {"mode": spec.mode}
    out: dict[str, Any] = {"mode": spec.mode, "args": list(spec.args)}
    if spec.program is not None:
        out["language"] = spec.program.language
        out["files"] = [{"name": n, "content": c} for n, c in spec.program.files]
    return out


def problem_for(viewer: Viewer, problem: Problem) -> dict[str, Any]:
    """A problem's settings (its tests are rendered by ``problem_test_for``)."""
    return {
        "id": problem.id,
        "title": problem.title,
        "statement": problem.statement,
        "version": problem.version,
        "time_limit_ms": problem.time_limit_ms,
        "memory_limit_mb": problem.memory_limit_mb,
        "output_limit_kb": problem.output_limit_kb,
        "wall_time_limit_ms": problem.wall_time_limit_ms,
        "process_limit": problem.process_limit,
        "isolation": problem.isolation,
        "checker": checker_for(viewer, problem.checker),
        "screening": problem.screening,
    }


def _data(data: bytes, field: str) -> dict[str, str]:
    """Text when it is UTF-8, else base64 in the field's ``_base64`` twin."""
    try:
        return {field: data.decode("utf-8")}
    except UnicodeDecodeError:
        return {f"{field}_base64": base64.b64encode(data).decode("ascii")}


def problem_test_for(viewer: Viewer, position: int, test: TestCase | TestSummary) -> dict[str, Any]:
    """One of a problem's tests: with its data when given a ``TestCase``, with its
    sizes only when given a ``TestSummary``."""
    summary = TestSummary.of(test) if isinstance(test, TestCase) else test
    out: dict[str, Any] = {
        "position": position,
        "name": summary.name,
        "hidden": summary.hidden,
        "input_bytes": summary.input_bytes,
        "expected_output_bytes": summary.expected_output_bytes,
    }
    if isinstance(test, TestCase) and (viewer.sees_hidden or not test.hidden):
        out |= _data(test.input, "input") | _data(test.expected_output, "expected_output")
    return test_for(viewer, out)


def event_for(viewer: Viewer, kind: str, data: dict[str, Any]) -> dict[str, Any]:
    """A submission event's data: a ``test`` event is a test's result."""
    return test_for(viewer, data) if kind == "test" else data


__all__ = [
    "ADMIN",
    "CONTESTANT",
    "HIDDEN_TEST_FIELDS",
    "Viewer",
    "checker_for",
    "event_for",
    "problem_for",
    "problem_test_for",
    "test_for",
    "viewer_of",
]
