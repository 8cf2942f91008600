"""Interactive problems: a test is a conversation between the submission and the
problem's interactor, each in a sandbox of its own. The service passes the bytes between
them (``Pipe``), so neither can reach the other's files: the interactor holds the answer.

Kattis semantics: the interactor gets ``input answer feedback_dir [args]``, reads what
the submission writes and writes what it reads; it exits 42 (accepted) or 43 (wrong
answer). When it ends, the submission's input ends; when it rejects (or fails) while the
submission still runs, the submission is stopped. When the submission ends, the
interactor's input ends.

Time: what the submission waits for the interactor is credited to its wall time, like
any wait on the service (so the interactor's time and the relay's, ~1 ms a round trip,
are not the submission's). A conversation in which neither party says anything for the
submission's whole wall limit (a program that forgot to flush, both waiting) is ended
there: the submission's TLE. Otherwise a conversation may run for ``WALL_FACTOR`` times
the wall limit: every round trip also costs both programs a wake-up and the runners' and
the engine's relaying, which on a busy machine is not all credited; the CPU limit, which
judges the program, is unchanged. Time the job is paused (both sandboxes frozen) is not
silence.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass, replace

from codeexec.checker.program import ACCEPT, REJECT, CheckerSession
from codeexec.judge.verdicts import limit_verdict
from codeexec.model import RunLimits, RunOutcome, TestCase, Verdict
from codeexec.sandbox.api import Box, Pipe, SandboxError
from codeexec.sandbox.freeze import FREEZER

log = logging.getLogger(__name__)

WALL_FACTOR = 3


@dataclass(frozen=True)
class Conversation:
    submission: RunOutcome
    interactor: RunOutcome | None  # None: the interactor's sandbox failed
    feedback: str  # the interactor's feedback files (or why it failed)
    interactor_first: bool  # it ended while the submission still ran
    idle: bool = False  # ended because neither party said anything for the wall limit


async def converse(
    box: Box,
    argv: tuple[str, ...],
    limits: RunLimits,
    test: TestCase,
    interactor: CheckerSession,
    shown: Callable[[bytes], None],
) -> Conversation:
    """Run one test as a conversation; ``shown`` sees what the submission writes.
    Raises SandboxError when the submission's sandbox fails."""
    to_submission, to_interactor = Pipe(), Pipe()
    talk_limits = replace(limits, wall_ms=WALL_FACTOR * limits.wall_ms)
    loop = asyncio.get_running_loop()
    freezer = FREEZER.get()

    def clock() -> float:  # time that is not paused
        return loop.time() - (freezer.frozen_s() if freezer is not None else 0.0)

    heard = clock()  # when either party last said something

    async def submission_wrote(chunk: bytes) -> None:
        nonlocal heard
        heard = clock()
        shown(chunk)
        await to_interactor.write(chunk)

    async def interactor_wrote(chunk: bytes) -> None:
        nonlocal heard
        heard = clock()
        await to_submission.write(chunk)

    submission = asyncio.create_task(
        box.run(argv, to_submission, talk_limits, stdout_to=submission_wrote)
    )
    talking = asyncio.create_task(
        interactor.interact(
            test.input, test.expected_output, talk_limits, to_interactor, interactor_wrote
        )
    )
    interactor_first = idle = False

    def submission_ended(task: asyncio.Task[RunOutcome]) -> None:
        if task.cancelled() or task.exception() is not None:
            to_interactor.stop()  # nothing more will come: the interactor need not decide
        else:
            to_interactor.close()

    def interactor_ended(task: asyncio.Task[tuple[RunOutcome, str]]) -> None:
        nonlocal interactor_first
        interactor_first = not submission.done()
        to_submission.close()
        if task.cancelled() or task.exception() is not None or task.result()[0].exit_code != ACCEPT:
            to_submission.stop()  # rejected (or failed): the rest of the run is moot

    submission.add_done_callback(submission_ended)
    talking.add_done_callback(interactor_ended)
    silence = limits.wall_ms / 1000
    try:
        while not submission.done():
            await asyncio.wait((submission,), timeout=max(0.0, heard + silence - clock()))
            if not submission.done() and clock() - heard >= silence and not talking.done():
                idle = True  # both waiting: a deadlock, or a program that never flushed
                to_submission.stop()
                to_interactor.stop()
                break
        await asyncio.wait((submission, talking))
    finally:
        for task in (submission, talking):
            task.cancel()
    ran = submission.result()  # its sandbox's failure is raised: not the submission's
    if (failed := talking.exception()) is not None:
        if not isinstance(failed, SandboxError):
            raise failed
        log.error("interactor sandbox failed: %s", failed)
        return Conversation(ran, None, "", interactor_first, idle)
    outcome, feedback = talking.result()
    return Conversation(ran, outcome, feedback, interactor_first, idle)


def decided(outcome: RunOutcome) -> bool | None:
    """The interactor's decision: accepted, rejected, or None when it failed."""
    if outcome.killed_for is not None or outcome.signal is not None:
        return None
    return {ACCEPT: True, REJECT: False}.get(outcome.exit_code or 0)


def interactive_verdict(talk: Conversation, limits: RunLimits) -> Verdict:
    """The test's verdict, as Kattis and DOMjudge decide it: the submission's time limit
    (or a conversation that fell silent for as long) first; then a rejection the
    interactor gave while the submission still ran (the submission's crash is then its
    consequence); then the submission's own failure; then the interactor's decision. An
    interactor that does not decide is an internal error, unless the submission failed
    by itself."""
    run = talk.submission
    own = None if run.killed_for == "stopped" else limit_verdict(run, limits)
    decision = None if talk.interactor is None else decided(talk.interactor)
    if own == Verdict.TLE or talk.idle:
        return Verdict.TLE
    if decision is False and talk.interactor_first:
        return Verdict.WA
    if own is not None:
        return own
    if decision is None:
        return Verdict.IE
    return Verdict.AC if decision else Verdict.WA
