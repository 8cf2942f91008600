"""``codeexec grade``'s report formats (JUnit XML, GitHub Classroom, JSON), pure: each is
built from jobs as the jobs API renders them (``submission_out``, admin view) for
realistic results, AC to an ungraded source.

The JUnit XML is validated against the Jenkins xUnit plugin's schema (vendored in
tests/data/junit/, see its README), checked by hand against the stricter rules of
windyroad's Ant schema, and read back with junitparser. The Classroom output is decoded
as ``autograding-grading-reporter`` decodes it (base64, then JSON).
"""

from __future__ import annotations

import base64
import binascii
import copy
import io
import json
import re
import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import xmlschema
from junitparser import Error, Failure, JUnitXml, Skipped

from codeexec.grade.classroom import classroom_output, classroom_result
from codeexec.grade.graded import HIDDEN_FIELDS, Graded
from codeexec.grade.json_report import json_report
from codeexec.grade.junit import junit_xml
from codeexec.http.submissions_view import submission_out
from codeexec.http.visibility import ADMIN, HIDDEN_TEST_FIELDS
from codeexec.judge.report import report
from codeexec.model import (
    Judgement,
    Problem,
    ProblemSnapshot,
    Status,
    Submission,
    TestCase,
    TestResult,
    Verdict,
)

SCHEMA = xmlschema.XMLSchema(Path(__file__).parents[1] / "data" / "junit" / "junit-10.xsd")
CREATED = datetime(2025, 3, 14, 9, 26, 53, 589793)  # naive UTC, as the store keeps it
NOW = datetime(2025, 3, 14, 10, 0, 0, tzinfo=UTC)

# What a hidden test holds; none of it may reach a report.
SECRET_NAME = "secret/group1/03"
SECRET_INPUT = "s3cr3t-input-4711"
SECRET_EXPECTED = "s3cr3t-expected-4712"
SECRET_GOT = "s3cr3t-got-4713"
SECRET_STDERR = "s3cr3t-stderr-4714"
SECRET_FEEDBACK = "s3cr3t-feedback-4715"
SECRETS = (SECRET_NAME, SECRET_INPUT, SECRET_EXPECTED, SECRET_GOT, SECRET_STDERR, SECRET_FEEDBACK)
SECRET_CPU_MS, SECRET_MEMORY_KB = 4719, 98765
ON_HIDDEN = "on a hidden test (its data is not shown)"

SUM = ProblemSnapshot(
    Problem("sum", version=3),
    (
        TestCase(b"1 2\n", b"3\n", name="sample/1"),
        TestCase(b"2 2\n", b"4\n", name="sample/2"),
        TestCase(SECRET_INPUT.encode(), SECRET_EXPECTED.encode(), hidden=True, name=SECRET_NAME),
    ),
)
LOOP = ProblemSnapshot(
    Problem("loop", version=1),
    (TestCase(b"10\n", b"55\n", name="sample/1"), TestCase(b"99\n", b"0\n", hidden=True)),
)
CRASH = ProblemSnapshot(Problem("crash"), (TestCase(b"0\n", b"ok\n"),))


def _ok(cpu_ms: int = 12, stdout: bytes = b"") -> TestResult:
    return TestResult(Verdict.AC, False, cpu_ms=cpu_ms, wall_ms=cpu_ms + 3, memory_kb=9000,
                      exit_code=0, stdout=stdout)  # fmt: skip


def _hidden(verdict: Verdict) -> TestResult:
    """A hidden test's result carrying everything a run produces (the report drops it)."""
    return TestResult(verdict, True, cpu_ms=SECRET_CPU_MS, wall_ms=SECRET_CPU_MS + 40,
                      memory_kb=SECRET_MEMORY_KB, exit_code=3, stdout=SECRET_GOT.encode(),
                      stderr=SECRET_STDERR.encode(), feedback=SECRET_FEEDBACK)  # fmt: skip


