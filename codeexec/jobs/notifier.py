"""Wakes whoever waits on a job in this process (``?wait=true``, event streams) when the
job changes. Jobs run by another process are seen by polling the database; this only
makes the common case immediate."""

from __future__ import annotations

import asyncio
import contextlib


class Notifier:
    def __init__(self) -> None:
        self._events: dict[str, asyncio.Event] = {}

    def notify(self, sid: str) -> None:
        event = self._events.pop(sid, None)
        if event is not None:
            event.set()

    async def wait(self, sid: str, within_s: float) -> None:
        """Until the job changes or ``within_s`` pass, whichever is first."""
        event = self._events.setdefault(sid, asyncio.Event())
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(event.wait(), within_s)
