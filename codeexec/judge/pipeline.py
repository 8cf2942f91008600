"""The one execution path that every door shares: judge work that intake accepted
(``codeexec.intake``) against the problem version it was accepted with.

Admission (a concurrency slot) is the caller's: ``/exec`` takes one per request, a job
worker holds its slot before it claims a job.
"""

from __future__ import annotations

from codeexec.intake import Accepted
from codeexec.judge.judge import Judge, ProgressHook
from codeexec.model import Judgement, ProblemSnapshot, TestResult, Verdict
from codeexec.sandbox.api import SandboxFile


def compile_failure(snapshot: ProblemSnapshot, message: str) -> Judgement:
    return Judgement(
        tuple(TestResult(Verdict.CE, t.hidden) for t in snapshot.tests),
        compile_output=message,
        compile_failed=True,
    )


async def judge_program(
    judge: Judge, work: Accepted, progress: ProgressHook | None = None
) -> Judgement:
    """Judge accepted work: CE at once for a syntax error screening found."""
    if work.screening.compile_error:
        return compile_failure(work.snapshot, work.screening.compile_error)
    program = tuple(SandboxFile.source(name, text) for name, text in work.files.items())
    return await judge.judge(work.language, program, work.snapshot, progress)
