"""Interactive problems on in-memory sandboxes: who ends first and how, and the verdict
that follows (``codeexec.judge.interaction``). tests/test_interactive.py has the same
conversations between real sandboxes."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from codeexec.config import Settings
from codeexec.judge.interaction import Conversation, interactive_verdict
from codeexec.judge.judge import Judge
from codeexec.model import (
    CheckerProgram,
    CheckerSpec,
    Problem,
    ProblemSnapshot,
    RunLimits,
    RunOutcome,
    TestCase,
    Verdict,
)
from codeexec.sandbox.api import Pipe, SandboxFile
from codeexec.sandbox.fake import FakeRun, FakeSandboxes, outcome
from codeexec.sandbox.languages import discover_languages

ROOT = Path(__file__).resolve().parents[2]
LANGUAGES = discover_languages(ROOT / "codeexec/languages", ("python",))
PY = LANGUAGES["python"]
SOURCE = (SandboxFile.source("main.py", "..."),)
LIMITS = RunLimits(1000, 2000, 64, 1 << 20, 1 << 16, 1 << 20)
INTERACTOR = CheckerSpec("interactive", (), CheckerProgram("python", (("main.py", "..."),)))


async def line(pipe: Pipe) -> bytes | None:
    """One chunk the other party wrote (the fake delivers each write whole)."""
    return await pipe.read()


def party(submission, interactor):  # type: ignore[no-untyped-def]
    """One stand-in program for every box: the interactor's runs are told by the
    wrapper's name in their argv."""

    async def program(run: FakeRun) -> RunOutcome:
        if "interactor" in run.argv:
            return await interactor(run)
        return await submission(run)

    return program


async def guessing_interactor(run: FakeRun) -> RunOutcome:
    """Says the secret's range, then answers each guess; 42 when guessed in 3 tries."""
    secret = int(run.files["input"])
    await run.say(b"1 10\n")
    for _ in range(3):
        guess = await line(run.pipe)  # type: ignore[arg-type]
        if not guess:
            return outcome(stderr=b"no guess", exit_code=43)
        if int(guess) == secret:
            await run.say(b"correct\n")
            return outcome(stderr=b"", exit_code=42)
        await run.say(b"higher\n" if int(guess) < secret else b"lower\n")
    return outcome(stderr=b"too many guesses", exit_code=43)


async def bisecting(run: FakeRun) -> RunOutcome:
    lo, hi = map(int, (await line(run.pipe) or b"0 0").split())  # type: ignore[arg-type]
    while True:
        guess = (lo + hi) // 2
        await run.say(f"{guess}\n".encode())
        said = await line(run.pipe)  # type: ignore[arg-type]
        if said == b"correct\n":
            return outcome()
        if said == b"higher\n":
            lo = guess + 1
        elif said == b"lower\n":
            hi = guess - 1
        else:  # the interactor has gone: input ended
            return outcome(exit_code=1)


async def judge(submission, interactor, *tests: TestCase):  # type: ignore[no-untyped-def]
    sandboxes = FakeSandboxes(party(submission, interactor))
    j = Judge(Settings(), sandboxes, LANGUAGES)
    snapshot = ProblemSnapshot(Problem("guess", checker=INTERACTOR), tests)
    return await j.judge(PY, SOURCE, snapshot), sandboxes


async def test_a_conversation_is_judged_by_the_interactor() -> None:
    tests = (TestCase(b"8", b""), TestCase(b"7", b""), TestCase(b"5", b"", hidden=True))
    judged, sandboxes = await judge(bisecting, guessing_interactor, *tests)
    assert [r.verdict for r in judged.results] == [Verdict.AC, Verdict.WA, Verdict.AC]
    assert judged.results[0].stdout == b"5\n8\n"  # what the submission said, shown
    assert judged.results[1].feedback == "too many guesses"
    assert judged.results[2].feedback == "" and judged.results[2].stdout == b""  # hidden
    # The interactor ran in a box of its own with the test's input; the submission's
    # box never held it.
    interactor_box = next(b for b in sandboxes.boxes if any("interactor" in r.argv for r in b.runs))
    assert interactor_box.runs[0].files["input"] == b"8"
    assert all(
        "input" not in r.files for b in sandboxes.boxes if b is not interactor_box for r in b.runs
    )


