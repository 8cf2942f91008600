"""Scoring problems without Docker: importing groups and their settings (legacy,
2023-07, 2025-09), score files as a custom checker writes them, the aggregation into
group scores and a total, and ``on_reject: break`` in the judge (fake sandboxes)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from codeexec.checker.program import _score_file
from codeexec.config import Settings
from codeexec.judge.judge import Judge
from codeexec.judge.report import report
from codeexec.judge.scoring import score
from codeexec.model import (
    CheckerProgram,
    CheckerSpec,
    Judgement,
    Problem,
    ProblemSnapshot,
    RunOutcome,
    ScoreGroup,
    Scoring,
    TestCase,
    TestResult,
    Verdict,
)
from codeexec.packages.archive import PackageError, PackageLimits
from codeexec.packages.importer import open_path
from codeexec.packages.kattis import read_kattis_package
from codeexec.sandbox.api import SandboxFile
from codeexec.sandbox.fake import FakeRun, FakeSandboxes, outcome
from codeexec.sandbox.languages import discover_languages

ROOT = Path(__file__).resolve().parents[2]
TRIANGLE = ROOT / "tests/data/kattis/scoring-triangle"
LIMITS = PackageLimits(max_bytes=64 << 20, max_files=1000)
LANGUAGES = discover_languages(ROOT / "codeexec/languages", ("python", "c"))
SOURCE = (SandboxFile.source("main.py", "print(input())"),)


def write(root: Path, files: dict[str, str]) -> Path:
    for name, content in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(content)
    return root


def read(root: Path) -> Any:
    return read_kattis_package(open_path(root, LIMITS), LANGUAGES)


def groups(imported: Any) -> dict[str, ScoreGroup]:
    return {g.name: g for g in imported.problem.scoring.groups}


# -- import --------------------------------------------------------------------------


def test_the_shipped_2025_09_package_has_two_bounded_groups() -> None:
    imported = read(TRIANGLE)
    found = groups(imported)
    assert list(found) == ["secret", "secret/group1", "secret/group2"]
    assert (found["secret"].max_score, found["secret"].aggregation) == (100, "sum")
    assert (found["secret/group1"].max_score, found["secret/group1"].aggregation) == (40, "min")
    assert found["secret/group1"].test_score == 40  # min: a test may earn the whole group
    assert found["secret/group2"].test_score == 20  # sum: an equal share of 60 over 3
    assert found["secret/group1"].parent == "secret"
    assert [t.group for t in imported.tests] == ["sample"] + ["secret/group1"] * 2 + [
        "secret/group2"
    ] * 3
    assert imported.problem.checker.mode == "custom"


LEGACY = {
    "problem.yaml": "type: scoring\nvalidation: custom score\n",
    "output_validators/v/validate.py": "import sys\nsys.exit(42)\n",
    "data/testdata.yaml": "on_reject: continue\n"
    "grader_flags: ignore_sample accept_if_any_accepted\n",
    "data/sample/1.in": "1\n",
    "data/sample/1.ans": "1\n",
    "data/secret/g1/testdata.yaml": "accept_score: 10\ngrader_flags: min\non_reject: break\n",
    "data/secret/g1/1.in": "1\n",
    "data/secret/g1/1.ans": "1\n",
    "data/secret/g1/sub/testdata.yaml": "range: 0 10\n",
    "data/secret/g1/sub/2.in": "2\n",
    "data/secret/g1/sub/2.ans": "2\n",
    "data/secret/g2/3.in": "3\n",
    "data/secret/g2/3.ans": "3\n",
}


def test_legacy_settings_are_inherited_group_by_group(tmp_path: Path) -> None:
    imported = read(write(tmp_path / "p", LEGACY))
    found = groups(imported)
    assert list(found) == ["data", "sample", "secret", "secret/g1", "secret/g1/sub", "secret/g2"]
    root, g1, sub, g2 = (
        found["data"],
        found["secret/g1"],
        found["secret/g1/sub"],
        found["secret/g2"],
    )
    assert root.ignore_sample and root.accept_if_any and root.on_reject == "continue"
    assert (g1.test_score, g1.aggregation, g1.on_reject) == (10, "min", "break")
    # the subgroup inherits g1's settings and adds its own range
    assert (sub.test_score, sub.aggregation, sub.on_reject) == (10, "min", "break")
    assert (sub.min_score, sub.max_score) == (0, 10)
    # g2 inherits from data/ only: the defaults but on_reject and the flags
    assert (g2.test_score, g2.aggregation, g2.on_reject) == (1, "sum", "continue")
    assert g2.accept_if_any  # grader_flags are inherited whole
    assert imported.problem.scoring.validator_scores
    assert [t.group for t in imported.tests] == [
        "sample",
        "secret/g1",
        "secret/g1/sub",
        "secret/g2",
    ]


def test_the_2023_07_draft_scoring_map_and_shares_of_what_is_left(tmp_path: Path) -> None:
    imported = read(
        write(
            tmp_path / "p",
            {
                "problem.yaml": "problem_format_version: 2023-07-draft\ntype: [scoring]\n",
                "data/secret/testdata.yaml": "scoring:\n  score: 90\n",
                "data/secret/a/testdata.yaml": "scoring:\n  score: 30\n  aggregation: sum\n",
                "data/secret/a/1.in": "",
                "data/secret/a/1.ans": "",
                "data/secret/b/1.in": "",  # no file: still a group (secret holds no test)
                "data/secret/b/1.ans": "",
                "data/secret/c/1.in": "",
                "data/secret/c/1.ans": "",
            },
        )
    )
    found = groups(imported)
    assert found["secret"].max_score == 90
    assert found["secret/a"].max_score == 30 and found["secret/a"].test_score == 30
    # b and c share what a leaves: (90 - 30) / 2, and are pass-fail by default
    assert (found["secret/b"].max_score, found["secret/b"].aggregation) == (30, "pass-fail")
    assert found["secret/c"].max_score == 30


@pytest.mark.parametrize(
    ("files", "message"),
    [
        ({"data/secret/g1/testdata.yaml": "accept_score: .nan\n"},
         r"data/secret/g1/testdata.yaml: accept_score must be a finite number"),
        ({"data/secret/g1/testdata.yaml": "reject_score: [1]\n"},
         r"data/secret/g1/testdata.yaml: reject_score must be a finite number"),
        ({"data/secret/g1/testdata.yaml": "range: 5 1\n"},
         r"data/secret/g1/testdata.yaml: range must be two numbers A <= B"),
        ({"data/secret/g1/testdata.yaml": "range: 5\n"}, r"testdata.yaml: range must be two"),
        ({"data/secret/g1/testdata.yaml": "grader_flags: sum bogus\n"},
         r"g1/testdata.yaml: grader_flags: unknown grader flag 'bogus'"),
        ({"data/secret/g1/testdata.yaml": "on_reject: stop\n"},
         r"g1/testdata.yaml: on_reject must be one of \['break', 'continue'\]"),
        ({"data/secret/g1/testdata.yaml": "grading: custom\n"}, r"custom graders"),
        ({"data/secret/g1/testdata.yaml": "grader_flags: ignore_sample\n"},
         r"ignore_sample is only allowed in data/"),
        ({"data/secret/g1/testdata.yaml": "- a list\n"}, r"testdata.yaml must be a mapping"),
        ({"problem.yaml": "type: scoring\ngrading:\n  objective: min\n"}, r"objective min"),
    ],
)  # fmt: skip
def test_bad_legacy_settings_name_their_file_and_key(
    tmp_path: Path, files: dict[str, str], message: str
) -> None:
    base = {
        "problem.yaml": "type: scoring\n",
        "data/secret/g1/1.in": "",
        "data/secret/g1/1.ans": "",
    }
    with pytest.raises(PackageError, match=message):
        read(write(tmp_path / "p", base | files))


@pytest.mark.parametrize(
    ("group_yaml", "message"),
    [
        ("max_score: -1\n", r"group1/test_group.yaml: max_score must not be negative"),
        ("max_score: lots\n", r"group1/test_group.yaml: max_score must be a finite number"),
        ("max_score: 10\nscore_aggregation: avg\n",
         r"group1/test_group.yaml: score_aggregation must be one of"),
        ("max_score: unbounded\n", r"max_score unbounded under a bounded group"),
        ("max_score: 200\n", r"data/secret: its groups' max_score add up to more"),
        ("max_score: 10\nrequire_pass: secret/zz\n", r"require_pass names 'secret/zz'"),
        ("max_score: 10\nstatic_validation_score: 5\n", r"static validation is not supported"),
        ("max_score: 10\nscoring: 3\n", r"scoring must be a mapping"),
        ("max_score: 100\nscore_aggregation: pass-fail\n", None),
    ],
)  # fmt: skip
def test_bad_2025_09_settings_name_their_file_and_key(
    tmp_path: Path, group_yaml: str, message: str | None
) -> None:
    files = {
        "problem.yaml": "problem_format_version: 2025-09\ntype: scoring\n",
        "data/secret/group1/test_group.yaml": group_yaml,
        "data/secret/group1/1.in": "",
        "data/secret/group1/1.ans": "",
    }
    if message is None:  # the control: this one is fine
        assert groups(read(write(tmp_path / "p", files)))["secret/group1"].max_score == 100
        return
    with pytest.raises(PackageError, match=message):
        read(write(tmp_path / "p", files))


def test_a_2025_09_scoring_package_needs_secret_tests(tmp_path: Path) -> None:
    files = {"problem.yaml": "problem_format_version: 2025-09\ntype: scoring\n",
             "data/sample/1.in": "", "data/sample/1.ans": ""}  # fmt: skip
    with pytest.raises(PackageError, match="needs tests in data/secret"):
        read(write(tmp_path / "p", files))


def test_groups_nest_at_most_eight_deep(tmp_path: Path) -> None:
    ok = "data/secret/" + "/".join(f"g{i}" for i in range(8))
    deep = "data/secret/" + "/".join(f"g{i}" for i in range(9))
    base = {"problem.yaml": "type: scoring\n"}
    assert read(write(tmp_path / "ok", base | {f"{ok}/1.in": "", f"{ok}/1.ans": ""}))
    with pytest.raises(PackageError, match=r"data/secret/g0/.*/g8: test groups nest more than 8"):
        read(write(tmp_path / "deep", base | {f"{deep}/1.in": "", f"{deep}/1.ans": ""}))


def test_a_pass_fail_package_has_no_scoring_and_no_groups(tmp_path: Path) -> None:
    imported = read(write(tmp_path / "p", {"problem.yaml": "name: x\n", "data/secret/1.in": "",
                                           "data/secret/1.ans": ""}))  # fmt: skip
    assert imported.problem.scoring is None and imported.tests[0].group is None


# -- score files -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("line", "expected"),
    [(b"", None), (b"=12.5", 12.5), (b"=  7 ", 7.0), (b"=-3", -3.0), (b"=1e3", 1000.0),
     (b"=.5", 0.5), (b"=1e300", 1e300)],
)  # fmt: skip
def test_score_files_that_hold_one_number(line: bytes, expected: float | None) -> None:
    assert _score_file(line, "score.txt") == expected


@pytest.mark.parametrize(
    "line",
    [b"=nan", b"=NaN", b"=inf", b"=-inf", b"=1e999", b"=", b"=  ", b"=1 2", b"=0x10",
     b"=1_000", b"=ten", b"=\x00", b"=" + b"1" * 129, b"=1" + b" " * 128],
)  # fmt: skip
def test_score_files_that_are_not_a_finite_number_are_refused(line: bytes) -> None:
    with pytest.raises(ValueError, match=r"score\.txt"):
        _score_file(line, "score.txt")


# -- aggregation -----------------------------------------------------------------------

MODERN = Scoring(
    "2025-09",
    (
        ScoreGroup("secret", None, "sum", 100.0),
        ScoreGroup("secret/a", "secret", "min", 40.0, test_score=40.0),
        ScoreGroup("secret/b", "secret", "sum", 60.0, test_score=20.0),
    ),
)
MODERN_TESTS = (
    TestCase(b"", b"", False, "sample/1", group="sample"),
    *(TestCase(b"", b"", True, f"secret/a/{i}", group="secret/a") for i in (1, 2)),
    *(TestCase(b"", b"", True, f"secret/b/{i}", group="secret/b") for i in (1, 2, 3)),
)


def r(verdict: Verdict = Verdict.AC, given: float | None = None, times: float | None = None) -> Any:
    return TestResult(verdict, True, score=given, score_multiplier=times)


def test_modern_full_partial_and_zero() -> None:
    full, _, _ = score(MODERN, MODERN_TESTS, [r(Verdict.WA)] + [r()] * 5)
    assert (full.score, full.max_score, full.error) == (100, 100, None)  # samples do not count
    assert [(g.name, g.score, g.max_score, g.verdict) for g in full.groups] == [
        ("secret/a", 40, 40, "AC"),
        ("secret/b", 60, 60, "AC"),
    ]
    partial, _, scores = score(
        MODERN,
        MODERN_TESTS,
        [r(), r(given=40), r(given=10), r(given=5), r(Verdict.WA), r(times=0.5)],
    )
    # a: min(40, 10); b: 5 + 0 (failed) + 0.5 * 20
    assert [g.score for g in partial.groups] == [10, 15] and partial.score == 25
    assert scores[5] == 10 and scores[4] == 0
    assert partial.groups[1].verdict == "WA" and partial.groups[1].tests == (4, 5, 6)
    zero, _, _ = score(MODERN, MODERN_TESTS, [r(Verdict.TLE)] * 6)
    assert zero.score == 0 and {g.verdict for g in zero.groups} == {"TLE"}


@pytest.mark.parametrize(
    ("results", "why"),
    [
        ([r(given=41)] + [r()] * 4, "score 41 is not in"),
        ([r(given=-1)] + [r()] * 4, "score -1 is not in"),
        ([r(times=1.5)] + [r()] * 4, "score_multiplier.txt must be in"),
        ([r(given=1, times=0.5)] + [r()] * 4, "both score.txt and score_multiplier.txt"),
        ([r(Verdict.WA, given=3)] + [r()] * 4, "a score for a test that failed"),
    ],
)
def test_a_wrong_score_file_is_a_judge_error(results: list[Any], why: str) -> None:
    report_, changed, _ = score(MODERN, MODERN_TESTS, [r(), *results])
    assert report_.score == 0 and why in (report_.error or "")
    assert changed == {1: Verdict.IE}  # that test is IE, and so its group
    assert report_.groups[0].verdict == "IE"


def test_an_unbounded_group_needs_score_txt_and_a_pass_fail_group_none() -> None:
    unbounded = Scoring("2025-09", (ScoreGroup("secret", None, "sum", None, test_score=None),))
    tests = (TestCase(b"", b"", True, "secret/1", group="secret"),)
    assert score(unbounded, tests, [r(given=1e9)])[0].score == 1e9
    assert "no score.txt" in (score(unbounded, tests, [r()])[0].error or "")
    passfail = Scoring("2025-09", (ScoreGroup("secret", None, "pass-fail", 100.0),))
    assert score(passfail, tests, [r()])[0].score == 100
    assert "a pass-fail group" in (score(passfail, tests, [r(given=1)])[0].error or "")


LEGACY_SCORING = Scoring(
    "legacy",
    (
        ScoreGroup(
            "data", None, "sum", on_reject="continue", accept_if_any=True, ignore_sample=True
        ),
        ScoreGroup("sample", "data", "sum", on_reject="continue"),
        ScoreGroup("secret", "data", "sum", on_reject="continue", accept_if_any=True),
        ScoreGroup("secret/g1", "secret", "min", 10.0, 0.0, test_score=10.0, on_reject="break"),
        ScoreGroup("secret/g2", "secret", "sum", test_score=5.0, on_reject="continue"),
    ),
    validator_scores=False,
)
LEGACY_TESTS = (
    TestCase(b"", b"", False, "sample/1", group="sample"),
    *(TestCase(b"", b"", True, f"secret/g1/{i}", group="secret/g1") for i in (1, 2, 3)),
    *(TestCase(b"", b"", True, f"secret/g2/{i}", group="secret/g2") for i in (1, 2)),
)


def test_legacy_min_and_sum_groups_and_a_rejected_submission() -> None:
    full, _, _ = score(LEGACY_SCORING, LEGACY_TESTS, [r(Verdict.WA)] + [r()] * 5)
    assert full.score == 20  # ignore_sample: the sample's WA does not count
    assert full.max_score == 20
    stopped = [r(), r(), r(Verdict.WA), r(Verdict.SK), r(), r()]
    partial, _, _ = score(LEGACY_SCORING, LEGACY_TESTS, stopped)
    # g1: min(10, 0) = 0, WA (its skipped test is no item); g2: 5 + 5; secret accepted
    # (accept_if_any_accepted: one group was): 0 + 10
    assert [(g.name, g.score, g.verdict) for g in partial.groups[1:]] == [
        ("secret", 10, "AC"),
        ("secret/g1", 0, "WA"),
        ("secret/g2", 10, "AC"),
    ]
    assert partial.score == 10
    # no group accepted: secret is rejected (worst_error: RE before WA), so the total 0
    rejected, _, _ = score(LEGACY_SCORING, LEGACY_TESTS, [*stopped[:4], r(), r(Verdict.RE)])
    assert [g.verdict for g in rejected.groups[1:]] == ["RE", "WA", "RE"]
    assert rejected.score == 0
    strict = Scoring("legacy", (ScoreGroup("data"), ScoreGroup("secret", "data")), False)
    tests = (TestCase(b"", b"", True, "secret/1", group="secret"),) * 2
    # worst_error everywhere: one rejection and the submission's score is ignored
    assert score(strict, tests, [r(), r(Verdict.WA)])[0].score == 0
    assert score(strict, tests, [r(), r()])[0].score == 2


def test_a_legacy_score_out_of_range_is_a_judge_error() -> None:
    ranged = Scoring(
        "legacy",
        (ScoreGroup("data", max_score=1.5), ScoreGroup("secret", "data")),
        validator_scores=True,
    )
    tests = (TestCase(b"", b"", True, "secret/1", group="secret"),)
    assert score(ranged, tests, [r(given=1.5)])[0].score == 1.5
    out = score(ranged, tests, [r(given=2)])[0]
    assert out.score == 0 and "outside its range" in (out.error or "")


# -- judging ---------------------------------------------------------------------------


def echo(run: FakeRun) -> RunOutcome:
    return outcome(run.stdin)


@pytest.mark.parametrize("isolation", ["submission", "test"])
async def test_on_reject_break_skips_the_rest_of_its_group_only(isolation: str) -> None:
    sandboxes = FakeSandboxes(echo)
    judge = Judge(Settings(), sandboxes, LANGUAGES)
    tests = tuple(
        TestCase(b"x\n" if i == 1 else b"ok\n", b"ok\n", t.hidden, t.name, group=t.group)
        for i, t in enumerate(LEGACY_TESTS)
    )  # the first test of g1 fails
    problem = Problem("p", checker=CheckerSpec("tokens"), scoring=LEGACY_SCORING,
                      isolation=isolation)  # fmt: skip
    snapshot = ProblemSnapshot(problem, tests)
    judgement = await judge.judge(LANGUAGES["python"], SOURCE, snapshot)
    verdicts = [x.verdict for x in judgement.results]
    assert verdicts == [Verdict.AC, Verdict.WA, Verdict.SK, Verdict.SK, Verdict.AC, Verdict.AC]
    ran = [run.stdin for box in sandboxes.boxes for run in box.runs]
    assert len(ran) == 4  # the two skipped tests never ran
    result = report(snapshot, judgement)
    assert result.scoring is not None and result.scoring.score == 10  # g2 only
    assert result.verdict == Verdict.WA and not result.passed


def custom_checker(score_line: bytes) -> Any:
    def program(run: FakeRun) -> RunOutcome:
        if run.argv[0] == "sh":  # the checker's wrapper: 42, and what score.txt held
            return outcome(score_line + b"\n\nwell done", exit_code=42)
        return echo(run)

    return program


@pytest.mark.parametrize(
    ("line", "verdict", "total"),
    [(b"=30", Verdict.AC, 30.0), (b"=nan", Verdict.IE, 0.0), (b"=1e999", Verdict.IE, 0.0),
     (b"", Verdict.AC, 100.0)],
)  # fmt: skip
async def test_a_checkers_score_file_reaches_the_score(
    line: bytes, verdict: Verdict, total: float
) -> None:
    judge = Judge(Settings(), FakeSandboxes(custom_checker(line)), LANGUAGES)
    checker = CheckerSpec("custom", (), CheckerProgram("python", (("main.py", "pass"),)))
    scoring = Scoring("2025-09", (ScoreGroup("secret", None, "min", 100.0, test_score=100.0),))
    test = TestCase(b"1\n", b"1\n", True, "secret/1", group="secret")
    snapshot = ProblemSnapshot(Problem("p", checker=checker, scoring=scoring), (test,))
    result = report(snapshot, await judge.judge(LANGUAGES["python"], SOURCE, snapshot))
    assert result.tests[0].verdict == verdict
    assert result.scoring is not None and result.scoring.score == total
    # a pass-fail problem never reads score files: garbage there changes nothing
    plain = ProblemSnapshot(Problem("p", checker=checker), (test,))
    judged = await judge.judge(LANGUAGES["python"], SOURCE, plain)
    assert judged.results[0].verdict == Verdict.AC and report(plain, judged).scoring is None


def test_a_compile_failure_scores_zero_in_every_group() -> None:
    failed = Judgement(tuple(r(Verdict.CE) for _ in MODERN_TESTS), "error", True)
    result = report(ProblemSnapshot(Problem("p", scoring=MODERN), MODERN_TESTS), failed)
    assert result.scoring is not None and result.scoring.score == 0
    assert {g.verdict for g in result.scoring.groups} == {"CE"}


def test_a_job_of_the_shown_tests_has_no_score() -> None:
    snapshot = ProblemSnapshot(Problem("p", scoring=MODERN), MODERN_TESTS).shown()
    result = report(snapshot, Judgement((r(),)))
    assert result.scoring is None


# -- grade reports ---------------------------------------------------------------------

SCORED_JOB = {
    "id": "j1",
    "status": "finished",
    "verdict": "WA",
    "passed": False,
    "score": 30.0,
    "max_score": 100.0,
    "groups": [
        {"name": "secret/g1", "score": 30.0, "max_score": 40.0, "verdict": "AC", "tests": [1]},
        {"name": "secret/g2", "score": 0.0, "max_score": 60.0, "verdict": "WA", "tests": [2, 3]},
    ],
    "results": [
        {"position": 1, "hidden": True, "verdict": "AC", "score": 30.0},
        {"position": 2, "hidden": True, "verdict": "WA", "score": 0.0},
        {"position": 3, "hidden": True, "verdict": "SK"},
    ],
}


def test_reports_give_points_from_the_score_and_show_groups() -> None:
    from xml.etree import ElementTree

    from codeexec.grade.classroom import classroom_result
    from codeexec.grade.graded import Graded
    from codeexec.grade.junit import junit_xml

    graded = Graded("a.py", "p", "python", SCORED_JOB)
    result = classroom_result([graded])
    assert result["max_score"] == 100 and result["status"] == "fail"
    (entry,) = result["tests"]
    assert (entry["name"], entry["score"], entry["max_score"]) == ("score", 30.0, 100.0)
    assert "secret/g2: 0/60 WA" in entry["message"]
    rescaled = classroom_result([graded], {"score": 10})["tests"][0]
    assert (rescaled["score"], rescaled["max_score"]) == (3.0, 10)
    suite = ElementTree.fromstring(junit_xml([graded])).find("testsuite")
    assert suite is not None
    properties = {p.get("name"): p.get("value") for p in suite.iter("property")}
    assert properties["score"] == "30.0" and properties["group secret/g1"] == "30/40 AC"
    cases = suite.findall("testcase")
    assert cases[2].find("skipped") is not None and cases[1].find("failure") is not None


def test_a_rejected_subgroup_stops_its_parent_too() -> None:
    from codeexec.judge.scoring import Stops

    # legacy defaults: on_reject break everywhere, so a failed sample stops data/
    scoring = Scoring(
        "legacy",
        (
            ScoreGroup("data", on_reject="break"),
            ScoreGroup("sample", "data", on_reject="break"),
            ScoreGroup("secret", "data", on_reject="break"),
        ),
        validator_scores=False,
    )
    tests = (
        TestCase(b"", b"", False, "sample/1", group="sample"),
        TestCase(b"", b"", False, "sample/2", group="sample"),
        TestCase(b"", b"", True, "secret/1", group="secret"),
    )
    stops = Stops.of(scoring, tests)
    assert stops is not None and not stops.skips(0)
    stops.record(0, Verdict.WA)
    assert stops.skips(1) and stops.skips(2)
    passing = Stops.of(scoring, tests)
    assert passing is not None
    passing.record(0, Verdict.AC)
    passing.record(1, Verdict.AC)
    assert not passing.skips(2)
    assert Stops.of(MODERN, MODERN_TESTS) is None  # nothing breaks in 2025-09
