"""The one execution path that ``/exec`` and asynchronous jobs share: screen the program
against the problem's policy, then judge it against one version of the problem.

Admission (a concurrency slot) is the caller's: ``/exec`` screens before it queues, a
job worker holds its slot before it claims a job.
"""

from __future__ import annotations

from pathlib import PurePosixPath

from codeexec.judge.judge import Judge, ProgressHook
from codeexec.model import Judgement, Language, ProblemSnapshot, TestResult, Verdict
from codeexec.sandbox.sandbox import SandboxFile
from codeexec.screening.service import Screener, ScreeningResult


class Disallowed(Exception):
    """The program uses names the problem's policy forbids."""

    def __init__(self, names: tuple[str, ...]) -> None:
        super().__init__(", ".join(names))
        self.names = names

    @property
    def message(self) -> str:
        return f"Found disallowed functions in code ({', '.join(self.names)})"


async def screen(
    screener: Screener,
    language: Language,
    files: dict[str, str],
    snapshot: ProblemSnapshot,
    bounded: bool = True,
) -> ScreeningResult:
    """Every file in the language's own source format is screened (and, for Python,
    syntax-checked); other files (headers, data) are not programs of that language.
    Raises ``QueueFull`` when screening is saturated, unless ``bounded`` is False (job
    workers: their queue is the database)."""
    policy = screener.policy_for(language.id, snapshot.problem.screening)
    suffix = PurePosixPath(language.source_file).suffix
    results = [
        await screener.screen(language.id, text, name, policy, bounded)
        for name, text in files.items()
        if PurePosixPath(name).suffix == suffix
    ]
    return ScreeningResult(
        tuple(sorted({n for r in results for n in r.disallowed})),
        next((r.compile_error for r in results if r.compile_error), None),
    )


def compile_failure(snapshot: ProblemSnapshot, message: str) -> Judgement:
    return Judgement(
        tuple(TestResult(Verdict.CE, t.hidden) for t in snapshot.tests),
        compile_output=message,
        compile_failed=True,
    )


async def judge_program(
    judge: Judge,
    screening: ScreeningResult,
    language: Language,
    files: dict[str, str],
    snapshot: ProblemSnapshot,
    progress: ProgressHook | None = None,
) -> Judgement:
    """Judge a screened program (raises Disallowed if screening refused it)."""
    if screening.disallowed:
        raise Disallowed(screening.disallowed)
    if screening.compile_error:
        return compile_failure(snapshot, screening.compile_error)
    program = tuple(SandboxFile.source(name, text) for name, text in files.items())
    return await judge.judge(language, program, snapshot, progress)
