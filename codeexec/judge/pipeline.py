"""The one execution path that every door shares: judge work that intake accepted
(``codeexec.intake``) against the problem version it was accepted with.

Admission (a concurrency slot) is the caller's: ``/exec`` takes one per request, a job
worker holds its slot before it claims a job. Each stage is logged here, once for every
door: ``submission.started``, ``submission.compiled`` (compiled languages),
``submission.finished``; the request or submission they belong to comes from the
logging context (``codeexec.logs``).
"""

from __future__ import annotations

import logging
import time
from typing import Any

from codeexec.intake import Accepted
from codeexec.judge.judge import Judge, ProgressHook
from codeexec.logs import event
from codeexec.model import Judgement, ProblemSnapshot, TestResult, Verdict
from codeexec.sandbox.api import SandboxFile

log = logging.getLogger(__name__)


def compile_failure(snapshot: ProblemSnapshot, message: str) -> Judgement:
    return Judgement(
        tuple(TestResult(Verdict.CE, t.hidden) for t in snapshot.tests),
        compile_output=message,
        compile_failed=True,
    )


def _ms_since(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 1)


async def judge_program(
    judge: Judge, work: Accepted, progress: ProgressHook | None = None
) -> Judgement:
    """Judge accepted work: CE at once for a syntax error screening found. Every door
    judges through here, so each submission's metrics and stage events are recorded
    here, once."""
    started = time.perf_counter()
    language = work.language.id
    event(
        log,
        "submission.started",
        problem_id=work.snapshot.problem.id,
        language=language,
        tests=len(work.snapshot.tests),
    )
    if work.screening.compile_error:
        judgement = compile_failure(work.snapshot, work.screening.compile_error)
    else:

        async def stage(kind: str, data: dict[str, Any]) -> None:
            if kind == "compiled":
                event(log, "submission.compiled", ok=data["ok"], duration_ms=_ms_since(started))
            if progress is not None:
                await progress(kind, data)

        program = tuple(SandboxFile.source(name, text) for name, text in work.files.items())
        try:
            judgement = await judge.judge(work.language, program, work.snapshot, stage)
        except Exception:  # a SandboxError, or a bug: the job fails, /exec answers 500
            judge.metrics.not_judged(language, time.perf_counter() - started)
            raise
    judge.metrics.judged(language, judgement, time.perf_counter() - started)
    passed = sum(r.verdict == Verdict.AC for r in judgement.results)
    event(
        log,
        "submission.finished",
        verdict=judgement.verdict.value,
        passed=passed,
        failed=len(judgement.results) - passed,
        tests=len(work.snapshot.tests),
        duration_ms=_ms_since(started),
    )
    return judgement
