"""Interactive problems: a test is a conversation between the submission and the
problem's interactor, each in a sandbox of its own. The service passes the bytes between
them (``Pipe``), so neither can reach the other's files: the interactor holds the answer.

Kattis semantics: the interactor gets ``input answer feedback_dir [args]``, reads what
the submission writes and writes what it reads; it exits 42 (accepted) or 43 (wrong
answer). When it ends, the submission's input ends; when it rejects (or fails) while the
submission still runs, the submission is stopped. When the submission ends, the
interactor's input ends.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass

from codeexec.checker.program import ACCEPT, REJECT, CheckerSession
from codeexec.judge.verdicts import limit_verdict
from codeexec.model import RunLimits, RunOutcome, TestCase, Verdict
from codeexec.sandbox.api import Box, Pipe, SandboxError

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Conversation:
    submission: RunOutcome
    interactor: RunOutcome | None  # None: the interactor's sandbox failed
    feedback: str  # the interactor's feedback files (or why it failed)
    interactor_first: bool  # it ended while the submission still ran


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

    async def submission_wrote(chunk: bytes) -> None:
        shown(chunk)
        await to_interactor.write(chunk)

    submission = asyncio.create_task(
        box.run(argv, to_submission, limits, stdout_to=submission_wrote)
    )
    talking = asyncio.create_task(
        interactor.interact(
            test.input, test.expected_output, limits, to_interactor, to_submission.write
        )
    )
    interactor_first = False

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
    try:
        await asyncio.wait((submission, talking))
    finally:
        for task in (submission, talking):
            task.cancel()
    ran = submission.result()  # its sandbox's failure is raised: not the submission's
    if (failed := talking.exception()) is not None:
        if not isinstance(failed, SandboxError):
            raise failed
        log.error("interactor sandbox failed: %s", failed)
        return Conversation(ran, None, "", interactor_first)
    outcome, feedback = talking.result()
    return Conversation(ran, outcome, feedback, interactor_first)


def decided(outcome: RunOutcome) -> bool | None:
    """The interactor's decision: accepted, rejected, or None when it failed."""
    if outcome.killed_for is not None or outcome.signal is not None:
        return None
    return {ACCEPT: True, REJECT: False}.get(outcome.exit_code or 0)


def interactive_verdict(talk: Conversation, limits: RunLimits) -> Verdict:
    """The test's verdict, as Kattis and DOMjudge decide it: the submission's time limit
    first; then a rejection the interactor gave while the submission still ran (the
    submission's crash is then its consequence); then the submission's own failure; then
    the interactor's decision. An interactor that does not decide is an internal error,
    unless the submission failed by itself."""
    run = talk.submission
    own = None if run.killed_for == "stopped" else limit_verdict(run, limits)
    decision = None if talk.interactor is None else decided(talk.interactor)
    if own == Verdict.TLE:
        return Verdict.TLE
    if decision is False and talk.interactor_first:
        return Verdict.WA
    if own is not None:
        return own
    if decision is None:
        return Verdict.IE
    return Verdict.AC if decision else Verdict.WA
