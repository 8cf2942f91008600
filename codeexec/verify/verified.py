"""What verifying one submission, and one package, found: the records the console lines,
the summary, the JSON report and the exit status are made from."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Any

from codeexec.grade.graded import Graded
from codeexec.verify.expectations import Expectation, check, kattis_verdict

AGREES, DISAGREES, USAGE, INFRASTRUCTURE = 0, 1, 2, 3
SUMMARY_NAMES = 5  # submissions named in a package's summary line, per kind


class Status(StrEnum):
    AGREE = "agree"
    DISAGREE = "disagree"
    # Not run (nothing expected of it, no language for it), or its expectation could not
    # be checked (test groups a submitter's key does not see).
    SKIPPED = "skipped"
    NOT_JUDGED = "not judged"  # the judge failed (IE, unreachable, job failed)


MARKS = {Status.AGREE: "✓", Status.DISAGREE: "✗", Status.SKIPPED: "-", Status.NOT_JUDGED: "!"}


@dataclass(frozen=True)
class Verified:
    path: str  # relative to submissions/
    status: Status
    expected: str | None = None  # the expectation's label
    language: str | None = None
    got: str | None = None  # the final verdict, e.g. "WA" or "RTE (MLE)"
    reasons: tuple[str, ...] = ()  # why it disagrees, was skipped, or was not judged
    unchecked: tuple[str, ...] = ()  # parts of the expectation not checked
    time_ms: int | None = None  # its slowest test's CPU time
    duration_s: float = 0.0
    job_id: str | None = None
    tests: tuple[dict[str, Any], ...] = ()  # name, verdict (the format's), time_ms

    def as_json(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "status": self.status.value,
            "agrees": {Status.AGREE: True, Status.DISAGREE: False}.get(self.status),
            "expected": self.expected,
            "language": self.language,
            "got": self.got,
            "reasons": list(self.reasons),
            "unchecked": list(self.unchecked),
            "time_ms": self.time_ms,
            "duration_s": round(self.duration_s, 3),
            "job_id": self.job_id,
            "tests": list(self.tests),
        }


def _is_ie(job: Mapping[str, Any]) -> bool:
    results = job.get("results") or ()
    return job.get("verdict") == "IE" or any(
        isinstance(t, Mapping) and t.get("verdict") == "IE" for t in results
    )


def verified(path: str, expected: Expectation, graded: Graded) -> Verified:
    """A graded submission checked against what it was expected to get."""
    base = Verified(
        path, Status.NOT_JUDGED, expected.label, graded.language, duration_s=graded.duration_s
    )
    job = graded.job
    if graded.error and graded.error.startswith("refused"):  # the program's doing
        return replace(base, status=Status.DISAGREE, got="refused", reasons=(graded.error,))
    if not graded.judged or job is None:
        return replace(base, reasons=(graded.why_not,))
    tests = tuple(
        {
            "name": t.get("name") or f"test {t.get('position')}",
            "verdict": kattis_verdict(str(t.get("verdict"))),
            "time_ms": t.get("time_ms"),
        }
        for t in graded.results
    )
    times = [int(t["time_ms"]) for t in tests if isinstance(t["time_ms"], int)]
    base = replace(base, time_ms=max(times, default=None), job_id=job.get("id"), tests=tests)
    if _is_ie(job):
        return replace(base, got="IE", reasons=("the judge failed (IE), not the program",))
    result = check(expected, job)
    status, reasons = Status.DISAGREE, result.reasons
    if result.agrees:
        status = Status.SKIPPED if result.blind else Status.AGREE
        reasons = result.blind
    return replace(base, status=status, got=result.got, reasons=reasons, unchecked=result.unchecked)


@dataclass
class PackageReport:
    package: str  # as given
    problem: str | None = None
    layout: str | None = None
    error: str | None = None  # why it could not be verified at all
    error_status: int = USAGE  # the exit status of that error
    notes: list[str] = field(default_factory=list)
    submissions: list[Verified] = field(default_factory=list)

    def count(self, status: Status) -> int:
        return sum(1 for v in self.submissions if v.status == status)

    def exit_status(self, strict: bool) -> int:
        if self.error is not None:
            return self.error_status
        if self.count(Status.NOT_JUDGED):
            return INFRASTRUCTURE
        if self.count(Status.DISAGREE) or (strict and self.count(Status.SKIPPED)):
            return DISAGREES
        return AGREES

    def summary(self) -> str:
        if self.error is not None:
            return f"{self.package}: not verified: {self.error}"
        parts = [f"{self.count(Status.AGREE)} agree"]
        for status, word in (
            (Status.DISAGREE, "disagree"),
            (Status.SKIPPED, "skipped"),
            (Status.NOT_JUDGED, "not judged"),
        ):
            paths = [v.path for v in self.submissions if v.status == status]
            if paths and status != Status.SKIPPED:
                named = ", ".join(paths[:SUMMARY_NAMES]) + (
                    ", ..." if len(paths) > SUMMARY_NAMES else ""
                )
                parts.append(f"{len(paths)} {word} ({named})")
            elif paths:
                parts.append(f"{len(paths)} {word}")
        many = "" if len(self.submissions) == 1 else "s"
        return f"{self.package}: {len(self.submissions)} submission{many}: {', '.join(parts)}"

    def as_json(self, strict: bool) -> dict[str, Any]:
        return {
            "package": self.package,
            "problem": self.problem,
            "layout": self.layout,
            "error": self.error,
            "notes": self.notes,
            "exit_status": self.exit_status(strict),
            "submissions": [v.as_json() for v in self.submissions],
        }


def json_report(reports: Sequence[PackageReport], strict: bool) -> dict[str, Any]:
    """``agree``: every package verified and every submission run agreed."""
    status = overall_status(reports, strict)
    return {
        "packages": [r.as_json(strict) for r in reports],
        "strict": strict,
        "exit_status": status,
        "agree": status == AGREES,
    }


def overall_status(reports: Sequence[PackageReport], strict: bool) -> int:
    """The worst package's: infrastructure (3) over usage (2) over disagreement (1)."""
    return max((r.exit_status(strict) for r in reports), default=USAGE)
