"""Pausing and resuming jobs without Docker: the queue's state machine on SQLite (queued,
running, paused; cancelled, released at a restart or a lost lease, expired), a worker
freezing and thawing its job's in-memory boxes (``sandbox/fake.py``), and the time
accounting that keeps a pause out of a run's wall time (the service's deadline, the
runner's stall detection)."""

from __future__ import annotations

import asyncio
import time
from datetime import timedelta

from sqlalchemy import update

from codeexec.jobs.outcome import failure
from codeexec.model import RunOutcome, Status, Submission, Verdict
from codeexec.sandbox.deadline import Deadline
from codeexec.sandbox.fake import FakeRun, FakeSandboxes, outcome
from codeexec.sandbox.freeze import FREEZER, Freezer, enlisted
from codeexec.sandbox.runner.watch import STALL_S, stalled
from codeexec.store.keys import utcnow
from codeexec.store.schema import submissions
from tests.unit.test_jobs import (
    LANGUAGES,
    W1,
    W2,
    GatedSandboxes,
    Stores,
    echo,
    kinds,
    now,
    reported,
    runner,
    stores,
    submit,
    until,
)

__all__ = ["stores"]  # the fixture


async def _age_pause(stores: Stores, sid: str, seconds: float) -> None:
    """Make ``sid`` look paused for ``seconds`` already."""
    engine = stores.submissions._engine
    async with engine.begin() as conn:
        await conn.execute(
            update(submissions)
            .where(submissions.c.id == sid)
            .values(paused_at=utcnow() - timedelta(seconds=seconds))
        )


# -- the queue ---------------------------------------------------------------------------


async def test_a_paused_queued_job_is_not_claimed_until_resumed(stores: Stores) -> None:
    job = await submit(stores)
    paused = await stores.queue.pause(job.id)
    assert paused is not None and paused.status == Status.PAUSED and paused.paused_at
    assert await stores.queue.claim(W1, 30) is None and not await stores.queue.has_queued()
    assert await stores.queue.count_queued() == 1  # it still takes room in the queue
    again = await stores.queue.pause(job.id)  # idempotent: no second event
    assert again is not None and again.paused_at == paused.paused_at
    resumed = await stores.queue.resume(job.id)
    assert resumed is not None and (resumed.status, resumed.paused_at) == (Status.QUEUED, None)
    claimed = await stores.queue.claim(W1, 30)
    assert claimed is not None and claimed.id == job.id
    events = await stores.events.events(job.id)
    assert [e.kind for e in events] == ["queued", "paused", "resumed", "started"]
    assert events[1].data == {"was": "queued"} and events[2].data["to"] == "queued"


async def test_a_job_submitted_paused_waits_for_its_resume(stores: Stores) -> None:
    job = await submit(stores, paused=True)
    assert job.status == Status.PAUSED and job.paused_at is not None
    assert await kinds(stores, job.id) == ["queued", "paused"]
    assert await stores.queue.claim(W1, 30) is None
    await stores.queue.resume(job.id)
    assert await stores.queue.claim(W1, 30) is not None


async def test_a_paused_running_job_keeps_its_worker_and_lease(stores: Stores) -> None:
    job = await submit(stores)
    await stores.queue.claim(W1, 30)
    paused = await stores.queue.pause(job.id)
    assert paused is not None and (paused.status, paused.claimed_by) == (Status.PAUSED, W1)
    assert await stores.queue.count_queued() == 0  # held by its worker, not waiting
    assert await stores.queue.renew(job.id, W1, 30) == (True, False)  # still W1's
    look = await stores.queue.look(job.id, W1)
    assert (look.ours, look.cancel, look.paused) == (True, False, True)
    assert not (await stores.queue.look(job.id, W2)).ours
    resumed = await stores.queue.resume(job.id)
    assert resumed is not None and (resumed.status, resumed.claimed_by) == (Status.RUNNING, W1)
    assert not (await stores.queue.look(job.id, W1)).paused
    events = await stores.events.events(job.id)
    assert [e.kind for e in events] == ["queued", "started", "paused", "resumed"]
    assert events[2].data == {"was": "running"} and events[3].data["to"] == "running"


