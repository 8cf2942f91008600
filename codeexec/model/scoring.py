"""Scoring problems: test groups and how their scores add up (Kattis ``type: scoring``).

A problem's ``Scoring`` is a tree of ``ScoreGroup``s, parents before children; each test
names its innermost group (``TestCase.group``). The aggregation itself is
``codeexec.judge.scoring``; what a judged submission scored is a ``ScoreReport``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

# Per group: how its children's scores make its own.
AGGREGATIONS = ("sum", "min", "max", "avg", "pass-fail")
# Per group (legacy graders): how its children's verdicts make its own.
VERDICT_MODES = ("worst_error", "first_error", "always_accept")
# How the tree is read: "legacy" (problemtools' default grader: scores of every item,
# a rejected submission scores 0) or "2025-09" (2023-07 drafts too: bounded scores,
# failed tests score 0, samples not scored).
STYLES = ("legacy", "2025-09")


@dataclass(frozen=True)
class ScoreGroup:
    name: str  # "secret", "secret/group1", ...; the legacy root is "data"
    parent: str | None = None
    aggregation: str = "sum"
    # The most the group may score (more is a judge error); None: unbounded.
    max_score: float | None = None
    min_score: float | None = None  # legacy ``range``'s lower end
    # An accepted test's score when its validator writes no score.txt (None: it must);
    # also what a score_multiplier.txt multiplies.
    test_score: float | None = 1.0
    reject_score: float = 0.0  # a test that is not accepted (legacy)
    on_reject: str = "continue"  # "break": the rest of the group is not run
    verdict_mode: str = "worst_error"
    accept_if_any: bool = False  # legacy ``accept_if_any_accepted``
    ignore_sample: bool = False  # legacy, root only: the sample group does not count
    require_pass: tuple[str, ...] = ()  # groups all of whose tests must pass (2025-09)

    def as_json(self) -> dict[str, Any]:
        return {k: list(v) if isinstance(v, tuple) else v for k, v in self.__dict__.items()}

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> ScoreGroup:
        return cls(**{**d, "require_pass": tuple(d.get("require_pass", ()))})


@dataclass(frozen=True)
class Scoring:
    style: str
    groups: tuple[ScoreGroup, ...]  # the root first, every parent before its children
    # Legacy ``validation: custom score``: only then is score.txt read.
    validator_scores: bool = True

    @property
    def root(self) -> ScoreGroup:
        return self.groups[0]

    def as_json(self) -> dict[str, Any]:
        return {
            "style": self.style,
            "validator_scores": self.validator_scores,
            "groups": [g.as_json() for g in self.groups],
        }

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> Scoring:
        groups = tuple(ScoreGroup.from_json(g) for g in d["groups"])
        return cls(d["style"], groups, bool(d.get("validator_scores", True)))


@dataclass(frozen=True)
class GroupScore:
    """What a submission scored in one group."""

    name: str
    score: float
    max_score: float | None  # None: unbounded
    verdict: str  # a Verdict's value
    tests: tuple[int, ...]  # the 1-based positions of its tests (subgroups' included)

    def as_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "score": self.score,
            "max_score": self.max_score,
            "verdict": self.verdict,
            "tests": list(self.tests),
        }

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> GroupScore:
        return cls(d["name"], d["score"], d["max_score"], d["verdict"], tuple(d["tests"]))


@dataclass(frozen=True)
class ScoreReport:
    """A scoring problem's submission: its score, the most it could have scored, and
    each group's (the root's own is the total); ``error``: why a judge error made it 0."""

    score: float
    max_score: float | None
    groups: tuple[GroupScore, ...] = field(default_factory=tuple)
    error: str | None = None

    def as_json(self) -> dict[str, Any]:
        return {
            "score": self.score,
            "max_score": self.max_score,
            "groups": [g.as_json() for g in self.groups],
            "error": self.error,
        }

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> ScoreReport:
        groups = tuple(GroupScore.from_json(g) for g in d.get("groups", []))
        return cls(d["score"], d["max_score"], groups, d.get("error"))
