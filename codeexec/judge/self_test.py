"""Start-up checks per language, each in its own sandbox: the self-test program must
pass, and the version command says which toolchain is installed.

A language whose self-test fails is marked unavailable (with the reason, in ``/readyz``
and ``/api/v1/languages``) instead of stopping the service.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable

from codeexec.judge.judge import Judge
from codeexec.model import Language, Problem, ProblemSnapshot, TestCase
from codeexec.sandbox.api import Sandboxes, SandboxFile

log = logging.getLogger(__name__)


# A self-test checks the toolchain, not its speed: it runs under the longest time limit
# a problem may have (a JVM compiler on a machine busy starting every other language
# must not make its language unavailable), a few at a time.
SELF_TEST_TIME_LIMIT_MS = 20_000


async def _self_test(judge: Judge, language: Language, slots: asyncio.Semaphore) -> str | None:
    test = language.self_test
    if test is None:
        return None
    snapshot = ProblemSnapshot(
        Problem(id=f"self-test:{language.id}", time_limit_ms=SELF_TEST_TIME_LIMIT_MS),
        (TestCase(test.input.encode(), test.expected.encode()),),
    )
    try:
        program = (SandboxFile.source(language.source_file, test.source),)
        async with slots:
            judgement = await judge.judge(language, program, snapshot)
    except Exception as exc:
        return f"self-test could not run: {exc}"
    if judgement.passed:
        return None
    if judgement.compile_failed:
        return f"self-test did not compile: {judgement.compile_output[:500]}"
    return f"self-test failed with {judgement.results[0].verdict.value}"


async def run_self_tests(
    judge: Judge, languages: Iterable[Language], parallel: int = 2
) -> dict[str, str]:
    """{language id: reason} for every language whose self-test failed; ``parallel``
    at a time (the service's execution slots)."""
    languages = list(languages)
    slots = asyncio.Semaphore(parallel)
    outcomes = await asyncio.gather(*(_self_test(judge, lang, slots) for lang in languages))
    failures = {lang.id: reason for lang, reason in zip(languages, outcomes, strict=True) if reason}
    for lang_id, reason in failures.items():
        log.error("language %s unavailable: %s", lang_id, reason)
    return failures


async def _version(
    judge: Judge, sandboxes: Sandboxes, language: Language, slots: asyncio.Semaphore
) -> str:
    if language.version_command is None:
        return ""
    memory_mb, processes = sandboxes.default_shape(language)
    try:
        async with slots, sandboxes.open(language, memory_mb, processes) as box:
            outcome = await box.run(language.version_command, b"", judge.compile_limits(language))
    except Exception as exc:  # e.g. the engine cannot start the runtime: the self-test says
        log.warning("no version for %s: %s", language.id, exc)
        return ""
    text = (outcome.stdout or outcome.stderr).decode("utf-8", errors="replace")
    return next((line.strip() for line in text.splitlines() if line.strip()), "")


async def installed_versions(
    judge: Judge, sandboxes: Sandboxes, languages: Iterable[Language], parallel: int = 2
) -> dict[str, str]:
    """{language id: the first line its version command prints}, as installed;
    ``parallel`` at a time."""
    languages = list(languages)
    slots = asyncio.Semaphore(parallel)
    found = await asyncio.gather(*(_version(judge, sandboxes, lang, slots) for lang in languages))
    return {lang.id: version for lang, version in zip(languages, found, strict=True)}
