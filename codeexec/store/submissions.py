"""Asynchronous submissions (jobs) and their event logs, in the database from the moment
they are accepted.

Workers claim jobs with a lease: ``SELECT ... FOR UPDATE SKIP LOCKED`` on MySQL/MariaDB
(so several service processes share one database without double execution; SQLite has
one writer at a time and the guarded ``UPDATE ... WHERE status = 'queued'`` decides
there). A running job's lease is renewed while it runs; a job whose lease ran out (its
process died) is queued again, as are the jobs a restarted instance held.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, delete, func, insert, or_, select, update
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from codeexec.model.submission import TERMINAL, Event, Outcome, Status, Submission
from codeexec.store.keys import utcnow
from codeexec.store.results import result_columns, result_of
from codeexec.store.schema import submission_events, submissions

SORTS = {
    "created_at": (submissions.c.created_at, False),
    "-created_at": (submissions.c.created_at, True),
    "finished_at": (submissions.c.finished_at, False),
    "-finished_at": (submissions.c.finished_at, True),
}
_RETRIES = 5


@dataclass(frozen=True)
class SubmissionFilter:
    status: str | None = None
    problem_id: str | None = None
    language: str | None = None
    owner: str | None = None
    verdict: str | None = None
    created_after: datetime | None = None
    created_before: datetime | None = None
    ids: Sequence[str] | None = None


def _held(sid: str, worker: str) -> Any:
    """The job is running under ``worker``'s claim: only then may it change it."""
    return and_(
        submissions.c.id == sid,
        submissions.c.claimed_by == worker,
        submissions.c.status == Status.RUNNING,
    )


def _submission(row: Any) -> Submission:
    return Submission(
        id=row.id,
        owner=row.owner,
        problem_id=row.problem_id,
        language=row.language,
        files=tuple((str(n), str(t)) for n, t in json.loads(row.files)),
        status=Status(row.status),
        created_at=row.created_at,
        problem_version=row.problem_version,
        result=result_of(row) if row.status == Status.FINISHED else None,
        error=row.error,
        callback_url=row.callback_url,
        webhook_state=row.webhook_state,
        rerun_of=row.rerun_of,
        started_at=row.started_at,
        finished_at=row.finished_at,
        attempts=int(row.attempts),
        cancel_requested=bool(row.cancel_requested),
        claimed_by=row.claimed_by,
        accepted_version=row.accepted_version,
        screening_error=row.screening_error,
    )


