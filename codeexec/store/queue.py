"""The job queue: workers claim queued jobs under a lease, renew it while they judge,
and record the outcome; cancel requests, jobs given back at shutdown, and jobs whose
worker was lost. Each change is written with its event in one transaction.

Workers claim jobs with a lease: ``SELECT ... FOR UPDATE SKIP LOCKED`` on MySQL/MariaDB
(so several service processes share one database without double execution; SQLite has
one writer at a time and the guarded ``UPDATE ... WHERE status = 'queued'`` decides
there). A running job's lease is renewed while it runs; a job whose lease ran out (its
process died) is queued again, as are the jobs a restarted instance held.

Pausing: a queued job becomes ``paused`` and no worker claims it; a running one becomes
``paused`` but stays claimed (its worker keeps the lease, renewing it, and freezes its
sandboxes when it sees the status). Resumed, a claimed job is ``running`` again and an
unclaimed one ``queued``. A paused job whose worker is lost (restart, lease run out)
stays paused but is released: its sandboxes are gone, so on resume it is queued and runs
from its start. One paused longer than CODEEXEC_MAX_PAUSE_S is cancelled.
"""

from __future__ import annotations

import asyncio
from collections.abc import Collection
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from codeexec.model.submission import Outcome, Status, Submission
from codeexec.store.events import RETRIES, write_event
from codeexec.store.keys import utcnow
from codeexec.store.results import result_columns
from codeexec.store.schema import submissions
from codeexec.store.submissions import read_submission

# A claimed job is running or, frozen by its worker, paused.
_CLAIMED = (Status.RUNNING, Status.PAUSED)
# A paused job no worker holds: resumed, it is queued.
_WAITING = or_(
    submissions.c.status == Status.QUEUED,
    and_(submissions.c.status == Status.PAUSED, submissions.c.claimed_by.is_(None)),
)


def _held(sid: str, worker: str) -> Any:
    """The job is running (or paused) under ``worker``'s claim: only then may it change it."""
    return and_(
        submissions.c.id == sid,
        submissions.c.claimed_by == worker,
        submissions.c.status.in_(_CLAIMED),
    )


@dataclass(frozen=True)
class Claim:
    """A claimed job as its worker sees it: still ``ours``, ``cancel`` requested,
    ``paused`` (its sandboxes are to be frozen)."""

    ours: bool
    cancel: bool
    paused: bool


async def _set_cancelled(conn: AsyncConnection, sid: str, reason: str) -> None:
    await conn.execute(
        update(submissions)
        .where(submissions.c.id == sid)
        .values(status=Status.CANCELLED, finished_at=utcnow(), lease_until=None, paused_at=None)
    )
    await write_event(conn, sid, Status.CANCELLED, {"reason": reason})


