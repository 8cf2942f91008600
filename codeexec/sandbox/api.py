"""The seam between judging and the sandbox: what judge, checker and self-test code may
ask of a sandbox, without knowing it is Docker, and what the warm pool
(``codeexec.sandbox.pool``) asks of the boxes it keeps and of where they come from.
``codeexec.sandbox.sandbox`` is the implementation (containers driven through their
runner); ``codeexec.sandbox.fake`` is an in-memory one for unit tests of the logic above
it."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from typing import IO, Protocol, TypeVar

from codeexec.model import Language, RunLimits, RunOutcome

Blob = bytes | IO[bytes]  # a file is sent from its start to its end, never read whole


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

    async def put_files(self, files: Files) -> None:
        """Make ``files`` the program every later run starts from."""

    async def export_files(self, max_bytes: int) -> Files:
        """The program as the compile step left it, to start another sandbox from."""

    async def fit_memory(self, memory_mb: int, program_bytes: int = 0) -> None:
        """Size the sandbox for programs allowed ``memory_mb``."""

    async def run(
        self,
        argv: tuple[str, ...],
        stdin: Blob,
        limits: RunLimits,
        *,
        keep_files: bool = False,
        stdout_to: Callable[[bytes], None] | None = None,
        merge_stderr: bool = False,
    ) -> RunOutcome:
        """Run ``argv`` as a fresh process (raises SandboxError if the sandbox fails);
        ``merge_stderr``: its stderr is its stdout (one pipe, in the order written)."""

    async def was_oom_killed(self) -> bool:
        """Whether the sandbox as a whole was killed for memory."""


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
    ) -> AbstractAsyncContextManager[Box]:
        """A box no other submission has used; removed when the block ends."""


class WarmBox(Protocol):
    """What the warm pool reads of a box it keeps idle."""

    container_id: str
    alive: bool  # False once it cannot be used again
    processes: int  # the process limit it was started with
    started_at: float  # time.monotonic() when it was started


WarmBoxT = TypeVar("WarmBoxT", bound=WarmBox)


class BoxStarter(Protocol[WarmBoxT]):
    """Where the warm pool's boxes come from and go back to."""

    def default_shape(self, language: Language) -> tuple[int, int]:
        """(memory MB, processes) of a box for the server's default limits."""

    async def start(self, language: Language, memory_mb: int, processes: int) -> WarmBoxT:
        """A started box, ready to run (raises if it could not be started)."""

    async def discard(self, box: WarmBoxT) -> None:
        """Close ``box`` and remove it; it is never used again."""

    async def removals_done(self) -> None:
        """Wait until every removal under way has finished."""
