"""``codeexec problems verify``'s logic without Docker: which submissions a package has,
what each is expected to get (legacy folders; 2025-09 folders, submissions.yaml globs,
test groups, permitted/required, score, message) and whether a job's result agrees."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from codeexec.grade.client import ServerLanguage
from codeexec.grade.graded import Graded
from codeexec.packages.archive import DirectoryPackage, PackageError, PackageLimits
from codeexec.verify.expectations import Expectation, check, expectation, read_rules
from codeexec.verify.globs import expand_braces, matches
from codeexec.verify.submissions import PackageSubmission, find_submissions, language_of
from codeexec.verify.verified import PackageReport, Status, Verified, verified

NAMES = ("sample/1", "secret/easy/1", "secret/hard/1")
KNOWN = {
    "python": ServerLanguage("python", (".py",), True, ("python3",)),
    "c": ServerLanguage("c", (".c",), True),
    "cpp": ServerLanguage("cpp", (".cpp", ".cc", ".C"), True),
}


def job(*verdicts: str, names: tuple[str | None, ...] = NAMES, **extra: Any) -> dict[str, Any]:
    """A finished job as the API returns it: one result per verdict, the first shown."""
    results = [
        {"position": i + 1, "hidden": i > 0, "verdict": v, "time_ms": 10 * (i + 1),
         **({"name": names[i]} if names[i] is not None else {})}
        for i, v in enumerate(verdicts)
    ]  # fmt: skip
    final = next((v for v in verdicts if v != "AC"), "AC")
    return {"id": "j1", "status": "finished", "verdict": final, "results": results, **extra}


def expect(path: str, yaml: dict[str, Any] | None = None, layout: str = "2025-09") -> Expectation:
    found = expectation(path, layout, None if layout == "legacy" else read_rules(yaml))
    assert found is not None
    return found


# -- globs -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("pattern", "path", "matched"),
    [
        ("accepted", "accepted/sum.py", True),  # a folder above it matches
        ("accepted/*", "accepted/sum.py", True),
        ("accepted/*", "accepted/multi", True),  # a folder submission
        ("accepted/*.py", "accepted/sum.cpp", False),
        ("*.py", "accepted/sum.py", False),  # * never crosses a /
        ("*/sum.py", "accepted/sum.py", True),
        ("accepted/sum.{py,cpp}", "accepted/sum.cpp", True),
        ("{accepted,rejected}/sum.py", "rejected/sum.py", True),
        ("accepted/s{u{m,b},x}.py", "accepted/sub.py", True),  # nested braces
        ("accept", "accepted/sum.py", False),  # whole parts only
        ("secret/*-easy", "secret/03-easy/1", True),
        ("secret/*-easy", "secret/03-hard/1", False),
        ("secret", "sample/1", False),
        ("a[bc]", "ab", False),  # [xyz] is not the format's: literal
        ("a?", "ab", False),
    ],
)
def test_globs_match_as_the_format_says(pattern: str, path: str, matched: bool) -> None:
    assert matches(pattern, path) is matched


def test_brace_expansion_is_bounded_and_balanced() -> None:
    assert expand_braces("{a,b}{c,d}") == ["ac", "ad", "bc", "bd"]
    with pytest.raises(ValueError, match="more than"):
        expand_braces("{a,b}" * 11)
    with pytest.raises(ValueError, match="unbalanced"):
        expand_braces("accepted/{a,b")


# -- legacy: the final verdict ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("folder", "verdicts", "agrees"),
    [
        ("accepted", ("AC", "AC", "AC"), True),
        ("accepted", ("AC", "AC", "WA"), False),
        ("wrong_answer", ("AC", "WA", "TLE"), True),  # the first failure decides
        ("wrong_answer", ("AC", "TLE", "WA"), False),
        ("wrong_answer", ("AC", "AC", "AC"), False),
        ("time_limit_exceeded", ("TLE", "AC", "AC"), True),
        ("run_time_error", ("AC", "RE", "AC"), True),
        ("run_time_error", ("MLE", "AC", "AC"), True),  # a memory limit is a crash (RTE)
        ("run_time_error", ("OLE", "AC", "AC"), True),
        ("run_time_error", ("WA", "RE", "AC"), False),
        ("partially_accepted", ("AC", "AC", "AC"), True),
    ],
)
def test_legacy_folders_name_the_final_verdict(
    folder: str, verdicts: tuple[str, ...], agrees: bool
) -> None:
    result = check(expect(f"{folder}/x.py", layout="legacy"), job(*verdicts))
    assert result.agrees is agrees, result


def test_legacy_details() -> None:
    assert expectation("rejected/x.py", "legacy", None) is None  # not a legacy folder
    partial = expect("partially_accepted/x.py", layout="legacy")
    assert partial.label == "AC (partial)" and "score" in partial.notes[0]
    assert check(expect("run_time_error/x.c", layout="legacy"), job("MLE", "AC", "AC")).got == (
        "RTE (MLE)"
    )


def test_a_compile_error_never_agrees() -> None:
    failed = {"status": "finished", "verdict": "CE", "results": [
        {"position": 1, "hidden": False, "verdict": "CE"}]}  # fmt: skip
    for layout in ("legacy", "2025-09"):
        for folder in ("wrong_answer", "run_time_error", "rejected"):
            found = expectation(f"{folder}/x.c", layout, read_rules(None))
            if found is not None:
                result = check(found, failed)
                assert not result.agrees and result.reasons == ("it did not compile",)


# -- 2025-09: the default folders ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("folder", "verdicts", "agrees"),
    [
        ("accepted", ("AC", "AC", "AC"), True),
        ("accepted", ("AC", "AC", "TLE"), False),
        ("rejected", ("AC", "AC", "RE"), True),
        ("rejected", ("AC", "AC", "AC"), False),
        ("wrong_answer", ("AC", "WA", "WA"), True),
        ("wrong_answer", ("AC", "WA", "TLE"), False),  # legacy would agree: per test here
        ("time_limit_exceeded", ("AC", "AC", "TLE"), True),
        ("time_limit_exceeded", ("AC", "AC", "AC"), False),
        ("time_limit_exceeded", ("WA", "TLE", "TLE"), False),
        ("run_time_error", ("RE", "MLE", "AC"), True),
        ("brute_force", ("AC", "TLE", "RE"), True),
        ("brute_force", ("AC", "AC", "AC"), False),
        ("brute_force", ("AC", "WA", "TLE"), False),
    ],
)
def test_default_folders_constrain_every_test(
    folder: str, verdicts: tuple[str, ...], agrees: bool
) -> None:
    result = check(expect(f"{folder}/x.py"), job(*verdicts))
    assert result.agrees is agrees, result


def test_the_reasons_name_the_rule_and_the_test() -> None:
    result = check(expect("wrong_answer/x.py"), job("AC", "TLE", "TLE"))
    assert result.reasons == (
        "wrong_answer (default): TLE on secret/easy/1 (and 1 more); permitted: AC|WA",
        "wrong_answer (default): no test got WA",
    )
    assert expect("brute_force/x.py").label == "brute force"
    assert expect("rejected/x.py").label == "rejected"


def test_submissions_outside_known_folders_need_a_glob() -> None:
    assert expectation("mystery/x.py", "2025-09", read_rules(None)) is None
    rules = read_rules({"mystery/*": {"permitted": ["AC", "TLE"]}})
    found = expectation("mystery/x.py", "2025-09", rules)
    assert found is not None and found.label == "only AC|TLE"
    metadata_only = expectation(
        "mystery/x.py", "2025-09", read_rules({"mystery": {"authors": "A"}})
    )
    assert metadata_only is not None and metadata_only.label == "anything"


# -- submissions.yaml ---------------------------------------------------------------------------


def test_a_folder_key_overrides_the_default_and_inherits_the_rest() -> None:
    yaml = {"time_limit_exceeded": {"permitted": ["AC", "WA", "TLE"]}}
    found = expect("time_limit_exceeded/x.py", yaml)
    assert check(found, job("WA", "TLE", "AC")).agrees  # WA now permitted
    assert not check(found, job("WA", "AC", "AC")).agrees  # TLE still required


def test_a_glob_adds_to_the_folders_rule() -> None:
    yaml = {"time_limit_exceeded/*": {"permitted": ["AC", "WA", "TLE"]}}
    found = expect("time_limit_exceeded/x.py", yaml)
    assert len(found.requirements) == 2
    assert not check(found, job("WA", "TLE", "AC")).agrees  # the default still forbids WA


def test_test_group_requirements_apply_to_their_tests_only() -> None:
    yaml = {
        "partial/solves_easy.py": {
            "sample": {"permitted": ["AC"]},
            "secret/easy": {"permitted": ["AC"]},
            "secret/hard": {"permitted": ["AC", "TLE"], "required": ["TLE"]},
        }
    }
    found = expect("partial/solves_easy.py", yaml)
    assert check(found, job("AC", "AC", "TLE")).agrees
    wrong = check(found, job("AC", "WA", "TLE"))
    assert wrong.reasons == (
        "submissions.yaml partial/solves_easy.py, secret/easy: WA on secret/easy/1; permitted: AC",
    )
    assert not check(found, job("AC", "AC", "AC")).agrees  # no TLE in secret/hard


def test_a_group_that_matches_no_test_disagrees() -> None:
    found = expect("partial/x.py", {"partial": {"secret/nope": {"required": ["WA"]}}})
    assert check(found, job("AC", "AC", "WA")).reasons == (
        "submissions.yaml partial, secret/nope: no test is in secret/nope",
    )


def test_groups_cannot_be_checked_when_hidden_tests_are_not_named() -> None:
    found = expect("partial/x.py", {"partial": {"secret/hard": {"required": ["WA"]}}})
    seen = job("AC", "AC", "WA", names=("sample/1", None, None))  # a submitter's view
    result = check(found, seen)
    assert result.agrees and result.blind and "admin" in result.blind[0]
    graded = verified("partial/x.py", found, Graded("partial/x.py", "p", "python", seen))
    assert graded.status == Status.SKIPPED  # neither agrees nor disagrees


def test_use_for_time_limit_counts_as_its_constraint() -> None:
    lower = expect("x/a.py", {"x": {"use_for_time_limit": "lower"}})
    assert check(lower, job("AC", "WA", "RE")).agrees
    assert not check(lower, job("AC", "TLE", "AC")).agrees
    upper = expect("x/a.py", {"x": {"use_for_time_limit": "upper"}})
    assert check(upper, job("AC", "TLE", "AC")).agrees
    assert not check(upper, job("AC", "WA", "AC")).agrees
    ignored = expect("accepted/a.py", {"accepted": {"use_for_time_limit": False}})
    assert ignored.label == "AC"


def test_score_is_compared_when_the_job_has_one() -> None:
    found = expect("x/a.py", {"x": {"score": [20, 50]}})
    assert check(found, job("AC", "AC", "AC", score=30)).agrees
    assert check(found, job("AC", "AC", "AC", score=60)).reasons == (
        "submissions.yaml x: score 60, expected [20, 50]",
    )
    absent = check(found, job("AC", "AC", "AC"))  # a pass-fail job has no score
    assert absent.agrees and "no score" in absent.unchecked[0]
    exact = expect("x/a.py", {"x": {"score": 100}})
    assert exact.label == "score 100" and check(exact, job("AC", score=100.0, names=NAMES)).agrees
    grouped = expect("x/a.py", {"x": {"secret": {"score": 10}}})
    assert "group's score is not checked" in grouped.notes[0]


def test_message_is_looked_for_in_the_checkers_messages() -> None:
    found = expect("x/a.py", {"x": {"message": "too big"}})
    said = job("WA", "AC", "AC")
    said["results"][0]["feedback"] = "the number is too big"
    assert check(found, said).agrees
    silent = check(found, job("WA", "AC", "AC"))  # hidden tests keep no message
    assert silent.agrees and "no message of a hidden test" in silent.unchecked[0]
    shown_only = job("WA", names=("sample/1",))
    assert check(found, shown_only).reasons == (
        "submissions.yaml x: no checker message holds 'too big'",
    )


@pytest.mark.parametrize(
    ("yaml", "message"),
    [
        ({"accepted": {"permitted": ["AC", "OK"]}}, "unknown verdicts ['OK']"),
        ({"x": {"required": "WA,TLE"}}, "unknown verdicts"),
        ({"x": {"permitted": [1]}}, "must be a list of verdicts"),
        ({"x": {"colour": "red"}}, "unknown key 'colour'"),
        ({"x": {"secret": {"permitted": ["AC"], "authors": "A"}}}, "unknown keys ['authors']"),
        ({"x": {"score": [3, 1]}}, "empty range"),
        ({"x": {"score": "high"}}, "must be a number"),
        ({"x": {"message": 3}}, "message must be text"),
        ({"x": {"use_for_time_limit": "sometimes"}}, "use_for_time_limit"),
        ({"x/{a,b": {"permitted": ["AC"]}}, "unbalanced"),
        ({"x": ["AC"]}, "must map to a mapping"),
        ({"accepted": "AC"}, "accepted must be a mapping"),
    ],
)
def test_a_bad_submissions_yaml_is_refused(yaml: dict[str, Any], message: str) -> None:
    with pytest.raises(PackageError, match=message.replace("[", r"\[").replace("]", r"\]")):
        read_rules(yaml)


def test_language_and_entrypoint_come_from_matching_globs() -> None:
    found = expect("x/a", {"x/*": {"language": "python3", "entrypoint": "run.py"}})
    assert (found.language, found.entrypoint) == ("python3", "run.py")
    with pytest.raises(PackageError, match="different languages"):
        expect("x/a", {"x/*": {"language": "c"}, "x/a": {"language": "cpp"}})


# -- the package's submissions -------------------------------------------------------------------


def write(root: Path, files: dict[str, bytes | str]) -> DirectoryPackage:
    for name, data in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data if isinstance(data, bytes) else data.encode())
    return DirectoryPackage(root, PackageLimits(1 << 20, 100))


def test_each_file_or_folder_in_a_submissions_folder_is_one_submission(tmp_path: Path) -> None:
    files = write(
        tmp_path / "p",
        {
            "problem.yaml": "name: p\n",
            "submissions/submissions.yaml": "{}\n",
            "submissions/README.md": "notes\n",
            "submissions/accepted/sum.py": "print(3)\n",
            "submissions/accepted/multi/main.cpp": "int main() {}\n",
            "submissions/accepted/multi/lib/add.h": "\n",
            "submissions/accepted/.hidden.py": "x\n",
            "submissions/accepted/multi/__pycache__/x.pyc": b"\x00",
            "submissions/wrong_answer/latin1.py": b"print('\xe9')\n",
        },
    )
    found = {s.path: s for s in find_submissions(files)}
    assert set(found) == {"accepted/sum.py", "accepted/multi", "wrong_answer/latin1.py"}
    assert found["accepted/sum.py"].files == {"sum.py": "print(3)\n"}
    assert found["accepted/multi"].files == {"main.cpp": "int main() {}\n", "lib/add.h": "\n"}
    assert found["wrong_answer/latin1.py"].why_not == "latin1.py is not UTF-8 text"


def test_a_submissions_language_is_told_by_its_extensions() -> None:
    def of(files: dict[str, str], named: str | None = None) -> tuple[str | None, str | None]:
        return language_of(PackageSubmission("accepted/x", files), named, KNOWN)

    assert of({"a.py": ""}) == ("python", None)
    assert of({"main.cpp": "", "add.h": ""}) == ("cpp", None)  # a header claims nothing
    assert of({"A.C": ""}) == ("cpp", None)
    assert of({"a.rkt": ""}) == (None, "no language has the extension .rkt")
    assert of({"a.py": "", "b.c": ""}) == (None, "its files are in several languages: c, python")
    assert of({"a.txt": ""}, "python3") == ("python", None)  # the spec's code
    assert of({"a.py": ""}, "cobol") == (
        None,
        "language 'cobol' (submissions.yaml) is not one codeexec has",
    )


# -- records and exit status ---------------------------------------------------------------------


def test_what_a_graded_submission_becomes() -> None:
    wa = expect("wrong_answer/x.py", layout="legacy")
    agreed = verified("wrong_answer/x.py", wa, Graded("s", "p", "python", job("AC", "WA", "AC")))
    assert agreed.status == Status.AGREE and agreed.time_ms == 30 and agreed.got == "WA"
    assert [t["verdict"] for t in agreed.tests] == ["AC", "WA", "AC"]
    refused = verified("wrong_answer/x.py", wa, Graded("s", "p", "python", None, "refused: no"))
    assert refused.status == Status.DISAGREE and refused.got == "refused"
    gone = verified("wrong_answer/x.py", wa, Graded("s", "p", "python", None, "unreachable: x"))
    assert gone.status == Status.NOT_JUDGED
    broken = verified("wrong_answer/x.py", wa, Graded("s", "p", "python", job("AC", "IE", "AC")))
    assert broken.status == Status.NOT_JUDGED and broken.got == "IE"


def test_exit_status_of_a_package() -> None:
    report = PackageReport("p", submissions=[])
    assert report.exit_status(strict=False) == 0
    report.submissions.append(verified_as(Status.SKIPPED))
    assert (report.exit_status(False), report.exit_status(True)) == (0, 1)
    report.submissions.append(verified_as(Status.DISAGREE))
    assert report.exit_status(False) == 1
    assert "1 disagree (x/1.py)" in report.summary()
    report.submissions.append(verified_as(Status.NOT_JUDGED))
    assert report.exit_status(False) == 3
    assert PackageReport("q", error="broken").exit_status(False) == 2


def verified_as(status: Status) -> Verified:
    return Verified(f"x/{int(status != Status.SKIPPED)}.py", status)