class SubmissionStore:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    # -- accepting and reading ---------------------------------------------------

    async def create(
        self,
        owner: str | None,
        problem_id: str,
        language: str,
        files: Sequence[tuple[str, str]],
        callback_url: str | None = None,
        rerun_of: str | None = None,
        accepted_version: int | None = None,
        screening_error: str | None = None,
    ) -> Submission:
        now = utcnow()
        sid = uuid.uuid4().hex
        async with self._engine.begin() as conn:
            await conn.execute(
                insert(submissions).values(
                    id=sid,
                    owner=owner,
                    problem_id=problem_id,
                    language=language,
                    files=json.dumps([list(f) for f in files]),
                    status=Status.QUEUED,
                    callback_url=callback_url,
                    webhook_state="pending" if callback_url else None,
                    rerun_of=rerun_of,
                    created_at=now,
                    accepted_version=accepted_version,
                    screening_error=screening_error,
                )
            )
            data = {"rerun_of": rerun_of} if rerun_of else {}
            await self._add_event(conn, sid, "queued", data)
        found = await self.get(sid)
        assert found is not None
        return found

    async def get(self, sid: str) -> Submission | None:
        async with self._engine.connect() as conn:
            row = (await conn.execute(select(submissions).where(submissions.c.id == sid))).first()
        return _submission(row) if row is not None else None

    async def find(
        self, where: SubmissionFilter, sort: str, limit: int, offset: int
    ) -> tuple[list[Submission], int]:
        column, descending = SORTS[sort]
        conditions = []
        c = submissions.c
        for value, col in (
            (where.status, c.status),
            (where.problem_id, c.problem_id),
            (where.language, c.language),
            (where.owner, c.owner),
            (where.verdict, c.verdict),
        ):
            if value is not None:
                conditions.append(col == value)
        if where.created_after is not None:
            conditions.append(c.created_at >= where.created_after)
        if where.created_before is not None:
            conditions.append(c.created_at < where.created_before)
        if where.ids is not None:
            conditions.append(c.id.in_(list(where.ids)))
        condition = and_(*conditions) if conditions else None
        order: list[Any] = [column.desc() if descending else column.asc(), c.id.asc()]
        if column is c.finished_at:  # unfinished jobs last, whichever the direction
            order.insert(0, c.finished_at.is_(None))
        query = select(submissions).order_by(*order).limit(limit).offset(offset)
        count = select(func.count()).select_from(submissions)
        if condition is not None:
            query, count = query.where(condition), count.where(condition)
        async with self._engine.connect() as conn:
            total = int((await conn.execute(count)).scalar_one())
            rows = (await conn.execute(query)).all()
        return [_submission(r) for r in rows], total

    async def count_queued(self) -> int:
        query = select(func.count()).where(submissions.c.status == Status.QUEUED)
        async with self._engine.connect() as conn:
            return int((await conn.execute(query)).scalar_one())

    async def has_queued(self) -> bool:
        query = select(submissions.c.id).where(submissions.c.status == Status.QUEUED).limit(1)
        async with self._engine.connect() as conn:
            return (await conn.execute(query)).first() is not None

    # -- the worker's side ------------------------------------------------------------

    async def claim(self, worker: str, lease_s: float) -> Submission | None:
        """The oldest queued job, now running under ``worker``'s lease (None if none)."""
        for attempt in range(_RETRIES):
            try:
                sid = await self._claim_once(worker, lease_s)
            except OperationalError:  # SQLite: another writer won the race; try again
                await asyncio.sleep(0.05 * (attempt + 1))
                continue
            return await self.get(sid) if sid else None
        return None

    async def _claim_once(self, worker: str, lease_s: float) -> str | None:
        now = utcnow()
        async with self._engine.begin() as conn:
            pick = (
                select(submissions.c.id)
                .where(submissions.c.status == Status.QUEUED)
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
                    lease_until=now + timedelta(seconds=lease_s),
                    started_at=now,
                    attempts=submissions.c.attempts + 1,
                )
            )
            if taken.rowcount != 1:
                return None
            await self._add_event(conn, row.id, "started", {"worker": worker})
            return str(row.id)

    async def renew(self, sid: str, worker: str, lease_s: float) -> tuple[bool, bool]:
        """Extend the lease: (still ours, cancellation requested)."""
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
        ours = row.status == Status.RUNNING and row.claimed_by == worker
        return ours, bool(row.cancel_requested)

    async def finish(self, sid: str, worker: str, outcome: Outcome) -> bool:
        """Record the outcome if the job is still ours (not cancelled or re-claimed)."""
        values: dict[str, Any] = {
            "status": outcome.status,
            "problem_version": outcome.problem_version,
            "error": outcome.error,
            "finished_at": utcnow(),
            "lease_until": None,
        }
        if outcome.result is not None:
            values |= result_columns(outcome.result)
        async with self._engine.begin() as conn:
            done = await conn.execute(
                update(submissions).where(_held(sid, worker)).values(**values)
            )
            if done.rowcount != 1:
                return False
            verdict = outcome.result.verdict.value if outcome.result else None
            data: dict[str, Any] = {"status": outcome.status, "verdict": verdict}
            if outcome.error:
                data["error"] = outcome.error
            await self._add_event(conn, sid, outcome.status, data)
        return True

    async def release(self, sid: str, worker: str, why: str) -> bool:
        """Give a running job back to the queue (shutdown before it finished)."""
        async with self._engine.begin() as conn:
            back = await conn.execute(
                update(submissions)
                .where(_held(sid, worker))
                .values(status=Status.QUEUED, claimed_by=None, lease_until=None, started_at=None)
            )
            if back.rowcount == 1:
                await self._add_event(conn, sid, "requeued", {"reason": why})
            return bool(back.rowcount)

    async def requeue_abandoned(self, held_by: str | None = None) -> list[str]:
        """Queue again the jobs whose lease ran out, and those ``held_by`` held before a
        restart (it is running nothing now). Returns their ids."""
        abandoned = submissions.c.lease_until < utcnow()
        if held_by is not None:
            abandoned = or_(submissions.c.claimed_by == held_by, abandoned)
        async with self._engine.begin() as conn:
            rows = (
                await conn.execute(
                    select(submissions.c.id, submissions.c.cancel_requested)
                    .where(submissions.c.status == Status.RUNNING, abandoned)
                    .with_for_update(skip_locked=True)
                )
            ).all()
            for row in rows:
                if row.cancel_requested:
                    await self._set_cancelled(conn, row.id, "cancelled while its worker was gone")
                    continue
                await conn.execute(
                    update(submissions)
                    .where(submissions.c.id == row.id, submissions.c.status == Status.RUNNING)
                    .values(
                        status=Status.QUEUED, claimed_by=None, lease_until=None, started_at=None
                    )
                )
                await self._add_event(conn, row.id, "requeued", {"reason": "worker lost"})
        return [str(r.id) for r in rows]

    # -- cancel, delete ------------------------------------------------------------------

    async def request_cancel(self, sid: str) -> Submission | None:
        """A queued job is cancelled at once; a running one is flagged for its worker."""
        async with self._engine.begin() as conn:
            row = (
                await conn.execute(
                    select(submissions.c.status).where(submissions.c.id == sid).with_for_update()
                )
            ).first()
            if row is None:
                return None
            if row.status == Status.QUEUED:
                await self._set_cancelled(conn, sid, "cancelled before it ran")
            elif row.status == Status.RUNNING:
                await conn.execute(
                    update(submissions).where(submissions.c.id == sid).values(cancel_requested=True)
                )
        return await self.get(sid)

    async def mark_cancelled(self, sid: str, worker: str) -> None:
        async with self._engine.begin() as conn:
            row = (
                await conn.execute(
                    select(submissions.c.status, submissions.c.claimed_by).where(
                        submissions.c.id == sid
                    )
                )
            ).first()
            if row is not None and row.status == Status.RUNNING and row.claimed_by == worker:
                await self._set_cancelled(conn, sid, "cancelled while running")

    async def _set_cancelled(self, conn: AsyncConnection, sid: str, reason: str) -> None:
        await conn.execute(
            update(submissions)
            .where(submissions.c.id == sid)
            .values(status=Status.CANCELLED, finished_at=utcnow(), lease_until=None)
        )
        await self._add_event(conn, sid, Status.CANCELLED, {"reason": reason})

    async def delete(self, sid: str) -> bool:
        async with self._engine.begin() as conn:
            await conn.execute(
                delete(submission_events).where(submission_events.c.submission_id == sid)
            )
            gone = await conn.execute(delete(submissions).where(submissions.c.id == sid))
        return bool(gone.rowcount)

    # -- events and webhooks ---------------------------------------------------------------

    async def add_event(self, sid: str, kind: str, data: dict[str, Any]) -> None:
        for _ in range(_RETRIES):
            try:
                async with self._engine.begin() as conn:
                    await self._add_event(conn, sid, kind, data)
                return
            except IntegrityError:  # a concurrent event took the number; take the next
                continue
            except OperationalError:
                await asyncio.sleep(0.05)

    @staticmethod
    async def _add_event(conn: AsyncConnection, sid: str, kind: str, data: dict[str, Any]) -> None:
        last = (
            await conn.execute(
                select(func.max(submission_events.c.seq)).where(
                    submission_events.c.submission_id == sid
                )
            )
        ).scalar_one_or_none()
        await conn.execute(
            insert(submission_events).values(
                submission_id=sid,
                seq=(last or 0) + 1,
                kind=kind,
                data=json.dumps(data, ensure_ascii=False) if data else None,
                created_at=utcnow(),
            )
        )

    async def events(self, sid: str, after: int = 0) -> list[Event]:
        query = (
            select(submission_events)
            .where(submission_events.c.submission_id == sid, submission_events.c.seq > after)
            .order_by(submission_events.c.seq)
        )
        async with self._engine.connect() as conn:
            rows = (await conn.execute(query)).all()
        return [
            Event(int(r.seq), r.kind, json.loads(r.data) if r.data else {}, r.created_at)
            for r in rows
        ]

    async def set_webhook_state(self, sid: str, state: str) -> None:
        async with self._engine.begin() as conn:
            await conn.execute(
                update(submissions).where(submissions.c.id == sid).values(webhook_state=state)
            )

    async def pending_webhooks(self, worker: str) -> list[Submission]:
        """Finished jobs of ``worker`` whose callback was not delivered yet."""
        query = select(submissions).where(
            submissions.c.webhook_state == "pending",
            submissions.c.claimed_by == worker,
            submissions.c.status.in_(list(TERMINAL)),
        )
        async with self._engine.connect() as conn:
            rows = (await conn.execute(query)).all()
        return [_submission(r) for r in rows]
