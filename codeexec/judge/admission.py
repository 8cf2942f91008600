"""Bounded concurrency with a bounded queue behind it.

At most ``concurrency`` submissions run at once; up to ``queue_size`` more wait. Past
that a caller is told to come back later (HTTP 503 + Retry-After) instead of piling up.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from codeexec.observe.metrics import Metrics


class QueueFull(Exception):
    """Every execution slot is busy and the queue is full."""


class Admission:
    def __init__(self, concurrency: int, queue_size: int, metrics: Metrics | None = None) -> None:
        self.concurrency = concurrency
        self.queue_size = queue_size
        self._slots = asyncio.Semaphore(concurrency)
        self.running = 0
        self.waiting = 0
        self.last_wait_ms = 0.0
        self._metrics = metrics or Metrics()

    @asynccontextmanager
    async def slot(self, bounded: bool = True) -> AsyncIterator[None]:
        """Wait for a slot. ``bounded=False`` is for job workers: their queue is the
        database, so they wait without taking a place in this one."""
        if bounded and self._slots.locked() and self.waiting >= self.queue_size:
            raise QueueFull
        step = 1 if bounded else 0
        self.waiting += step
        queued_at = time.monotonic()
        try:
            await self._slots.acquire()
        finally:
            self.waiting -= step
        waited = time.monotonic() - queued_at
        self.last_wait_ms = waited * 1000
        if bounded:  # /exec's wait; a job worker waits here idle, its job in the database
            self._metrics.waited("exec", waited)
        self.running += 1
        try:
            yield
        finally:
            self.running -= 1
            self._slots.release()

    def stats(self) -> dict[str, float]:
        return {
            "concurrency": self.concurrency,
            "running": self.running,
            "waiting": self.waiting,
            "queue_size": self.queue_size,
            "last_wait_ms": round(self.last_wait_ms, 1),
        }