class JobQueue:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def _get(self, sid: str) -> Submission | None:
        async with self._engine.connect() as conn:
            return await read_submission(conn, sid)

    async def count_queued(self) -> int:
        """Jobs waiting for a worker, paused ones no worker holds included."""
        query = select(func.count()).where(_WAITING)
        async with self._engine.connect() as conn:
            return int((await conn.execute(query)).scalar_one())

    async def has_queued(self) -> bool:
        query = select(submissions.c.id).where(submissions.c.status == Status.QUEUED).limit(1)
        async with self._engine.connect() as conn:
            return (await conn.execute(query)).first() is not None

    # -- the worker's side ------------------------------------------------------------

    async def claim(
        self, worker: str, lease_s: float, skip: Collection[str] = (), name: str | None = None
    ) -> Submission | None:
        """The oldest queued job, now running under ``worker``'s lease (None if none);
        none of a language in ``skip``. ``name``: how the job shows who runs it (default
        ``worker``)."""
        for attempt in range(RETRIES):
            try:
                sid = await self._claim_once(worker, lease_s, skip, name or worker)
            except OperationalError:  # SQLite: another writer won the race; try again
                await asyncio.sleep(0.05 * (attempt + 1))
                continue
            return await self._get(sid) if sid else None
        return None

    async def _claim_once(
        self, worker: str, lease_s: float, skip: Collection[str], name: str
    ) -> str | None:
        now = utcnow()
        queued = submissions.c.status == Status.QUEUED
        if skip:
            queued = and_(queued, submissions.c.language.not_in(sorted(skip)))
        async with self._engine.begin() as conn:
            pick = (
                select(submissions.c.id)
                .where(queued)
                .order_by(submissions.c.created_at, submissions.c.id)
                .limit(1)
                .with_for_update(skip_locked=True)
            )
            row = (await conn.execute(pick)).first()
            if row is None:
                return None
            taken = await conn.execute(
                update(submissions)
                .where(submissions.c.id == row.id, submissions.c.status == Status.QUEUED)
                .values(
                    status=Status.RUNNING,
                    claimed_by=worker,
                    worker=name,
                    lease_until=now + timedelta(seconds=lease_s),
                    started_at=now,
                    attempts=submissions.c.attempts + 1,
                )
            )
            if taken.rowcount != 1:
                return None
            await write_event(conn, row.id, "started", {"worker": name})
            return str(row.id)

    async def renew(self, sid: str, worker: str, lease_s: float) -> tuple[bool, bool]:
        """Extend the lease (a paused job's too): (still ours, cancellation requested)."""
        async with self._engine.begin() as conn:
            await conn.execute(
                update(submissions)
                .where(_held(sid, worker))
                .values(lease_until=utcnow() + timedelta(seconds=lease_s))
            )
            row = (
                await conn.execute(
                    select(
                        submissions.c.status,
                        submissions.c.claimed_by,
                        submissions.c.cancel_requested,
                    ).where(submissions.c.id == sid)
                )
            ).first()
        if row is None:
            return False, True  # deleted meanwhile
        ours = row.status in _CLAIMED and row.claimed_by == worker
        return ours, bool(row.cancel_requested)

    async def look(self, sid: str, worker: str) -> Claim:
        """The job as ``worker``, which claimed it, should treat it now (read only)."""
        query = select(
            submissions.c.status, submissions.c.claimed_by, submissions.c.cancel_requested
        ).where(submissions.c.id == sid)
        async with self._engine.connect() as conn:
            row = (await conn.execute(query)).first()
        if row is None:
            return Claim(ours=False, cancel=True, paused=False)  # deleted meanwhile
        ours = row.status in _CLAIMED and row.claimed_by == worker
        return Claim(ours, bool(row.cancel_requested), row.status == Status.PAUSED)

    async def finish(self, sid: str, worker: str, outcome: Outcome) -> Submission | None:
        """Record the outcome if the job is still ours (not cancelled or re-claimed);
        the job as finished, or None if it was not ours any more. Retried like ``claim``
        when SQLite is busy past its timeout: a result lost here is judged again."""
        for attempt in range(RETRIES):
            try:
                return await self._finish_once(sid, worker, outcome)
            except OperationalError:  # SQLite: the write lock stayed taken; nothing written
                if attempt == RETRIES - 1:
                    raise
                await asyncio.sleep(0.05 * (attempt + 1))
        return None  # not reached

    async def _finish_once(self, sid: str, worker: str, outcome: Outcome) -> Submission | None:
        values: dict[str, Any] = {
            "status": outcome.status,
            "problem_version": outcome.problem_version,
            "error": outcome.error,
            "finished_at": utcnow(),
            "lease_until": None,
            "paused_at": None,  # paused just as it finished, before its worker froze it
        }
        if outcome.result is not None:
            values |= result_columns(outcome.result)
        async with self._engine.begin() as conn:
            done = await conn.execute(
                update(submissions).where(_held(sid, worker)).values(**values)
            )
            if done.rowcount != 1:
                return None
            verdict = outcome.result.verdict.value if outcome.result else None
            data: dict[str, Any] = {"status": outcome.status, "verdict": verdict}
            if outcome.error:
                data["error"] = outcome.error
            await write_event(conn, sid, outcome.status, data)
        return await self._get(sid)

    async def release(self, sid: str, worker: str, why: str) -> bool:
        """Give a running job back to the queue (shutdown before it finished); a paused
        one stays paused, unclaimed: resumed, it runs from its start."""
        async with self._engine.begin() as conn:
            row = (
                await conn.execute(
                    select(submissions.c.status).where(_held(sid, worker)).with_for_update()
                )
            ).first()
            if row is None:
                return False
            await _unclaim(conn, sid, row.status, why)
            return True

    async def requeue_abandoned(self, held_by: str | None = None) -> list[str]:
        """Queue again the jobs whose lease ran out, and those ``held_by`` held before a
        restart (it is running nothing now); paused ones stay paused, unclaimed. Returns
        their ids."""
        abandoned = submissions.c.lease_until < utcnow()
        if held_by is not None:
            abandoned = or_(submissions.c.claimed_by == held_by, abandoned)
        async with self._engine.begin() as conn:
            rows = (
                await conn.execute(
                    select(submissions.c.id, submissions.c.status, submissions.c.cancel_requested)
                    .where(
                        submissions.c.status.in_(_CLAIMED),
                        submissions.c.claimed_by.is_not(None),
                        abandoned,
                    )
                    .with_for_update(skip_locked=True)
                )
            ).all()
            for row in rows:
                if row.cancel_requested:
                    await _set_cancelled(conn, row.id, "cancelled while its worker was gone")
                    continue
                await _unclaim(conn, row.id, row.status, "worker lost")
        return [str(r.id) for r in rows]

    async def expire_pauses(self, max_s: float) -> list[str]:
        """Cancel the jobs paused for longer than ``max_s`` (a worker holding one sees
        it is no longer its own, and removes its sandboxes). Returns their ids."""
        since = utcnow() - timedelta(seconds=max_s)
        async with self._engine.begin() as conn:
            rows = (
                await conn.execute(
                    select(submissions.c.id)
                    .where(submissions.c.status == Status.PAUSED, submissions.c.paused_at < since)
                    .with_for_update(skip_locked=True)
                )
            ).all()
            for row in rows:
                reason = f"paused for longer than {max_s:g} s (CODEEXEC_MAX_PAUSE_S)"
                await _set_cancelled(conn, row.id, reason)
        return [str(r.id) for r in rows]

    # -- pausing ---------------------------------------------------------------------------

    async def pause(self, sid: str) -> Submission | None:
        """Hold a queued job back from workers, or have a running one's worker freeze
        it (it keeps the job and its lease); a paused or finished job is left as it is."""
        async with self._engine.begin() as conn:
            row = (
                await conn.execute(
                    select(submissions.c.status).where(submissions.c.id == sid).with_for_update()
                )
            ).first()
            if row is None:
                return None
            if row.status in (Status.QUEUED, Status.RUNNING):
                changed = await conn.execute(
                    update(submissions)
                    .where(submissions.c.id == sid, submissions.c.status == row.status)
                    .values(status=Status.PAUSED, paused_at=utcnow())
                )
                if changed.rowcount == 1:
                    await write_event(conn, sid, "paused", {"was": str(row.status)})
        return await self._get(sid)

    async def resume(self, sid: str) -> Submission | None:
        """A paused job runs on (its worker thaws it) or, held by no worker, is queued
        again (in its place: by submission time); any other job is left as it is."""
        async with self._engine.begin() as conn:
            row = (
                await conn.execute(
                    select(submissions.c.status, submissions.c.claimed_by, submissions.c.paused_at)
                    .where(submissions.c.id == sid)
                    .with_for_update()
                )
            ).first()
            if row is None:
                return None
            if row.status == Status.PAUSED:
                to = Status.QUEUED if row.claimed_by is None else Status.RUNNING
                changed = await conn.execute(
                    update(submissions)
                    .where(submissions.c.id == sid, submissions.c.status == Status.PAUSED)
                    .values(status=to, paused_at=None)
                )
                if changed.rowcount == 1:
                    held = (utcnow() - row.paused_at).total_seconds() if row.paused_at else 0.0
                    data = {"to": str(to), "paused_s": round(held, 3)}
                    await write_event(conn, sid, "resumed", data)
        return await self._get(sid)

    # -- cancelling ------------------------------------------------------------------------

    async def request_cancel(self, sid: str) -> Submission | None:
        """A queued job (or a paused one no worker holds) is cancelled at once; a running
        one (or a paused one, frozen) is flagged for its worker."""
        async with self._engine.begin() as conn:
            row = (
                await conn.execute(
                    select(submissions.c.status, submissions.c.claimed_by)
                    .where(submissions.c.id == sid)
                    .with_for_update()
                )
            ).first()
            if row is None:
                return None
            if row.status == Status.QUEUED:
                await _set_cancelled(conn, sid, "cancelled before it ran")
            elif row.status == Status.PAUSED and row.claimed_by is None:
                await _set_cancelled(conn, sid, "cancelled while paused")
            elif row.status in _CLAIMED:
                await conn.execute(
                    update(submissions).where(submissions.c.id == sid).values(cancel_requested=True)
                )
        return await self._get(sid)

    async def mark_cancelled(self, sid: str, worker: str) -> None:
        """The job ``worker`` ran was cancelled while it ran."""
        async with self._engine.begin() as conn:
            row = (
                await conn.execute(
                    select(submissions.c.status, submissions.c.claimed_by).where(
                        submissions.c.id == sid
                    )
                )
            ).first()
            if row is not None and row.status in _CLAIMED and row.claimed_by == worker:
                await _set_cancelled(conn, sid, "cancelled while running")


async def _unclaim(conn: AsyncConnection, sid: str, status: str, why: str) -> None:
    """A claimed job no worker holds any more: a running one is queued again, a paused
    one stays paused (resumed, it is queued and runs from its start)."""
    paused = status == Status.PAUSED
    await conn.execute(
        update(submissions)
        .where(submissions.c.id == sid, submissions.c.status == status)
        .values(
            status=Status.PAUSED if paused else Status.QUEUED,
            claimed_by=None,
            lease_until=None,
            started_at=None,
        )
    )
    await write_event(conn, sid, "released" if paused else "requeued", {"reason": why})
