"""A job's life without Docker: the job stores (``store/submissions.py``, ``queue.py``,
``events.py``, ``outbox.py``) on SQLite in a temporary folder, and a ``JobRunner``
judging on in-memory sandboxes (``sandbox/fake.py``): claimed once, judged, finished
with its events; cancelled, given back at shutdown, picked up again after a restart."""

from __future__ import annotations

import asyncio
import dataclasses
import time
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.exc import OperationalError

from codeexec.config import Settings
from codeexec.intake import Intake
from codeexec.jobs.notifier import Notifier
from codeexec.jobs.outcome import failure
from codeexec.jobs.runner import JobRunner
from codeexec.judge.admission import Admission
from codeexec.judge.judge import Judge
from codeexec.model import Language, Problem, RunOutcome, Status, Submission, TestCase, Verdict
from codeexec.sandbox.fake import FakeBox, FakeRun, FakeSandboxes, Program, outcome
from codeexec.sandbox.languages import discover_languages
from codeexec.screening.service import Screener
from codeexec.store.engine import create_engine, migrate
from codeexec.store.events import EventLog
from codeexec.store.outbox import WebhookOutbox
from codeexec.store.problems import ProblemStore
from codeexec.store.queue import JobQueue
from codeexec.store.submissions import SubmissionStore

ROOT = Path(__file__).resolve().parents[2]
LANGUAGES = discover_languages(ROOT / "codeexec/languages", ("python",))
TESTS = (TestCase(b"a\n", b"a\n"), TestCase(b"b\n", b"b\n", hidden=True))
W1, W2 = "w1", "w2"


@dataclass
class Stores:
    problems: ProblemStore
    submissions: SubmissionStore
    queue: JobQueue
    events: EventLog
    outbox: WebhookOutbox


@pytest.fixture
async def stores(tmp_path: Path) -> AsyncIterator[Stores]:
    engine = create_engine(f"sqlite:///{tmp_path / 'jobs.sqlite3'}")
    await migrate(engine)
    problems = ProblemStore(engine, cache_bytes=1 << 20)
    await problems.save(Problem("p"), TESTS)
    yield Stores(
        problems, SubmissionStore(engine), JobQueue(engine), EventLog(engine), WebhookOutbox(engine)
    )
    await engine.dispose()


async def submit(
    stores: Stores, problem_id: str = "p", callback_url: str | None = None, **accepted: Any
) -> Submission:
    """A job as intake accepts it (on version 1 of the problem)."""
    accepted.setdefault("accepted_version", 1)
    files = (("main.py", "print(input())"),)
    return await stores.submissions.create(
        None, problem_id, "python", files, callback_url, **accepted
    )


async def kinds(stores: Stores, sid: str) -> list[str]:
    return [e.kind for e in await stores.events.events(sid)]


async def now(stores: Stores, sid: str) -> Submission:
    found = await stores.submissions.get(sid)
    assert found is not None
    return found


# -- the stores ------------------------------------------------------------------------


async def test_a_job_is_claimed_once_and_finished_only_by_its_worker(stores: Stores) -> None:
    job = await submit(stores)
    assert job.status == Status.QUEUED and await kinds(stores, job.id) == ["queued"]
    assert await stores.queue.has_queued() and await stores.queue.count_queued() == 1

    claimed = await stores.queue.claim(W1, 30)
    assert claimed is not None and claimed.id == job.id
    assert (claimed.status, claimed.claimed_by, claimed.attempts) == (Status.RUNNING, W1, 1)
    assert await stores.queue.claim(W2, 30) is None
    assert not await stores.queue.has_queued() and await stores.queue.count_queued() == 0
    assert await stores.queue.renew(job.id, W1, 30) == (True, False)
    assert await stores.queue.renew(job.id, W2, 30) == (False, False)

    assert await stores.queue.finish(job.id, W2, failure("not mine")) is None
    done = await stores.queue.finish(job.id, W1, failure("could not judge"))
    assert done is not None and (done.status, done.error) == (Status.FAILED, "could not judge")
    assert done == await now(stores, job.id)
    assert await stores.queue.finish(job.id, W1, failure("twice")) is None
    events = await stores.events.events(job.id)
    assert [(e.seq, e.kind) for e in events] == [(1, "queued"), (2, "started"), (3, "failed")]
    assert events[1].data == {"worker": W1}
    assert events[2].data == {"status": "failed", "verdict": None, "error": "could not judge"}