def job(
    sid: str,
    snapshot: ProblemSnapshot,
    judgement: Judgement | None,
    language: str = "python3",
    status: Status = Status.FINISHED,
    error: str | None = None,
) -> dict[str, Any]:
    """The job as GET /api/v1/submissions/{id} answers an admin, through JSON."""
    submission = Submission(
        id=sid,
        owner="ci-key",
        problem_id=snapshot.problem.id,
        language=language,
        files=(("main", "source"),),
        status=status,
        created_at=CREATED,
        problem_version=snapshot.problem.version,
        result=report(snapshot, judgement) if judgement is not None else None,
        error=error,
        started_at=CREATED + timedelta(seconds=1),
        finished_at=CREATED + timedelta(seconds=3),
        attempts=1,
    )
    out: dict[str, Any] = json.loads(json.dumps(submission_out(submission, ADMIN)))
    return out


AC = Graded("solutions/sum.py", "sum", "python3", job("j-ac", SUM, Judgement(
    (_ok(stdout=b"3\n"), _ok(stdout=b"4\n"), _hidden(Verdict.AC))
)), duration_s=1.25)  # fmt: skip
WA = Graded("solutions/sum_wrong.py", "sum", "python3", job("j-wa", SUM, Judgement((
    _ok(stdout=b"3\n"),
    TestResult(Verdict.WA, False, cpu_ms=14, wall_ms=20, memory_kb=9100, exit_code=0,
               stdout=b"5\n", stderr=b"debug: a=2 b=2\n", feedback="expected 4, got 5"),
    _hidden(Verdict.WA),
))), duration_s=1.5)  # fmt: skip
TLE = Graded("loop.py", "loop", "python3", job("j-tle", LOOP, Judgement((
    TestResult(Verdict.TLE, False, cpu_ms=2013, wall_ms=2101, memory_kb=9000, signal=9),
    _hidden(Verdict.TLE),
))), duration_s=4.0)  # fmt: skip
RE = Graded("crash.c", "crash", "c", job("j-re", CRASH, Judgement((
    TestResult(Verdict.RE, False, cpu_ms=3, wall_ms=5, memory_kb=1200, exit_code=None,
               signal=11, stderr=b"Segmentation fault (core dumped)\n"),
)), language="c"), duration_s=2.0)  # fmt: skip
COMPILER = "sum.c: In function 'main':\nsum.c:3:5: error: expected ';' before 'return'\n"
CE = Graded("sum.c", "sum", "c", job("j-ce", SUM, Judgement(
    tuple(TestResult(Verdict.CE, t.hidden) for t in SUM.tests),
    compile_output=COMPILER, compile_failed=True,
), language="c"), duration_s=0.8)  # fmt: skip
FAILED = Graded("sum.rs", "sum", "rust", job(
    "j-failed", SUM, None, language="rust", status=Status.FAILED,
    error="the sandbox could not start: no image for language 'rust'",
), duration_s=0.3)  # fmt: skip
UNGRADED = Graded("sum.go", "sum", "go", None, error="server unreachable", duration_s=0.05)

ALL = [AC, WA, TLE, RE, CE, FAILED, UNGRADED]


def leaky(g: Graded) -> Graded:
    """``g`` with its hidden tests' results carrying data, as a view that showed more
    would give them: the reports must still show none of it."""
    assert g.job is not None
    more = copy.deepcopy(g.job)
    for test in more["results"]:
        if test["hidden"]:
            test |= {
                "name": SECRET_NAME,
                "input": SECRET_INPUT,
                "expected": SECRET_EXPECTED,
                "got": SECRET_GOT,
                "got_truncated": False,
                "stderr": SECRET_STDERR,
                "feedback": SECRET_FEEDBACK,
                "exit_code": 3,
            }
    return Graded(g.source, g.problem, g.language, more, g.error, g.duration_s)


# -- JUnit XML ---------------------------------------------------------------------------------


