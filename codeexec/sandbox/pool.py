"""A warm pool of started, locked-down sandboxes, so a submission never waits for one.

Per language, up to ``CODEEXEC_POOL_SIZE`` containers are created, started and their
runner greeted ahead of time with the default shape (default memory and process
limits). A submission takes one with its process limit (the factory resizes its memory
if the submission needs another size); the pool starts a replacement in the
background; the taken container
serves exactly that submission (or one test in ``test`` isolation) and is then removed.
Idle containers older than ``CODEEXEC_POOL_TTL_S`` are replaced, and the pool is
drained at shutdown.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from typing import Any

from codeexec.model import Language
from codeexec.sandbox.sandbox import Sandbox, SandboxFactory

log = logging.getLogger(__name__)


class WarmPool:
    def __init__(
        self, factory: SandboxFactory, size: int, ttl_s: float, parallel_starts: int
    ) -> None:
        self._factory = factory
        self._size = size
        self._ttl_s = ttl_s
        self._idle: dict[str, deque[Sandbox]] = {}
        self._starting: dict[str, int] = {}
        self._starts = asyncio.Semaphore(parallel_starts)
        self._tasks: set[asyncio.Task[None]] = set()
        self._closed = False
        self.hits = 0
        self.misses = 0

    def take(self, language: Language, processes: int) -> Sandbox | None:
        idle = self._idle.get(language.id)
        while idle:
            box = idle.popleft()
            if not box.alive or time.monotonic() - box.started_at > self._ttl_s:
                self._spawn(self._factory.discard(box))
                continue
            if box.processes == processes:
                self.hits += 1
                return box
            idle.appendleft(box)  # fits another request; keep it
            break
        self.misses += 1
        return None

    def replenish(self, language: Language) -> None:
        """Start containers in the background until the pool for ``language`` is full."""
        if self._closed:
            return
        have = len(self._idle.get(language.id, ())) + self._starting.get(language.id, 0)
        for _ in range(self._size - have):
            self._starting[language.id] = self._starting.get(language.id, 0) + 1
            self._spawn(self._add(language))

    async def _add(self, language: Language) -> None:
        try:
            async with self._starts:
                if self._closed:
                    return
                memory_mb, processes = self._factory.default_shape(language)
                box = await self._factory.start(language, memory_mb, processes)
            if self._closed:
                await self._factory.discard(box)
                return
            self._idle.setdefault(language.id, deque()).append(box)
        except Exception:
            log.exception("could not start a warm %s sandbox", language.id)
            await asyncio.sleep(1)  # do not spin against a failing engine
        finally:
            self._starting[language.id] -= 1

    async def recycle(self, languages: list[Language]) -> None:
        """Replace idle containers older than the TTL; runs until cancelled."""
        while not self._closed:
            await asyncio.sleep(max(1.0, self._ttl_s / 4))
            now = time.monotonic()
            for language in languages:
                idle = self._idle.get(language.id, deque())
                stale = [b for b in idle if not b.alive or now - b.started_at > self._ttl_s]
                for box in stale:
                    idle.remove(box)
                    await self._factory.discard(box)
                self.replenish(language)

    def _spawn(self, coro: Any) -> None:
        task = asyncio.create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def stats(self) -> dict[str, Any]:
        return {
            "size": self._size,
            "idle": {k: len(v) for k, v in self._idle.items()},
            "starting": {k: v for k, v in self._starting.items() if v},
            "hits": self.hits,
            "misses": self.misses,
        }

    async def settled(self) -> None:
        """Wait until no container is being started, discarded or removed (for tests)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)
        await self._factory.removals_done()

    def idle_ids(self) -> set[str]:
        return {b.container_id for boxes in self._idle.values() for b in boxes}

    async def close(self) -> None:
        self._closed = True
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        boxes = [b for boxes in self._idle.values() for b in boxes]
        self._idle.clear()
        await asyncio.gather(*(self._factory.discard(b) for b in boxes), return_exceptions=True)
