"""Job workers: claim queued jobs from the database and judge them on the shared path.

Each worker first takes an execution slot from the same ``Admission`` that ``/exec``
uses (so both share the concurrency limit, first come first served), then claims the
oldest queued job under a lease, and renews the lease while it judges. A cancel request
is seen at once when the job runs in this process, else at the next lease renewal; the
job's sandbox is then removed like any other. At shutdown no new job is claimed, running
ones get the drain timeout to finish, and those still running are put back in the queue.
At start-up the jobs this instance held when it died, and any job whose lease ran out,
are queued again: every job finishes exactly once. A job whose language is being
prepared here (its image being built) goes back to the queue, and jobs of the languages
being prepared are not claimed until they are ready: no worker nor slot waits for a build.

A paused job (``store/queue.py``) keeps its worker, slot and lease: the worker freezes
every sandbox of the job (``sandbox/freeze.py``) when it sees the status, at once when
the pause was asked of this process, else within CODEEXEC_JOB_POLL_S (the worker looks
at its job that often), and thaws them when it is resumed. At shutdown a paused job is
given back at once, still paused. The reaper also cancels jobs paused for longer than
CODEEXEC_MAX_PAUSE_S.

A job's task logs with its submission id and, when it was submitted to this process,
the id of the request that submitted it (``remember_request``), so a ``?wait=true``
request's lines and its job's lines share one request id.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import logging
import time
from collections.abc import Callable, Collection
from typing import Any

from cachetools import LRUCache

from codeexec.config import Settings
from codeexec.intake import Intake, NotReady, Rejected
from codeexec.jobs.notifier import Notifier
from codeexec.jobs.outcome import failure, outcome_of
from codeexec.judge.admission import Admission
from codeexec.judge.judge import Judge
from codeexec.judge.pipeline import judge_program
from codeexec.logs import REQUEST_ID, SUBMISSION_ID, event
from codeexec.model import Outcome, Status, Submission
from codeexec.observe.metrics import Metrics
from codeexec.sandbox.api import SandboxError
from codeexec.sandbox.freeze import FREEZER, Freezer
from codeexec.store.events import EventLog
from codeexec.store.queue import JobQueue

log = logging.getLogger(__name__)
_REAPER = "job-reaper"


class JobRunner:
    def __init__(
        self,
        settings: Settings,
        queue: JobQueue,
        events: EventLog,
        intake: Intake,
        judge: Judge,
        admission: Admission,
        notifier: Notifier,
        on_done: Callable[[Submission], None],
        preparing: Callable[[], Collection[str]] = frozenset,
        metrics: Metrics | None = None,
    ) -> None:
        self._settings = settings
        self._queue = queue
        self._events = events
        self._intake = intake
        self._judge = judge
        self._admission = admission
        self._notifier = notifier
        self._on_done = on_done
        self._preparing = preparing  # languages whose jobs are left queued for now
        self._metrics = metrics or Metrics()
        self._instance = settings.instance_name
        self._wake = asyncio.Event()
        self._stopping = False
        self._workers: list[asyncio.Task[None]] = []
        self._running: dict[str, asyncio.Task[None]] = {}
        self._cancel_requested: set[str] = set()
        self._freezers: dict[str, Freezer] = {}  # of the jobs running here
        # Submission id -> the request that submitted it here; bounded, as a job taken
        # by another process is never claimed here to clear its entry.
        self._origins: LRUCache[str, str] = LRUCache(max(64, settings.jobs.job_queue_size))

    async def start(self) -> None:
        requeued = await self._queue.requeue_abandoned(self._instance)
        if requeued:
            log.warning("queued again %d job(s) whose worker was lost", len(requeued))
        self._workers = [
            asyncio.create_task(self._work(), name=f"job-worker-{i}")
            for i in range(self._settings.workers)
        ]
        self._workers.append(asyncio.create_task(self._reap(), name=_REAPER))

    def wake(self) -> None:
        self._wake.set()

    def remember_request(self, sid: str, request_id: str | None) -> None:
        """The request that submitted job ``sid``: its lines will carry the same id."""
        if request_id is not None:
            self._origins[sid] = request_id

    def _context_of(self, job: Submission) -> contextvars.Context:
        """The logging context of ``job``'s task (the worker's has neither id)."""
        context = contextvars.copy_context()
        context.run(SUBMISSION_ID.set, job.id)
        context.run(REQUEST_ID.set, self._origins.pop(job.id, None))
        return context

    def stats(self) -> dict[str, int]:
        """Workers in this process and the jobs they run now."""
        return {"workers": self._settings.workers, "running_here": len(self._running)}

    def workers_alive(self) -> int:
        """Job workers still looping (a worker that died would no longer claim jobs)."""
        return sum(1 for w in self._workers if not w.done() and w.get_name() != _REAPER)

    def cancel_here(self, sid: str) -> bool:
        """Cancel the job now if this process runs it."""
        task = self._running.get(sid)
        if task is None:
            return False
        self._cancel_requested.add(sid)
        task.cancel()
        return True

    async def pause_here(self, sid: str, paused: bool) -> bool:
        """Freeze (or thaw) the job now if this process runs it; False if it does not."""
        freezer = self._freezers.get(sid)
        if freezer is None:
            return False
        if await freezer.set(paused):
            event(log, "submission.paused" if paused else "submission.resumed", submission_id=sid)
        return True

    async def stop(self, drain_s: float) -> None:
        self._stopping = True
        self._wake.set()
        for sid, task in list(self._running.items()):
            freezer = self._freezers.get(sid)
            if freezer is not None and freezer.paused:
                task.cancel()  # paused: given back now, still paused (nothing to drain)
        running = list(self._running.values())
        if running:
            log.info("waiting up to %.0f s for %d running job(s)", drain_s, len(running))
            _, late = await asyncio.wait(running, timeout=drain_s)
            for task in late:
                task.cancel()  # each puts its job back in the queue
            if late:
                await asyncio.wait(late)
        for worker in self._workers:
            worker.cancel()
        await asyncio.gather(*self._workers, return_exceptions=True)

    # -- the loop ----------------------------------------------------------------------

    async def _idle(self) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wake.wait(), self._settings.jobs.job_poll_s)

    async def _work(self) -> None:
        while not self._stopping:
            self._wake.clear()  # before looking: a job submitted from now on wakes us
            try:
                if not await self._queue.has_queued() or not await self._work_once():
                    await self._idle()  # nothing to do, or another worker was quicker
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("job worker error; continuing")
                await asyncio.sleep(self._settings.jobs.job_poll_s)

    async def _work_once(self) -> bool:
        """Take a slot, claim a job and judge it; False if there was none to claim."""
        async with self._admission.slot(bounded=False):
            if self._stopping:
                return False
            job = await self._queue.claim(
                self._instance,
                self._settings.jobs.job_lease_s,
                skip=self._preparing(),
                name=self._settings.worker,
            )
            if job is None:
                return False
            if job.started_at is not None:  # from submission to this claim, requeued or not
                self._metrics.waited("jobs", (job.started_at - job.created_at).total_seconds())
            task = asyncio.create_task(
                self._run(job), name=f"job-{job.id}", context=self._context_of(job)
            )
            self._running[job.id] = task
            try:
                await asyncio.wait([task])  # the job task ends on its own
            finally:
                self._running.pop(job.id, None)
                self._cancel_requested.discard(job.id)
            return True

    async def _reap(self) -> None:
        """Queue again jobs whose worker (in any process) stopped renewing its lease, and
        cancel jobs paused for too long."""
        jobs = self._settings.jobs
        while True:
            await asyncio.sleep(min(jobs.job_lease_s, jobs.max_pause_s) / 2)
            try:
                requeued = await self._queue.requeue_abandoned()
                expired = await self._queue.expire_pauses(jobs.max_pause_s)
            except Exception:
                log.exception("could not look for abandoned jobs")
                continue
            if requeued:
                log.warning("queued again %d job(s) whose lease ran out", len(requeued))
                self.wake()
            for sid in expired:
                event(log, "submission.cancelled", submission_id=sid, reason="paused too long")
                self.cancel_here(sid)
                self._notifier.notify(sid)

    # -- one job -----------------------------------------------------------------------

    async def _run(self, job: Submission) -> None:
        self._notifier.notify(job.id)
        me = asyncio.current_task()
        assert me is not None
        freezer = self._freezers[job.id] = Freezer()
        FREEZER.set(freezer)  # in this task's context: the boxes it opens are the job's
        heartbeat = asyncio.create_task(self._heartbeat(job.id, me, freezer))
        try:
            outcome = await self._judge_job(job)
        except asyncio.CancelledError:
            heartbeat.cancel()
            if job.id in self._cancel_requested:
                event(log, "submission.cancelled")
                await asyncio.shield(self._queue.mark_cancelled(job.id, self._instance))
            else:
                event(log, "submission.requeued", reason="service stopping")
                await asyncio.shield(
                    self._queue.release(job.id, self._instance, "service stopping")
                )
            self._notifier.notify(job.id)
            return
        except NotReady as exc:  # queued again; not claimed here until it is ready
            heartbeat.cancel()
            event(log, "submission.requeued", reason=str(exc))
            await asyncio.shield(
                self._queue.release(job.id, self._instance, "its language is being prepared")
            )
            self._notifier.notify(job.id)
            return
        except Exception as exc:
            log.exception("job %s failed", job.id)
            outcome = failure(f"internal error: {type(exc).__name__}")
        finally:
            heartbeat.cancel()
            self._freezers.pop(job.id, None)
        if outcome.status != Status.FINISHED:
            event(log, "submission.failed", logging.WARNING, error=outcome.error)
        done = await self._queue.finish(job.id, self._instance, outcome)
        if done is not None:
            self._on_done(done)
        self._notifier.notify(job.id)

    async def _heartbeat(self, sid: str, task: asyncio.Task[Any], freezer: Freezer) -> None:
        """Renew the job's lease every third of it, and look every CODEEXEC_JOB_POLL_S
        whether it was cancelled or paused (or resumed) meanwhile, by any process."""
        lease = self._settings.jobs.job_lease_s
        loop = asyncio.get_running_loop()
        renewed = loop.time()
        while True:
            await asyncio.sleep(min(lease / 3, self._settings.jobs.job_poll_s))
            try:
                if loop.time() - renewed >= lease / 3:
                    await self._queue.renew(sid, self._instance, lease)
                    renewed = loop.time()
                asked = time.monotonic()
                claim = await self._queue.look(sid, self._instance)
            except Exception:
                log.exception("could not renew the lease of job %s", sid)
                continue
            if claim.cancel or not claim.ours:
                self._cancel_requested.add(sid)
                task.cancel()
                return
            # A change made here meanwhile (pause_here) is newer than what was read.
            if freezer.changed_at < asked and await freezer.set(claim.paused):
                event(log, "submission.paused" if claim.paused else "submission.resumed")

    async def _judge_job(self, job: Submission) -> Outcome:
        try:
            work = await self._intake.resume(job)
        except Rejected as exc:
            return failure(exc.reason, exc.problem_version)

        async def progress(kind: str, data: dict[str, Any]) -> None:
            await self._events.add(job.id, kind, data)
            self._notifier.notify(job.id)

        try:
            judgement = await judge_program(self._judge, work, progress)
        except SandboxError as exc:
            log.error("sandbox failure judging job %s: %s", job.id, exc)
            return failure("sandbox failure (not caused by the submission)")
        return outcome_of(work.snapshot, judgement)