def validate(document: bytes) -> ET.Element:
    """Valid against Jenkins' schema and windyroad's Ant rules; the parsed root."""
    SCHEMA.validate(io.BytesIO(document))
    root = ET.fromstring(document)
    assert_ant_format(root)
    return root


def assert_ant_format(root: ET.Element) -> None:
    """windyroad's JUnit.xsd (the Ant format), by hand: the root has no attributes; a suite
    has exactly these attributes and properties, testcases, system-out, system-err in that
    order; a testcase has name, classname and time, and at most one of skipped, error or
    failure; counts add up."""
    assert root.tag == "testsuites" and root.attrib == {}
    decimal = re.compile(r"^\d+(\.\d+)?$")
    for index, suite in enumerate(root):
        assert suite.tag == "testsuite"
        assert set(suite.attrib) == {
            "name", "timestamp", "hostname", "tests", "failures", "errors", "skipped",
            "time", "package", "id",
        }  # fmt: skip
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d", suite.attrib["timestamp"])
        assert suite.attrib["id"] == str(index)
        assert suite.attrib["name"].strip() and suite.attrib["hostname"].strip()
        assert decimal.match(suite.attrib["time"])
        tags = [child.tag for child in suite]
        assert tags[0] == "properties" and tags[-2:] == ["system-out", "system-err"]
        assert set(tags[1:-2]) <= {"testcase"}
        for prop in suite[0]:
            assert prop.tag == "property" and set(prop.attrib) == {"name", "value"}
            assert prop.attrib["name"].strip()
        cases = suite.findall("testcase")
        kinds = []
        for case in cases:
            assert set(case.attrib) == {"name", "classname", "time"}
            assert decimal.match(case.attrib["time"])
            assert len(case) <= 1
            kinds += [child.tag for child in case]
            for child in case:
                assert child.tag in ("skipped", "error", "failure")
                assert ("type" in child.attrib) == (child.tag != "skipped")
                assert set(child.attrib) <= {"type", "message"}
        assert int(suite.attrib["tests"]) == len(cases)
        for kind, count in (("failure", "failures"), ("error", "errors"), ("skipped", "skipped")):
            assert int(suite.attrib[count]) == kinds.count(kind)


@pytest.mark.parametrize("graded", [[g] for g in ALL] + [ALL, []], ids=lambda g: str(len(g)))
def test_every_report_is_valid_junit(graded: list[Graded]) -> None:
    validate(junit_xml(graded, now=NOW))


def test_the_report_reads_back_with_junitparser() -> None:
    document = junit_xml(ALL, hostname="judge.example", now=NOW)
    validate(document)
    suites = list(JUnitXml.fromstring(document))
    assert [s.name for s in suites] == [f"{g.problem}: {g.source}" for g in ALL]
    counts = [(s.tests, s.failures, s.errors, s.skipped) for s in suites]
    assert counts == [
        (3, 0, 0, 0),  # AC
        (3, 2, 0, 0),  # WA: a shown and a hidden test failed
        (2, 2, 0, 0),  # TLE
        (1, 1, 0, 0),  # RE
        (3, 0, 1, 2),  # CE: once, the others not run
        (1, 0, 1, 0),  # failed job
        (1, 0, 1, 0),  # ungraded
    ]
    assert [s.time for s in suites] == [g.duration_s for g in ALL]
    assert {s.hostname for s in suites} == {"judge.example"}

    ac, wa, tle, re_, ce, failed, ungraded = (list(s) for s in suites)
    assert [c.name for c in ac] == ["sample/1", "sample/2", "test 3"]
    assert {c.classname for c in ac} == {"sum.solutions/sum_py"}
    assert [c.time for c in ac] == [0.012, 0.012, 0.0]  # CPU seconds; a hidden test's: not shown
    assert all(c.is_passed for c in ac)

    assert [type(r) for c in wa for r in c.result] == [Failure, Failure]
    shown, hidden = (c.result[0] for c in wa[1:])
    assert (shown.type, shown.message) == ("WA", "wrong answer")
    assert shown.text == (
        "input:\n2 2\nexpected:\n4\ngot:\n5\nstderr:\ndebug: a=2 b=2\nchecker:\nexpected 4, got 5"
    )
    assert (hidden.type, hidden.message) == ("WA", f"wrong answer {ON_HIDDEN}")
    assert not hidden.text

    assert [(r.type, r.message) for c in tle for r in c.result] == [
        ("TLE", "time limit exceeded (2013 ms CPU, 2101 ms wall)"),
        ("TLE", f"time limit exceeded {ON_HIDDEN}"),
    ]
    [crash] = re_[0].result
    assert (crash.type, crash.message) == ("RE", "runtime error: killed by signal 11 (SIGSEGV)")
    assert "stderr:\nSegmentation fault (core dumped)" in crash.text

    first, *rest = (c.result[0] for c in ce)
    assert isinstance(first, Error) and (first.type, first.message) == ("CE", "compilation failed")
    assert first.text == COMPILER.rstrip("\n")
    assert all(isinstance(r, Skipped) and r.message == "not run: compilation failed" for r in rest)

    [[why_failed]] = [c.result for c in failed]
    assert isinstance(why_failed, Error) and why_failed.type == "failed"
    assert why_failed.message == "the sandbox could not start: no image for language 'rust'"
    [[why_not]] = [c.result for c in ungraded]
    assert (why_not.type, why_not.message) == ("ungraded", "server unreachable")
    assert [c.name for c in ungraded] == ["grading"]