async def test_a_job_finishing_as_it_is_paused_is_finished(stores: Stores) -> None:
    job = await submit(stores)
    await stores.queue.claim(W1, 30)
    await stores.queue.pause(job.id)  # its worker had not frozen it yet
    done = await stores.queue.finish(job.id, W1, failure("x"))
    assert done is not None and (done.status, done.paused_at) == (Status.FAILED, None)
    assert await stores.queue.pause(job.id) is not None  # a done job is left as it is
    assert (await now(stores, job.id)).status == Status.FAILED


async def test_cancelling_paused_jobs(stores: Stores) -> None:
    waiting = await submit(stores, paused=True)
    cancelled = await stores.queue.request_cancel(waiting.id)
    assert cancelled is not None and cancelled.status == Status.CANCELLED
    assert (await stores.events.events(waiting.id))[-1].data == {"reason": "cancelled while paused"}
    frozen = await submit(stores)
    await stores.queue.claim(W1, 30)
    await stores.queue.pause(frozen.id)
    flagged = await stores.queue.request_cancel(frozen.id)  # its worker removes its boxes
    assert flagged is not None and (flagged.status, flagged.cancel_requested) == (
        Status.PAUSED,
        True,
    )
    assert (await stores.queue.look(frozen.id, W1)).cancel
    await stores.queue.mark_cancelled(frozen.id, W1)
    assert (await now(stores, frozen.id)).status == Status.CANCELLED
    assert await stores.submissions.delete(waiting.id)


async def test_a_paused_job_whose_worker_restarted_stays_paused_released(stores: Stores) -> None:
    # Lease kept: W1 froze the job, then its process restarted. The containers are
    # gone: the job stays paused, held by no worker; resumed, it is queued and runs anew.
    job = await submit(stores)
    await stores.queue.claim(W1, 30)
    await stores.queue.pause(job.id)
    assert await stores.queue.requeue_abandoned() == []  # its lease still runs
    assert await stores.queue.requeue_abandoned(held_by=W1) == [job.id]
    back = await now(stores, job.id)
    assert (back.status, back.claimed_by, back.started_at) == (Status.PAUSED, None, None)
    assert back.paused_at is not None  # still counted towards CODEEXEC_MAX_PAUSE_S
    events = await stores.events.events(job.id)
    assert events[-1].kind == "released" and events[-1].data == {"reason": "worker lost"}
    assert await stores.queue.claim(W2, 30) is None
    resumed = await stores.queue.resume(job.id)
    assert resumed is not None and resumed.status == Status.QUEUED
    again = await stores.queue.claim(W2, 30)
    assert again is not None and again.attempts == 2


async def test_a_paused_job_whose_lease_ran_out_is_released_by_any_process(stores: Stores) -> None:
    job = await submit(stores)
    await stores.queue.claim(W1, 0.05)  # W1's process then died: nobody renews
    await stores.queue.pause(job.id)
    await asyncio.sleep(0.1)
    assert await stores.queue.requeue_abandoned() == [job.id]  # W2's reaper
    back = await now(stores, job.id)
    assert (back.status, back.claimed_by) == (Status.PAUSED, None)
    # A job paused while queued has no lease: nothing of it is released.
    queued = await submit(stores, paused=True)
    assert await stores.queue.requeue_abandoned(held_by=W1) == []
    assert (await now(stores, queued.id)).status == Status.PAUSED


async def test_a_job_paused_too_long_is_cancelled_with_the_reason(stores: Stores) -> None:
    old, young = await submit(stores, paused=True), await submit(stores, paused=True)
    running = await submit(stores)
    await stores.queue.claim(W1, 30)
    await stores.queue.pause(running.id)
    await _age_pause(stores, old.id, 120)
    await _age_pause(stores, running.id, 120)
    assert sorted(await stores.queue.expire_pauses(60)) == sorted([old.id, running.id])
    for sid in (old.id, running.id):
        assert (await now(stores, sid)).status == Status.CANCELLED
        reason = (await stores.events.events(sid))[-1].data["reason"]
        assert reason == "paused for longer than 60 s (CODEEXEC_MAX_PAUSE_S)"
    assert not (await stores.queue.look(running.id, W1)).ours  # its worker lets go
    assert (await now(stores, young.id)).status == Status.PAUSED


# -- the worker --------------------------------------------------------------------------


class Steps(FakeSandboxes):
    """Boxes whose program runs until the test lets it end, standing still while its
    box is frozen (as a frozen container does)."""

    def __init__(self) -> None:
        super().__init__(self.program_of)
        self.running = asyncio.Event()
        self.go_on = asyncio.Event()

    async def program_of(self, run: FakeRun) -> RunOutcome:
        self.running.set()
        await self.go_on.wait()
        await run.box.thawed.wait()
        return outcome(run.stdin)


