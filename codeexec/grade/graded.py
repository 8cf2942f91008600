"""What grading one source file against one problem produced (``Graded``), and what of it
every report format may show.

A job is read as ``GET /api/v1/submissions/{id}`` returns it (``submission_out``). The
reports (JUnit XML, GitHub Classroom) end up where the person who wrote the program reads
them, so they show a hidden test as a contestant sees it: where it is and its verdict,
nothing else (``reportable``), even when the job came from an admin key that sees more.
"""

from __future__ import annotations

import re
import signal
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from codeexec.model.verdict import Verdict


@dataclass(frozen=True)
class Graded:
    source: str  # the source file's path as given on the command line
    problem: str  # the problem id
    language: str  # codeexec language id
    # The finished job exactly as GET /api/v1/submissions/{id} returns it (admin view),
    # None if it could not be graded.
    job: dict[str, Any] | None
    error: str | None = None  # why it could not be graded, when job is None or the job failed
    duration_s: float = 0.0  # wall time of grading this source

    @property
    def judged(self) -> bool:
        """The job finished with a result (a verdict per test), whatever the verdicts."""
        return (
            self.job is not None
            and self.job.get("status") == "finished"
            and isinstance(self.job.get("results"), list)
        )

    @property
    def passed(self) -> bool:
        return self.judged and self.job is not None and self.job.get("passed") is True

    @property
    def results(self) -> list[dict[str, Any]]:
        """Each test's result in the problem's order (empty unless ``judged``)."""
        return list(self.job["results"]) if self.judged and self.job is not None else []

    @property
    def why_not(self) -> str:
        """Why it has no result: ``error``, else the job's own error, else its status."""
        if self.error:
            return self.error
        if self.job is None:
            return "not graded"
        if self.job.get("error"):
            return str(self.job["error"])
        return f"the job is {self.job.get('status', 'unknown')}"

    @property
    def outcome(self) -> str:
        """``ungraded`` without a job, else the job's status (``failed``, ``cancelled``...)."""
        return "ungraded" if self.job is None else str(self.job.get("status", "unknown"))


# -- what of a test a report shows ------------------------------------------------------------

# All of a hidden test a report carries (a subset of http.visibility.HIDDEN_TEST_FIELDS, the
# contestant's view; tests/unit/test_grade_formats.py holds that).
HIDDEN_FIELDS = ("position", "hidden", "verdict")

PASSED = frozenset({Verdict.AC.value})
ERRORS = frozenset({Verdict.CE.value, Verdict.IE.value})  # not the program's answer: errors
# WA, TLE, MLE, OLE, RE (and a verdict added later): the program failed the test.

_VERDICT_TEXT = {
    Verdict.AC.value: "accepted",
    Verdict.WA.value: "wrong answer",
    Verdict.TLE.value: "time limit exceeded",
    Verdict.MLE.value: "memory limit exceeded",
    Verdict.OLE.value: "output limit exceeded",
    Verdict.RE.value: "runtime error",
    Verdict.CE.value: "compilation failed",
    Verdict.IE.value: "internal error (the judge failed, not the program)",
    Verdict.SK.value: "not run (its group stopped at an earlier rejection)",
}


def is_hidden(test: Mapping[str, Any]) -> bool:
    """A test not marked ``"hidden": false`` counts as hidden (as in http.visibility)."""
    return test.get("hidden") is not False


def reportable(test: Mapping[str, Any]) -> dict[str, Any]:
    """A test's result as a report may show it: a hidden test's position and verdict only."""
    if is_hidden(test):
        return {k: test[k] for k in HIDDEN_FIELDS if k in test}
    return dict(test)


def verdict_of(test: Mapping[str, Any]) -> str:
    return str(test.get("verdict", Verdict.IE.value))


def name_of(test: Mapping[str, Any]) -> str:
    """What a report calls a test: its name (e.g. ``sample/1``), else ``test <position>``;
    a hidden test is always ``test <position>`` (its name is not shown)."""
    shown = reportable(test)
    name = shown.get("name")
    return clean(str(name)) if name else f"test {shown.get('position', '?')}"


