"""Screening as a service: policy lookup plus parsing in a pool of worker processes.

Parsing untrusted source is CPU-bound, and a pathological program (deep nesting,
megabytes of code, or a parser bug) could take long or crash its parser; so it runs in
``CODEEXEC_SCREENING_WORKERS`` separate processes (pebble's ``ProcessPool``). Each
program's timeout starts when a worker takes it, never while it waits for one; a
program that overruns it, or crashes its worker, ends only that worker, which is
replaced, and is reported as a compile error; the programs queued behind it wait
for a worker as before. Past ``CODEEXEC_SCREENING_QUEUE_SIZE`` waiting programs a caller
is told to come back later (``QueueFull``, HTTP 503) instead of piling up.
"""

from __future__ import annotations

import ast
import asyncio
import gc
import heapq
import logging
import multiprocessing
import traceback
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import Future
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass

from pebble import ProcessExpired, ProcessPool

from codeexec.config import Settings
from codeexec.judge.admission import QueueFull
from codeexec.model import Language, Screening
from codeexec.screening import source_text, syntax_tree
from codeexec.screening.python import disallowed_in_tree

log = logging.getLogger(__name__)


# A refusal names at most this many disallowed names (the first, sorted): every name
# inside a disallowed one (``os.system.a.b...``) is a match, and listing them all made a
# 403 fifty times the size of the program.
MAX_REPORTED = 20


def reported(names: Iterable[str]) -> tuple[str, ...]:
    """The names a result keeps: the first ``MAX_REPORTED`` sorted, plus one more when
    there are more (so that the message can say so)."""
    return tuple(heapq.nsmallest(MAX_REPORTED + 1, set(names)))


@dataclass(frozen=True)
class ScreeningResult:
    disallowed: tuple[str, ...] = ()
    # A compile error found while parsing (a syntax error, formatted as the language
    # reports it, or a program too deeply nested to parse safely): judged CE at once.
    compile_error: str | None = None


Check = Callable[[str, str, tuple[str, ...]], ScreeningResult]


def _screen_python(source: str, filename: str, patterns: tuple[str, ...]) -> ScreeningResult:
    """Parse once: the syntax check (Python's compile step) and the policy check. What
    is parsed is the file's bytes, as python3 reads them: decoded by its coding cookie
    (as text, ``# coding: utf-7`` hid ``+AAo-import os`` in a comment)."""
    try:
        tree = ast.parse(source.encode("utf-8", errors="surrogatepass"), filename=filename)
    except SyntaxError as exc:
        if "too many nested" in str(exc.msg):
            return ScreeningResult(compile_error=f"program too deeply nested: {exc.msg}")
        return ScreeningResult(compile_error="".join(traceback.format_exception_only(exc)).strip())
    except (RecursionError, MemoryError) as exc:
        return ScreeningResult(compile_error=f"program too deeply nested ({type(exc).__name__})")
    return ScreeningResult(reported(disallowed_in_tree(tree, patterns)))


@dataclass(frozen=True)
class TreeSitterCheck:
    """Screening on a tree-sitter parse tree, by a language's ``[screening]`` rules
    (picklable: it is sent to the workers)."""

    rules: Screening

    def __call__(self, source: str, filename: str, patterns: tuple[str, ...]) -> ScreeningResult:
        if self.rules.literate and filename.endswith(self.rules.literate):
            source = source_text.unlit(source)  # Haskell .lhs: the code, as GHC reads it
        try:
            return ScreeningResult(
                reported(syntax_tree.disallowed_names(self.rules, source.encode(), patterns))
            )
        except syntax_tree.Misread as exc:  # the grammar reads it otherwise than the compiler
            return ScreeningResult(compile_error=f"{filename}: {exc}")
        except (RecursionError, MemoryError) as exc:
            return ScreeningResult(
                compile_error=f"program too deeply nested ({type(exc).__name__})"
            )


def _python_ast(rules: Screening) -> Check:
    return _screen_python


def _tree_sitter(rules: Screening) -> Check:
    syntax_tree.check_rules(rules)
    return TreeSitterCheck(rules)


# The screening implementations a language.toml can name (``[screening] parser``).
PARSERS: dict[str, Callable[[Screening], Check]] = {
    "python-ast": _python_ast,
    "tree-sitter": _tree_sitter,
}


def check_for(language: Language) -> Check | None:
    """How a language's programs are screened; None when they are not. Raises
    ValueError when its ``[screening]`` names a parser, grammar or reader that does not
    exist."""
    parser = language.screening.parser
    if parser is None:
        return None
    if parser not in PARSERS:
        raise ValueError(
            f"language {language.id!r}: unknown screening parser {parser!r};"
            f" use one of {sorted(PARSERS)}"
        )
    try:
        return PARSERS[parser](language.screening)
    except ValueError as exc:
        raise ValueError(f"language {language.id!r}: {exc}") from exc


def screeners(languages: Mapping[str, Language]) -> dict[str, Check]:
    """Language id -> how its programs are screened, for those that are."""
    checks = {lang_id: check_for(language) for lang_id, language in languages.items()}
    return {lang_id: check for lang_id, check in checks.items() if check is not None}


