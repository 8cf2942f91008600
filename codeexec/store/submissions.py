"""Submissions' records: a job as accepted (who, which problem, the files, what intake
found), and as it stands now, read one by one or filtered, sorted and paged.

What happens to a job after it is accepted lives next door: claiming, leases, outcomes
and cancelling in ``store/queue.py``, its event log in ``store/events.py``, callback
delivery state in ``store/outbox.py``.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, delete, func, insert, select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from codeexec.model import SCOPES, ProblemSnapshot, Scope
from codeexec.model.submission import Status, Submission
from codeexec.store.events import erase_events, write_event
from codeexec.store.inline import inline_json, inline_of
from codeexec.store.keys import utcnow
from codeexec.store.results import result_of
from codeexec.store.schema import submissions

SORTS = {
    "created_at": (submissions.c.created_at, False),
    "-created_at": (submissions.c.created_at, True),
    "finished_at": (submissions.c.finished_at, False),
    "-finished_at": (submissions.c.finished_at, True),
}


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
    door: str | None = None


def submission_of(row: Any) -> Submission:
    """A ``submissions`` row as the model's ``Submission``."""
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
        worker=row.worker,
        accepted_version=row.accepted_version,
        screening_error=row.screening_error,
        inline=inline_of(row.inline_problem) if row.inline_problem else None,
        door=row.door,
        door_data=json.loads(row.door_data) if row.door_data else None,
        scope=_scope(row.scope),
        paused_at=row.paused_at,
    )


def _scope(stored: str) -> Scope:
    for scope in SCOPES:
        if stored == scope:
            return scope
    raise ValueError(f"unknown scope {stored!r} in the database")


# Rows whose JSON (results, an ad-hoc run's inline problem) is larger than this are
# decoded in a thread: a run's stdin and kept output reach megabytes.
_DECODE_INLINE_BYTES = 256 * 1024


def _weight(row: Any) -> int:
    return len(row.results or "") + len(row.inline_problem or "") + len(row.files or "")


async def submissions_of(rows: Sequence[Any]) -> list[Submission]:
    """Rows as ``Submission``s, decoded off the event loop when they are large."""
    if sum(_weight(r) for r in rows) > _DECODE_INLINE_BYTES:
        return await asyncio.to_thread(lambda: [submission_of(r) for r in rows])
    return [submission_of(r) for r in rows]


async def read_submission(conn: AsyncConnection, sid: str) -> Submission | None:
    """The submission ``sid`` as ``conn`` sees it (in its transaction, if any)."""
    row = (await conn.execute(select(submissions).where(submissions.c.id == sid))).first()
    return (await submissions_of([row]))[0] if row is not None else None


class SubmissionStore:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

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
        inline: ProblemSnapshot | None = None,
        door: str | None = None,
        door_data: dict[str, Any] | None = None,
        scope: Scope = "all",
        paused: bool = False,
    ) -> Submission:
        """Store an accepted job, queued, with its ``queued`` event (an ad-hoc run's
        with its ``inline`` problem; ``scope``: the tests it judges); ``paused``: held
        back from workers until resumed (then also a ``paused`` event)."""
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
                    status=Status.PAUSED if paused else Status.QUEUED,
                    paused_at=now if paused else None,
                    callback_url=callback_url,
                    webhook_state="pending" if callback_url else None,
                    rerun_of=rerun_of,
                    created_at=now,
                    accepted_version=accepted_version,
                    screening_error=screening_error,
                    inline_problem=inline_json(inline) if inline is not None else None,
                    door=door,
                    door_data=json.dumps(door_data) if door_data is not None else None,
                    scope=scope,
                )
            )
            data = {"rerun_of": rerun_of} if rerun_of else {}
            await write_event(conn, sid, "queued", data)
            if paused:
                await write_event(conn, sid, "paused", {"was": "queued"})
        found = await self.get(sid)
        assert found is not None
        return found

    async def get(self, sid: str) -> Submission | None:
        async with self._engine.connect() as conn:
            return await read_submission(conn, sid)

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
            (where.door, c.door),
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
        return await submissions_of(rows), total

    async def delete(self, sid: str) -> bool:
        """Remove the job and its event log."""
        async with self._engine.begin() as conn:
            await erase_events(conn, sid)
            gone = await conn.execute(delete(submissions).where(submissions.c.id == sid))
        return bool(gone.rowcount)
