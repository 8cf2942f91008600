"""A scoring problem's score: each test's, each group's, and the submission's.

``score(scoring, tests, results)`` maps a judgement's per-test results onto the
problem's group tree (``model.Scoring``); ``Stops`` tells the judge, while it runs the
tests, which ones a group's ``on_reject: break`` leaves unrun (``Verdict.SK``).

Two readings of the tree (``Scoring.style``):

- **legacy** (problemtools' default grader): every item of a group (test or subgroup)
  has a verdict and a score; an accepted test scores its score.txt (``validation: custom
  score``) or the group's ``accept_score``, a rejected one ``reject_score``; a group's
  score is the ``sum``/``min``/``max``/``avg`` of its items', its verdict by its
  verdict mode (``worst_error``, ``first_error``, ``always_accept``,
  ``accept_if_any_accepted``); a score outside the group's ``range`` is a judge error;
  the submission scores the root's score only if the root is accepted.
- **2025-09** (and the 2023-07 drafts): only ``secret`` is scored; a test's maximum is
  its group's share; a failed test scores 0; an accepted one its score.txt (at most its
  maximum), its score_multiplier.txt times its maximum, or its maximum; ``pass-fail``
  groups score their maximum when every test passed, ``sum``/``min`` groups the sum/min
  of their items; more than a group's ``max_score`` is a judge error.

A judge error (a bad score file, a score out of bounds) makes that test IE, the group's
verdict IE, and the submission's score 0 with the reason in ``ScoreReport.error``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

from codeexec.model import (
    GroupScore,
    ScoreGroup,
    ScoreReport,
    Scoring,
    TestCase,
    TestResult,
    Verdict,
)

# worst_error: the first of these that any item has (problemtools' order; JE is our IE).
_WORST_FIRST = (Verdict.IE, Verdict.RE, Verdict.MLE, Verdict.TLE, Verdict.OLE, Verdict.WA)
_SLACK = 1e-9  # relative: float sums of shares (100/3 * 3) may exceed a bound by an ulp


@dataclass
class _Node:
    group: ScoreGroup
    parent: _Node | None
    items: list[int | _Node] = field(default_factory=list)  # test indices and subgroups
    tests: list[int] = field(default_factory=list)  # every test index under it


def _tree(scoring: Scoring, tests: Sequence[TestCase]) -> tuple[_Node, dict[int, list[_Node]]]:
    """The root node, and each scored test's groups from the innermost outwards. Tests
    come sorted by path, so a group's tests are contiguous; a test outside the tree
    (2025-09's samples) is not scored."""
    nodes: dict[str, _Node] = {}
    for group in scoring.groups:
        parent = nodes.get(group.parent) if group.parent is not None else None
        nodes[group.name] = _Node(group, parent)
    root = nodes[scoring.root.name]
    chains: dict[int, list[_Node]] = {}
    for index, test in enumerate(tests):
        node = nodes.get(test.group) if test.group is not None else None
        chain: list[_Node] = []
        while node is not None:
            chain.append(node)
            node = node.parent
        if not chain or chain[-1] is not root:
            continue
        chains[index] = chain
        item: int | _Node = index
        for node in chain:
            node.tests.append(index)
            if not node.items or node.items[-1] is not item:
                node.items.append(item)
            item = node
    return root, chains


def _legacy_verdict(group: ScoreGroup, verdicts: list[Verdict]) -> Verdict:
    if Verdict.IE in verdicts:
        return Verdict.IE
    if group.verdict_mode == "always_accept" or (group.accept_if_any and Verdict.AC in verdicts):
        return Verdict.AC
    if group.verdict_mode == "first_error":
        return next((v for v in verdicts if v != Verdict.AC), Verdict.AC)
    return next((v for v in _WORST_FIRST if v in verdicts), Verdict.AC)


def _modern_verdict(verdicts: list[Verdict]) -> Verdict:
    if Verdict.IE in verdicts:
        return Verdict.IE
    return next((v for v in verdicts if v != Verdict.AC), Verdict.AC)


def _aggregate(how: str, scores: list[float]) -> float:
    if not scores:
        return 0.0
    if how == "min":
        return min(scores)
    if how == "max":
        return max(scores)
    if how == "avg":
        return sum(scores) / len(scores)
    return math.fsum(scores)


def _exceeds(score: float, bound: float | None) -> bool:
    return bound is not None and score > bound + _SLACK * max(1.0, abs(bound))


def _below(score: float, bound: float | None) -> bool:
    return bound is not None and score < bound - _SLACK * max(1.0, abs(bound))


class _Scorer:
    def __init__(self, scoring: Scoring, tests: Sequence[TestCase], results: Sequence[TestResult]):
        self.scoring = scoring
        self.legacy = scoring.style == "legacy"
        self.tests = tests
        self.results = results
        self.root, self.chains = _tree(scoring, tests)
        self.test_scores: dict[int, float] = {}
        self.test_verdicts: dict[int, Verdict] = {}  # IE where a score file was wrong
        self.groups: dict[str, tuple[float, Verdict]] = {}
        self.error: str | None = None

    def _fail(self, what: str) -> None:
        self.error = self.error or what

    def test(self, index: int, group: ScoreGroup) -> tuple[Verdict, float]:
        result = self.results[index]
        verdict = result.verdict
        score = self._test_score(index, group, result)
        if score is None:  # a judge error
            verdict, score = Verdict.IE, 0.0
        self.test_verdicts[index] = verdict
        self.test_scores[index] = score
        return verdict, score

    def _test_score(self, index: int, group: ScoreGroup, result: TestResult) -> float | None:
        name = self.tests[index].name or f"test {index + 1}"
        wrote = result.score is not None or result.score_multiplier is not None
        if self.legacy:
            if result.verdict != Verdict.AC:
                return group.reject_score
            if self.scoring.validator_scores and result.score is not None:
                return result.score
            return group.test_score if group.test_score is not None else 0.0
        if result.verdict != Verdict.AC or group.aggregation == "pass-fail":
            if wrote and result.verdict in (Verdict.AC, Verdict.WA):
                where = (
                    "a test that failed" if result.verdict != Verdict.AC else "a pass-fail group"
                )
                self._fail(f"{name}: the validator wrote a score for {where}")
                return None
            return 0.0
        most = group.test_score
        if result.score is not None and result.score_multiplier is not None:
            self._fail(f"{name}: the validator wrote both score.txt and score_multiplier.txt")
            return None
        if result.score_multiplier is not None:
            if most is None or not 0 <= result.score_multiplier <= 1:
                self._fail(f"{name}: score_multiplier.txt must be in [0, 1] in a bounded group")
                return None
            return result.score_multiplier * most
        if result.score is None:
            if most is None:
                self._fail(f"{name}: no score.txt in an unbounded group")
            return most
        if result.score < 0 or _exceeds(result.score, most):
            self._fail(f"{name}: score {result.score:g} is not in [0, {most:g}]")
            return None
        return result.score

    def group(self, node: _Node) -> tuple[Verdict, float]:
        """The group's verdict and score (a judge error: IE and 0), from the items that
        ran (a skipped test is no item: the group stopped before it)."""
        g = node.group
        verdicts: list[Verdict] = []
        scores: list[float] = []
        for item in node.items:
            if isinstance(item, _Node):
                if g.ignore_sample and item.group.name == "sample":
                    self.group(item)
                    continue
                if all(self.results[i].verdict == Verdict.SK for i in item.tests):
                    continue
                verdict, score = self.group(item)
            elif self.results[item].verdict == Verdict.SK:
                continue
            else:
                verdict, score = self.test(item, g)
            verdicts.append(verdict)
            scores.append(score)
        if self.legacy:
            verdict, score = _legacy_verdict(g, verdicts), _aggregate(g.aggregation, scores)
            if verdict != Verdict.IE and (
                _exceeds(score, g.max_score) or _below(score, g.min_score)
            ):
                self._fail(f"group {g.name}: score {score:g} is outside its range")
                verdict, score = Verdict.IE, 0.0
        else:
            verdict = _modern_verdict(verdicts)
            if g.aggregation == "pass-fail":
                passed = verdict == Verdict.AC and len(verdicts) == len(node.items)
                score = (g.max_score or 0.0) if passed else 0.0
            else:
                score = _aggregate(g.aggregation, scores)
            if any(not self._passed(name) for name in g.require_pass):
                score = 0.0
            if verdict != Verdict.IE and _exceeds(score, g.max_score):
                self._fail(f"group {g.name}: score {score:g} exceeds its maximum {g.max_score:g}")
                verdict = Verdict.IE
            if verdict == Verdict.IE:
                score = 0.0
        self.groups[g.name] = (score, verdict)
        return verdict, score

    def _passed(self, name: str) -> bool:
        """Whether every test of a group (or ``sample``) was accepted."""
        indices = [i for i, t in enumerate(self.tests) if t.group and _within(t.group, name)]
        return bool(indices) and all(self.results[i].verdict == Verdict.AC for i in indices)


def _within(group: str, name: str) -> bool:
    return group == name or group.startswith(name + "/")


def _most(scoring: Scoring, node: _Node) -> float | None:
    """The most a group can score: its bound, else (legacy) what its items can add up
    to; None when a validator's score.txt leaves it unbounded."""
    g = node.group
    if g.max_score is not None or scoring.style != "legacy":
        return g.max_score
    mosts: list[float | None] = []
    for item in node.items:
        if isinstance(item, _Node):
            if not (g.ignore_sample and item.group.name == "sample"):
                mosts.append(_most(scoring, item))
        elif scoring.validator_scores or g.test_score is None:
            mosts.append(None)
        else:
            mosts.append(max(g.test_score, g.reject_score))
    if any(m is None for m in mosts):
        return None
    return _aggregate(g.aggregation, [m for m in mosts if m is not None])


def _clean(x: float) -> float:
    """A score as answers show it: rounded past float noise, never -0.0."""
    return round(x, 9) + 0.0


def score(
    scoring: Scoring,
    tests: Sequence[TestCase],
    results: Sequence[TestResult],
    compile_failed: bool = False,
) -> tuple[ScoreReport, dict[int, Verdict], dict[int, float]]:
    """The submission's score report, the tests whose verdict a judge error made IE,
    and each scored test's score (by test index)."""
    scorer = _Scorer(scoring, tests, results)
    root = scorer.root
    if compile_failed:
        scorer.groups = {g.name: (0.0, Verdict.CE) for g in scoring.groups}
    else:
        scorer.group(root)
    nodes: list[_Node] = []
    stack = [root]
    while stack:  # parents before children, in test order
        node = stack.pop()
        nodes.append(node)
        stack += reversed([i for i in node.items if isinstance(i, _Node)])
    groups = tuple(
        GroupScore(
            name=n.group.name,
            score=_clean(scorer.groups.get(n.group.name, (0.0, Verdict.SK))[0]),
            max_score=_most(scoring, n),
            verdict=scorer.groups.get(n.group.name, (0.0, Verdict.SK))[1].value,
            tests=tuple(tests[i].position_at(i) for i in n.tests),
        )
        for n in nodes[1:]
    )
    total, verdict = scorer.groups.get(root.group.name, (0.0, Verdict.CE))
    if scorer.legacy and verdict != Verdict.AC:
        total = 0.0  # problemtools: a rejected submission's score is ignored
    if scorer.error is not None:
        total = 0.0
    changed = {i: v for i, v in scorer.test_verdicts.items() if v != results[i].verdict}
    report = ScoreReport(_clean(total), _most(scoring, root), groups, scorer.error)
    return report, changed, {i: _clean(s) for i, s in scorer.test_scores.items()}


class Stops:
    """Which tests ``on_reject: break`` leaves unrun, told each result as it comes (in
    test order). A group stops at an item that is not accepted (a test, or a subgroup,
    once it is complete, by its verdict); its remaining items are not run."""

    def __init__(self, scoring: Scoring, tests: Sequence[TestCase]) -> None:
        self._legacy = scoring.style == "legacy"
        self._root, self._chains = _tree(scoring, tests)
        self._broken: set[str] = set()  # the names of groups that stopped
        self._verdicts: dict[int | str, Verdict] = {}  # tests' (index), complete groups' (name)

    @classmethod
    def of(cls, scoring: Scoring | None, tests: Sequence[TestCase]) -> Stops | None:
        """None when no group stops at a rejection, or on some tests only (a job of the
        shown tests: its tests keep their ``position``), where nothing is scored."""
        if scoring is None or all(g.on_reject != "break" for g in scoring.groups):
            return None
        return cls(scoring, tests) if all(t.position is None for t in tests) else None

    def skips(self, index: int) -> bool:
        return any(node.group.name in self._broken for node in self._chains.get(index, ()))

    def record(self, index: int, verdict: Verdict) -> None:
        chain = self._chains.get(index)
        if chain is None or verdict == Verdict.SK:
            return
        self._verdicts[index] = verdict
        item: int | _Node = index
        for node in chain:
            if self._verdict(item) != Verdict.AC and node.group.on_reject == "break":
                self._broken.add(node.group.name)
            if node.group.name not in self._broken and node.items[-1] is not item:
                return  # the group goes on
            ran = [self._verdict(i) for i in node.items if self._ran(i)]
            if node.group.ignore_sample:
                ran = [
                    self._verdict(i)
                    for i in node.items
                    if self._ran(i) and not (isinstance(i, _Node) and i.group.name == "sample")
                ]
            done = _legacy_verdict(node.group, ran) if self._legacy else _modern_verdict(ran)
            self._verdicts[node.group.name] = done
            item = node

    def _ran(self, item: int | _Node) -> bool:
        return _key(item) in self._verdicts

    def _verdict(self, item: int | _Node) -> Verdict:
        return self._verdicts.get(_key(item), Verdict.AC)


def _key(item: int | _Node) -> int | str:
    return item.group.name if isinstance(item, _Node) else item