def _prepare_worker(grammars: tuple[str, ...]) -> None:
    """In each new worker, before it takes a program: load every grammar, so that no
    program's timeout pays for it."""
    for grammar in grammars:
        syntax_tree.parser(grammar)


def _ready(source: str, filename: str, patterns: tuple[str, ...]) -> ScreeningResult:
    """Nothing to screen: a worker answers once it has started."""
    return ScreeningResult()


def _run(check: Check, source: str, filename: str, patterns: tuple[str, ...]) -> ScreeningResult:
    """In a worker: one program. A parse tree has no reference cycles; the collector
    would only walk it again and again while it grows (a third of the time for 1 MB)."""
    gc.disable()
    try:
        return check(source, filename, patterns)
    finally:
        gc.enable()


class Screener:
    def __init__(
        self,
        settings: Settings,
        languages: dict[str, Language],
        # By default each language's own (``check_for``); tests add slow or crashing ones.
        checks: Mapping[str, Check] | None = None,
    ) -> None:
        screening = settings.screening
        self._timeout = screening.screening_timeout_s
        self._workers = screening.screening_workers
        # At most this many programs in the pool at once (being screened or waiting).
        self._capacity = screening.screening_workers + screening.screening_queue_size
        self._checks = screeners(languages) if checks is None else checks
        # Loaded by each worker as it starts.
        self._grammars = tuple(
            sorted(
                {
                    check.rules.grammar
                    for check in self._checks.values()
                    if isinstance(check, TreeSitterCheck) and check.rules.grammar
                }
            )
        )
        self._in_pool = 0
        # Each language's default policy is in its language.toml; a setting can replace
        # it (CODEEXEC_SCREENING_PYTHON).
        self._defaults = {lang_id: lang.disallowed for lang_id, lang in languages.items()}
        self._defaults.update(screening.screening_defaults())
        self._pool: ProcessPool | None = None
        self._futures: set[Future[ScreeningResult]] = set()

    def policy_for(
        self, language: str, problem_policy: dict[str, list[str]] | None
    ) -> tuple[str, ...]:
        """A problem's own list for this language, else the server default."""
        if problem_policy is not None and language in problem_policy:
            return tuple(problem_policy[language])
        return self._defaults.get(language, ())

    def _executor(self) -> ProcessPool:
        if self._pool is None or not self._pool.active:
            self.close()
            # "spawn": never fork a process that runs an event loop and threads.
            self._pool = ProcessPool(
                max_workers=self._workers,
                initializer=_prepare_worker,
                initargs=(self._grammars,),
                context=multiprocessing.get_context("spawn"),
            )
        return self._pool

    async def warm_up(self) -> None:
        """Start the workers (and load the grammars) before the first program."""
        await self._submit(_ready, "", "", (), bounded=False)

    def stats(self) -> dict[str, int]:
        return {"workers": self._workers, "in_pool": self._in_pool, "capacity": self._capacity}

    async def screen(
        self,
        language: str,
        source: str,
        filename: str,
        patterns: tuple[str, ...],
        bounded: bool = True,
    ) -> ScreeningResult:
        """Screen one program. Raises ``QueueFull`` when every worker is busy and the
        queue is full; ``bounded=False`` is for job workers, whose queue is the database
        and whose number is fixed."""
        check = self._checks.get(language)
        if check is None:
            return ScreeningResult()
        return await self._submit(check, source, filename, patterns, bounded)

    async def _submit(
        self, check: Check, source: str, filename: str, patterns: tuple[str, ...], bounded: bool
    ) -> ScreeningResult:
        if bounded and self._in_pool >= self._capacity:
            raise QueueFull
        self._in_pool += 1
        try:
            for attempt in (1, 2):
                future = self._executor().schedule(
                    _run, args=(check, source, filename, patterns), timeout=self._timeout
                )
                self._futures.add(future)
                try:
                    # Cancelling the caller cancels the program (and ends its worker if
                    # it runs).
                    return await asyncio.wrap_future(future)
                except BrokenProcessPool:  # the pool's fault, not the program's
                    log.exception("the screening pool broke; starting a new one")
                    self.close()
                    if attempt == 2:
                        raise
                finally:
                    self._futures.discard(future)
            raise AssertionError("unreachable")
        except TimeoutError:
            log.warning("screening took over %.1f s; its worker was replaced", self._timeout)
            return ScreeningResult(compile_error="program too complex to screen in time")
        except ProcessExpired as exc:
            log.warning("a screening worker crashed (exit %s); replaced", exc.exitcode)
            return ScreeningResult(compile_error="program crashed the parser")
        finally:
            self._in_pool -= 1

    def close(self) -> None:
        """Stop the workers; programs still in the pool are cancelled."""
        pool, self._pool = self._pool, None
        if pool is not None:
            pool.stop()  # type: ignore[no-untyped-call]
            pool.join()
        for future in list(self._futures):
            future.cancel()