async def test_a_rejection_while_the_submission_runs_stops_it_and_is_wrong_answer() -> None:
    async def stubborn(run: FakeRun) -> RunOutcome:
        await run.say(b"1\n")
        await asyncio.Event().wait()  # never ends by itself: stopping the pipe ends it
        raise AssertionError("unreachable")

    async def rejecting(run: FakeRun) -> RunOutcome:
        await line(run.pipe)  # type: ignore[arg-type]
        return outcome(stderr=b"wrong", exit_code=43)

    judged, _ = await judge(stubborn, rejecting, TestCase(b"", b""))
    assert judged.results[0].verdict == Verdict.WA


STOPPED = outcome(exit_code=None, signal=9, killed_for="stopped")
WALL = outcome(exit_code=None, signal=9, killed_for="wall")


@pytest.mark.parametrize(
    ("submission", "interactor", "first", "verdict"),
    [
        (outcome(), outcome(exit_code=42), False, Verdict.AC),
        (outcome(), outcome(exit_code=43), False, Verdict.WA),
        # a crash after the interactor rejected is its consequence
        (outcome(exit_code=None, signal=13), outcome(exit_code=43), True, Verdict.WA),
        # a crash before the interactor decided is the submission's own
        (outcome(exit_code=1), outcome(exit_code=43), False, Verdict.RE),
        (outcome(exit_code=1), outcome(exit_code=42), False, Verdict.RE),
        # the time limit comes first, whatever the interactor said
        (
            outcome(killed_for="wall", exit_code=None, signal=9),
            outcome(exit_code=43),
            True,
            Verdict.TLE,
        ),
        (outcome(cpu_ms=5000), outcome(exit_code=42), False, Verdict.TLE),
        (outcome(memory_kb=1 << 20), outcome(exit_code=43), False, Verdict.MLE),
        # an interactor that does not decide is the judge's fault ...
        (outcome(), outcome(exit_code=1), False, Verdict.IE),
        (
            outcome(exit_code=None, signal=9, killed_for="stopped"),
            outcome(exit_code=3),
            True,
            Verdict.IE,
        ),
        (outcome(), WALL, False, Verdict.IE),
        (outcome(), None, False, Verdict.IE),  # its sandbox failed
        # ... unless the submission failed by itself
        (outcome(exit_code=2), outcome(exit_code=1), False, Verdict.RE),
        # stopped because the interactor rejected: not its own failure
        (
            outcome(exit_code=None, signal=9, killed_for="stopped"),
            outcome(exit_code=43),
            True,
            Verdict.WA,
        ),
    ],
)
def test_verdict_precedence(
    submission: RunOutcome, interactor: RunOutcome | None, first: bool, verdict: Verdict
) -> None:
    talk = Conversation(submission, interactor, "", first)
    assert interactive_verdict(talk, LIMITS) == verdict


async def test_a_silent_conversation_ends_at_the_wall_limit_as_the_submissions_tle() -> None:
    """Both parties waiting (a program that never flushed): stopped once nothing was said
    for the wall limit, not after the credit the runner gives waits on the service."""

    async def waits(run: FakeRun) -> RunOutcome:
        await run.pipe.read()  # type: ignore[union-attr]  # the interactor's n
        await asyncio.Event().wait()
        raise AssertionError("unreachable")

    async def asks_then_waits(run: FakeRun) -> RunOutcome:
        await run.say(b"10\n")
        while await run.pipe.read():  # type: ignore[union-attr]
            pass
        return outcome(exit_code=43)

    sandboxes = FakeSandboxes(party(waits, asks_then_waits))
    settings = Settings(default_time_limit_ms=100)  # wall limit: 1.1 s
    j = Judge(settings, sandboxes, LANGUAGES)
    snapshot = ProblemSnapshot(Problem("guess", checker=INTERACTOR), (TestCase(b"5", b""),))
    started = asyncio.get_running_loop().time()
    judged = await j.judge(PY, SOURCE, snapshot)
    assert judged.results[0].verdict == Verdict.TLE
    assert 1.0 < asyncio.get_running_loop().time() - started < 3


async def test_an_interactor_that_did_not_decide_shows_nothing_of_itself() -> None:
    """The submission failed by itself (RE) and the interactor crashed on the input
    ending: the verdict is the submission's, and the interactor's own stderr (its
    traceback, which the wrapper adds for the judges when it does not decide) is not
    shown, not even for a shown test."""

    async def crashes(run: FakeRun) -> RunOutcome:
        return outcome(exit_code=1)

    async def fragile(run: FakeRun) -> RunOutcome:
        await line(run.pipe)  # type: ignore[arg-type]
        return outcome(stderr=b'Traceback: line 9, in main\n    secret = "swordfish"', exit_code=1)

    judged, _ = await judge(crashes, fragile, TestCase(b"", b""))
    assert judged.results[0].verdict == Verdict.RE
    assert judged.results[0].feedback == ""