async def test_a_running_job_paused_here_is_frozen_then_finishes_as_if_not(
    stores: Stores,
) -> None:
    sandboxes, done = Steps(), list[Submission]()
    async with runner(stores, sandboxes, done) as jobs:
        job = await submit(stores)
        await sandboxes.running.wait()
        await stores.queue.pause(job.id)
        assert await jobs.pause_here(job.id, True)  # as the API does: frozen at once
        box = sandboxes.boxes[0]
        assert box.frozen and box.freezes == 1
        sandboxes.go_on.set()
        await asyncio.sleep(0.2)  # frozen: it does not go on
        assert (await now(stores, job.id)).status == Status.PAUSED and len(box.runs) == 1
        await stores.queue.resume(job.id)
        assert await jobs.pause_here(job.id, False)
        assert not box.frozen
        finished = await until(stores, job.id, [Status.FINISHED])
        assert await reported(done) == [finished]
    assert finished.result is not None and finished.result.verdict == Verdict.AC
    assert finished.attempts == 1  # the same run, not a new one
    assert await kinds(stores, job.id) == [
        "queued", "started", "paused", "resumed", "test", "test", "finished",
    ]  # fmt: skip


async def test_a_pause_asked_of_another_process_is_seen_by_the_worker(stores: Stores) -> None:
    sandboxes, done = Steps(), list[Submission]()
    async with runner(stores, sandboxes, done, job_poll_s=0.05) as jobs:
        job = await submit(stores)
        await sandboxes.running.wait()
        await stores.queue.pause(job.id)  # in the database only
        box = sandboxes.boxes[0]
        deadline = time.monotonic() + 5
        while not box.frozen:
            assert time.monotonic() < deadline, "the worker did not freeze its job"
            await asyncio.sleep(0.02)
        await stores.queue.resume(job.id)
        while box.frozen:
            assert time.monotonic() < deadline, "the worker did not thaw its job"
            await asyncio.sleep(0.02)
        sandboxes.go_on.set()
        await until(stores, job.id, [Status.FINISHED])
        assert not await jobs.pause_here(job.id, True)  # it runs here no more


async def test_a_box_opened_while_the_job_is_paused_is_frozen_at_once(stores: Stores) -> None:
    sandboxes, done = GatedSandboxes(echo), list[Submission]()
    async with runner(stores, sandboxes, done) as jobs:
        job = await submit(stores)
        await sandboxes.waiting.wait()  # claimed, its box not open yet
        await stores.queue.pause(job.id)
        assert await jobs.pause_here(job.id, True)
        sandboxes.gate.set()
        await asyncio.sleep(0.2)
        assert sandboxes.boxes[0].frozen and sandboxes.boxes[0].runs == []
        await stores.queue.resume(job.id)
        await jobs.pause_here(job.id, False)
        assert (await until(stores, job.id, [Status.FINISHED])).result is not None


async def test_a_paused_job_is_given_back_at_shutdown_at_once_and_stays_paused(
    stores: Stores,
) -> None:
    sandboxes, done = Steps(), list[Submission]()
    async with runner(stores, sandboxes, done) as jobs:
        job = await submit(stores)
        await sandboxes.running.wait()
        await stores.queue.pause(job.id)
        await jobs.pause_here(job.id, True)
        began = time.monotonic()
        await jobs.stop(30)  # nothing to drain: a frozen job would never end
        assert time.monotonic() - began < 5
    back = await now(stores, job.id)
    assert (back.status, back.claimed_by) == (Status.PAUSED, None)
    assert (await kinds(stores, job.id))[-1] == "released"
    assert sandboxes.boxes[0].closed
    sandboxes.go_on.set()
    async with runner(stores, sandboxes, done):  # the restarted service
        await asyncio.sleep(0.2)
        assert (await now(stores, job.id)).status == Status.PAUSED  # not run meanwhile
        await stores.queue.resume(job.id)
        finished = await until(stores, job.id, [Status.FINISHED])
    assert finished.attempts == 2 and len(sandboxes.boxes) == 2  # run again from its start


