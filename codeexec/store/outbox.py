"""Callback delivery state: a job with a ``callback_url`` is ``pending`` from the moment
it is accepted (``store/submissions.py``) until its webhook is ``delivered`` or has
``failed``; at start-up an instance resumes the deliveries of the jobs it finished."""

from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from codeexec.model.submission import TERMINAL
from codeexec.store.schema import submissions


class WebhookOutbox:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def set_webhook_state(self, sid: str, state: str) -> None:
        async with self._engine.begin() as conn:
            await conn.execute(
                update(submissions).where(submissions.c.id == sid).values(webhook_state=state)
            )

    async def pending_webhooks(self, worker: str) -> list[str]:
        """The finished jobs of ``worker`` whose callback was not delivered yet."""
        query = select(submissions.c.id).where(
            submissions.c.webhook_state == "pending",
            submissions.c.claimed_by == worker,
            submissions.c.status.in_(list(TERMINAL)),
        )
        async with self._engine.connect() as conn:
            rows = (await conn.execute(query)).all()
        return [str(r.id) for r in rows]
