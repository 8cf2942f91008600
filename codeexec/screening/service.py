"""Screening as a service: policy lookup plus parsing in a worker process.

Parsing untrusted source is CPU-bound and a pathological program (deep nesting,
megabytes of code) can exhaust the parser's stack; so it runs in a separate process
with a timeout. A crashed or hung worker is replaced and the program is reported as
unparseable; the service itself is never affected.
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass

from codeexec.config import Settings
from codeexec.screening.python import disallowed_names

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ScreeningResult:
    disallowed: tuple[str, ...] = ()
    # Set when the program cannot be parsed safely (not for ordinary syntax errors,
    # which the compile step reports as a compile error with the compiler's message).
    unparseable: str | None = None


def _screen_python(source: str, patterns: tuple[str, ...]) -> ScreeningResult:
    try:
        return ScreeningResult(tuple(disallowed_names(source, patterns)))
    except SyntaxError as exc:
        if "too many nested" in str(exc) or "too complex" in str(exc):
            return ScreeningResult(unparseable=f"program too deeply nested: {exc.msg}")
        return ScreeningResult()  # the compile step reports it with line numbers
    except (RecursionError, MemoryError) as exc:
        return ScreeningResult(unparseable=f"program too deeply nested ({type(exc).__name__})")


SCREENERS = {"python": _screen_python}


class Screener:
    def __init__(self, settings: Settings) -> None:
        self._timeout = settings.screening_timeout_s
        self._defaults: dict[str, tuple[str, ...]] = {"python": settings.screening_python}
        self._pool: ProcessPoolExecutor | None = None

    def policy_for(
        self, language: str, problem_policy: dict[str, list[str]] | None
    ) -> tuple[str, ...]:
        """A problem's own list for this language, else the server default."""
        if problem_policy is not None and language in problem_policy:
            return tuple(problem_policy[language])
        return self._defaults.get(language, ())

    def _executor(self) -> ProcessPoolExecutor:
        if self._pool is None:
            # "spawn": never fork a process that runs an event loop and threads.
            ctx = multiprocessing.get_context("spawn")
            self._pool = ProcessPoolExecutor(max_workers=1, mp_context=ctx)
        return self._pool

    def _discard_pool(self) -> None:
        pool, self._pool = self._pool, None
        if pool is None:
            return
        processes = list(getattr(pool, "_processes", {}).values())
        pool.shutdown(wait=False, cancel_futures=True)
        for process in processes:  # a hung parse holds its worker: end it
            process.kill()

    async def warm_up(self) -> None:
        await self.screen("python", "pass", ("eval",))

    async def screen(
        self, language: str, source: str, patterns: tuple[str, ...]
    ) -> ScreeningResult:
        check = SCREENERS.get(language)
        if check is None or not patterns:
            return ScreeningResult()
        loop = asyncio.get_running_loop()
        try:
            future = loop.run_in_executor(self._executor(), check, source, patterns)
            return await asyncio.wait_for(future, self._timeout)
        except TimeoutError:
            log.warning("screening timed out after %.1fs; worker replaced", self._timeout)
            self._discard_pool()
            return ScreeningResult(unparseable="program too complex to screen in time")
        except BrokenProcessPool:
            log.warning("screening worker crashed; worker replaced")
            self._discard_pool()
            return ScreeningResult(unparseable="program crashed the parser")

    def close(self) -> None:
        self._discard_pool()
