"""GitHub Classroom autograding: the result object a grader step hands to
``classroom-resources/autograding-grading-reporter``.

What the real actions write, and what the reporter reads (their source, read for this):

- ``autograding-io-grader`` and ``autograding-command-grader`` (src/main.js) set the
  step output ``result`` to ``Buffer.from(JSON.stringify(result)).toString('base64')``:
  standard base64 (padded, one line) of the compact JSON, UTF-8. ``result`` is
  ``{version: 1, status, max_score, tests: [{name, status, score, message, test_code,
  filename, line_no: 0, execution_time: `${seconds}s`}]}`` (io-grader; the command grader
  writes ``duration`` in milliseconds instead of ``execution_time``).
- ``autograding-python-grader`` (bin/run.sh) writes the output line itself:
  ``echo "result=$(jq -c . results.json | jq -sRr @base64)" >> "$GITHUB_OUTPUT"``; the JS
  graders' ``core.setOutput`` (@actions/core 1.10) writes the same value in the
  ``result<<delimiter`` form. A base64 value has no newline, so ``result=<base64>`` is
  the same output.
- The reporter (src/main.js) decodes ``<RUNNER>_RESULTS`` from base64 and ``JSON.parse``s
  it; fails the job when a runner's ``status`` is ``"fail"`` or ``"error"``; prints each
  test's ``name``, ``status`` (``"pass"``, ``"error"`` prints ``message``, anything else is
  a failure) and `` - line <line_no>`` unless ``line_no`` is 0 (so 0, as the graders
  write, not null: null would print "line null"); and tells Classroom
  ``Points <sum of tests' score>/<max_score>`` (src/notify-classroom.js; skipped when
  ``max_score`` is 0). Its console total is instead ``passed / tests * max_score``, which
  agrees with the points only when every test is worth the same.

Each test of each graded source is one entry, worth 1 point unless ``points`` (by test
name, see ``graded.own_name``) says otherwise; a scoring problem's source is one entry
``score`` instead, worth its ``max_score`` (``points["score"]`` rescales it) and
scoring what the job scored, each group's score in its message; with more than one
graded source a test's name starts with ``<problem>: <source>: ``. A source that could
not be graded is one ``error`` entry worth 1 point, so a run with one never reports
full marks. A hidden test's entry carries its verdict only.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping, Sequence
from typing import Any

from codeexec.grade.graded import (
    ERRORS,
    PASSED,
    Graded,
    clean,
    details,
    excerpt,
    name_of,
    own_name,
    reportable,
    score_lines,
    summary,
    verdict_of,
)
from codeexec.model.verdict import Verdict

NOT_RUN = "not run: compilation failed"


def classroom_result(
    graded: Sequence[Graded], points: Mapping[str, float] | None = None
) -> dict[str, Any]:
    """The version-1 result object of every test of every source in ``graded``."""
    tests: list[dict[str, Any]] = []
    for one in graded:
        prefix = clean(f"{one.problem}: {one.source}: ") if len(graded) > 1 else ""
        tests += [{**entry, "name": prefix + entry["name"]} for entry in _entries(one, points)]
    statuses = {t["status"] for t in tests}
    status = "error" if "error" in statuses else "fail" if "fail" in statuses else "pass"
    return {
        "version": 1,
        "status": status,
        "max_score": sum(t["max_score"] for t in tests),
        "tests": tests,
    }


def classroom_output(result: Mapping[str, Any]) -> str:
    """The ``$GITHUB_OUTPUT`` line the graders write: ``result=<base64 of the JSON>``."""
    text = json.dumps(result, separators=(",", ":"), ensure_ascii=False)  # JSON.stringify's
    return "result=" + base64.b64encode(text.encode("utf-8", "replace")).decode("ascii") + "\n"


def _entries(g: Graded, points: Mapping[str, float] | None) -> list[dict[str, Any]]:
    if not g.judged:
        return [_entry("grading", g.source, "error", 1, clean(g.why_not), g.duration_s)]
    assert g.job is not None
    compile_failed = g.job.get("verdict") == Verdict.CE.value
    compiler = excerpt(str(g.job.get("compile_output") or ""), 40, 4000)
    tests = g.results
    if compile_failed and not tests:
        return [_entry("compile", g.source, "error", 0, compiler, 0.0)]
    out = []
    if g.job.get("score") is not None:
        return [_score_entry(g, points)]
    for number, test in enumerate(tests):
        worth: float = 1 if points is None else points.get(own_name(test), 1)
        verdict = verdict_of(test)
        if verdict in PASSED:
            status, message = "pass", None
        elif verdict == Verdict.CE.value:
            status = "error"
            message = NOT_RUN if compile_failed and number > 0 else f"{summary(test)}\n{compiler}"
        else:
            status = "error" if verdict in ERRORS else "fail"
            message = "\n".join(part for part in (summary(test), details(test)) if part)
        seconds = int(reportable(test).get("time_ms") or 0) / 1000
        out.append(_entry(name_of(test), g.source, status, worth, message, seconds))
    return out


def _score_entry(g: Graded, points: Mapping[str, float] | None) -> dict[str, Any]:
    """A scoring problem's job as one entry: its points are its score (scaled to
    ``points["score"]`` when given; an unbounded problem is worth what it scored)."""
    assert g.job is not None
    score = float(g.job["score"])
    most = g.job.get("max_score")
    most = score if most is None else float(most)
    worth = most if points is None or "score" not in points else points["score"]
    earned = score * worth / most if most > 0 else 0.0
    verdict = str(g.job.get("verdict"))
    status = "pass" if score >= most else "error" if verdict in ERRORS else "fail"
    entry = _entry("score", g.source, status, worth, score_lines(g.job), 0.0)
    return {**entry, "score": round(earned, 6)}


def _entry(
    name: str, source: str, status: str, worth: float, message: str | None, seconds: float
) -> dict[str, Any]:
    return {
        "name": name,
        "status": status,
        "score": worth if status == "pass" else 0,
        "max_score": worth,
        "message": clean(message) if message is not None else None,
        "filename": clean(source),
        "line_no": 0,
        "execution_time": _execution_time(seconds),
    }


def _execution_time(seconds: float) -> str:
    """As the io-grader writes it: JavaScript's ``${ms / 1000}s`` ("0.12s", "1s")."""
    text = f"{round(seconds, 3):.3f}".rstrip("0").rstrip(".")
    return f"{text}s"
