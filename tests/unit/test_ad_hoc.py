"""Ad-hoc runs as intake, the judge and the store see them: the inline problem a run
becomes, what the judge passes to the program and keeps of its output, and the inline
problem's round trip through its job row."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from codeexec.config import Settings
from codeexec.intake import AdHocRun, args_problem
from codeexec.judge.judge import Judge
from codeexec.judge.report import report
from codeexec.model import AD_HOC_ID, UNCHECKED, RunOutcome, Verdict
from codeexec.sandbox.api import SandboxFile
from codeexec.sandbox.fake import FakeRun, FakeSandboxes, outcome
from codeexec.sandbox.languages import discover_languages
from codeexec.store.inline import inline_json, inline_of

ROOT = Path(__file__).resolve().parents[2]
LANGUAGES = discover_languages(ROOT / "codeexec/languages", ("python",))
PY = LANGUAGES["python"]
SOURCE = (SandboxFile.source("main.py", "..."),)


def test_a_run_becomes_an_inline_problem() -> None:
    run = AdHocRun("python", code="x", stdin=b"\x00in", repeat=3, time_limit_ms=500)
    request = run.request()
    assert request.problem_id == AD_HOC_ID and request.inline is not None
    problem, tests = request.inline.problem, request.inline.tests
    assert problem.checker.mode == UNCHECKED and problem.time_limit_ms == 500
    assert [t.input for t in tests] == [b"\x00in"] * 3
    checked = AdHocRun("python", code="x", expected_output=b"out", checker="exact").request()
    assert checked.inline is not None and checked.inline.problem.checker.mode == "exact"


def test_arguments_are_bounded() -> None:
    assert args_problem(["a", "b c"]) is None
    assert args_problem(["x"] * 129) is not None
    assert args_problem(["x" * 4097]) is not None
    assert args_problem(["a\0"]) is not None


def test_the_inline_problem_round_trips_through_json() -> None:
    run = AdHocRun(
        "python",
        stdin=b"\xff\x00",
        expected_output=b"\xfe",
        checker="tokens",
        args=("-v", "two words"),
        merge_stderr=True,
        repeat=2,
        memory_limit_mb=64,
        process_limit=4,
    )
    snapshot = run.request().inline
    assert snapshot is not None
    assert inline_of(inline_json(snapshot)) == snapshot


async def test_the_judge_passes_arguments_and_keeps_the_whole_output() -> None:
    big = b"y" * (200 * 1024)  # more than a shown test keeps (64 KB)

    def program(run: FakeRun) -> RunOutcome:
        return outcome(big, stderr=b"warn\n", exit_code=0)

    sandboxes = FakeSandboxes(program)
    judge = Judge(Settings(), sandboxes, LANGUAGES)
    snapshot = AdHocRun("python", args=("a", "b"), merge_stderr=True).request().inline
    assert snapshot is not None
    judgement = await judge.judge(PY, SOURCE, snapshot)
    ran = sandboxes.boxes[0].runs[-1]
    assert ran.argv == (*PY.run, "a", "b") and ran.merge_stderr
    result = report(snapshot, judgement)
    (test,) = result.tests
    assert test.verdict == Verdict.AC and test.shown is None
    assert test.output is not None and test.output.stdout == big
    assert test.output.stderr == b"warn\n" and not test.output.stdout_truncated


async def test_a_problems_tests_keep_only_what_may_be_shown() -> None:
    """The contrast: a stored problem's shown test keeps 64 KB, and no Output."""
    sandboxes = FakeSandboxes(lambda run: outcome(b"y" * (200 * 1024)))
    judge = Judge(Settings(), sandboxes, LANGUAGES)
    snapshot = AdHocRun("python").request().inline
    assert snapshot is not None
    plain = replace(snapshot, problem=replace(snapshot.problem, ad_hoc=None, id="p"))
    (test,) = report(plain, await judge.judge(PY, SOURCE, plain)).tests
    assert test.output is None and test.shown is not None and test.shown.got_truncated


async def test_repeats_stop_at_the_first_failure_and_only_the_last_keeps_output() -> None:
    verdicts = iter([0, 0, 3, 0, 0])  # the third run exits 3

    def program(run: FakeRun) -> RunOutcome:
        return outcome(b"o" * 1000, stderr=b"e", exit_code=next(verdicts))

    sandboxes = FakeSandboxes(program)
    judge = Judge(Settings(), sandboxes, LANGUAGES)
    snapshot = AdHocRun("python", repeat=5).request().inline
    assert snapshot is not None
    judgement = await judge.judge(PY, SOURCE, snapshot)
    assert [r.verdict for r in judgement.results] == [Verdict.AC, Verdict.AC, Verdict.RE]
    assert [len(r.stdout) for r in judgement.results] == [0, 0, 1000]
    assert [r.stderr for r in judgement.results] == [b"", b"", b"e"]
    tests = report(snapshot, judgement).tests
    assert len(tests) == 3 and tests[-1].output is not None


async def test_a_runs_kept_output_is_bounded() -> None:
    sandboxes = FakeSandboxes(lambda run: outcome(b"y" * 5000))
    judge = Judge(Settings(run_output_kept_kb=2), sandboxes, LANGUAGES)
    snapshot = AdHocRun("python").request().inline
    assert snapshot is not None
    (result,) = (await judge.judge(PY, SOURCE, snapshot)).results
    assert result.verdict == Verdict.AC  # the whole output was counted, not kept
    assert len(result.stdout) == 2048 and result.stdout_truncated


def test_a_run_is_repeated_1_to_20_times() -> None:
    for repeat in (0, 21):
        with pytest.raises(ValueError, match="repeat"):
            AdHocRun("python", repeat=repeat).request()
