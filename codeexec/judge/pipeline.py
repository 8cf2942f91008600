"""The one execution path that every door shares: judge work that intake accepted
(``codeexec.intake``) against the problem version it was accepted with.

Admission (a concurrency slot) is the caller's: ``/exec`` takes one per request, a job
worker holds its slot before it claims a job.
"""

from __future__ import annotations

import time

from codeexec.intake import Accepted
from codeexec.judge.judge import Judge, ProgressHook
from codeexec.model import Judgement, ProblemSnapshot, TestResult, Verdict
from codeexec.sandbox.api import SandboxError, SandboxFile


def compile_failure(snapshot: ProblemSnapshot, message: str) -> Judgement:
    return Judgement(
        tuple(TestResult(Verdict.CE, t.hidden) for t in snapshot.tests),
        compile_output=message,
        compile_failed=True,
    )


async def judge_program(
    judge: Judge, work: Accepted, progress: ProgressHook | None = None
) -> Judgement:
    """Judge accepted work: CE at once for a syntax error screening found. Every door
    judges through here, so each submission's metrics are recorded here, once."""
    started = time.monotonic()
    language = work.language.id
    if work.screening.compile_error:
        judgement = compile_failure(work.snapshot, work.screening.compile_error)
    else:
        program = tuple(SandboxFile.source(name, text) for name, text in work.files.items())
        try:
            judgement = await judge.judge(work.language, program, work.snapshot, progress)
        except SandboxError:
            judge.metrics.not_judged(language, time.monotonic() - started)
            raise
    judge.metrics.judged(language, judgement, time.monotonic() - started)
    return judgement
