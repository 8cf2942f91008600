"""An in-memory ``Sandboxes`` for unit tests of the logic above the sandbox (judge,
checkers, jobs, the warm pool): each run is answered by a Python function standing in for
the program, and every box opened, started or discarded and every run is recorded for the
test to look at."""

from __future__ import annotations

import asyncio
import inspect
import itertools
import math
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from codeexec.model import Language, RunLimits, RunOutcome
from codeexec.sandbox.api import (
    Blob,
    BoxStarter,
    Files,
    OutputSink,
    Pipe,
    SandboxError,
    Sandboxes,
    SandboxFile,
)
from codeexec.sandbox.freeze import enlisted


@dataclass
class FakeRun:
    """One run as the stand-in program sees it; it may change ``files`` (a compiler
    writing its output: kept only with ``keep_files``)."""

    box: FakeBox
    argv: tuple[str, ...]
    stdin: bytes
    limits: RunLimits
    files: dict[str, bytes]
    keep_files: bool
    merge_stderr: bool = False
    # An interactive run: its input as it comes (``stdin`` is then b"") and where its
    # output goes as it writes it; its stand-in program is then ``async``.
    pipe: Pipe | None = None
    write: OutputSink | None = None

    async def say(self, data: bytes) -> None:
        """Write ``data`` to the other party now (an interactive run)."""
        assert self.write is not None
        if (held := self.write(data)) is not None:
            await held


class KilledForMemory(Exception):
    """Raised by a stand-in program: the kernel kills the whole box for memory."""


def outcome(
    stdout: bytes = b"",
    *,
    stderr: bytes = b"",
    exit_code: int | None = 0,
    signal: int | None = None,
    cpu_ms: int = 1,
    wall_ms: int = 2,
    memory_kb: int = 1024,
    oom_killed: bool = False,
    killed_for: str | None = None,
) -> RunOutcome:
    return RunOutcome(
        exit_code=exit_code,
        signal=signal,
        cpu_ms=cpu_ms,
        wall_ms=wall_ms,
        memory_kb=memory_kb,
        oom_killed=oom_killed,
        killed_for=killed_for,
        stdout=stdout,
        stderr=stderr,
    )


Program = Callable[[FakeRun], RunOutcome | Awaitable[RunOutcome]]


@dataclass
class FakeBox:
    container_id: str
    language: Language
    memory_mb: int
    processes: int
    program: Program
    alive: bool = True
    closed: bool = False
    started_at: float = field(default_factory=time.monotonic)
    oom_killed: bool = False
    files: dict[str, bytes] = field(default_factory=dict)
    runs: list[FakeRun] = field(default_factory=list)
    frozen: bool = False
    freezes: int = 0  # how often it was frozen
    uses: int = 0
    tainted: bool = False
    shown: bool = True  # opened for work whose output is shown
    resets: int = 0
    stack_mb: float = math.inf  # as the runner pins it (Sandbox.stack_mb)
    thawed: asyncio.Event = field(default_factory=asyncio.Event)

    def __post_init__(self) -> None:
        self.thawed.set()

    async def freeze(self) -> None:
        if not self.frozen:
            self.frozen, self.freezes = True, self.freezes + 1
            self.thawed.clear()

    async def thaw(self) -> None:
        self.frozen = False
        self.thawed.set()

    async def put_files(self, files: Files) -> None:
        self._usable()
        self.files = {f.name: f.data for f in files}

    async def export_files(self, max_bytes: int) -> Files:
        self._usable()
        return tuple(SandboxFile(name, 0o755, data) for name, data in self.files.items())

    async def fit_memory(self, memory_mb: int, program_bytes: int = 0) -> None:
        self._usable()
        self.memory_mb = memory_mb

    async def run(
        self,
        argv: tuple[str, ...],
        stdin: Blob | Pipe,
        limits: RunLimits,
        *,
        keep_files: bool = False,
        stdout_to: OutputSink | None = None,
        merge_stderr: bool = False,
    ) -> RunOutcome:
        self._usable()
        # A frozen box is asked nothing; a stand-in program already running stands
        # still while frozen only if it awaits ``thawed`` itself.
        await self.thawed.wait()
        pipe = stdin if isinstance(stdin, Pipe) else None
        data = b""
        if isinstance(stdin, bytes):
            data = stdin
        elif not isinstance(stdin, Pipe):
            data = stdin.read()
        if not keep_files:
            self.stack_mb = min(self.stack_mb, limits.memory_mb)
        run = FakeRun(self, argv, data, limits, dict(self.files), keep_files, merge_stderr)
        if pipe is not None:
            run.pipe, run.write = pipe, stdout_to
        self.runs.append(run)
        try:
            answered = self.program(run)
            if inspect.isawaitable(answered):
                answered = await _until_stopped(answered, pipe)
            result = answered
        except KilledForMemory:
            self.alive, self.oom_killed = False, True
            raise SandboxError("sandbox closed the stream") from None
        except SandboxError:
            self.alive = False
            raise
        if keep_files:
            self.files = run.files
        if stdout_to is None:
            return result
        for start in range(0, len(result.stdout), 3):  # in pieces, as the runner streams
            if (held := stdout_to(result.stdout[start : start + 3])) is not None:
                await held
        return RunOutcome(**{**result.__dict__, "stdout": b""})

    async def was_oom_killed(self) -> bool:
        return self.oom_killed

    def _usable(self) -> None:
        if not self.alive or self.closed:
            raise SandboxError("sandbox is gone")


