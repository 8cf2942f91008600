"""A warm pool of started, locked-down sandboxes, so a submission never waits for one.

Per language, up to ``CODEEXEC_POOL_SIZE`` containers are created, started and their
runner greeted ahead of time with the default shape (default memory and process
limits). A submission takes one with its process limit (the factory resizes its memory
if the submission needs another size); the pool starts a replacement in the
background. Idle containers older than ``CODEEXEC_POOL_TTL_S`` are replaced, and the
pool is drained at shutdown.

A container that served a submission comes back (``give_back``) to serve another of
its language, up to ``CODEEXEC_SANDBOX_USES`` submissions, once its runner has reset it
and checked it clean (no process, no file, no IPC object, no program: what it checks
between two tests). Creating, starting and removing a container is ~250 ms of the
engine's CPU; a reset is ~1 ms. What a reset cannot clear are kernel counters (PIDs,
inode numbers, IPC ids), which carry a few bits from one run to the next, so the pool
keeps two kinds apart: *clean* containers, where no hidden test ever ran, and
*tainted* ones, where one did. Anything whose output is shown (a compile step, a shown
test) takes a clean one; hidden tests take a tainted one first. So no hidden test's
data can reach a shown output, within a submission or across submissions.

The pool knows its boxes and their factory only through ``api.BoxStarter`` and
``api.WarmBox`` (``SandboxFactory`` and ``Sandbox`` in the service, the in-memory fake in
``tests/unit/test_pool.py``).
"""

from __future__ import annotations

import asyncio
import functools
import logging
import time
from collections import deque
from collections.abc import Coroutine
from typing import Any, Generic

from codeexec.logs import detached
from codeexec.model import Language
from codeexec.sandbox.api import BoxStarter, WarmBoxT

log = logging.getLogger(__name__)


