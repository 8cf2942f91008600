"""``custom`` checkers and ``interactive`` problems' interactors: the problem's own
program, by the Kattis output-validator protocol.

``checker input answer feedback_dir [args...] < output``: exit 42 accepts, 43 rejects;
anything else (a crash, a limit, another exit code) is the checker's failure and the
test is IE, never the submission's fault. The feedback files ``teammessage.txt`` and
``judgemessage.txt`` become the test's message (shown for shown tests only);
``score.txt`` and ``score_multiplier.txt`` (at most 128 bytes, one finite number) its
score, for scoring problems (``CheckResult.score_error`` when one is not a number).

An interactor is run the same way, with the submission's output as its stdin while the
submission runs, and its stdout as the submission's stdin (``CheckerSession.interact``);
its feedback files come back on its stderr, which is otherwise discarded.

The checker runs in a container of its own, never the submission's: it sees the answer,
which the submission's sandbox never does. It is compiled once per distinct program and
kept compiled in memory, so later submissions only copy the result in.
"""

from __future__ import annotations

import hashlib
import logging
import math
import re
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from dataclasses import replace

from cachetools import LRUCache

from codeexec.checker import CheckResult
from codeexec.config import Settings
from codeexec.model import CheckerSpec, Language, RunLimits, RunOutcome
from codeexec.sandbox.api import Blob, Box, Files, OutputSink, Pipe, Sandboxes, SandboxFile
from codeexec.sandbox.runner.channel import MAX_CREDIT

log = logging.getLogger(__name__)

ACCEPT, REJECT = 42, 43
FEEDBACK_DIR = "/tmp/feedback"
_FEEDBACK_LIMIT = 64 * 1024
SCORE_FILES = ("score.txt", "score_multiplier.txt")
_SCORE_BYTES = 128
# A decimal number as score.txt holds one (no "nan", "inf", hex or underscores).
_NUMBER = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")
# The checker's own stdout is not part of the protocol; its feedback files are. First
# one line per score file: "=" and its first bytes (newlines made spaces), or empty.
_WRAPPER = (
    f"mkdir {FEEDBACK_DIR} || exit 3; "
    '"$@" >/dev/null; code=$?; '
    f"for f in {' '.join(SCORE_FILES)}; do if [ -f {FEEDBACK_DIR}/$f ]; then printf =;"
    f" head -c {_SCORE_BYTES + 1} {FEEDBACK_DIR}/$f | tr '\\n\\r' '  '; fi; echo; done; "
    f"cat {FEEDBACK_DIR}/teammessage.txt {FEEDBACK_DIR}/judgemessage.txt 2>/dev/null"
    f" | head -c {_FEEDBACK_LIMIT}; exit $code"
)
# An interactor's stdout is the conversation: its feedback comes back on stderr, and
# its own stderr (a tail) only when it did not decide.
_INTERACTIVE_WRAPPER = (
    f"mkdir {FEEDBACK_DIR} || exit 3; "
    '"$@" 2>/tmp/interactor.err; code=$?; '
    f"cat {FEEDBACK_DIR}/teammessage.txt {FEEDBACK_DIR}/judgemessage.txt 2>/dev/null"
    f" | head -c {_FEEDBACK_LIMIT} >&2; "
    "case $code in 42|43) ;; *) echo >&2; tail -c 2000 /tmp/interactor.err >&2;; esac; "
    "exit $code"
)
# What an interactor may write to the submission in one test: a bound on the service's
# buffers, far above any real conversation.
INTERACTOR_OUTPUT_BYTES = 64 * 1024 * 1024
_MB = 1024 * 1024


class CheckerFailed(Exception):
    """The checker program could not be built or run properly (not the submission's fault)."""


def _digest(language: Language, files: Files) -> str:
    digest = hashlib.sha256(language.id.encode() + b"\0")
    for f in files:
        digest.update(f.name.encode() + b"\0" + f.data + b"\0")
    return digest.hexdigest()


