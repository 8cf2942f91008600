"""Pausing a job: its sandboxes frozen together (the engine's pause, i.e. the cgroup
freezer: nothing in them runs, and no CPU time passes) and thawed together.

A job's task runs with its ``Freezer`` in ``FREEZER`` (a context variable, so the tasks
it starts, e.g. an interactive test's two runs, share it). Every box opened there is
enlisted (``Sandboxes.open`` implementations wrap the box in ``enlisted``), and frozen at
once if the job is paused: a submission's box, a checker's, an interactor's alike. A box
waits until it is thawed before it is asked anything; each box's own deadlines do not
run while it is frozen (``sandbox/deadline.py``), and its runner does not count the time
as the program's wall time (``runner/watch.py``).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from contextvars import ContextVar
from typing import Protocol

log = logging.getLogger(__name__)


class Freezable(Protocol):
    container_id: str

    async def freeze(self) -> None: ...

    async def thaw(self) -> None: ...


class Freezer:
    """The boxes of one job, and whether the job is paused."""

    def __init__(self) -> None:
        self.paused = False
        self._boxes: list[Freezable] = []
        self._lock = asyncio.Lock()  # one change at a time, each to every box
        self._since: float | None = None
        self._total = 0.0
        self.changed_at = 0.0  # time.monotonic() of the last change

    def frozen_s(self) -> float:
        """How long the job has been paused in all, so far."""
        now = time.monotonic()
        return self._total + (now - self._since if self._since is not None else 0.0)

    async def set(self, paused: bool) -> bool:
        """Freeze (or thaw) every box of the job; whether that changed anything."""
        async with self._lock:
            if paused == self.paused:
                return False
            self.paused = paused
            self.changed_at = time.monotonic()
            if paused:
                self._since = time.monotonic()
            elif self._since is not None:
                self._total += time.monotonic() - self._since
                self._since = None
            await asyncio.gather(*(self._apply(box) for box in list(self._boxes)))
            return True

    async def _apply(self, box: Freezable) -> None:
        if self.paused and box not in self._boxes:
            # It left the job after the boxes were listed (e.g. a reused container given
            # back to the pool): frozen now, nobody would thaw it.
            return
        try:
            await (box.freeze() if self.paused else box.thaw())
        except Exception as exc:  # a box removed meanwhile: nothing left to freeze
            log.warning("could not %s sandbox %s: %s", "freeze" if self.paused else "thaw",
                        box.container_id[:12], exc)  # fmt: skip

    async def add(self, box: Freezable) -> None:
        async with self._lock:
            self._boxes.append(box)
            if self.paused:
                await self._apply(box)

    def forget(self, box: Freezable) -> None:
        if box in self._boxes:
            self._boxes.remove(box)


FREEZER: ContextVar[Freezer | None] = ContextVar("codeexec_freezer", default=None)


@asynccontextmanager
async def enlisted(box: Freezable) -> AsyncIterator[None]:
    """``box`` belongs to the current job (if any) while the block runs: it is frozen
    and thawed with the job's other boxes."""
    freezer = FREEZER.get()
    if freezer is None:
        yield
        return
    await freezer.add(box)
    try:
        yield
    finally:
        freezer.forget(box)
