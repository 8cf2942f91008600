"""One service process's job workers for the queue benchmark, with judging faked.

Mirrors ``codeexec.jobs.runner.JobRunner``'s loop on the same ``JobQueue`` methods:
look (``has_queued``), ``claim`` under a lease, renew it every lease/3 while "judging"
(a sleep of the configured fake duration, by default none), ``finish``; an empty claim
idles until woken or ``job_poll_s``; a reaper queues abandoned jobs again every lease/2
and wakes the workers. Admission, intake and the judge are left out: only the queue's
own cost is measured.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Collection
from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncEngine

from codeexec.model import Outcome, Result, Status, TestReport, Verdict
from codeexec.store.queue import JobQueue

# What a judged job stores: an accepted verdict on one hidden test (result columns written).
DONE = Outcome(
    status=Status.FINISHED,
    result=Result(
        problem_version=1,
        verdict=Verdict.AC,
        passed=True,
        compile_output="",
        tests=(
            TestReport(
                position=1,
                hidden=True,
                verdict=Verdict.AC,
                name=None,
                time_ms=1,
                wall_ms=1,
                memory_kb=1024,
                exit_code=0,
                signal=None,
                shown=None,
            ),
        ),
    ),
)


@dataclass
class Tally:
    """What one host's workers did (times from ``time.time()``: comparable across
    processes on one machine)."""

    claim_s: list[float] = field(default_factory=list)  # successful claims' latency
    empty_claims: int = 0  # claims that found nothing while jobs were queued
    finished: list[str] = field(default_factory=list)  # ids whose finish was accepted
    finished_at: dict[str, float] = field(default_factory=dict)
    first_claim: float | None = None
    last_finish: float | None = None
    requeued: list[tuple[float, list[str]]] = field(default_factory=list)  # reaper's finds
    errors: list[str] = field(default_factory=list)  # store calls that raised


class Host:
    """``workers`` job workers under one instance name, as one service process runs them.
    ``drain``: a worker stops when nothing is queued (a throughput run); otherwise it
    idles like the runner's, and a reaper runs (lease recovery)."""

    def __init__(
        self,
        engine: AsyncEngine,
        instance: str,
        workers: int,
        lease_s: float,
        poll_s: float,
        judge_s: float = 0.0,
        drain: bool = True,
    ) -> None:
        self.queue = JobQueue(engine)
        self.instance = instance
        self.workers = workers
        self.lease_s = lease_s
        self.poll_s = poll_s
        self.judge_s = judge_s
        self.drain = drain
        self.tally = Tally()
        self.gate = asyncio.Event()  # workers claim only while it is set
        self.gate.set()
        self._wake = asyncio.Event()
        self._progress = asyncio.Event()  # set at each accepted finish

    async def finished(self, ids: Collection[str]) -> None:
        """Return once every job of ``ids`` has been finished here."""
        while not set(ids) <= self.tally.finished_at.keys():
            self._progress.clear()
            await self._progress.wait()

    async def run(self) -> None:
        """Run the workers (and the reaper unless draining) until they end or are
        cancelled."""
        tasks = [asyncio.create_task(self._work()) for _ in range(self.workers)]
        if not self.drain:
            tasks.append(asyncio.create_task(self._reap()))
        try:
            await asyncio.gather(*tasks)
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

    async def _idle(self) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wake.wait(), self.poll_s)

    async def _work(self) -> None:
        while True:
            await self.gate.wait()
            self._wake.clear()
            try:
                if not await self.queue.has_queued():
                    if self.drain:
                        return
                    await self._idle()
                elif not await self._work_once():
                    await self._idle()  # another worker was quicker
            except Exception as exc:  # as the runner: note it, carry on
                self.tally.errors.append(f"{type(exc).__name__}: {str(exc).splitlines()[0]}")
                await asyncio.sleep(self.poll_s)

    async def _work_once(self) -> bool:
        started = time.time()
        if self.tally.first_claim is None:
            self.tally.first_claim = started
        job = await self.queue.claim(self.instance, self.lease_s)
        if job is None:
            self.tally.empty_claims += 1
            return False
        self.tally.claim_s.append(time.time() - started)
        heartbeat = asyncio.create_task(self._heartbeat(job.id))
        try:
            if self.judge_s:
                await asyncio.sleep(self.judge_s)
        finally:
            heartbeat.cancel()
        if await self.queue.finish(job.id, self.instance, DONE) is not None:
            now = time.time()
            self.tally.finished.append(job.id)
            self.tally.finished_at[job.id] = now
            self.tally.last_finish = now
            self._progress.set()
        return True

    async def _heartbeat(self, sid: str) -> None:
        while True:
            await asyncio.sleep(self.lease_s / 3)
            await self.queue.renew(sid, self.instance, self.lease_s)

    async def _reap(self) -> None:
        while True:
            await asyncio.sleep(self.lease_s / 2)
            requeued = await self.queue.requeue_abandoned()
            if requeued:
                self.tally.requeued.append((time.time(), requeued))
                self._wake.set()
