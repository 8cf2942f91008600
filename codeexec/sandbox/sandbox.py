"""One throwaway, locked-down container per submission, driven through its runner.

``SandboxFactory.open()`` creates the container with every restriction of the sandbox
guarantees, attaches to the runner (PID 1) and yields a ``Sandbox``; the container is
removed in ``finally``, whatever happened. Strays from a killed service are removed at
start-up by their labels (see ``DockerGateway.remove_strays``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import signal
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any

from docker.types import LogConfig, Ulimit

from codeexec.config import Settings
from codeexec.model import Language, RunLimits, RunOutcome
from codeexec.sandbox.api import (
    Blob,
    Files,
    OutputSink,
    Pipe,
    SandboxDirty,
    SandboxError,
    SandboxFile,
)
from codeexec.sandbox.deadline import Deadline
from codeexec.sandbox.docker_gateway import INSTANCE_LABEL, SANDBOX_LABEL, DockerGateway
from codeexec.sandbox.engine import EngineInfo
from codeexec.sandbox.freeze import enlisted
from codeexec.sandbox.protocol import ProtocolError, RunnerStream
from codeexec.sandbox.runner.bundle import RUNNER_SOURCE
from codeexec.sandbox.runner.channel import CHUNK as OUT_CHUNK
from codeexec.sandbox.runner.channel import MAX_CREDIT, PROTOCOL_VERSION
from codeexec.sandbox.runner.cleanup import CLEAN_DEADLINE_S, DRAIN_S

if TYPE_CHECKING:
    from codeexec.sandbox.pool import WarmPool

log = logging.getLogger(__name__)

SANDBOX_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
_START_TIMEOUT_S = 30.0
_REPLY_GRACE_S = 10.0
_INLINE_INPUT = 1 << 16  # a test's input up to this size goes in one write with its request
# The runner's clean-up is bounded by its own deadlines (cleanup.CLEAN_DEADLINE_S + DRAIN_S).
_RESET_TIMEOUT_S = CLEAN_DEADLINE_S + DRAIN_S + _REPLY_GRACE_S
# How long a container whose runner hung up may take to be seen as exited.
_EXIT_SETTLE_S = 2.0
_MB = 1024 * 1024
# Inodes per scratch tmpfs: bounds what the runner must delete between tests.
SCRATCH_INODES = 16384
# Host resources of gVisor's sandbox kernel (runsc 20221219, ptrace platform), measured
# here: ~40 host threads idle, ~7 per busy process, and a fork bomb held to 33 processes
# adds ~150 a second (ptrace stubs) until its CPU time ends it (gVisor charges every
# runnable task); ~20 MB for the sentry, ~2 MB more per process.
GVISOR_TASKS, GVISOR_TASKS_PER_PROCESS = 256, 32
GVISOR_MB, GVISOR_MB_PER_PROCESS = 32, 2


def limits_wire(limits: RunLimits) -> dict[str, int]:
    """The limits as the runner takes them."""
    return {
        "cpu_ms": limits.cpu_ms,
        "wall_ms": limits.wall_ms,
        "output_bytes": limits.output_bytes,
        "stderr_bytes": limits.stderr_bytes,
        "file_bytes": limits.file_bytes,
        "open_files": limits.open_files,
        "stack_bytes": limits.memory_mb * 1024 * 1024,
        "memory_bytes": limits.memory_mb * 1024 * 1024,  # gVisor: the runner enforces it
    }


def outcome_from_wire(header: dict[str, Any], stdout: bytes, stderr: bytes) -> RunOutcome:
    """The runner's answer to a run."""
    return RunOutcome(
        exit_code=header.get("exit_code"),
        signal=header.get("signal"),
        cpu_ms=int(header["cpu_ms"]),
        wall_ms=int(header["wall_ms"]),
        memory_kb=int(header["memory_kb"]),
        oom_killed=bool(header["oom_killed"]),
        killed_for=header.get("killed_for"),
        stdout=stdout,
        stderr=stderr,
        kept_bytes=int(header.get("kept_bytes", 0)),
        kept_error=header.get("kept_error"),
    )