def test_suites_carry_the_job_and_when_it_started() -> None:
    root = validate(junit_xml([WA, UNGRADED], now=NOW))
    wa, ungraded = root
    assert wa.attrib["timestamp"] == "2025-03-14T09:26:54"  # started_at, whole seconds
    assert ungraded.attrib["timestamp"] == "2025-03-14T10:00:00"  # no job: now
    properties = {p.attrib["name"]: p.attrib["value"] for p in wa.iter("property")}
    assert properties == {
        "problem": "sum", "source": "solutions/sum_wrong.py", "language": "python3",
        "id": "j-wa", "problem_version": "3", "status": "finished", "verdict": "WA",
    }  # fmt: skip
    assert wa.findtext("system-out") == "WA: 1 of 3 tests passed"
    assert ungraded.findtext("system-out") == "ungraded: server unreachable"
    assert ungraded.findtext("system-err") == "server unreachable"


@pytest.mark.parametrize("graded", [WA, TLE, AC], ids=["WA", "TLE", "AC"])
def test_a_hidden_test_shows_only_its_verdict(graded: Graded) -> None:
    for g in (graded, leaky(graded)):
        document = junit_xml([g], now=NOW)
        text = document.decode()
        validate(document)
        for secret in (*SECRETS, str(SECRET_CPU_MS), str(SECRET_MEMORY_KB), "4.719", "4.759"):
            assert secret not in text
        output = classroom_output(classroom_result([g]))
        decoded = base64.b64decode(output.removeprefix("result=")).decode()
        for secret in (*SECRETS, str(SECRET_CPU_MS), str(SECRET_MEMORY_KB), "4.719", "4.759"):
            assert secret not in decoded and secret not in output
    assert g.job is not None and SECRET_NAME in json.dumps(g.job)  # it was there to leak


def test_the_report_shows_no_more_of_a_hidden_test_than_a_contestant_sees() -> None:
    assert set(HIDDEN_FIELDS) <= set(HIDDEN_TEST_FIELDS)


