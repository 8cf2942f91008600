"""Screening as a service: policy lookup plus parsing in a worker process.

Parsing untrusted source is CPU-bound and a pathological program (deep nesting,
megabytes of code) can exhaust the parser's stack; so it runs in a separate process
with a timeout. A crashed or hung worker is replaced and the program is
reported as a compile error; the service itself is never affected.
"""

from __future__ import annotations

import ast
import asyncio
import functools
import logging
import multiprocessing
import traceback
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass

from codeexec.config import Settings
from codeexec.sandbox.languages import Language
from codeexec.screening import syntax_tree
from codeexec.screening.python import disallowed_in_tree

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ScreeningResult:
    disallowed: tuple[str, ...] = ()
    # A compile error found while parsing (a syntax error, formatted as the language
    # reports it, or a program too deeply nested to parse safely): judged CE at once.
    compile_error: str | None = None


def _screen_python(source: str, filename: str, patterns: tuple[str, ...]) -> ScreeningResult:
    """Parse once: the syntax check (Python's compile step) and the policy check."""
    try:
        tree = ast.parse(source, filename=filename)
    except SyntaxError as exc:
        if "too many nested" in str(exc.msg):
            return ScreeningResult(compile_error=f"program too deeply nested: {exc.msg}")
        return ScreeningResult(compile_error="".join(traceback.format_exception_only(exc)).strip())
    except (RecursionError, MemoryError) as exc:
        return ScreeningResult(compile_error=f"program too deeply nested ({type(exc).__name__})")
    return ScreeningResult(tuple(disallowed_in_tree(tree, patterns)))


def _screen_syntax_tree(
    language: str, source: str, filename: str, patterns: tuple[str, ...]
) -> ScreeningResult:
    try:
        return ScreeningResult(
            tuple(syntax_tree.disallowed_names(language, source.encode(), patterns))
        )
    except (RecursionError, MemoryError) as exc:
        return ScreeningResult(compile_error=f"program too deeply nested ({type(exc).__name__})")


Check = Callable[[str, str, tuple[str, ...]], ScreeningResult]
SCREENERS: dict[str, Check] = {"python": _screen_python}
for _language in syntax_tree.GRAMMARS:
    SCREENERS[_language] = functools.partial(_screen_syntax_tree, _language)


class Screener:
    def __init__(self, settings: Settings, languages: dict[str, Language]) -> None:
        self._timeout = settings.screening_timeout_s
        # Each language's default policy is in its language.toml; Python's can also be
        # set with CODEEXEC_SCREENING_PYTHON.
        self._defaults = {lang_id: lang.disallowed for lang_id, lang in languages.items()}
        self._defaults["python"] = settings.screening_python
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
        await self.screen("python", "pass", "main.py", ("eval",))

    async def screen(
        self, language: str, source: str, filename: str, patterns: tuple[str, ...]
    ) -> ScreeningResult:
        check = SCREENERS.get(language)
        if check is None:
            return ScreeningResult()
        loop = asyncio.get_running_loop()
        try:
            future = loop.run_in_executor(self._executor(), check, source, filename, patterns)
            return await asyncio.wait_for(future, self._timeout)
        except TimeoutError:
            log.warning("screening timed out after %.1fs; worker replaced", self._timeout)
            self._discard_pool()
            return ScreeningResult(compile_error="program too complex to screen in time")
        except BrokenProcessPool:
            log.warning("screening worker crashed; worker replaced")
            self._discard_pool()
            return ScreeningResult(compile_error="program crashed the parser")

    def close(self) -> None:
        self._discard_pool()
