"""Problems and their tests: what a submission is judged on."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime

from codeexec.model.checker import CheckerSpec
from codeexec.model.scoring import Scoring

# Problem ids: what seed 004 uses and what Kattis short names are (also safe in URLs).
PROBLEM_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$"


@dataclass(frozen=True)
class TestCase:
    input: bytes
    expected_output: bytes
    hidden: bool = False
    name: str | None = None
    # 1-based, in the whole problem: set when a snapshot holds only some of its tests
    # (``ProblemSnapshot.shown``); None: its place in the snapshot is its position.
    position: int | None = None
    # A scoring problem's: the innermost test group it is in ("sample", "secret/g1").
    group: str | None = None

    __test__ = False  # not a pytest test class

    def position_at(self, index: int) -> int:
        """Its 1-based position in the problem, as the ``index``-th (0-based) test of
        its snapshot."""
        return self.position or index + 1


@dataclass(frozen=True)
class AdHoc:
    """What makes a problem an ad-hoc run's (``/api/v1/runs`` and the Judge0 and Piston
    doors): the caller's stdin is its only test, and the caller gets the program's
    output back whole (up to the limits), not a judge's view of it."""

    args: tuple[str, ...] = ()  # command-line arguments after the program
    merge_stderr: bool = False  # stderr goes into stdout (Judge0's option)


# The problem id every ad-hoc run's job carries: no stored problem can have it.
AD_HOC_ID = ":run"


@dataclass(frozen=True)
class Problem:
    id: str
    title: str = ""
    version: int = 1
    time_limit_ms: int | None = None
    memory_limit_mb: int | None = None
    output_limit_kb: int | None = None
    wall_time_limit_ms: int | None = None
    process_limit: int | None = None
    isolation: str | None = None  # "submission" | "test"; None: the server default
    checker: CheckerSpec = field(default_factory=CheckerSpec)
    screening: dict[str, list[str]] | None = None
    statement: str | None = None
    ad_hoc: AdHoc | None = None  # never stored as a problem: carried by its job
    scoring: Scoring | None = None  # a scoring problem's groups (Kattis type: scoring)


@dataclass(frozen=True)
class TestSummary:
    """A test without its data: what listing or counting tests needs."""

    name: str | None
    hidden: bool
    input_bytes: int
    expected_output_bytes: int

    __test__ = False  # not a pytest test class

    @classmethod
    def of(cls, test: TestCase) -> TestSummary:
        return cls(test.name, test.hidden, len(test.input), len(test.expected_output))


@dataclass(frozen=True)
class ProblemSummary:
    id: str
    title: str
    version: int
    tests: int
    hidden_tests: int
    updated_at: datetime


# Settings a problem update may change (tests change through the test methods).
SETTINGS_FIELDS = frozenset(
    {
        "title",
        "statement",
        "time_limit_ms",
        "memory_limit_mb",
        "output_limit_kb",
        "wall_time_limit_ms",
        "process_limit",
        "isolation",
        "checker",
        "screening",
    }
)


@dataclass(frozen=True)
class ProblemSnapshot:
    """A problem with the tests of exactly one version: what a submission is judged on."""

    problem: Problem
    tests: tuple[TestCase, ...] = field(default_factory=tuple)

    def shown(self) -> ProblemSnapshot:
        """Only the shown tests, each keeping the position it has in the whole problem
        (results and events say "test 2" as the problem numbers it)."""
        kept = tuple(
            replace(t, position=t.position_at(i)) for i, t in enumerate(self.tests) if not t.hidden
        )
        return replace(self, tests=kept)