def test_what_xml_cannot_hold_is_left_out() -> None:
    assert WA.job is not None
    messy = copy.deepcopy(WA.job)
    messy["results"][1]["got"] = "a\x00b\x07c\x1b[31mred\x1b[0m\ud800 \U0001f600\r\nnext"
    messy["results"][1]["name"] = "sample\x0b/2"
    g = Graded("so\x01urce.py", "sum", "python3", messy, duration_s=1.0)
    root = validate(junit_xml([g], now=NOW))
    failure = root.find("testsuite/testcase[2]/failure")
    assert failure is not None and failure.text is not None
    assert "got:\nabcred \U0001f600\nnext" in failure.text
    assert root.find("testsuite/testcase[2]") is not None
    assert root[0].attrib["name"] == "sum: source.py"
    assert [c.attrib["name"] for c in root.iter("testcase")][1] == "sample/2"
    decoded = base64.b64decode(classroom_output(classroom_result([g]))[7:]).decode()
    assert "\x00" not in decoded and "\\u0000" not in decoded and "\\ud800" not in decoded


def test_a_long_output_is_cut_to_an_excerpt() -> None:
    assert WA.job is not None
    long = copy.deepcopy(WA.job)
    long["results"][1]["got"] = "\n".join(f"line {n}" for n in range(1000))
    long["results"][1]["expected"] = "x" * 100_000
    long["results"][1]["got_truncated"] = True
    root = validate(junit_xml([Graded("a.py", "sum", "python3", long)], now=NOW))
    failure = root.find("testsuite/testcase[2]/failure")
    assert failure is not None and failure.text is not None
    assert len(failure.text) < 2000
    assert "expected:\n" + "x" * 400 + "\n[...]" in failure.text
    assert "got (cut short by the judge):\nline 0\n" in failure.text
    assert "line 7\n[...]" in failure.text and "line 8" not in failure.text


def test_a_compile_error_without_tests_is_one_error() -> None:
    g = Graded("a.c", "empty", "c", job("j", ProblemSnapshot(Problem("empty")), Judgement(
        (), compile_output="boom", compile_failed=True), language="c"))  # fmt: skip
    root = validate(junit_xml([g], now=NOW))
    [case] = root.iter("testcase")
    error = case.find("error")
    assert case.attrib["name"] == "compile" and error is not None
    assert (error.attrib["type"], error.text) == ("CE", "boom")


# -- GitHub Classroom --------------------------------------------------------------------------


def decode(output: str) -> dict[str, Any]:
    """As the reporter does: Buffer.from(value, 'base64'), then JSON.parse."""
    assert output.startswith("result=") and output.endswith("\n") and output.count("\n") == 1
    value = output.removeprefix("result=").removesuffix("\n")
    raw = base64.b64decode(value, validate=True)  # the standard alphabet, padded, one line
    assert base64.b64encode(raw).decode() == value
    decoded: dict[str, Any] = json.loads(raw.decode("utf-8"))
    return decoded


def test_classroom_result_field_by_field() -> None:
    result = classroom_result([WA])
    assert decode(classroom_output(result)) == result
    assert result == {
        "version": 1,
        "status": "fail",
        "max_score": 3,
        "tests": [
            {
                "name": "sample/1",
                "status": "pass",
                "score": 1,
                "max_score": 1,
                "message": None,
                "filename": "solutions/sum_wrong.py",
                "line_no": 0,
                "execution_time": "0.012s",
            },
            {
                "name": "sample/2",
                "status": "fail",
                "score": 0,
                "max_score": 1,
                "message": "wrong answer\ninput:\n2 2\nexpected:\n4\ngot:\n5\n"
                "stderr:\ndebug: a=2 b=2\nchecker:\nexpected 4, got 5",
                "filename": "solutions/sum_wrong.py",
                "line_no": 0,
                "execution_time": "0.014s",
            },
            {
                "name": "test 3",
                "status": "fail",
                "score": 0,
                "max_score": 1,
                "message": f"wrong answer {ON_HIDDEN}",
                "filename": "solutions/sum_wrong.py",
                "line_no": 0,
                "execution_time": "0s",
            },
        ],
    }


def test_classroom_output_is_the_graders_line() -> None:
    result = classroom_result([AC])
    output = classroom_output(result)
    compact = json.dumps(result, separators=(",", ":"), ensure_ascii=False)  # JSON.stringify
    assert output == "result=" + base64.b64encode(compact.encode()).decode() + "\n"
    assert decode(output) == result
    with pytest.raises(binascii.Error):
        base64.b64decode("result=", validate=True)  # the prefix is not part of the value


