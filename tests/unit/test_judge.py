"""Judging logic on in-memory sandboxes (``codeexec.sandbox.fake``): what each test
earns, what is kept of its output, when a fresh sandbox takes over, how a compile step
ends. The real-Docker suites prove the sandbox's guarantees; these prove the judge's."""

from __future__ import annotations

import io
import logging
import re
from pathlib import Path
from typing import Any

import pytest

from codeexec.checker.program import CheckerFailed
from codeexec.config import Settings
from codeexec.judge.judge import Judge, _Check
from codeexec.logs import ConsoleFormatter
from codeexec.model import (
    CheckerSpec,
    Problem,
    ProblemSnapshot,
    RunOutcome,
    TestCase,
    Verdict,
)
from codeexec.sandbox.api import SandboxError, SandboxFile
from codeexec.sandbox.fake import FakeBox, FakeRun, FakeSandboxes, KilledForMemory, outcome
from codeexec.sandbox.languages import discover_languages

ROOT = Path(__file__).resolve().parents[2]
LANGUAGES = discover_languages(ROOT / "codeexec/languages", ("python", "c"))
PY, C = LANGUAGES["python"], LANGUAGES["c"]
SOURCE = (SandboxFile.source("main.py", "print(input())"),)


def echo(run: FakeRun) -> RunOutcome:
    """A program that prints its input."""
    return outcome(run.stdin)


def judge(program: Any, settings: Settings | None = None) -> tuple[Judge, FakeSandboxes]:
    sandboxes = FakeSandboxes(program)
    return Judge(settings or Settings(), sandboxes, LANGUAGES), sandboxes


def problem(*tests: TestCase, **settings: Any) -> ProblemSnapshot:
    return ProblemSnapshot(Problem("p", **settings), tests)


def t(given: bytes, expected: bytes, hidden: bool = False) -> TestCase:
    return TestCase(given, expected, hidden)


async def test_each_test_is_checked_and_only_shown_output_is_kept() -> None:
    j, sandboxes = judge(echo)
    events: list[tuple[str, dict[str, Any]]] = []

    async def progress(kind: str, data: dict[str, Any]) -> None:
        events.append((kind, data))

    snapshot = problem(t(b"a\n", b"a\n"), t(b"b\n", b"c\n"), t(b"secret\n", b"secret\n", True))
    judgement = await j.judge(PY, SOURCE, snapshot, progress)
    assert [r.verdict for r in judgement.results] == [Verdict.AC, Verdict.WA, Verdict.AC]
    assert judgement.results[1].stdout == b"b\n" and judgement.results[1].feedback
    hidden = judgement.results[2]
    assert (hidden.stdout, hidden.stderr, hidden.feedback) == (b"", b"", "")
    assert len(sandboxes.boxes) == 1 and sandboxes.boxes[0].closed  # one box, removed
    assert [r.stdin for r in sandboxes.boxes[0].runs] == [b"a\n", b"b\n", b"secret\n"]
    fields = ("position", "total", "verdict", "hidden")  # and its measurements
    assert [(kind, {f: data[f] for f in fields}) for kind, data in events] == [
        ("test", {"position": i, "total": 3, "verdict": v, "hidden": h})
        for i, (v, h) in enumerate([("AC", False), ("WA", False), ("AC", True)], 1)
    ]
    # Only the shown tests (a job's scope "shown"): numbered as the problem numbers them.
    events.clear()
    narrowed = problem(t(b"h\n", b"h\n", True), t(b"s\n", b"s\n")).shown()
    judged = await j.judge(PY, SOURCE, narrowed, progress)
    assert [r.verdict for r in judged.results] == [Verdict.AC]
    assert [(d["position"], d["total"]) for _, d in events] == [(2, 1)]


async def test_shown_output_is_cut_at_its_limit_but_checked_whole() -> None:
    settings_limit = Settings(shown_output_limit_kb=1)
    j, _ = judge(lambda run: outcome(b"x" * 3000 + b"\n"), settings_limit)
    result = (await j.judge(PY, SOURCE, problem(t(b"", b"x" * 3000 + b"\n")))).results[0]
    assert result.verdict == Verdict.AC
    assert (len(result.stdout), result.stdout_truncated) == (1024, True)


@pytest.mark.parametrize(
    ("ran", "verdict"),
    [
        (outcome(killed_for="cpu"), Verdict.TLE),
        (outcome(killed_for="wall"), Verdict.TLE),
        (outcome(cpu_ms=10_000), Verdict.TLE),
        (outcome(oom_killed=True, exit_code=None, signal=9), Verdict.MLE),
        (outcome(memory_kb=10 << 20), Verdict.MLE),
        (outcome(killed_for="output"), Verdict.OLE),
        (outcome(exit_code=1), Verdict.RE),
        (outcome(exit_code=None, signal=11), Verdict.RE),
        (outcome(exit_code=1, stderr=b"Traceback\nMemoryError\n"), Verdict.MLE),
        (outcome(b"1\n", exit_code=0), Verdict.AC),
    ],
)
async def test_how_a_run_ended_decides_before_the_checker(
    ran: RunOutcome, verdict: Verdict
) -> None:
    j, _ = judge(lambda run: ran)
    result = (await j.judge(PY, SOURCE, problem(t(b"", b"1\n")))).results[0]
    assert result.verdict == verdict


