"""The seam between judging and the sandbox: what judge, checker and self-test code may
ask of a sandbox, without knowing it is Docker, and what the warm pool
(``codeexec.sandbox.pool``) asks of the boxes it keeps and of where they come from.
``codeexec.sandbox.sandbox`` is the implementation (containers driven through their
runner); ``codeexec.sandbox.fake`` is an in-memory one for unit tests of the logic above
it."""

from __future__ import annotations

import asyncio
import collections
from collections.abc import Awaitable, Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from typing import IO, Protocol, TypeVar

from codeexec.model import Language, RunLimits, RunOutcome

Blob = bytes | IO[bytes]  # a file is sent from its start to its end, never read whole
# Where a run's output goes as it arrives; an awaitable it returns is awaited before more
# is read (back-pressure: a pipe to a reader that is not reading).
OutputSink = Callable[[bytes], Awaitable[None] | None]


class Pipe:
    """Input that arrives while a run goes on: what one party of an interaction (an
    interactive problem's submission or interactor) writes is the other's stdin. The
    writer is held back once ``limit`` bytes wait; ``close`` ends the reader's input,
    ``stop`` ends the reader's run itself."""

    def __init__(self, limit: int = 1 << 20) -> None:
        self._chunks: collections.deque[bytes] = collections.deque()
        self._waiting = 0
        self._limit = limit
        self._changed = asyncio.Event()
        self.closed = False
        self.stopped = False

    async def write(self, data: bytes) -> None:
        if self.closed or self.stopped or not data:
            return  # the reader has gone: what it would have read is dropped
        self._chunks.append(data)
        self._waiting += len(data)
        self._changed.set()
        while self._waiting > self._limit and not (self.closed or self.stopped):
            self._changed.clear()
            await self._changed.wait()

    def close(self) -> None:
        self.closed = True
        self._changed.set()

    def stop(self) -> None:
        self.stopped = True
        self._changed.set()

    async def wait_stopped(self) -> None:
        while not self.stopped:
            self._changed.clear()
            await self._changed.wait()

    async def read(self) -> bytes | None:
        """The next chunk; b"" once closed (and drained); None once stopped."""
        while True:
            if self.stopped:
                return None
            if self._chunks:
                data = self._chunks.popleft()
                self._waiting -= len(data)
                self._changed.set()  # a held-back writer may go on
                return data
            if self.closed:
                return b""
            self._changed.clear()
            await self._changed.wait()


class SandboxError(Exception):
    """The sandbox failed for reasons that are not the submission's fault."""


class SandboxDirty(SandboxError):
    """The runner did not run the command: what an earlier one left could not be
    cleaned up (e.g. descriptors in flight under gVisor, which never collects them)."""


@dataclass(frozen=True)
class SandboxFile:
    name: str  # relative to the sandbox's working directory
    mode: int
    data: bytes

    @classmethod
    def source(cls, name: str, text: str) -> SandboxFile:
        """A submitted source file (lone surrogates kept as the bytes they stand for)."""
        return cls(name, 0o644, text.encode("utf-8", errors="surrogatepass"))


Files = tuple[SandboxFile, ...]


class Box(Protocol):
    """One sandbox, used by one submission (or one checker) only."""

    container_id: str
    alive: bool  # False once it cannot be used again
    # A hidden test ran in it: set before one runs; nothing shown may run in it after.
    tainted: bool
    uses: int  # submissions it served before this one

    async def put_files(self, files: Files) -> None:
        """Make ``files`` the program every later run starts from."""

    async def export_files(self, max_bytes: int) -> Files:
        """The program as the compile step left it, to start another sandbox from."""

    async def fit_memory(self, memory_mb: int, program_bytes: int = 0) -> None:
        """Size the sandbox for programs allowed ``memory_mb``."""

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
        """Run ``argv`` as a fresh process (raises SandboxError if the sandbox fails);
        ``merge_stderr``: its stderr is its stdout (one pipe, in the order written).
        With a ``Pipe`` as stdin, the run ends when its program does or the pipe is
        stopped (``RunOutcome.killed_for`` "stopped")."""

    async def was_oom_killed(self) -> bool:
        """Whether the sandbox as a whole was killed for memory."""

    async def freeze(self) -> None:
        """Pause everything in the sandbox (its job is paused); until ``thaw``, requests
        wait and a run's time does not pass (``sandbox/freeze.py``)."""

    async def thaw(self) -> None:
        """Let a frozen sandbox run on."""


class Sandboxes(Protocol):
    """Where boxes come from."""

    def default_shape(self, language: Language) -> tuple[int, int]:
        """(memory MB, processes) of a box for the server's default limits."""

    def shape_memory_mb(self, language: Language, run_memory_mb: int) -> int:
        """The memory a box for this language must hold: compile or run, the larger."""

    def open(
        self,
        language: Language,
        memory_mb: int,
        processes: int,
        scratch_mb: int | None = None,
        program_bytes: int = 0,
        *,
        reuse: bool = False,
        shown: bool = True,
    ) -> AbstractAsyncContextManager[Box]:
        """A box for one submission's work. Without ``reuse``: one nothing else has
        used, removed when the block ends. With it: one that may have served other
        submissions (reset and checked clean since; never a tainted one when ``shown``:
        something whose output is shown will run in it), given back to serve more."""

    @property
    def reuses(self) -> bool:
        """Whether ``open(reuse=True)`` gives boxes back to serve other submissions."""


class WarmBox(Protocol):
    """What the warm pool reads of a box it keeps idle."""

    container_id: str
    alive: bool  # False once it cannot be used again
    processes: int  # the process limit it was started with
    memory_mb: int  # what a program in it may hold now
    started_at: float  # time.monotonic() when it was started
    uses: int  # submissions it has served
    tainted: bool  # a hidden test ran in it
    # The largest stack (MB) its runner can still give a program: a run's stack limit
    # is pinned on the runner itself and can only go down (runner/spawn.py).
    stack_mb: float


WarmBoxT = TypeVar("WarmBoxT", bound=WarmBox)


class BoxStarter(Protocol[WarmBoxT]):
    """Where the warm pool's boxes come from and go back to."""

    def default_shape(self, language: Language) -> tuple[int, int]:
        """(memory MB, processes) of a box for the server's default limits."""

    async def start(self, language: Language, memory_mb: int, processes: int) -> WarmBoxT:
        """A started box, ready to run (raises if it could not be started)."""

    async def discard(self, box: WarmBoxT) -> None:
        """Close ``box`` and remove it; it is never used again."""

    async def reset(self, box: WarmBoxT) -> None:
        """Make ``box`` ready for another submission: no program, nothing left of the
        last one (raises if that cannot be made and checked true)."""

    async def removals_done(self) -> None:
        """Wait until every removal under way has finished."""