async def test_a_job_given_back_or_abandoned_is_queued_again(stores: Stores) -> None:
    job = await submit(stores)
    await stores.queue.claim(W1, 30)
    assert not await stores.queue.release(job.id, W2, "not mine")
    assert await stores.queue.release(job.id, W1, "service stopping")
    back = await now(stores, job.id)
    assert (back.status, back.claimed_by, back.started_at) == (Status.QUEUED, None, None)

    await stores.queue.claim(W1, 30)
    assert await stores.queue.requeue_abandoned() == []  # its lease still runs
    assert await stores.queue.requeue_abandoned(held_by=W1) == [job.id]  # W1 restarted
    await stores.queue.claim(W2, -1)  # a lease that ran out: W2 died
    assert await stores.queue.requeue_abandoned() == [job.id]
    assert (await now(stores, job.id)).status == Status.QUEUED
    again = await stores.queue.claim(W1, 30)
    assert again is not None and again.attempts == 4
    events = await stores.events.events(job.id)
    requeued = [e.data["reason"] for e in events if e.kind == "requeued"]
    assert requeued == ["service stopping", "worker lost", "worker lost"]


async def test_cancelling_a_queued_a_running_and_an_abandoned_job(stores: Stores) -> None:
    queued = await submit(stores)
    cancelled = await stores.queue.request_cancel(queued.id)
    assert cancelled is not None and cancelled.status == Status.CANCELLED and cancelled.done
    assert await stores.queue.claim(W1, 30) is None  # nothing left to run

    running = await submit(stores)
    await stores.queue.claim(W1, 30)
    flagged = await stores.queue.request_cancel(running.id)
    assert flagged is not None and (flagged.status, flagged.cancel_requested) == (
        Status.RUNNING,
        True,
    )
    assert await stores.queue.renew(running.id, W1, 30) == (True, True)  # the worker sees it
    await stores.queue.mark_cancelled(running.id, W2)  # not W2's job: nothing happens
    assert (await now(stores, running.id)).status == Status.RUNNING
    await stores.queue.mark_cancelled(running.id, W1)
    assert (await now(stores, running.id)).status == Status.CANCELLED
    assert await stores.queue.finish(running.id, W1, failure("late")) is None

    abandoned = await submit(stores)
    await stores.queue.claim(W2, -1)
    await stores.queue.request_cancel(abandoned.id)
    assert await stores.queue.requeue_abandoned() == [abandoned.id]
    assert (await now(stores, abandoned.id)).status == Status.CANCELLED

    reasons = [
        (await stores.events.events(job.id))[-1].data["reason"]
        for job in (queued, running, abandoned)
    ]
    assert reasons == [
        "cancelled before it ran",
        "cancelled while running",
        "cancelled while its worker was gone",
    ]
    assert await stores.queue.request_cancel("nope") is None


async def test_deleting_a_job_takes_its_event_log(stores: Stores) -> None:
    job = await submit(stores)
    await stores.events.add(job.id, "note", {"n": 1})
    assert await kinds(stores, job.id) == ["queued", "note"]
    assert [e.data for e in await stores.events.events(job.id, after=1)] == [{"n": 1}]
    assert await stores.submissions.delete(job.id)
    assert await stores.submissions.get(job.id) is None
    assert await stores.events.events(job.id) == []
    assert not await stores.submissions.delete(job.id)


async def test_a_callback_is_pending_until_delivered(stores: Stores) -> None:
    job = await submit(stores, callback_url="https://example.org/hook")
    await submit(stores)  # no callback: never in the outbox
    assert job.webhook_state == "pending"
    await stores.queue.claim(W1, 30)
    assert await stores.outbox.pending_webhooks(W1) == []  # not finished yet
    await stores.queue.finish(job.id, W1, failure("x"))
    assert await stores.outbox.pending_webhooks(W2) == []
    assert await stores.outbox.pending_webhooks(W1) == [job.id]
    await stores.outbox.set_webhook_state(job.id, "delivered")
    assert await stores.outbox.pending_webhooks(W1) == []
    assert (await now(stores, job.id)).webhook_state == "delivered"