async def test_a_box_that_dies_is_ie_and_the_rest_run_in_a_fresh_one() -> None:
    def dies_on_b(run: FakeRun) -> RunOutcome:
        if run.stdin == b"b\n":
            raise SandboxError("sandbox closed the stream")
        return echo(run)

    j, sandboxes = judge(dies_on_b)
    tests = (t(b"a\n", b"a\n"), t(b"b\n", b"b\n"), t(b"c\n", b"c\n"))
    judgement = await j.judge(PY, SOURCE, problem(*tests))
    assert [r.verdict for r in judgement.results] == [Verdict.AC, Verdict.IE, Verdict.AC]
    assert [[r.stdin for r in b.runs] for b in sandboxes.boxes] == [[b"a\n", b"b\n"], [b"c\n"]]
    assert sandboxes.boxes[1].files == {"main.py": b"print(input())"}  # the same program


async def test_a_box_killed_for_memory_is_the_programs_mle() -> None:
    def bomb(run: FakeRun) -> RunOutcome:
        raise KilledForMemory

    j, _ = judge(bomb)
    result = (await j.judge(PY, SOURCE, problem(t(b"", b"")), None)).results[0]
    assert (
        result.verdict == Verdict.MLE
        and result.memory_kb == Settings().limits.default_memory_limit_mb << 10
    )


async def test_no_shown_test_runs_where_a_hidden_one_ran() -> None:
    j, sandboxes = judge(echo)
    tests = (t(b"1\n", b"1\n"), t(b"2\n", b"2\n", True), t(b"3\n", b"3\n", True), t(b"4\n", b"4\n"))
    await j.judge(PY, SOURCE, problem(*tests))
    assert [[r.stdin for r in b.runs] for b in sandboxes.boxes] == [
        [b"1\n", b"2\n", b"3\n"],
        [b"4\n"],
    ]


@pytest.mark.parametrize("language", [PY, C])
async def test_with_reused_boxes_shown_and_hidden_work_never_share_one(language: Any) -> None:
    """Boxes that serve other submissions keep shown and hidden work apart: the shown
    tests (and a compile step, whose messages are shown) in boxes opened for shown work,
    where no hidden test ran, the hidden ones in others, marked tainted."""
    sandboxes = FakeSandboxes(compiler(), reuses=True)
    j = Judge(Settings(), sandboxes, LANGUAGES)
    source = (SandboxFile.source("main.c" if language is C else "main.py", "x"),)
    tests = (t(b"1\n", b"1\n"), t(b"2\n", b"2\n", True), t(b"3\n", b"3\n", True), t(b"4\n", b"4\n"))
    if language is PY:
        sandboxes.program = echo
    judgement = await j.judge(language, source, problem(*tests))
    assert [r.verdict for r in judgement.results] == [Verdict.AC] * 4
    boxes = sandboxes.boxes
    if language is C:  # the compile step's box runs no test: it keeps the compiler's size
        compiling = boxes.pop(0)
        assert [r.keep_files for r in compiling.runs] == [True]
        assert (compiling.shown, compiling.tainted) == (True, False)
        assert compiling.memory_mb == C.compile_limits.memory_mb
    tests_run = [[r.stdin for r in b.runs] for b in boxes]
    assert tests_run == [[b"1\n"], [b"2\n", b"3\n"], [b"4\n"]]
    assert [(b.shown, b.tainted) for b in boxes] == [(True, False), (False, True), (True, False)]


async def test_a_shown_test_is_refused_in_a_tainted_box() -> None:
    """The last line of defence if a pool ever handed out the wrong kind of box."""

    class WrongPool(FakeSandboxes):
        def _box(self, language: Any, memory_mb: int, processes: int) -> FakeBox:
            box = super()._box(language, memory_mb, processes)
            box.tainted = True  # as if a hidden test of another submission had run in it
            return box

    sandboxes = WrongPool(echo, reuses=True)
    j = Judge(Settings(), sandboxes, LANGUAGES)
    with pytest.raises(RuntimeError, match="hidden test ran"):
        await j.judge(PY, SOURCE, problem(t(b"1\n", b"1\n")))
    assert all(not box.runs for box in sandboxes.boxes)  # nothing ran


async def test_test_isolation_gives_every_test_its_own_box() -> None:
    """And an interpreted program opens no box that runs nothing (it used to: ~0.3 s)."""
    j, sandboxes = judge(echo)
    tests = (t(b"1\n", b"1\n"), t(b"2\n", b"2\n"))
    await j.judge(PY, SOURCE, problem(*tests, isolation="test"))
    assert [[r.stdin for r in b.runs] for b in sandboxes.boxes] == [[b"1\n"], [b"2\n"]]