class Sandbox:
    """A started container whose runner executes commands on request."""

    def __init__(
        self,
        container_id: str,
        stream: RunnerStream,
        language: Language,
        factory: SandboxFactory,
        *,
        memory_mb: int,
        processes: int,
    ) -> None:
        self.container_id = container_id
        self.language = language
        self.memory_mb = memory_mb  # what a program may hold; the cgroup adds the runner's
        self.hard_mb = 0  # the container's memory cgroup limit
        self.processes = processes
        self._stream = stream
        self._factory = factory
        self._gateway = factory.gateway
        self.alive = True  # False once the runner stopped answering
        self.started_at = time.monotonic()
        self.uses = 0  # submissions (or checker sessions) it has served
        # A hidden test ran here: nothing whose output is shown may run here again
        # (kernel counters can carry a few bits from one run to the next).
        self.tainted = False
        # A run after a compile step pins the runner's own hard stack limit to the
        # program's (runner/spawn.py): no later run here gets a larger stack.
        self.stack_mb = math.inf
        self.frozen = False  # paused by the engine (its job is paused)
        self._thawed = asyncio.Event()
        self._thawed.set()
        self._deadline: Deadline | None = None  # of the answer awaited now

    async def freeze(self) -> None:
        """Pause the container (the cgroup freezer): nothing in it runs until ``thaw``.
        The deadline of an answer awaited meanwhile waits too."""
        if self.frozen or not self.alive:
            return
        self.frozen = True
        self._thawed.clear()
        if self._deadline is not None:
            self._deadline.freeze()
        try:
            await self._gateway.pause(self.container_id)
        except BaseException:
            self._thawed_now()
            raise

    async def thaw(self) -> None:
        if not self.frozen:
            return
        try:
            await self._gateway.unpause(self.container_id)
        finally:
            self._thawed_now()

    def _thawed_now(self) -> None:
        self.frozen = False
        self._thawed.set()
        if self._deadline is not None:
            self._deadline.thaw()

    @contextlib.asynccontextmanager
    async def _answer_within(self, within: float) -> AsyncIterator[Deadline]:
        """A deadline for the runner's answer that does not run while frozen."""
        async with asyncio.timeout(None) as timeout:
            self._deadline = Deadline(timeout, within, self.frozen)
            try:
                yield self._deadline
            finally:
                self._deadline = None

    def close(self) -> None:
        self.alive = False
        self._stream.close()

    async def was_oom_killed(self) -> bool:
        """Whether the kernel killed the whole container for memory (e.g. the runner,
        when a program's tmpfs files left it no page to fault in).

        The engine's OOMKilled flag says so, read once the container has stopped (the
        stream may close before the engine has noticed the exit). Podman on cgroup v1
        never sets it, so there a runner that died of SIGKILL counts too: it is PID 1 of
        its namespace, which no process inside can signal, and codeexec kills a
        container only after it is done with it, which leaves the kernel's OOM killer
        (or an administrator's ``podman kill`` during a run, then judged MLE instead of
        IE; Docker reports that one as the IE it is)."""
        deadline = time.monotonic() + _EXIT_SETTLE_S
        while True:
            try:
                state = await self._gateway.inspect_state(self.container_id)
            except Exception:
                return False
            if not state.get("Running") or time.monotonic() > deadline:
                break
            await asyncio.sleep(0.05)
        if state.get("OOMKilled"):
            return True
        killed = not state.get("Running") and state.get("ExitCode") == 128 + signal.SIGKILL
        return killed and self._factory.podman

    async def fit_memory(self, memory_mb: int, program_bytes: int = 0) -> None:
        """Size the container's memory cgroup for programs allowed ``memory_mb`` (e.g.
        after a compile step that needed more), so the kernel's own limit is the
        problem's and not the compiler's."""
        hard_mb = self._factory.hard_memory_mb(memory_mb, program_bytes, self.processes)
        if self._factory.gvisor:
            # runsc (2022) has no "update": Docker answers 500. A lower limit is kept
            # as the runner's (its samples judge MLE) under the larger ceiling; a higher
            # one needs a new container.
            if hard_mb > self.hard_mb:
                raise SandboxError("a gVisor sandbox cannot be given more memory")
        elif hard_mb != self.hard_mb:  # a reused container often has the size already
            await self._gateway.update_memory(self.container_id, hard_mb)
            self.hard_mb = hard_mb
        self.memory_mb = memory_mb

    async def _usable(self) -> None:
        """Refuse a request once the runner is out of step (or gone): it could still be
        busy with an earlier one, whose late answer would be read as this one's. A
        frozen sandbox is asked nothing until it is thawed."""
        if not self.alive:
            raise SandboxError("this sandbox failed earlier: it is not used again")
        await self._thawed.wait()
        if not self.alive:
            raise SandboxError("this sandbox failed earlier: it is not used again")

    async def put_files(self, files: Files) -> None:
        """Make ``files`` the program every later run starts from."""
        await self._usable()
        await self._stream.send(
            {"op": "put", "files": [{"name": f.name, "mode": f.mode} for f in files]},
            *(f.data for f in files),
        )
        header, _ = await self._reply(_START_TIMEOUT_S, 0)
        if not header.get("ok"):
            raise SandboxError(f"runner refused files: {header.get('error')}")

    async def reset(self) -> None:
        """Between two submissions: the program dropped and the container cleaned and
        checked by its runner (raises SandboxError when it cannot be)."""
        if self.frozen:  # no job of its own any more: nobody would thaw it
            raise SandboxError("a frozen sandbox is not reused")
        await self._usable()
        await self._stream.send({"op": "reset"})
        header, _ = await self._reply(_RESET_TIMEOUT_S, 0)
        if header.get("op") != "reset" or not header.get("ok"):
            self.alive = False
            raise SandboxDirty(f"runner could not reset: {header.get('error')}")

    async def export_files(self, max_bytes: int) -> Files:
        """The program as the compile step left it, to start another sandbox from."""
        await self._usable()
        await self._stream.send({"op": "export"})
        header, blobs = await self._reply(_START_TIMEOUT_S, max_bytes)
        entries = header.get("files")
        if not header.get("ok") or not isinstance(entries, list) or len(entries) != len(blobs):
            raise SandboxError(f"runner could not export files: {header.get('error')}")
        return tuple(
            SandboxFile(str(e["name"]), int(e["mode"]), blob)
            for e, blob in zip(entries, blobs, strict=True)
        )

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
        """Run ``argv`` with ``stdin`` as a fresh process. The input is sent while the
        output arrives; with ``stdout_to`` the output is handed over chunk by chunk
        instead of being kept (``RunOutcome.stdout`` is then empty)."""
        await self._usable()
        if not keep_files:
            self.stack_mb = min(self.stack_mb, limits.memory_mb)  # as limits_wire sends it
        env = {"PATH": SANDBOX_PATH, "LANG": "C.UTF-8", "HOME": "/tmp", **self.language.env}
        wire = dict(limits_wire(limits), processes=self.processes)  # gVisor: runner's NPROC
        request: dict[str, Any] = {"op": "run", "argv": list(argv), "env": env, "limits": wire}
        if merge_stderr:
            request["merge_stderr"] = True
        if isinstance(stdin, Pipe):
            self._stream.send_header(dict(request, keep_files=keep_files, stdin="stream"))
            feeding = asyncio.create_task(self._stream.send_frames(stdin))
        elif isinstance(stdin, bytes) and len(stdin) <= _INLINE_INPUT:
            self._stream.send_header(dict(request, keep_files=keep_files), stdin, inline=True)
            feeding = asyncio.create_task(self._stream.drain())
        else:
            self._stream.send_header(dict(request, keep_files=keep_files), stdin)
            feeding = asyncio.create_task(self._stream.send_body(stdin))
        kept: list[bytes] = []
        received = 0
        try:
            # The runner may credit up to MAX_CREDIT times the wall limit for time the
            # program waited on this side; it always answers before this (plus the time
            # the sandbox was frozen, which it does not count either).
            within = limits.wall_ms / 1000 * (1 + MAX_CREDIT) + _REPLY_GRACE_S
            async with self._answer_within(within) as deadline:
                while True:
                    header, blobs = await self._stream.receive(max(OUT_CHUNK, limits.stderr_bytes))
                    if header.get("op") != "out":
                        break
                    chunk = blobs[0] if len(blobs) == 1 else b""
                    received += len(chunk)
                    if received > limits.output_bytes:
                        raise ProtocolError("the runner sent more output than the limit")
                    if stdout_to is None:
                        kept.append(chunk)
                    elif (held := stdout_to(chunk)) is not None:
                        # Time the sink holds the output back (the other party of a
                        # conversation not reading yet) is not the runner's lateness:
                        # the deadline waits too, up to ``within`` in all, so nothing
                        # is waited on for ever.
                        deadline.hold()
                        try:
                            await held
                        finally:
                            deadline.release()
                if isinstance(stdin, Pipe):
                    stdin.stop()  # the run is over: its input stream ends (stop frame)
                await feeding
        except TimeoutError as exc:
            self.alive = False
            raise SandboxError("sandbox runner did not answer in time") from exc
        except (ProtocolError, OSError) as exc:
            self.alive = False
            raise SandboxError(f"sandbox runner failed: {exc}") from exc
        except asyncio.CancelledError:
            self.alive = False  # the answer is still coming: out of step for good
            raise
        finally:
            if isinstance(stdin, Pipe):
                stdin.stop()  # whatever happened: nobody reads it now, its writer goes on
            if not feeding.done():
                feeding.cancel()
                self.alive = False  # a streamed input cut short leaves the runner out of step
        if not header.get("ok") or len(blobs) != 1:
            # The runner answered but cannot go on (e.g. it could not clean up after
            # the program): this container is not used again.
            self.alive = False
            if header.get("ran") is False:
                raise SandboxDirty(f"runner refused: {header.get('error')}")
            raise SandboxError(f"runner failed: {header.get('error')}")
        return outcome_from_wire(header, b"".join(kept), blobs[0])

    async def _reply(self, within_s: float, max_blob: int) -> tuple[dict[str, Any], list[bytes]]:
        try:
            async with self._answer_within(within_s):
                return await self._stream.receive(max_blob)
        except TimeoutError as exc:
            self.alive = False
            raise SandboxError("sandbox runner did not answer in time") from exc
        except ProtocolError as exc:
            self.alive = False
            raise SandboxError(str(exc)) from exc
        except asyncio.CancelledError:
            self.alive = False  # the answer is still coming: out of step for good
            raise