class CheckerSession:
    """One submission's use of a compiled checker: one run per test."""

    def __init__(
        self,
        box: Box,
        artifact: Files,
        language: Language,
        limits: RunLimits,
        args: tuple[str, ...],
    ) -> None:
        self._box = box
        self._artifact = artifact
        self._limits = limits
        command = (*language.run, "input", "answer", f"{FEEDBACK_DIR}/", *args)
        self._argv = ("sh", "-c", _WRAPPER, "checker", *command)
        self._interactive_argv = ("sh", "-c", _INTERACTIVE_WRAPPER, "interactor", *command)

    async def check(self, input_data: bytes, answer: bytes, output: Blob) -> CheckResult:
        """Raises CheckerFailed (or SandboxError) when the checker does not decide."""
        await self._box.put_files(
            (
                *self._artifact,
                SandboxFile("input", 0o444, input_data),
                SandboxFile("answer", 0o444, answer),
            )
        )
        outcome = await self._box.run(self._argv, output, self._limits)
        score, multiplier, text = [*outcome.stdout.split(b"\n", 2), b"", b""][:3]
        feedback = text.decode("utf-8", errors="replace").strip()
        decided = outcome.exit_code in (ACCEPT, REJECT)
        if decided and outcome.killed_for is None and outcome.signal is None:
            accepted = outcome.exit_code == ACCEPT
            try:
                scores = (
                    _score_file(score, SCORE_FILES[0]),
                    _score_file(multiplier, SCORE_FILES[1]),
                )
            except ValueError as exc:
                return CheckResult(accepted, feedback, score_error=str(exc))
            return CheckResult(accepted, feedback, *scores)
        reason = outcome.killed_for or (
            f"signal {outcome.signal}" if outcome.signal else f"exit code {outcome.exit_code}"
        )
        stderr = outcome.stderr[-2000:].decode("utf-8", errors="replace").strip()
        raise CheckerFailed(f"checker ended with {reason}: {stderr or feedback}"[:4000])

    async def interact(
        self,
        input_data: bytes,
        answer: bytes,
        submission_limits: RunLimits,
        stdin: Pipe,
        stdout_to: OutputSink,
    ) -> tuple[RunOutcome, str]:
        """Run the interactor for one test while the submission runs elsewhere: what the
        submission writes arrives on ``stdin``, what the interactor writes goes to
        ``stdout_to``. Its outcome and feedback (raises SandboxError if its sandbox
        fails). It may use the submission's time and its own: it waits on the
        submission all along."""
        await self._box.put_files(
            (
                *self._artifact,
                SandboxFile("input", 0o444, input_data),
                SandboxFile("answer", 0o444, answer),
            )
        )
        limits = replace(
            self._limits,
            cpu_ms=self._limits.cpu_ms + submission_limits.cpu_ms,
            # the submission's wall time may be extended by what it waits on this side
            wall_ms=self._limits.wall_ms + (1 + MAX_CREDIT) * submission_limits.wall_ms,
            output_bytes=INTERACTOR_OUTPUT_BYTES,
            stderr_bytes=_FEEDBACK_LIMIT + 4096,
        )
        outcome = await self._box.run(self._interactive_argv, stdin, limits, stdout_to=stdout_to)
        return outcome, outcome.stderr.decode("utf-8", errors="replace").strip()


def _score_file(line: bytes, name: str) -> float | None:
    """What the wrapper printed of one score file: None when there is none; ValueError
    unless it holds one finite number."""
    if not line:
        return None
    data = line[1:]
    if len(data) > _SCORE_BYTES:
        raise ValueError(f"{name} is longer than {_SCORE_BYTES} bytes")
    text = data.decode("ascii", errors="replace").strip()
    if not _NUMBER.fullmatch(text) or not math.isfinite(value := float(text)):
        raise ValueError(f"{name} does not hold one finite number: {text[:40]!r}")
    return value


class CheckerPrograms:
    """Custom checkers, compiled once per distinct program and shared by submissions."""

    def __init__(
        self,
        settings: Settings,
        sandboxes: Sandboxes,
        languages: Mapping[str, Language],
        compile_limits: Callable[[Language], RunLimits],
    ) -> None:
        self._settings = settings
        self._sandboxes = sandboxes
        self._languages = languages
        self._compile_limits = compile_limits
        self._compiled: LRUCache[str, Files] = LRUCache(maxsize=64)

    def language_of(self, spec: CheckerSpec) -> Language:
        assert spec.program is not None
        language = self._languages.get(spec.program.language)
        if language is None:
            raise CheckerFailed(f"checker language {spec.program.language!r} is not available")
        return language

    @asynccontextmanager
    async def session(
        self, spec: CheckerSpec, data_bytes: int, output_bytes: int
    ) -> AsyncIterator[CheckerSession]:
        """A sandbox with the compiled checker, big enough for ``data_bytes`` of one
        test's input and answer and ``output_bytes`` of output."""
        assert spec.program is not None
        s = self._settings
        language = self.language_of(spec)
        files = tuple(SandboxFile.source(name, text) for name, text in spec.program.files)
        key = _digest(language, files)
        source_mb = sum(len(f.data) for f in files) // _MB
        scratch_mb = s.sandbox.sandbox_scratch_mb + source_mb + data_bytes // _MB + 1
        memory_mb = (
            max(s.checker.checker_memory_limit_mb, language.compile_limits.memory_mb)
            + (data_bytes + output_bytes) // _MB
            + 1
        )
        limits = RunLimits(
            cpu_ms=s.checker.checker_time_limit_ms,
            wall_ms=2 * s.checker.checker_time_limit_ms,
            memory_mb=s.checker.checker_memory_limit_mb,
            output_bytes=_FEEDBACK_LIMIT + len(SCORE_FILES) * (_SCORE_BYTES + 3),
            stderr_bytes=s.limits.stderr_limit_kb * 1024,
            file_bytes=scratch_mb * _MB,
        )
        async with self._sandboxes.open(
            language,
            memory_mb,
            s.limits.default_process_limit,
            scratch_mb,
            program_bytes=data_bytes,
        ) as box:
            artifact = self._compiled.get(key)
            if artifact is None:
                artifact = await self._build(box, language, files)
                self._compiled[key] = artifact
            yield CheckerSession(box, artifact, language, limits, spec.args)

    async def _build(self, box: Box, language: Language, files: Files) -> Files:
        command = language.compile_command(f.name for f in files)
        if command is None:
            return files
        await box.put_files(files)
        limits = self._compile_limits(language)
        outcome = await box.run(command, b"", limits, keep_files=True)
        if (
            outcome.exit_code != 0
            or outcome.signal is not None
            or outcome.killed_for
            or outcome.kept_error
        ):
            message = (outcome.stderr + outcome.stdout).decode("utf-8", errors="replace")
            raise CheckerFailed(f"the checker does not compile:\n{message.strip()[:4000]}")
        return await box.export_files(self._settings.sandbox.sandbox_scratch_mb * _MB)

    async def verify(self, spec: CheckerSpec) -> None:
        """Compile the checker now (raises CheckerFailed with the compiler's message)."""
        async with self.session(spec, 0, 0):
            pass