def compiler(result: RunOutcome | None = None) -> Any:
    """A C toolchain: compiling writes ``main``; running echoes."""

    def program(run: FakeRun) -> RunOutcome:
        if run.argv == C.compile_command(["main.c"]):
            run.files["main"] = b"\x7fELF"
            return result or outcome()
        assert "main" in run.files  # every test runs the compiled program
        return echo(run)

    return program


async def test_a_compiled_program_is_carried_to_every_box() -> None:
    j, sandboxes = judge(compiler())
    source = (SandboxFile.source("main.c", "int main(){}"),)
    tests = (t(b"1\n", b"1\n"), t(b"2\n", b"2\n"))
    judgement = await j.judge(C, source, problem(*tests, isolation="test"))
    assert [r.verdict for r in judgement.results] == [Verdict.AC, Verdict.AC]
    first = sandboxes.boxes[0]
    assert first.runs[0].keep_files and first.runs[0].argv == C.compile_command(["main.c"])
    assert first.memory_mb == Settings().limits.default_memory_limit_mb  # resized after compiling
    assert "main" in sandboxes.boxes[1].files


@pytest.mark.parametrize(
    ("ran", "message"),
    [
        (outcome(exit_code=1, stderr=b"main.c:1: error: expected ';'"), "main.c:1: error"),
        (outcome(killed_for="cpu", stderr=b"cc1"), "Compilation exceeded its time limit"),
        (outcome(exit_code=1), "Compilation failed"),
    ],
)
async def test_a_failed_compile_is_ce_for_every_test(ran: RunOutcome, message: str) -> None:
    j, sandboxes = judge(compiler(ran))
    source = (SandboxFile.source("main.c", "int main(){"),)
    judgement = await j.judge(C, source, problem(t(b"", b""), t(b"", b"", True)))
    assert judgement.compile_failed and judgement.verdict == Verdict.CE
    assert [r.verdict for r in judgement.results] == [Verdict.CE, Verdict.CE]
    assert message in judgement.compile_output
    assert len(sandboxes.boxes[0].runs) == 1  # no test ran


async def test_a_checker_mode_is_applied() -> None:
    j, _ = judge(lambda run: outcome(b"1.0000001\n"))
    tokens = CheckerSpec("tokens", ("float_tolerance", "1e-6"))
    ok = await j.judge(PY, SOURCE, problem(t(b"", b"1\n"), checker=tokens))
    exact = await j.judge(PY, SOURCE, problem(t(b"", b"1\n"), checker=CheckerSpec("exact")))
    assert (ok.results[0].verdict, exact.results[0].verdict) == (Verdict.AC, Verdict.WA)


async def test_a_box_that_refuses_dirty_is_replaced_and_never_loops() -> None:
    """A box that could not clean up refuses the next run; that test runs in a fresh
    box. A fresh box that refuses its very first run is the service's failure: IE."""
    from codeexec.sandbox.api import SandboxDirty

    def dirty_after_first(run: FakeRun) -> RunOutcome:
        if len(run.box.runs) > 1:
            raise SandboxDirty("runner refused: a pipe stayed open")
        return echo(run)

    j, sandboxes = judge(dirty_after_first)
    tests = (t(b"1\n", b"1\n"), t(b"2\n", b"2\n"), t(b"3\n", b"3\n"))
    judgement = await j.judge(PY, SOURCE, problem(*tests))
    assert [r.verdict for r in judgement.results] == [Verdict.AC] * 3
    assert [[r.stdin for r in b.runs] for b in sandboxes.boxes] == [
        [b"1\n", b"2\n"],
        [b"2\n", b"3\n"],
        [b"3\n"],
    ]

    def always_dirty(run: FakeRun) -> RunOutcome:
        raise SandboxDirty("runner refused: cannot clean")

    j, sandboxes = judge(always_dirty)
    judgement = await j.judge(PY, SOURCE, problem(*tests))
    assert [r.verdict for r in judgement.results] == [Verdict.IE] * 3
    assert len(sandboxes.boxes) <= 3


class CrashingChecker:
    """A custom checker that crashed on the contestant's output and quoted it (a
    Python validator's ``int('...')`` traceback does)."""

    async def check(self, *args: Any) -> Any:
        raise CheckerFailed("checker ended with exit 1: ValueError: 'x request_id=forged'")


async def test_a_checkers_failure_reaches_the_log_only_as_a_quoted_field() -> None:
    lines = io.StringIO()
    handler = logging.StreamHandler(lines)
    handler.setFormatter(ConsoleFormatter())
    judge_log = logging.getLogger("codeexec.judge.judge")
    judge_log.addHandler(handler)
    program: Any = CrashingChecker()
    check = _Check(CheckerSpec("custom"), program)
    try:
        with check.for_test(TestCase(b"", b""), 1024) as feed:
            feed(b"x request_id=forged")
            assert await check.result(TestCase(b"", b"")) is None  # IE
    finally:
        judge_log.removeHandler(handler)
    line = lines.getvalue().splitlines()[0]
    assert "forged" in line
    assert "forged" not in re.sub(r'"(?:[^"\\]|\\.)*"', "", line), line