async def test_a_frozen_job_paused_too_long_is_cancelled_and_its_boxes_go(stores: Stores) -> None:
    sandboxes, done = Steps(), list[Submission]()
    async with runner(stores, sandboxes, done, max_pause_s=0.4) as jobs:
        job = await submit(stores)
        await sandboxes.running.wait()
        await stores.queue.pause(job.id)
        await jobs.pause_here(job.id, True)
        cancelled = await until(stores, job.id, [Status.CANCELLED])
        deadline = time.monotonic() + 5
        while not sandboxes.boxes[0].closed:
            assert time.monotonic() < deadline
            await asyncio.sleep(0.02)
    assert "CODEEXEC_MAX_PAUSE_S" in (await stores.events.events(job.id))[-1].data["reason"]
    assert cancelled.result is None and done == []


async def test_cancelling_a_frozen_job_removes_its_boxes(stores: Stores) -> None:
    sandboxes, done = Steps(), list[Submission]()
    async with runner(stores, sandboxes, done) as jobs:
        job = await submit(stores)
        await sandboxes.running.wait()
        await stores.queue.pause(job.id)
        await jobs.pause_here(job.id, True)
        await stores.queue.request_cancel(job.id)
        assert jobs.cancel_here(job.id)
        await until(stores, job.id, [Status.CANCELLED])
    assert sandboxes.boxes[0].closed


# -- time ----------------------------------------------------------------------------------


async def test_every_box_of_a_job_is_frozen_and_thawed_together() -> None:
    fake = FakeSandboxes(echo)
    freezer = Freezer()
    FREEZER.set(freezer)
    language = LANGUAGES["python"]
    async with fake.open(language, 64, 4) as submission, fake.open(language, 64, 4) as checker:
        assert await freezer.set(True) and not await freezer.set(True)
        assert submission.frozen and checker.frozen
        await asyncio.sleep(0.05)
        assert freezer.frozen_s() >= 0.05
        assert await freezer.set(False)
        assert not submission.frozen and not checker.frozen
    outside = FakeSandboxes(echo)._box(language, 64, 4)
    async with enlisted(outside):
        pass  # enlisted and forgotten
    await freezer.set(True)
    assert not outside.frozen


async def _expires_after(within: float, frozen_for: float, held_for: float = 0.0) -> float:
    loop = asyncio.get_running_loop()
    began = loop.time()
    try:
        async with asyncio.timeout(None) as timeout:
            deadline = Deadline(timeout, within)
            if held_for:
                deadline.hold()
                await asyncio.sleep(held_for)
                deadline.release()
            deadline.freeze()
            await asyncio.sleep(frozen_for)
            deadline.thaw()
            await asyncio.sleep(10)
    except TimeoutError:
        return loop.time() - began
    raise AssertionError("never expired")


async def test_the_services_deadline_waits_while_the_box_is_frozen() -> None:
    assert 0.5 <= await _expires_after(0.2, 0.3) < 0.8  # 0.2 s of its own + 0.3 frozen
    # Frozen past the whole deadline: it does not fire while frozen.
    assert 0.6 <= await _expires_after(0.1, 0.5) < 0.9
    # Held by the output sink, then frozen: both are added.
    assert 0.55 <= await _expires_after(0.2, 0.2, held_for=0.15) < 0.9


def test_the_runner_counts_a_stall_not_its_own_polling() -> None:
    assert stalled(10.0, 10.02, 0.02) == 0.0  # woke when it asked
    assert stalled(10.0, 10.0 + 0.02 + STALL_S / 2, 0.02) == 0.0  # late, not stalled
    assert stalled(10.0, 15.02, 0.02) == 5.0  # frozen 5 s
    # A throttled CFS period (100 ms at most) is never taken for a pause.
    assert STALL_S > 0.1


async def test_a_box_that_leaves_its_job_as_the_pause_begins_is_not_frozen() -> None:
    # A reused container goes back to the pool the moment its submission's block ends.
    # A pause that had already listed the job's boxes must not freeze it afterwards: in
    # the pool nobody would thaw it, its reset would wait for a thaw for ever (and the
    # pool's shutdown with it).
    freezer = Freezer()
    FREEZER.set(freezer)
    box = FakeSandboxes(echo)._box(LANGUAGES["python"], 64, 4)
    async with enlisted(box):
        pausing = asyncio.create_task(freezer.set(True))
        await asyncio.sleep(0)  # the pause lists the boxes; their freezes are scheduled
    await pausing  # the block has ended (the box given back) before they ran
    assert not box.frozen and box.freezes == 0
    assert await freezer.set(False)
