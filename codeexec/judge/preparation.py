"""Languages made ready while the service runs. A language whose image is not built yet
is built on first use (``CODEEXEC_BUILD_IMAGES=on-demand``), or behind the running
service with the first-requested first (``background``), then self-tested like those
ready at start-up. Until it is ready a request for it is refused 503 with the build's
progress (and a Retry-After); a failed preparation makes it unavailable with the reason.

What preparing means (build, self-test, version, warm sandboxes) is the caller's
``prepare``; this module only decides the order and keeps the state, so its logic is
unit-tested without Docker.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
from collections.abc import Awaitable, Callable

from codeexec.logs import detached
from codeexec.model import Language

log = logging.getLogger(__name__)

Progress = Callable[[str], None]
# Prepares one language, reporting progress lines; returns None, or why it failed.
Prepare = Callable[[Language, Progress], Awaitable[str | None]]

FIRST, LATER = 0, 1  # queue priorities: asked for by a request, or built in the background
NOT_STARTED = "its image is not built yet; a request for it starts the build"
QUEUED = "queued: its image is built after the ones already building"


class Preparation:
    def __init__(
        self,
        prepare: Prepare,
        workers: int,
        ready: Callable[[Language], None],
        failed: Callable[[str, str], None],
        timeout_s: float | None = None,
    ) -> None:
        self._prepare = prepare
        self._timeout_s = timeout_s  # a preparation still going then is stopped: failed
        self._workers = workers
        self._ready = ready
        self._failed = failed
        self._waiting: dict[str, Language] = {}  # not started
        self._queued: dict[str, int] = {}  # waiting and queued, at this priority
        self._progress: dict[str, str] = {}  # started: the last line it reported
        self._finished: dict[str, asyncio.Event] = {}
        self._queue: asyncio.PriorityQueue[tuple[int, int, str]] = asyncio.PriorityQueue()
        self._order = itertools.count()  # first come first within a priority
        self._tasks: list[asyncio.Task[None]] = []
        self._closed = False

    def add(self, language: Language) -> None:
        """A language to prepare later (its image is missing or outdated)."""
        self._waiting[language.id] = language
        self._finished[language.id] = asyncio.Event()

    def states(self) -> dict[str, str]:
        """{language: where its preparation stands} for every language not ready yet."""
        waiting = {
            lang_id: QUEUED if lang_id in self._queued else NOT_STARTED for lang_id in self._waiting
        }
        return waiting | dict(self._progress)

    def building(self) -> set[str]:
        """The languages queued or being prepared now (not those still waiting for a
        request to ask for them)."""
        return set(self._queued) | set(self._progress)

    def demand(self, language_id: str) -> str | None:
        """A request wants the language: None when it is not being prepared (ready,
        unavailable or unknown); else where it stands, and it goes ahead of every
        language not asked for."""
        if language_id in self._progress:
            return self._progress[language_id]
        if language_id not in self._waiting:
            return None
        self._enqueue(language_id, FIRST)
        return f"queued first: {len(self._progress)} language(s) being prepared now"

    def start_all(self) -> None:
        """Prepare every language added, in name order, behind any asked for."""
        for language_id in sorted(self._waiting):
            self._enqueue(language_id, LATER)

    async def finished(self, language_id: str) -> None:
        """Until the language's preparation ends (ready or failed); asks for it."""
        event = self._finished.get(language_id)
        if event is None:
            return
        self.demand(language_id)
        await event.wait()

    async def prepare_all(self) -> None:
        """Prepare every language added and wait for all of them (start-up mode)."""
        self.start_all()
        await asyncio.gather(*(self.finished(lang_id) for lang_id in list(self._finished)))

    async def close(self) -> None:
        self._closed = True  # nothing starts any more
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks.clear()

    def _enqueue(self, language_id: str, priority: int) -> None:
        if self._queued.get(language_id, LATER + 1) <= priority:
            return  # already queued at least this early
        self._queued[language_id] = priority
        self._queue.put_nowait((priority, next(self._order), language_id))
        if not self._tasks and not self._closed:
            # Started by whichever request asks first, they serve every later one.
            self._tasks = [
                asyncio.create_task(self._work(), context=detached()) for _ in range(self._workers)
            ]

    async def _work(self) -> None:
        while True:
            _, _, language_id = await self._queue.get()
            language = self._waiting.pop(language_id, None)
            if language is None:
                continue  # taken earlier through a higher-priority entry
            del self._queued[language_id]
            self._progress[language_id] = "preparing"
            reason = await self._run(language)
            del self._progress[language_id]
            try:
                if reason is None:
                    try:
                        self._ready(language)
                        log.info("language %s is ready", language_id)
                    except Exception as exc:  # the worker goes on to the next language
                        log.exception("language %s could not be made ready", language_id)
                        reason = f"could not be made ready: {exc}"
                if reason is not None:
                    log.error("language %s unavailable: %s", language_id, reason)
                    self._failed(language_id, reason)
            finally:
                self._finished[language_id].set()

    async def _run(self, language: Language) -> str | None:
        def progress(line: str) -> None:
            self._progress[language.id] = line

        try:
            async with asyncio.timeout(self._timeout_s):
                return await self._prepare(language, progress)
        except TimeoutError:
            log.error("preparing language %s took over %s s", language.id, self._timeout_s)
            return f"not ready after {self._timeout_s:g} s: its preparation was stopped"
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # one language's failure never stops the others
            log.exception("could not prepare language %s", language.id)
            return f"could not be prepared: {exc}"
