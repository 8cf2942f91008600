"""A job's event log: numbered events (``queued``, ``started``, ``compiled``, ``test``,
the final status, ...) that pollers and event streams read after a sequence number.

The other job stores write an event in the same transaction as the change it reports
(``write_event`` on their connection): a job is never queued, started, finished or
cancelled without its event, nor the reverse.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

from sqlalchemy import delete, func, insert, select
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from codeexec.model.submission import Event
from codeexec.store.keys import utcnow
from codeexec.store.schema import submission_events

RETRIES = 5


async def write_event(conn: AsyncConnection, sid: str, kind: str, data: dict[str, Any]) -> None:
    """Append an event to ``sid``'s log in the caller's transaction."""
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


async def erase_events(conn: AsyncConnection, sid: str) -> None:
    """Remove ``sid``'s whole log in the caller's transaction (the job is deleted)."""
    await conn.execute(delete(submission_events).where(submission_events.c.submission_id == sid))


class EventLog:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def add(self, sid: str, kind: str, data: dict[str, Any]) -> None:
        """Append an event on its own (progress while judging)."""
        for _ in range(RETRIES):
            try:
                async with self._engine.begin() as conn:
                    await write_event(conn, sid, kind, data)
                return
            except IntegrityError:  # a concurrent event took the number; take the next
                continue
            except OperationalError:
                await asyncio.sleep(0.05)

    async def events(self, sid: str, after: int = 0) -> list[Event]:
        """``sid``'s events numbered after ``after``, in order."""
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