def sandbox_ulimits(scratch_mb: int) -> list[Ulimit]:
    """Every resource limit of a sandbox, set explicitly: whatever the daemon's
    ``default-ulimits`` (or its own limits, which containers otherwise inherit), these
    are the ceilings. The runner lowers some per run and pins each run's hard limits to
    its soft ones. -1 is unlimited where the cgroup is the real bound (memory, CPU)."""
    limits = {
        "nofile": 256,
        "nproc": 4096,  # counted per uid across the host; the pids cgroup is the real bound
        "core": 0,
        "fsize": scratch_mb * _MB,
        "memlock": 64 * 1024,
        "msgqueue": 0,  # no POSIX message queues
        "sigpending": 65536,
        "locks": -1,
        "nice": 0,
        "rtprio": 0,
        "rttime": -1,
        "cpu": -1,
        "data": -1,
        "rss": -1,
        # RLIMIT_AS is left as the engine's process has it (unlimited on every host seen):
        # Podman's API refuses the name "as".
    }
    ulimits = [Ulimit(name=name, soft=value, hard=value) for name, value in limits.items()]
    # The runner sets each run's stack; its own hard limit must allow the largest.
    return [*ulimits, Ulimit(name="stack", soft=8 * _MB, hard=-1)]


class SandboxFactory:
    def __init__(
        self, settings: Settings, gateway: DockerGateway, engine: EngineInfo | None = None
    ) -> None:
        self._settings = settings
        self.gateway = gateway
        self.podman = engine is not None and engine.product == "Podman"
        self.gvisor = engine is not None and engine.gvisor
        self._next_uid = 0
        self._live: set[str] = set()
        self._removals: set[asyncio.Task[None]] = set()
        self.pool: WarmPool[Sandbox] | None = None
        self.runner_cgroup: int | None = None  # the cgroup version runners report seeing
        self.runner_accounting: str | None = None  # "cgroup v1", "cgroup v2" or "gvisor"

    def default_shape(self, language: Language) -> tuple[int, int]:
        """(memory MB, processes) of a warm container: what a problem gets by default,
        or what its compile step needs if that is more."""
        limits = self._settings.limits
        memory_mb = self.shape_memory_mb(language, limits.default_memory_limit_mb)
        return memory_mb, limits.default_process_limit

    @staticmethod
    def shape_memory_mb(language: Language, run_memory_mb: int) -> int:
        """What a container must first allow: the compile step's memory (if any) or the
        program's; after compiling, ``Sandbox.fit_memory`` lowers it to the program's."""
        if language.compile is None:
            return run_memory_mb
        return max(run_memory_mb, language.compile_limits.memory_mb)

    def hard_memory_mb(self, memory_mb: int, program_bytes: int = 0, processes: int = 0) -> int:
        """The container's memory cgroup limit for programs allowed ``memory_mb``.

        Everything a program can hold is charged to that cgroup: anonymous memory,
        tmpfs files (scratch, its own program files included), System V and POSIX
        shared memory, memfd, pipe and socket buffers and other kernel memory. On top of
        the program's allowance it holds only the runner
        (``CODEEXEC_SANDBOX_MEMORY_OVERHEAD_MB``: its interpreter and buffers, which stay
        flat because input and output stream through it) and the runner's copy of the
        program's files. So a program cannot exceed its limit by more than that overhead
        without being OOM-killed (MLE), and the runner's samples judge MLE at the limit
        itself.

        Under gVisor the cgroup also holds the sandbox's kernel (the sentry and its
        gofer: ~20 MB) and what it spends per process beyond the program's own memory
        (measured: 32 forked interpreters holding 42 MB took 102 MB on the host), so
        that much more is allowed there; the runner's samples still judge MLE at the
        limit (see ``Gvisor`` in runner/accounting.py)."""
        overhead_mb = self._settings.sandbox.sandbox_memory_overhead_mb
        hard = memory_mb + overhead_mb + -(-program_bytes // _MB)
        if self.gvisor:
            hard += GVISOR_MB + GVISOR_MB_PER_PROCESS * processes
        return hard

    def container_config(
        self,
        language: Language,
        memory_mb: int,
        processes: int,
        scratch_mb: int | None = None,
        program_bytes: int = 0,
    ) -> dict[str, Any]:
        s = self._settings
        scratch_mb = scratch_mb or s.sandbox.sandbox_scratch_mb
        user = self._user()
        uid, _, gid = user.partition(":")
        # Docker copies the image's own /tmp (contents, mode 1777) into the tmpfs; the
        # runner wipes and resets both scratch directories before the first run.
        if self.podman:  # its API takes "U" (owned by the user) and no nr_inodes/uid/gid
            scratch = f"size={scratch_mb}m,mode=0700,U,notmpcopyup"
        else:
            scratch = f"size={scratch_mb}m,uid={uid},gid={gid or uid},mode=0700"
            scratch += f",nr_inodes={SCRATCH_INODES}"
        hard_mb = self.hard_memory_mb(memory_mb, program_bytes, processes)
        pids = processes + 1  # + the runner
        if self.gvisor:  # the host counts the sentry's threads; gVisor counts processes
            pids = GVISOR_TASKS + GVISOR_TASKS_PER_PROCESS * pids  # (the runner's NPROC)
        return {
            "image": language.image_tag(s.sandbox.image_prefix),
            "command": ["python3", "-I", "-c", RUNNER_SOURCE],
            "user": user,
            "detach": True,
            "stdin_open": True,
            "tty": False,
            # The runner must be PID 1, whatever the daemon's default ("init": true).
            "init": False,
            "network_mode": "none",
            "read_only": True,
            "tmpfs": {
                "/sandbox": f"rw,exec,nosuid,nodev,{scratch}",
                "/tmp": f"rw,noexec,nosuid,nodev,{scratch}",
            },
            "working_dir": "/sandbox",
            "hostname": "sandbox",
            "environment": {"PATH": SANDBOX_PATH},
            "cap_drop": ["ALL"],
            "security_opt": ["no-new-privileges"],
            "ipc_mode": "none",
            "pids_limit": pids,
            "mem_limit": f"{hard_mb}m",
            "memswap_limit": f"{hard_mb}m",
            "mem_swappiness": 0,
            "nano_cpus": int(s.sandbox.sandbox_cpus * 1e9),
            "ulimits": sandbox_ulimits(scratch_mb),
            "log_config": LogConfig(type=LogConfig.types.NONE),
            "labels": {SANDBOX_LABEL: "1", INSTANCE_LABEL: s.instance_name},
            "runtime": s.sandbox.runtime,
        }

    def _user(self) -> str:
        """The uid:gid of the next sandbox: the next of the pool (never the same as a
        live sandbox's while fewer than CODEEXEC_SANDBOX_UIDS are alive)."""
        s = self._settings.sandbox
        if not s.sandbox_uids:
            return s.sandbox_user
        gid = s.sandbox_user.partition(":")[2] or s.sandbox_user
        uid = s.sandbox_uid_base + self._next_uid % s.sandbox_uids
        self._next_uid += 1
        return f"{uid}:{gid}"

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
    ) -> AsyncIterator[Sandbox]:
        """A sandbox sized for programs allowed ``memory_mb`` (of ``program_bytes``
        size): a warm one resized if it needs to be (~20 ms), else a new one. Without
        ``reuse`` it is one no other submission used, removed when the block ends;
        with it, it may have served others and is given back to the pool
        (``sandbox/pool.py``) to serve more, if it is still sound."""
        box = None
        if self.pool and scratch_mb is None:
            # Without ``reuse`` (e.g. "test" isolation) the promise is a container no
            # other submission used: never one given back.
            box = self.pool.take(language, processes, shown, memory_mb, used=reuse)
            if box is not None and box.uses:
                self.gateway.reused()
        if box is not None and (box.memory_mb != memory_mb or program_bytes):
            try:
                await box.fit_memory(memory_mb, program_bytes)
            except asyncio.CancelledError:
                box.close()  # its size unknown now (the engine may have applied it): gone
                self._remove_soon(box.container_id)
                raise
            except Exception as exc:
                log.warning("could not resize warm sandbox %s: %s", box.container_id[:12], exc)
                await self.discard(box)
                box = None
        if box is None:
            box = await self.start(language, memory_mb, processes, scratch_mb, program_bytes)
        try:
            async with enlisted(box):  # frozen and thawed with its job's other boxes
                yield box
        finally:
            box.uses += 1
            if self.pool and reuse and scratch_mb is None and self._sound(box):
                self.pool.give_back(box, language)
            else:
                box.close()
                self._remove_soon(box.container_id)
            # Refilled once the submission is done: a container start is CPU work for
            # the engine that would otherwise compete with this submission's tests.
            if self.pool:
                self.pool.replenish(language)

    def _remove_soon(self, container_id: str) -> None:
        # Removal (~100 ms of Docker work) happens after the response, in a task that
        # shutdown waits for; a cancelled request still removes its container.
        task = asyncio.create_task(self._remove(container_id))
        self._removals.add(task)
        task.add_done_callback(self._removals.discard)

    @property
    def reuses(self) -> bool:
        return self.pool is not None and self._settings.sandbox.sandbox_uses > 1

    def _sound(self, box: Sandbox) -> bool:
        """Whether a box may serve another submission: its runner in step, not frozen
        (a paused job given up), and below its number of uses."""
        return box.alive and not box.frozen and box.uses < self._settings.sandbox.sandbox_uses

    async def start(
        self,
        language: Language,
        memory_mb: int,
        processes: int,
        scratch_mb: int | None = None,
        program_bytes: int = 0,
    ) -> Sandbox:
        """Create, attach and start a container, and wait until its runner is ready."""
        config = self.container_config(language, memory_mb, processes, scratch_mb, program_bytes)
        container_id = await self.gateway.create(**config)
        self._live.add(container_id)
        stream: RunnerStream | None = None
        try:
            reader, writer = await self.gateway.attach(container_id)
            stream = RunnerStream(reader, writer)
            await self.gateway.start(container_id)
            try:
                hello, _ = await asyncio.wait_for(stream.receive(0), _START_TIMEOUT_S)
            except (TimeoutError, ProtocolError) as exc:
                raise SandboxError(f"sandbox runner did not start: {exc}") from exc
            if hello.get("op") != "ready" or hello.get("version") != PROTOCOL_VERSION:
                raise SandboxError(f"unexpected runner greeting {hello!r:.200}")
            if not hello.get("ok"):
                raise SandboxError(f"the sandbox cannot judge: {hello.get('error')}")
            self.runner_cgroup = hello.get("cgroup")
            self.runner_accounting = hello.get("accounting")
            box = Sandbox(
                container_id,
                stream,
                language,
                self,
                memory_mb=memory_mb,
                processes=processes,
            )
            box.hard_mb = self.hard_memory_mb(memory_mb, program_bytes, processes)
            return box
        except BaseException:
            if stream is not None:
                stream.close()
            await asyncio.shield(self._remove(container_id))
            raise

    async def reset(self, box: Sandbox) -> None:
        await box.reset()

    async def discard(self, box: Sandbox) -> None:
        box.close()
        await self._remove(box.container_id)

    async def _remove(self, container_id: str) -> None:
        try:
            await self.gateway.remove(container_id)
        except Exception:
            log.exception("could not remove sandbox %s", container_id[:12])
        finally:
            self._live.discard(container_id)

    async def remove_all(self) -> None:
        """Remove every container this factory still has (used at shutdown)."""
        if self.pool is not None:
            await self.pool.close()
        await self.removals_done()
        await asyncio.gather(*(self._remove(cid) for cid in list(self._live)))

    async def removals_done(self) -> None:
        """Wait for the removal of every container whose submission has finished."""
        while self._removals:
            await asyncio.gather(*list(self._removals), return_exceptions=True)

    def live_ids(self) -> set[str]:
        return set(self._live)
