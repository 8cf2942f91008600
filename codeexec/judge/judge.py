"""Judging one submission: compile once, run every test, check each.

The sandbox sees the program and, for each test, only that test's input; expected
outputs stay here, where the checker compares them with what the program printed.

Isolation (per problem, server default ``CODEEXEC_DEFAULT_ISOLATION``):
``submission`` runs every test as a fresh process in containers that serve this
submission alone (fresh, or reset and checked clean after another: with containers
reused, the compile step, the shown tests and the hidden tests each take their own, see
``sandbox/pool.py``); ``test`` gives every test a fresh container, started from the
artifact the compile step produced.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Mapping
from contextlib import AsyncExitStack, asynccontextmanager, contextmanager
from dataclasses import dataclass, replace
from tempfile import SpooledTemporaryFile
from typing import Any

from codeexec.checker import CheckResult, Comparison, start_comparison
from codeexec.checker.program import CheckerFailed, CheckerPrograms, CheckerSession
from codeexec.config import Settings
from codeexec.judge.interaction import converse, decided, interactive_verdict
from codeexec.judge.scoring import Stops
from codeexec.judge.verdicts import limit_verdict
from codeexec.model import (
    AdHoc,
    CheckerSpec,
    Judgement,
    Language,
    Problem,
    ProblemSnapshot,
    RunLimits,
    RunOutcome,
    Scoring,
    TestCase,
    TestResult,
    Verdict,
)
from codeexec.observe.metrics import Metrics
from codeexec.sandbox.api import Box, Files, SandboxDirty, SandboxError, Sandboxes

log = logging.getLogger(__name__)

_COMPILE_OUTPUT_LIMIT = 64 * 1024


@dataclass(frozen=True)
class _Plan:
    language: Language
    limits: RunLimits
    processes: int
    memory_mb: int  # what the container must hold: the larger of compile and run
    checker: CheckerSpec
    ad_hoc: AdHoc | None = None
    scoring: Scoring | None = None


# Told of progress while judging: ("compiled", {...}) and ("test", {...}) per test.
ProgressHook = Callable[[str, dict[str, Any]], Awaitable[None]]


class _Output:
    """Where a test's output goes as it arrives: the checker, and the part that may be
    shown. The whole output is never held here."""

    def __init__(self, keep: int, checker: Callable[[bytes], object]) -> None:
        self._keep = keep
        self._checker = checker
        self.shown = bytearray()
        self.size = 0

    def __call__(self, chunk: bytes) -> None:
        self.size += len(chunk)
        if len(self.shown) < self._keep:
            self.shown += chunk[: self._keep - len(self.shown)]
        self._checker(chunk)


class Judge:
    def __init__(
        self,
        settings: Settings,
        sandboxes: Sandboxes,
        languages: Mapping[str, Language],
        metrics: Metrics | None = None,
    ) -> None:
        self._settings = settings
        self._sandboxes = sandboxes
        # Recorded by the pipeline (judge_program), once per submission: self-tests and
        # version checks, which call judge() directly, are not submissions.
        self.metrics = metrics or Metrics()
        self.checkers = CheckerPrograms(settings, sandboxes, languages, self.compile_limits)

    def limits_for(self, problem: Problem) -> RunLimits:
        s = self._settings
        time_ms = s.limits.clamp_time_ms(problem.time_limit_ms)
        return RunLimits(
            cpu_ms=time_ms,
            wall_ms=s.limits.wall_ms(problem.wall_time_limit_ms, time_ms),
            memory_mb=s.limits.clamp_memory_mb(problem.memory_limit_mb),
            output_bytes=s.limits.clamp_output_kb(problem.output_limit_kb) * 1024,
            stderr_bytes=s.limits.stderr_limit_kb * 1024,
            file_bytes=s.sandbox.sandbox_scratch_mb * 1024 * 1024,
        )

    def compile_limits(self, language: Language) -> RunLimits:
        c = language.compile_limits
        return RunLimits(
            cpu_ms=c.time_ms,
            wall_ms=2 * c.time_ms,
            memory_mb=c.memory_mb,
            output_bytes=c.output_kb * 1024,
            stderr_bytes=c.output_kb * 1024,
            file_bytes=self._settings.sandbox.sandbox_scratch_mb * 1024 * 1024,
        )

    async def judge(
        self,
        language: Language,
        program: Files,
        snapshot: ProblemSnapshot,
        progress: ProgressHook | None = None,
    ) -> Judgement:
        """Raises SandboxError only when no sandbox could be started at all."""
        problem, tests = snapshot.problem, snapshot.tests
        limits = self.limits_for(problem)
        plan = _Plan(
            language=language,
            limits=limits,
            processes=self._settings.limits.clamp_processes(problem.process_limit),
            memory_mb=self._sandboxes.shape_memory_mb(language, limits.memory_mb),
            checker=problem.checker,
            ad_hoc=problem.ad_hoc,
            scoring=problem.scoring,
        )
        isolation = problem.isolation or self._settings.limits.default_isolation
        async with AsyncExitStack() as stack:
            checker = None
            if problem.checker.program is not None and tests:
                data = max(len(t.input) + len(t.expected_output) for t in tests)
                session = self.checkers.session(problem.checker, data, limits.output_bytes)
                try:
                    checker = await stack.enter_async_context(session)
                except (CheckerFailed, SandboxError) as exc:
                    log.error("checker of problem %s failed: %s", problem.id, exc)
                    return Judgement(tuple(TestResult(Verdict.IE, t.hidden) for t in tests))
            return await self._judge(plan, program, tests, isolation, checker, progress)

    async def _judge(
        self,
        plan: _Plan,
        program: Files,
        tests: tuple[TestCase, ...],
        isolation: str,
        checker: CheckerSession | None,
        progress: ProgressHook | None,
    ) -> Judgement:
        language = plan.language
        check = _Check(plan.checker, checker, scores=plan.scoring is not None)
        results: list[TestResult] = []
        stopped = False
        # A scoring problem's groups with on_reject: break leave tests unrun (SK).
        stops = Stops.of(plan.scoring, tests)

        def skips() -> bool:
            return stops is not None and stops.skips(len(results))

        async def record(result: TestResult) -> bool:
            """Keep a test's result; whether to go on. An ad-hoc run's repeats stop at
            the first that is not accepted (Judge0's rule), and only the latest keeps
            its output: a job never holds more than one run's."""
            if plan.ad_hoc is not None and results:
                results[-1] = replace(results[-1], stdout=b"", stderr=b"")
            results.append(result)
            if stops is not None:
                stops.record(len(results) - 1, result.verdict)
            if progress is not None:
                await progress(
                    "test",
                    {
                        # the problem's position (a job of shown tests only keeps it)
                        "position": tests[len(results) - 1].position_at(len(results) - 1),
                        "total": len(tests),
                        "verdict": result.verdict.value,
                        "hidden": result.hidden,
                        # as the result reports them (judge/report.py); a contestant
                        # sees them for shown tests only (http/visibility.py)
                        "time_ms": result.cpu_ms,
                        "wall_ms": result.wall_ms,
                        "memory_kb": result.memory_kb,
                    },
                )
            nonlocal stopped
            stopped = plan.ad_hoc is not None and result.verdict != Verdict.AC
            return not stopped

        compile_ms: int | None = None  # the compile step's wall time, when it ran
        # An interpreted program in "test" isolation needs no first container: every
        # test gets a fresh one below.
        # Reused containers keep shown and hidden work apart (sandbox/pool.py): the
        # compile step's messages are shown, so it takes a container no hidden test used.
        apart = self._sandboxes.reuses
        first = _segment(tests, isolation, apart)
        if language.compile is not None or isolation != "test":
            shown = language.compile is not None or _shows(first)
            async with self._open(plan, plan.memory_mb, shown=shown, isolation=isolation) as box:
                await box.put_files(program)
                if language.compile is not None:
                    climits = self.compile_limits(language)
                    failed: Judgement | None
                    try:
                        command = language.compile_command(f.name for f in program)
                        assert command is not None
                        compiled = await box.run(command, b"", climits, keep_files=True)
                    except SandboxError:
                        # The kernel killed the whole container for memory: under gVisor
                        # it is the only OOM kill there is (runc's kills the compiler alone).
                        if not await box.was_oom_killed():
                            raise
                        killed = tuple(TestResult(Verdict.CE, t.hidden) for t in tests)
                        message = "Compilation exceeded its memory limit"
                        failed = Judgement(killed, compile_output=message, compile_failed=True)
                    else:
                        compile_ms = compiled.wall_ms
                        failed = _compile_failure(compiled, climits, tests)
                    if progress is not None:
                        await progress("compiled", {"ok": failed is None})
                    if failed is not None:
                        return replace(failed, compile_ms=compile_ms)
                    # Kept so later tests can start from it in a fresh container; meanwhile
                    # this one is sized for the program instead of the compiler. With
                    # reused containers the tests take ones of the program's size instead,
                    # and this one stays the compiler's: no resize (engine work) each way.
                    limit = self._settings.sandbox.sandbox_scratch_mb << 20
                    fitting = (
                        asyncio.sleep(0)
                        if apart
                        else box.fit_memory(plan.limits.memory_mb, compiled.kept_bytes)
                    )
                    exported, fitted = await asyncio.gather(
                        box.export_files(limit), fitting, return_exceptions=True
                    )
                    if isinstance(exported, BaseException):
                        raise exported
                    program = exported
                    if isinstance(fitted, BaseException):
                        log.error("could not resize sandbox %s: %s", box.container_id[:12], fitted)
                        box.alive = False  # the tests run in fresh containers sized right
                # Reused containers: a compile step's container runs no test (its size)
                compile_only = apart and language.compile is not None
                if isolation == "submission" and box.alive and not compile_only:
                    fresh = language.compile is None and box.uses == 0
                    await self._run_tests(box, plan, first, check, record, fresh, skips)
        # The tests still to run (every one in "test" isolation; after a sandbox died or
        # a shown test follows a hidden one), each segment in a fresh container.
        size = sum(len(f.data) for f in program)
        while len(results) < len(tests) and not stopped:
            if skips():
                await record(TestResult(Verdict.SK, tests[len(results)].hidden))
                continue
            segment = _segment(tests[len(results) :], isolation, apart)
            shown = _shows(segment)
            async with self._open(plan, plan.limits.memory_mb, size, shown, isolation) as box:
                await box.put_files(program)
                fresh = box.uses == 0
                await self._run_tests(box, plan, segment, check, record, fresh, skips)
        return Judgement(tuple(results), compile_ms=compile_ms)

    async def _run_tests(
        self,
        box: Box,
        plan: _Plan,
        tests: tuple[TestCase, ...],
        check: _Check,
        record: Callable[[TestResult], Awaitable[bool]],
        fresh: bool,
        skips: Callable[[], bool] = lambda: False,
    ) -> None:
        """Run ``tests`` in ``box`` until one cannot be, or ``record`` says to stop;
        ``fresh``: nothing ran in it; ``skips``: the next test is not to be run."""
        for position, test in enumerate(tests):
            if skips():
                if not await record(TestResult(Verdict.SK, test.hidden)):
                    return
                continue
            result = await self._run_test(box, plan, test, check)
            if result is None and (position or not fresh):
                return  # not run: it runs in a fresh container (see judge())
            if result is None:  # a fresh container that cannot run anything: ours
                log.error("fresh sandbox %s refused its first run", box.container_id[:12])
                result = TestResult(Verdict.IE, test.hidden)
            if not await record(result) or not box.alive:
                return

    @asynccontextmanager
    async def _open(
        self,
        plan: _Plan,
        memory_mb: int,
        program_bytes: int = 0,
        shown: bool = True,
        isolation: str = "submission",
    ) -> AsyncIterator[Box]:
        """A container for this submission's work; ``shown``: output of what runs in it
        is shown (it must be one where no hidden test ran). "test" isolation promises
        every test a container nothing else used: those are never reused."""
        async with self._sandboxes.open(
            plan.language,
            memory_mb,
            plan.processes,
            program_bytes=program_bytes,
            reuse=isolation != "test",
            shown=shown,
        ) as box:
            yield box

    async def _run_test(
        self, box: Box, plan: _Plan, test: TestCase, check: _Check
    ) -> TestResult | None:
        if test.hidden:
            box.tainted = True  # before it runs: whatever it leaves, nothing shown sees
        elif box.tainted:  # _segment keeps them apart: reaching this is a bug of ours
            raise RuntimeError("a shown test must not run where a hidden test ran")
        keep = 0 if test.hidden else self._settings.limits.shown_output_limit_kb << 10
        argv, merge = plan.language.run, False
        if plan.ad_hoc is not None:  # the caller gets the output back, up to a bound
            keep = min(plan.limits.output_bytes, self._settings.limits.run_output_kept_kb << 10)
            argv, merge = argv + plan.ad_hoc.args, plan.ad_hoc.merge_stderr
        with check.for_test(test, self._settings.checker.checker_spool_kb << 10) as feed:
            output = _Output(keep, feed)
            talk = None
            try:
                if check.interactor is not None:
                    talk = await converse(box, argv, plan.limits, test, check.interactor, output)
                    outcome = talk.submission
                else:
                    outcome = await box.run(
                        argv, test.input, plan.limits, stdout_to=output, merge_stderr=merge
                    )
            except SandboxDirty as exc:
                log.warning("sandbox %s retired before a test: %s", box.container_id[:12], exc)
                return None
            except SandboxError as exc:
                # The runner itself is gone. If the kernel killed the container for
                # memory, the submission caused it; anything else is ours.
                if await box.was_oom_killed():
                    return TestResult(
                        Verdict.MLE, test.hidden, memory_kb=plan.limits.memory_mb * 1024
                    )
                log.error("internal error in sandbox %s: %s", box.container_id[:12], exc)
                return TestResult(Verdict.IE, test.hidden)
            feedback = ""
            verdict: Verdict | None
            if talk is not None:
                verdict = interactive_verdict(talk, plan.limits)
                undecided = talk.interactor is None or decided(talk.interactor) is None
                if verdict == Verdict.IE:  # its reasons are the judge's, not the submitter's
                    log.error("interactor did not decide", extra={"error": talk.feedback[:2000]})
                elif not test.hidden and not undecided:  # undecided: its stderr, not feedback
                    feedback = talk.feedback
            else:
                verdict = limit_verdict(outcome, plan.limits)
            if verdict == Verdict.RE and _reports_out_of_memory(plan.language, outcome):
                verdict = Verdict.MLE
            checked = None
            if verdict is None:
                checked = await check.result(test)
                if checked is None:
                    verdict = Verdict.IE
                else:
                    verdict = Verdict.AC if checked.accepted else Verdict.WA
                    feedback = "" if test.hidden else checked.message
        result = _result(verdict, test.hidden, outcome, output, feedback)
        if checked is not None and plan.scoring is not None:
            result = replace(result, score=checked.score, score_multiplier=checked.score_multiplier)
        if len(outcome.stderr) >= plan.limits.stderr_bytes:
            result = replace(result, stderr_truncated=not test.hidden)
        return result


class _Check:
    """How one submission's outputs are checked: a streaming comparison with the
    answer, or the output spooled for the problem's custom checker."""

    def __init__(
        self, spec: CheckerSpec, program: CheckerSession | None, scores: bool = False
    ) -> None:
        self._spec = spec
        self._program = program
        # An interactive problem's interactor judges while the program runs.
        self.interactor = program if spec.interactive else None
        self._scores = scores  # a scoring problem: a score file that is no number is IE
        self._comparison: Comparison | None = None
        self._spool: SpooledTemporaryFile[bytes] | None = None

    @contextmanager
    def for_test(self, test: TestCase, spool_bytes: int) -> Iterator[Callable[[bytes], object]]:
        if self.interactor is not None:
            yield lambda _: None
            return
        if self._program is None:
            self._comparison = start_comparison(self._spec, test.expected_output)
            yield self._comparison.feed
            return
        with SpooledTemporaryFile(max_size=spool_bytes) as spool:
            self._spool = spool
            try:
                yield spool.write
            finally:
                self._spool = None

    async def result(self, test: TestCase) -> CheckResult | None:
        """The checker's decision; None when a custom checker failed (IE)."""
        if self._comparison is not None:
            return self._comparison.finish()
        assert self._program is not None and self._spool is not None
        try:
            checked = await self._program.check(test.input, test.expected_output, self._spool)
            if self._scores and checked.score_error is not None:
                raise CheckerFailed(checked.score_error)
            return checked
        except (CheckerFailed, SandboxError) as exc:
            # A field, quoted on the console: a checker's stderr may quote the output.
            log.error("custom checker failed", extra={"error": str(exc)})
            return None


def _reports_out_of_memory(language: Language, outcome: RunOutcome) -> bool:
    tail = outcome.stderr[-4096:].decode("utf-8", errors="replace")
    return any(pattern in tail for pattern in language.memory_error_patterns)


def _result(
    verdict: Verdict, hidden: bool, outcome: RunOutcome, output: _Output, feedback: str
) -> TestResult:
    """The verdict and measurements; of the output only what may be shown is kept
    (nothing for hidden tests), so a judgement's memory does not grow with outputs."""
    keep = 0 if hidden else len(output.shown)
    return TestResult(
        verdict=verdict,
        hidden=hidden,
        cpu_ms=outcome.cpu_ms,
        wall_ms=outcome.wall_ms,
        memory_kb=outcome.memory_kb,
        exit_code=outcome.exit_code,
        signal=outcome.signal,
        stdout=bytes(output.shown),
        stdout_truncated=not hidden and output.size > keep,
        stderr=b"" if hidden else outcome.stderr,
        feedback=feedback,
    )


def _segment(
    tests: tuple[TestCase, ...], isolation: str, apart: bool = False
) -> tuple[TestCase, ...]:
    """The tests one container judges next: one in "test" isolation; otherwise up to a
    shown test that follows a hidden one. Kernel counters a container's tests share
    (PIDs, inode numbers, IPC ids) can carry a few bits from one test to the next, so a
    hidden test's data must never reach a test whose output is shown. ``apart``
    (containers are reused): up to any change between shown and hidden, so the shown
    tests run in a container that stays clean for the next submission."""
    if isolation == "test":
        return tests[:1]
    for i in range(1, len(tests)):
        if tests[i].hidden != tests[i - 1].hidden and (apart or tests[i - 1].hidden):
            return tests[:i]
    return tests


def _shows(tests: tuple[TestCase, ...]) -> bool:
    """Whether anything of these tests' output is shown."""
    return any(not t.hidden for t in tests)


def _compile_failure(
    outcome: RunOutcome, limits: RunLimits, tests: tuple[TestCase, ...]
) -> Judgement | None:
    failure = limit_verdict(outcome, limits)
    if failure is None and outcome.kept_error is None:
        return None
    failed = tuple(TestResult(Verdict.CE, t.hidden) for t in tests)
    if failure is None:
        return Judgement(failed, compile_output=str(outcome.kept_error), compile_failed=True)
    return Judgement(failed, compile_output=_compile_message(outcome, failure), compile_failed=True)


def _compile_message(outcome: RunOutcome, failure: Verdict) -> str:
    text = (outcome.stderr + outcome.stdout)[:_COMPILE_OUTPUT_LIMIT]
    message = text.decode("utf-8", errors="replace").strip()
    if failure in (Verdict.TLE, Verdict.MLE, Verdict.OLE):
        reason = {Verdict.TLE: "time", Verdict.MLE: "memory", Verdict.OLE: "output"}[failure]
        message = f"Compilation exceeded its {reason} limit\n{message}".strip()
    return message or "Compilation failed"