class WarmPool(Generic[WarmBoxT]):
    def __init__(
        self,
        factory: BoxStarter[WarmBoxT],
        size: int,
        ttl_s: float,
        parallel_starts: int,
        *,
        keep: int = 0,
        retry_delay_s: float = 1.0,
    ) -> None:
        self._factory = factory
        self._size = size
        self._keep = max(size, keep)  # idle containers of each kind kept per language
        self._ttl_s = ttl_s
        self._retry_delay_s = retry_delay_s  # after a failed start: no spinning on an engine
        self._idle: dict[str, deque[WarmBoxT]] = {}  # clean: no hidden test ran in them
        self._tainted: dict[str, deque[WarmBoxT]] = {}
        self._starting: dict[str, int] = {}
        self._returning: dict[str, int] = {}  # given back, being reset
        self._starts = asyncio.Semaphore(parallel_starts)
        self._tasks: set[asyncio.Task[None]] = set()  # starts and discards
        self._adding: set[asyncio.Task[None]] = set()  # the starts, which close() cancels
        self._closed = False
        self.hits = 0
        self.misses = 0
        self.reused = 0  # takes of a container that had served a submission before

    def _stale(self, box: WarmBoxT, now: float) -> bool:
        return not box.alive or now - box.started_at > self._ttl_s

    def take(
        self,
        language: Language,
        processes: int,
        shown: bool = True,
        memory_mb: int = 0,
        used: bool = True,
    ) -> WarmBoxT | None:
        """An idle container for a submission's work: a clean one if anything it runs
        is shown, else a tainted one first; of ``memory_mb`` if one is idle (a resize
        is engine work: ~16 ms), never one whose runner can no longer give a program
        of ``memory_mb`` that much stack. Not ``used``: only one that never served a submission
        (for work promised a container nothing else used, e.g. "test" isolation)."""
        kinds = [self._idle] if shown else [self._tainted, self._idle]
        for kind in kinds:
            box = self._take_from(kind.get(language.id), processes, memory_mb, used)
            if box is not None:
                self.hits += 1
                self.reused += box.uses > 0
                return box
        self.misses += 1
        return None

    def _take_from(
        self, idle: deque[WarmBoxT] | None, processes: int, memory_mb: int, used: bool
    ) -> WarmBoxT | None:
        if not idle:
            return None
        now = time.monotonic()
        for box in [b for b in idle if self._stale(b, now)]:
            idle.remove(box)
            self._spawn(self._factory.discard(box))
        fitting = [
            b
            for b in idle
            if b.processes == processes
            and (used or b.uses == 0)
            and b.stack_mb >= memory_mb  # a program of ``memory_mb`` gets that much stack
        ]
        sized = [b for b in fitting if b.memory_mb == memory_mb]
        if not fitting:
            return None
        box = (sized or fitting)[0]
        idle.remove(box)
        return box

    def give_back(self, box: WarmBoxT, language: Language) -> None:
        """A container whose submission is done: reset in the background, then idle
        again (of its kind) — or removed if it cannot be reset, is stale, or enough of
        its kind are idle already."""
        self._returning[language.id] = self._returning.get(language.id, 0) + 1
        task = self._spawn(self._return(box, language))
        task.add_done_callback(functools.partial(self._returned, language_id=language.id))

    def _returned(self, task: asyncio.Task[None], language_id: str) -> None:
        self._returning[language_id] -= 1

    async def _return(self, box: WarmBoxT, language: Language) -> None:
        try:
            await self._factory.reset(box)
        except Exception as exc:
            log.warning("sandbox %s not reused: %s", box.container_id[:12], exc)
            await self._factory.discard(box)
            return
        kind = (self._tainted if box.tainted else self._idle).setdefault(language.id, deque())
        # Up to ``keep`` of each size: a compile step's containers (the compiler's size)
        # do not push out the ones its tests take (the program's).
        alike = sum(1 for b in kind if b.memory_mb == box.memory_mb)
        if self._closed or self._stale(box, time.monotonic()) or alike >= self._keep:
            await self._factory.discard(box)
            return
        kind.append(box)
        # In all at most two sizes' worth, the latest given back: ad-hoc runs choose their
        # memory and process limits, and a container kept per shape would be one per
        # value a caller cares to ask for; the oldest make room, so odd shapes asked
        # once do not keep the containers of everyday work out.
        while len(kind) > 2 * self._keep:
            await self._factory.discard(kind.popleft())

    def replenish(self, language: Language) -> None:
        """Start containers in the background until the pool for ``language`` is full."""
        if self._closed:
            return
        have = (
            len(self._idle.get(language.id, ()))
            + self._starting.get(language.id, 0)
            + self._returning.get(language.id, 0)
        )
        for _ in range(self._size - have):
            self._starting[language.id] = self._starting.get(language.id, 0) + 1
            task = self._spawn(self._add(language))
            self._adding.add(task)
            # Counted down when the task ends, however: a task cancelled before its
            # first step never runs the coroutine (nor a ``finally`` in it).
            task.add_done_callback(functools.partial(self._started, language_id=language.id))

    def _started(self, task: asyncio.Task[None], language_id: str) -> None:
        self._adding.discard(task)
        self._starting[language_id] -= 1

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
            await asyncio.sleep(self._retry_delay_s)  # do not spin against a failing engine

    async def recycle(self, languages: list[Language]) -> None:
        """Replace idle containers older than the TTL; runs until cancelled."""
        while not self._closed:
            await asyncio.sleep(max(1.0, self._ttl_s / 4))
            try:
                await self.recycle_once(languages)
            except Exception:
                log.exception("could not recycle warm sandboxes")

    async def recycle_once(self, languages: list[Language]) -> None:
        """Discard idle containers that died or are older than the TTL, and refill."""
        now = time.monotonic()
        for language in languages:
            stale = []
            for kind in (self._idle, self._tainted):
                idle = kind.get(language.id, deque())
                found = [b for b in idle if self._stale(b, now)]
                # Out of the pool before the first await: meanwhile take() may pop (and
                # discard) the very boxes this is about to discard.
                for box in found:
                    idle.remove(box)
                stale += found
            for box in stale:
                await self._factory.discard(box)
            self.replenish(language)

    def _spawn(self, coro: Coroutine[Any, Any, None]) -> asyncio.Task[None]:
        # Starts and discards serve the pool, not the request or job that prompted them.
        task = asyncio.create_task(coro, context=detached())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    def stats(self) -> dict[str, Any]:
        return {
            "size": self._size,
            "idle": {k: len(v) for k, v in self._idle.items()},
            "tainted": {k: len(v) for k, v in self._tainted.items() if v},
            "starting": {k: v for k, v in self._starting.items() if v},
            "hits": self.hits,
            "misses": self.misses,
            "reused": self.reused,
        }

    async def settled(self) -> None:
        """Wait until no container is being started, discarded or removed (for tests)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)
        await self._factory.removals_done()

    def idle_ids(self) -> set[str]:
        kinds = (*self._idle.values(), *self._tainted.values())
        return {b.container_id for boxes in kinds for b in boxes}

    async def close(self) -> None:
        """Cancel the starts under way and discard every idle container; discards
        already under way are finished, not cancelled (a cancelled one that had not begun
        would never close its box)."""
        self._closed = True
        for task in list(self._adding):
            task.cancel()
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)
        boxes = [b for kind in (self._idle, self._tainted) for q in kind.values() for b in q]
        self._idle.clear()
        self._tainted.clear()
        await asyncio.gather(*(self._factory.discard(b) for b in boxes), return_exceptions=True)
