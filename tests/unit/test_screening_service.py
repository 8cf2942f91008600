"""The screening pool cannot be starved: a program's timeout counts only its own
screening, a pathological program ends only its own worker, the queue is bounded.

The slow and crashing "parsers" below are injected as extra languages (the real
screeners are linear, see tests/unit/test_screening_linear.py); workers import this
module to run them.
"""

from __future__ import annotations

import asyncio
import os
import signal
import time
from typing import Any

import pytest

from codeexec.config import Settings
from codeexec.judge.admission import QueueFull
from codeexec.screening.service import Screener, ScreeningResult
from tests.shipped import SCREENERS

HONEST = "x = input()\nprint(x.lower())\n"
POLICY = ("eval", "os.system")


def hang(source: str, filename: str, patterns: tuple[str, ...]) -> ScreeningResult:
    """A parser stuck on a pathological program (never returns)."""
    while True:
        time.sleep(1)


def slow(source: str, filename: str, patterns: tuple[str, ...]) -> ScreeningResult:
    """A parser that takes ``source`` seconds."""
    time.sleep(float(source))
    return ScreeningResult()


def crash(source: str, filename: str, patterns: tuple[str, ...]) -> ScreeningResult:
    """A parser that overflows its stack (the worker dies with SIGSEGV)."""
    os.kill(os.getpid(), signal.SIGSEGV)
    return ScreeningResult()


CHECKS = {**SCREENERS, "hang": hang, "slow": slow, "crash": crash}


def screener(**settings: Any) -> Screener:
    values: dict[str, Any] = {"screening_workers": 2, "screening_timeout_s": 1.0}
    return Screener(Settings(**(values | settings)), {}, CHECKS)


async def honest(s: Screener, code: str = HONEST) -> ScreeningResult:
    return await s.screen("python", code, "main.py", POLICY)


@pytest.mark.parametrize("workers", [1, 2])
async def test_a_pathological_program_does_not_get_honest_ones_rejected(workers: int) -> None:
    s = screener(screening_workers=workers)
    await s.warm_up()
    try:
        started = time.monotonic()
        bad, *good = await asyncio.gather(
            s.screen("hang", "", "main.py", POLICY),
            *(honest(s) for _ in range(8)),
            honest(s, "import os\nos.system('ls')\n"),
        )
        assert bad.compile_error == "program too complex to screen in time"
        assert good[:8] == [ScreeningResult()] * 8
        assert good[8] == ScreeningResult(("os.system",))
        # With one worker the honest ones wait for the hung one's replacement.
        assert time.monotonic() - started < 15
        # And the pool still works afterwards.
        assert await honest(s) == ScreeningResult()
    finally:
        s.close()


async def test_the_timeout_counts_only_the_screening_not_the_wait() -> None:
    s = screener(screening_workers=1, screening_timeout_s=1.0)
    await s.warm_up()
    try:
        # Three programs of 0.6 s each on one worker: the last waits 1.2 s, yet each
        # takes well under its budget.
        results = await asyncio.gather(*(s.screen("slow", "0.6", "m.py", ()) for _ in range(3)))
        assert results == [ScreeningResult()] * 3
    finally:
        s.close()


async def test_the_queue_is_bounded_and_job_workers_wait() -> None:
    s = screener(screening_workers=1, screening_queue_size=1, screening_timeout_s=3.0)
    await s.warm_up()
    try:
        busy = asyncio.create_task(s.screen("slow", "1", "m.py", ()))
        waiting = asyncio.create_task(honest(s))
        await asyncio.sleep(0.1)
        with pytest.raises(QueueFull):
            await honest(s)
        unbounded = asyncio.create_task(
            s.screen("python", HONEST, "main.py", POLICY, bounded=False)
        )
        assert await asyncio.gather(busy, waiting, unbounded) == [ScreeningResult()] * 3
        assert s.stats()["in_pool"] == 0
        assert await honest(s) == ScreeningResult()  # room again
    finally:
        s.close()


async def test_a_crashing_parser_is_a_compile_error_and_only_its_worker_is_replaced() -> None:
    s = screener()
    await s.warm_up()
    try:
        bad, *good = await asyncio.gather(
            s.screen("crash", "", "main.py", POLICY), *(honest(s) for _ in range(6))
        )
        assert bad.compile_error == "program crashed the parser"
        assert good == [ScreeningResult()] * 6
        assert await honest(s) == ScreeningResult()
    finally:
        s.close()


async def test_a_cancelled_caller_frees_its_worker() -> None:
    s = screener(screening_workers=1, screening_timeout_s=30.0)
    await s.warm_up()
    try:
        stuck = asyncio.create_task(s.screen("hang", "", "main.py", POLICY))
        await asyncio.sleep(0.3)
        stuck.cancel()
        with pytest.raises(asyncio.CancelledError):
            await stuck
        # Far sooner than the 30 s budget: the hung worker was ended and replaced.
        assert await asyncio.wait_for(honest(s), 15) == ScreeningResult()
    finally:
        s.close()


@pytest.mark.parametrize(
    ("language", "source"),
    [
        ("python", "x = " + "-" * 200_000 + "1"),
        ("python", "x = a" + ".m(y)" * 5_000),
        ("python", "x = " + "(" * 100_000 + ")" * 100_000),
    ],
)
async def test_deep_nesting_is_a_clear_compile_error(language: str, source: str) -> None:
    s = screener(screening_timeout_s=10.0)
    try:
        result = await s.screen(language, source, "main.py", POLICY)
        assert result.compile_error is not None
        assert "nested" in result.compile_error or "parenthes" in result.compile_error
        assert await honest(s) == ScreeningResult()
    finally:
        s.close()


async def test_deep_nesting_in_tree_sitter_languages_is_screened() -> None:
    s = screener(screening_timeout_s=10.0)
    try:
        source = "int main(void) " + "{" * 200_000 + "system(0);" + "}" * 200_000
        assert await s.screen("c", source, "main.c", ("system",)) == ScreeningResult(("system",))
    finally:
        s.close()