# -- the runner ------------------------------------------------------------------------


def echo(run: FakeRun) -> RunOutcome:
    return outcome(run.stdin)


class GatedSandboxes(FakeSandboxes):
    """Fake sandboxes whose boxes open only once the test lets them: a job waits there,
    running, for the test to cancel it or stop the service."""

    def __init__(self, program: Program) -> None:
        super().__init__(program)
        self.waiting = asyncio.Event()  # a job is at its sandbox
        self.gate = asyncio.Event()

    @asynccontextmanager
    async def open(
        self,
        language: Language,
        memory_mb: int,
        processes: int,
        scratch_mb: int | None = None,
        program_bytes: int = 0,
        *,
        reuse: bool = False,
        shown: bool = True,
    ) -> AsyncIterator[FakeBox]:
        self.waiting.set()
        await self.gate.wait()
        async with super().open(
            language, memory_mb, processes, scratch_mb, program_bytes, reuse=reuse, shown=shown
        ) as box:
            yield box


def not_screened_again() -> Screener:
    raise AssertionError("a job accepted on this problem version is not screened again")


@asynccontextmanager
async def runner(
    stores: Stores, sandboxes: FakeSandboxes, done: list[Submission], **settings: Any
) -> AsyncIterator[JobRunner]:
    """Instance W1's job workers, judging on ``sandboxes``; ``done`` gets each job it
    finished (the webhook hook)."""
    values: dict[str, Any] = {"job_workers": 1, "job_poll_s": 0.05, "instance_name": W1}
    s = Settings(**(values | settings))
    intake = Intake(lambda: LANGUAGES, stores.problems, not_screened_again, s.http.max_source_bytes)
    judge = Judge(s, sandboxes, LANGUAGES)
    jobs = JobRunner(
        s, stores.queue, stores.events, intake, judge, Admission(1, 1), Notifier(), done.append
    )
    await jobs.start()
    try:
        yield jobs
    finally:
        await jobs.stop(0)


async def until(stores: Stores, sid: str, statuses: Iterable[Status]) -> Submission:
    wanted = set(statuses)
    deadline = time.monotonic() + 30
    while (found := await now(stores, sid)).status not in wanted:
        assert time.monotonic() < deadline, f"job {sid} still {found.status}"
        await asyncio.sleep(0.02)
    return found


async def reported(done: list[Submission], count: int = 1) -> list[Submission]:
    """``done`` once it holds ``count`` jobs (the hook runs just after the outcome is
    stored: a poller may see the job finished first)."""
    deadline = time.monotonic() + 30
    while len(done) < count:
        assert time.monotonic() < deadline, f"{len(done)} job(s) reported done"
        await asyncio.sleep(0.02)
    return done


async def test_a_worker_judges_a_queued_job_and_reports_each_step(stores: Stores) -> None:
    sandboxes, done = FakeSandboxes(echo), list[Submission]()
    async with runner(stores, sandboxes, done):
        job = await submit(stores)
        finished = await until(stores, job.id, [Status.FINISHED])
        assert await reported(done) == [finished]  # its callback would go now
    assert finished.result is not None and finished.result.verdict == Verdict.AC
    assert finished.result.count(hidden=True, passed=True) == 1
    assert (finished.attempts, finished.claimed_by, finished.problem_version) == (1, W1, 1)
    assert [r.stdin for r in sandboxes.boxes[0].runs] == [b"a\n", b"b\n"]
    events = await stores.events.events(job.id)
    assert [e.kind for e in events] == ["queued", "started", "test", "test", "finished"]
    first = finished.result.tests[0]  # each test event carries its measurements
    assert events[2].data == {
        "position": 1, "total": 2, "verdict": "AC", "hidden": False,
        "time_ms": first.time_ms, "wall_ms": first.wall_ms, "memory_kb": first.memory_kb,
    }  # fmt: skip
    assert events[-1].data == {"status": "finished", "verdict": "AC"}


async def test_a_job_names_its_worker_apart_from_the_lease_owner(stores: Stores) -> None:
    sandboxes, done = FakeSandboxes(echo), list[Submission]()
    async with runner(stores, sandboxes, done, worker_name="judge-3"):
        job = await submit(stores)
        finished = await until(stores, job.id, [Status.FINISHED])
    assert (finished.claimed_by, finished.worker) == (W1, "judge-3")
    started = [e for e in await stores.events.events(job.id) if e.kind == "started"]
    assert started[0].data == {"worker": "judge-3"}