def own_name(test: Mapping[str, Any]) -> str:
    """The test's name as the job gives it (hidden or not), else ``test <position>``: what
    per-test settings (e.g. Classroom points) are keyed by. Never shown for a hidden test."""
    name = test.get("name")
    return str(name) if name else f"test {test.get('position', '?')}"


def scored(score: float, most: float | None) -> str:
    """``12.5/100``, or ``12.5`` when unbounded."""
    return f"{score:g}" if most is None else f"{score:g}/{most:g}"


def group_text(group: Mapping[str, Any]) -> str:
    """A scoring problem's group as a report shows it: ``30/30 AC``."""
    return f"{scored(group['score'], group.get('max_score'))} {group['verdict']}"


def score_lines(job: Mapping[str, Any]) -> str:
    """A scoring problem's job: its score, then each group's, one per line."""
    lines = [f"score {scored(job['score'], job.get('max_score'))}"]
    lines += [f"{g['name']}: {group_text(g)}" for g in job.get("groups") or []]
    return "\n".join(lines)


def time_s(test: Mapping[str, Any]) -> float:
    """The test's CPU time in seconds (0 for a hidden test: not shown)."""
    return int(reportable(test).get("time_ms") or 0) / 1000


def _signal_name(number: int) -> str:
    try:
        return f" ({signal.Signals(number).name})"
    except ValueError:
        return ""


def summary(test: Mapping[str, Any]) -> str:
    """One line: what the verdict means, with the numbers that explain a shown test's."""
    verdict = verdict_of(test)
    text = _VERDICT_TEXT.get(verdict, verdict)
    if is_hidden(test):
        return f"{text} on a hidden test (its data is not shown)"
    if verdict == Verdict.TLE.value:
        return f"{text} ({test.get('time_ms')} ms CPU, {test.get('wall_ms')} ms wall)"
    if verdict == Verdict.MLE.value:
        return f"{text} ({test.get('memory_kb')} KB)"
    if verdict == Verdict.RE.value:
        if test.get("signal") is not None:
            number = int(test["signal"])
            return f"{text}: killed by signal {number}{_signal_name(number)}"
        if test.get("exit_code") is not None:
            return f"{text}: exit code {test['exit_code']}"
    return text


def details(test: Mapping[str, Any], lines: int = 8, chars: int = 400) -> str:
    """A shown test's input, expected and actual output, stderr and the checker's message,
    each cut to ``lines`` lines and ``chars`` characters; empty for a hidden test."""
    if is_hidden(test):
        return ""
    got = "got (cut short by the judge)" if test.get("got_truncated") else "got"
    parts = [
        (label, str(test.get(key) or ""))
        for label, key in (("input", "input"), ("expected", "expected"), (got, "got"))
    ]
    parts += [
        (label, str(test[key]))
        for label, key in (("stderr", "stderr"), ("checker", "feedback"))
        if test.get(key)
    ]
    return "\n".join(
        f"{label}:\n{excerpt(value, lines, chars) or '(nothing)'}" for label, value in parts
    )


def excerpt(text: str, lines: int, chars: int) -> str:
    """The first ``lines`` lines and ``chars`` characters of ``text`` (cleaned), with a
    marker when anything was left out; trailing newlines dropped."""
    text = clean(text).rstrip("\n")
    kept = text.split("\n")
    cut = len(kept) > lines
    out = "\n".join(kept[:lines])
    if len(out) > chars:
        out, cut = out[:chars], True
    return out + "\n[...]" if cut else out


# Characters XML 1.0 cannot hold (C0 controls but tab/newline/CR, lone surrogates, U+FFFE,
# U+FFFF), and terminal colour sequences, which would show as litter in a report.
_ANSI = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]")
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def clean(text: str) -> str:
    """``text`` without what XML 1.0 (and so a report) cannot hold; CRLF becomes LF."""
    return _NOT_XML.sub("", _ANSI.sub("", text.replace("\r\n", "\n")))
