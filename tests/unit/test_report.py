"""One result model: a judgement becomes a ``Result`` once; the store keeps it in the
flat per-test form rows have always had, and reads back the same result."""

from __future__ import annotations

import json
from types import SimpleNamespace

from codeexec.judge.report import report
from codeexec.model import (
    Judgement,
    Problem,
    ProblemSnapshot,
    Result,
    TestCase,
    TestReport,
    TestResult,
    Verdict,
)
from codeexec.store.results import result_columns, result_of

SNAPSHOT = ProblemSnapshot(
    Problem("p", version=7),
    (
        TestCase(b"1\n", b"1\n", name="sample"),
        TestCase(b"secret\n", b"2\n", hidden=True, name="secret/1"),
        TestCase(b"\xff3\n", b"3\n"),
    ),
)
JUDGEMENT = Judgement(
    (
        TestResult(Verdict.AC, False, cpu_ms=5, wall_ms=9, memory_kb=100, exit_code=0,
                   stdout=b"1\n"),
        TestResult(Verdict.WA, True, cpu_ms=6, wall_ms=8, memory_kb=200, exit_code=0,
                   stdout=b"", stderr=b"never shown"),
        TestResult(Verdict.RE, False, exit_code=None, signal=11, stdout=b"x" * 3,
                   stdout_truncated=True, stderr=b"E" * 9000 + b"\n", feedback="f"),
    )
)  # fmt: skip


def test_a_judgement_is_reported_once_with_what_each_view_needs() -> None:
    result = report(SNAPSHOT, JUDGEMENT)
    assert (result.problem_version, result.verdict, result.passed) == (7, Verdict.WA, False)
    first, hidden, third = result.tests
    assert [t.position for t in result.tests] == [1, 2, 3]
    assert first.shown is not None and first.shown.got == "1" and first.name == "sample"
    assert hidden.shown is None  # a hidden test's data and output are not kept
    assert (hidden.verdict, hidden.time_ms, hidden.memory_kb) == (Verdict.WA, 6, 200)
    assert third.shown is not None
    assert third.shown.input == "\ufffd3"  # what a person reads
    assert third.shown.stderr == "E" * 8191  # its last 8192 bytes, final newline dropped
    assert (third.signal, third.shown.got_truncated, third.shown.feedback) == (11, True, "f")
    assert (result.count(hidden=False, passed=True), result.count(hidden=False, passed=False)) == (
        1,
        1,
    )
    assert (result.count(hidden=True, passed=True), result.count(hidden=True, passed=False)) == (
        0,
        1,
    )


def test_a_compile_error_is_ce_with_its_output() -> None:
    judgement = Judgement(
        tuple(TestResult(Verdict.CE, t.hidden) for t in SNAPSHOT.tests), "bad", True
    )
    result = report(SNAPSHOT, judgement)
    assert (result.verdict, result.compile_output, result.passed) == (Verdict.CE, "bad", False)


def test_the_store_reads_back_the_same_result_in_the_old_row_format() -> None:
    result = report(SNAPSHOT, JUDGEMENT)
    columns = result_columns(result)
    assert columns["shown_passed"] == 1 and columns["hidden_failed"] == 1
    stored = json.loads(columns["results"])
    assert set(stored[1]) == {
        "position", "hidden", "verdict", "name", "time_ms", "wall_ms", "memory_kb",
        "exit_code", "signal",
    }  # fmt: skip
    assert stored[0]["got"] == "1" and stored[0]["verdict"] == "AC"
    assert result_of(SimpleNamespace(**columns)) == result


def test_a_row_without_a_result_reads_as_none() -> None:
    row = SimpleNamespace(
        verdict=None, problem_version=None, passed=None, compile_output=None, results=None
    )
    assert result_of(row) is None
    assert TestReport.from_json(report(SNAPSHOT, JUDGEMENT).tests[0].as_json()).name == "sample"
    assert isinstance(report(SNAPSHOT, JUDGEMENT), Result)