async def test_what_intake_found_is_judged_without_a_sandbox(stores: Stores) -> None:
    sandboxes, done = FakeSandboxes(echo), list[Submission]()
    async with runner(stores, sandboxes, done):
        syntax = await submit(stores, screening_error="SyntaxError: invalid syntax (line 1)")
        gone = await submit(stores, problem_id="gone")
        ce = await until(stores, syntax.id, [Status.FINISHED])
        failed = await until(stores, gone.id, [Status.FAILED])
    assert ce.result is not None and ce.result.verdict == Verdict.CE
    assert ce.result.compile_output == "SyntaxError: invalid syntax (line 1)"
    assert failed.error == "problem 'gone' no longer exists"
    assert (await stores.events.events(gone.id))[-1].data["error"] == failed.error
    assert sandboxes.boxes == []


async def test_a_job_of_shown_tests_judges_them_only_wherever_it_resumes(stores: Stores) -> None:
    # The scope is stored with the job: a worker (here, after the instance that held it
    # died) judges the tests it was accepted for, numbered as the problem numbers them.
    mixed = (
        TestCase(b"h1\n", b"h1\n", hidden=True),
        TestCase(b"s2\n", b"s2\n", name="sample/2"),
        TestCase(b"h3\n", b"h3\n", hidden=True),
        TestCase(b"s4\n", b"s4\n"),
    )
    await stores.problems.save(Problem("mixed"), mixed)
    job = await submit(stores, problem_id="mixed", scope="shown")
    assert job.scope == "shown"
    await stores.queue.claim(W1, 30)  # then W1's process died
    sandboxes, done = FakeSandboxes(echo), list[Submission]()
    async with runner(stores, sandboxes, done):
        finished = await until(stores, job.id, [Status.FINISHED])
    assert finished.scope == "shown" and finished.result is not None
    assert [r.stdin for b in sandboxes.boxes for r in b.runs] == [b"s2\n", b"s4\n"]
    assert [(t.position, t.name, t.hidden) for t in finished.result.tests] == [
        (2, "sample/2", False),
        (4, None, False),
    ]
    assert finished.result.count(hidden=True, passed=True) == 0
    tests = [e.data for e in await stores.events.events(job.id) if e.kind == "test"]
    assert [(t["position"], t["total"]) for t in tests] == [(2, 2), (4, 2)]


async def test_a_job_cancelled_while_it_runs(stores: Stores) -> None:
    sandboxes, done = GatedSandboxes(echo), list[Submission]()
    async with runner(stores, sandboxes, done) as jobs:
        job = await submit(stores)
        await sandboxes.waiting.wait()
        assert (await now(stores, job.id)).status == Status.RUNNING
        await stores.queue.request_cancel(job.id)
        assert jobs.cancel_here(job.id)  # it runs in this process: it stops at once
        cancelled = await until(stores, job.id, [Status.CANCELLED])
    assert cancelled.result is None and done == []
    assert await kinds(stores, job.id) == ["queued", "started", "cancelled"]


async def test_a_cancel_requested_elsewhere_is_seen_at_the_next_renewal(stores: Stores) -> None:
    sandboxes, done = GatedSandboxes(echo), list[Submission]()
    async with runner(stores, sandboxes, done, job_lease_s=3):  # renewed every 1 s
        job = await submit(stores)
        await sandboxes.waiting.wait()
        await stores.queue.request_cancel(job.id)  # as another process would
        await until(stores, job.id, [Status.CANCELLED])
    assert (await stores.events.events(job.id))[-1].data == {"reason": "cancelled while running"}


async def test_a_job_running_at_shutdown_is_given_back_then_finished_once(
    stores: Stores,
) -> None:
    sandboxes, done = GatedSandboxes(echo), list[Submission]()
    async with runner(stores, sandboxes, done) as jobs:
        job = await submit(stores)
        await sandboxes.waiting.wait()
        await jobs.stop(0)  # no time to drain
    back = await now(stores, job.id)
    assert (back.status, back.attempts) == (Status.QUEUED, 1)

    sandboxes.gate.set()
    async with runner(stores, sandboxes, done):
        finished = await until(stores, job.id, [Status.FINISHED])
        assert await reported(done) == [finished]
    assert finished.attempts == 2
    assert await kinds(stores, job.id) == [
        "queued",
        "started",
        "requeued",
        "started",
        "test",
        "test",
        "finished",
    ]