def test_classroom_points_by_test_name() -> None:
    points = {"sample/1": 2.5, "sample/2": 2.5, SECRET_NAME: 5}
    result = classroom_result([WA], points)
    assert [(t["name"], t["score"], t["max_score"]) for t in result["tests"]] == [
        ("sample/1", 2.5, 2.5),
        ("sample/2", 0, 2.5),
        ("test 3", 0, 5),  # keyed by its own name, shown without it
    ]
    assert result["max_score"] == 10
    assert SECRET_NAME not in classroom_output(result)
    ac = classroom_result([AC], points)
    assert (ac["status"], sum(t["score"] for t in ac["tests"]), ac["max_score"]) == ("pass", 10, 10)


def test_classroom_statuses() -> None:
    assert classroom_result([AC])["status"] == "pass"
    for graded in (TLE, RE):
        assert classroom_result([graded])["status"] == "fail"
    ce = classroom_result([CE])
    assert ce["status"] == "error" and ce["max_score"] == 3
    assert [t["status"] for t in ce["tests"]] == ["error"] * 3
    assert ce["tests"][0]["message"] == "compilation failed\n" + COMPILER.rstrip("\n")
    assert [t["message"] for t in ce["tests"][1:]] == ["not run: compilation failed"] * 2
    for graded, why in ((FAILED, "the sandbox could not start: no image for language 'rust'"),
                        (UNGRADED, "server unreachable")):  # fmt: skip
        result = classroom_result([graded])
        assert result == {
            "version": 1,
            "status": "error",
            "max_score": 1,  # never full marks for a run that graded nothing
            "tests": [
                {
                    "name": "grading",
                    "status": "error",
                    "score": 0,
                    "max_score": 1,
                    "message": why,
                    "filename": graded.source,
                    "line_no": 0,
                    "execution_time": f"{graded.duration_s:g}s",
                }
            ],
        }
    [re_test] = classroom_result([RE])["tests"]
    assert re_test["message"].startswith("runtime error: killed by signal 11 (SIGSEGV)\ninput:\n0")
    assert classroom_result([TLE])["tests"][0]["execution_time"] == "2.013s"


def test_classroom_with_many_sources() -> None:
    result = classroom_result([AC, WA, UNGRADED])
    assert result["status"] == "error"  # an error outranks a failure
    assert result["max_score"] == 3 + 3 + 1
    names = [t["name"] for t in result["tests"]]
    assert names[0] == "sum: solutions/sum.py: sample/1"
    assert names[3:] == [
        "sum: solutions/sum_wrong.py: sample/1",
        "sum: solutions/sum_wrong.py: sample/2",
        "sum: solutions/sum_wrong.py: test 3",
        "sum: sum.go: grading",
    ]
    assert classroom_result([AC, AC])["status"] == "pass"
    assert classroom_result([AC, WA])["status"] == "fail"
    assert classroom_result([]) == {"version": 1, "status": "pass", "max_score": 0, "tests": []}


# -- JSON --------------------------------------------------------------------------------------


def test_json_report_keeps_each_job_untouched() -> None:
    out = json_report(ALL)
    assert out["passed"] is False
    assert [entry["job"] for entry in out["graded"]] == [g.job for g in ALL]
    assert all(entry["job"] is g.job for entry, g in zip(out["graded"], ALL, strict=True))
    assert out["graded"][-1] == {
        "source": "sum.go",
        "problem": "sum",
        "language": "go",
        "job": None,
        "error": "server unreachable",
        "duration_s": 0.05,
    }
    assert json.loads(json.dumps(out)) == out
    assert json_report([AC])["passed"] is True
    assert json_report([AC, AC])["passed"] is True
    assert json_report([AC, FAILED])["passed"] is False
    assert json_report([])["passed"] is False  # grading nothing passes nothing