class FakeSandboxes:
    """Boxes whose runs ``program`` answers; ``boxes`` lists every box opened, ``started``
    every box started for the warm pool and ``discarded`` every box given back to
    ``discard``. A test may hold starts or discards at a gate (an unset ``asyncio.Event``)
    and make starts fail (``start_error``, raised once a start is through its gate)."""

    def __init__(self, program: Program, *, reuses: bool = False) -> None:
        self.program = program
        self.reuses = reuses  # the judge then keeps shown and hidden work apart
        self.boxes: list[FakeBox] = []
        self.started: list[FakeBox] = []
        self.discarded: list[FakeBox] = []
        self.start_gate: asyncio.Event | None = None
        self.discard_gate: asyncio.Event | None = None
        self.start_error: Exception | None = None
        self.start_calls = 0  # every start asked for, failed or not
        self.starting = 0  # starts under way
        self.most_starting = 0  # the most starts ever under way at once
        self._ids = itertools.count()

    def _box(self, language: Language, memory_mb: int, processes: int) -> FakeBox:
        return FakeBox(f"fake{next(self._ids)}", language, memory_mb, processes, self.program)

    def default_shape(self, language: Language) -> tuple[int, int]:
        return self.shape_memory_mb(language, 256), 64

    def shape_memory_mb(self, language: Language, run_memory_mb: int) -> int:
        compile_mb = language.compile_limits.memory_mb if language.compile else 0
        return max(run_memory_mb, compile_mb)

    @asynccontextmanager
    async def open(
        self,
        language: Language,
        memory_mb: int,
        processes: int,
        scratch_mb: int | None = None,
        program_bytes: int = 0,
        *,
        reuse: bool = False,
        shown: bool = True,
    ) -> AsyncIterator[FakeBox]:
        box = self._box(language, memory_mb, processes)
        box.shown = shown
        self.boxes.append(box)
        try:
            async with enlisted(box):
                yield box
        finally:
            box.closed = True
            box.uses += 1

    async def start(self, language: Language, memory_mb: int, processes: int) -> FakeBox:
        self.start_calls += 1
        self.starting += 1
        self.most_starting = max(self.most_starting, self.starting)
        try:
            if self.start_gate is not None:
                await self.start_gate.wait()
            if self.start_error is not None:
                raise self.start_error
        finally:
            self.starting -= 1
        box = self._box(language, memory_mb, processes)
        self.started.append(box)
        return box

    async def reset(self, box: FakeBox) -> None:
        box.resets += 1
        if not box.alive:
            raise SandboxError("sandbox is gone")
        box.files = {}

    async def discard(self, box: FakeBox) -> None:
        box.alive, box.closed = False, True
        self.discarded.append(box)
        if self.discard_gate is not None:  # the removal itself takes a while
            await self.discard_gate.wait()

    async def removals_done(self) -> None:
        """Nothing is removed in the background here: a discard is done when it returns."""


async def _until_stopped(program: Awaitable[RunOutcome], pipe: Pipe | None) -> RunOutcome:
    """An async stand-in program's outcome; stopping its pipe kills it, as the runner
    does (``killed_for`` "stopped")."""
    running = asyncio.ensure_future(program)
    if pipe is None:
        return await running
    stopped = asyncio.ensure_future(pipe.wait_stopped())
    await asyncio.wait((running, stopped), return_when=asyncio.FIRST_COMPLETED)
    if running.done():
        stopped.cancel()
        return running.result()
    running.cancel()
    return outcome(exit_code=None, signal=9, killed_for="stopped")


if TYPE_CHECKING:  # mypy holds the fake to both seams it stands in for

    def _seams(fake: FakeSandboxes) -> tuple[Sandboxes, BoxStarter[FakeBox]]:
        return fake, fake