async def test_a_restarted_instance_queues_again_what_it_held(stores: Stores) -> None:
    job = await submit(stores)
    await stores.queue.claim(W1, 30)  # then W1's process died
    sandboxes, done = FakeSandboxes(echo), list[Submission]()
    async with runner(stores, sandboxes, done):
        finished = await until(stores, job.id, [Status.FINISHED])
        assert await reported(done) == [finished]
    assert finished.attempts == 2
    events = await stores.events.events(job.id)
    assert [e.kind for e in events][:4] == ["queued", "started", "requeued", "started"]
    assert events[2].data == {"reason": "worker lost"}


async def test_a_job_waiting_for_its_language_holds_up_no_other_job(stores: Stores) -> None:
    # Wedge: a queued job whose language's image was still being built here (an image
    # outdated by an upgrade, or a replica that lacks it) held its worker and its
    # admission slot until the build ended: minutes in which no other job, nor any
    # /exec request, was judged.
    building = dataclasses.replace(LANGUAGES["python"], id="python2")
    usable = dict(LANGUAGES)
    preparing = {"python2"}  # on demand: a job asking for it is what starts its build
    asked: list[str] = []

    def demand(language_id: str) -> str | None:
        if language_id in usable:
            return None
        asked.append(language_id)
        return "Step 2/3 : RUN apt-get install"

    s = Settings(job_workers=1, job_poll_s=0.05, instance_name=W1)
    intake = Intake(lambda: usable, stores.problems, not_screened_again, 1 << 20, demand)
    admission = Admission(1, 1)
    done: list[Submission] = []
    jobs = JobRunner(
        s,
        stores.queue,
        stores.events,
        intake,
        Judge(s, FakeSandboxes(echo), {**LANGUAGES, "python2": building}),
        admission,
        Notifier(),
        done.append,
        lambda: preparing if asked else set(),
    )
    files = (("main.py", "print(input())"),)
    waiting = await stores.submissions.create(None, "p", "python2", files, accepted_version=1)
    other = await submit(stores)
    await jobs.start()
    try:
        finished = await asyncio.wait_for(until(stores, other.id, [Status.FINISHED]), 5)
        assert finished.result is not None and finished.result.verdict == Verdict.AC
        async with asyncio.timeout(5):
            async with admission.slot():  # /exec is not held up either
                pass
        assert (await now(stores, waiting.id)).status == Status.QUEUED
        assert asked == ["python2"]  # asked for once (its build goes first), then left queued
        await asyncio.sleep(0.2)
        assert (await now(stores, waiting.id)).attempts == 1
        usable["python2"] = building
        preparing.clear()
        late = await asyncio.wait_for(until(stores, waiting.id, [Status.FINISHED]), 5)
        assert late.result is not None and late.result.verdict == Verdict.AC
    finally:
        await jobs.stop(0)
    assert await kinds(stores, waiting.id) == [
        "queued", "started", "requeued", "started", "test", "test", "finished"
    ]  # fmt: skip


async def test_a_finish_sqlite_refuses_while_busy_is_tried_again_not_lost(
    stores: Stores,
) -> None:
    """SQLite refuses a finish once ("database is locked": another writer held the lock
    past the busy timeout, as 64 workers did in the queue benchmark; simulated here):
    the finish is tried again. It used to be lost, and the job judged a second time
    when its lease ran out."""
    job = await submit(stores)
    assert await stores.queue.claim(W1, 30) is not None
    real = stores.queue._finish_once
    calls = 0

    async def busy_once(*args: Any) -> Any:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise OperationalError("UPDATE submissions", {}, Exception("database is locked"))
        return await real(*args)

    stores.queue._finish_once = busy_once  # type: ignore[method-assign]
    done = await stores.queue.finish(job.id, W1, failure("judged once"))
    assert calls == 2 and done is not None and done.status == Status.FAILED
    assert await kinds(stores, job.id) == ["queued", "started", "failed"]
