"""The runner's loop: greet the service, then answer its requests (``put``, ``export``,
``run``, ``reset``) until the stream ends. ``main`` is what the container runs."""

import os
import resource
import signal
import time
from collections.abc import Callable
from typing import Any

from .accounting import Cgroup, Gvisor
from .channel import PROTOCOL_VERSION, Channel
from .cleanup import CLEAN_DEADLINE_S, clean, wipe
from .collect import collect, not_started
from .files import WORKDIR, Files, TooBig, restore, snapshot
from .kernel import Dirty, Kernel, ipc_ids
from .measure import Meter
from .spawn import NotStarted, start
from .watch import ExitWatch, Watch

CHECK_EXPOSURE = True


def runner_exposed() -> str | None:
    """Why a program could reach the runner's descriptors (the channel that carries
    every test's input and the results) through /proc/1/fd, or None. Linux refuses a
    non-dumpable process's descriptors to others of its uid; gVisor before 2025-12
    (commit 561ff6d23, "proc: fix security checks on /proc/pid files") does not, and
    a program could then read other tests' input and write results of its own."""
    pid = os.fork()
    if pid == 0:  # the child is a process like any program: same uid, no privileges
        try:
            os.close(os.open("/proc/1/fd/0", os.O_RDONLY | os.O_NONBLOCK))
            os._exit(1)
        except BaseException:
            os._exit(0)
    _, status = os.waitpid(pid, 0)
    if os.waitstatus_to_exitcode(status) == 0:
        return None
    return (
        "another process of the sandbox can open the runner's descriptors through"
        " /proc/1/fd (gVisor before 2025-12 does not protect a non-dumpable process):"
        " a program could read other tests' input and forge results"
    )


class Runner:
    def __init__(self, channel: Channel) -> None:
        self.channel = channel
        self.kernel = Kernel()
        self.cgroup: Cgroup | Gvisor = Gvisor() if self.kernel.gvisor else Cgroup()
        self.baseline: Files = []
        self.dirty: str | None = None
        self.watch: Watch | None = None  # the run under way (its input may still come)

    def problems(self) -> list[str]:
        """Why this container must not judge anything (empty when it may)."""
        problems = []
        if os.getpid() != 1:
            problems.append(
                f"the runner is PID {os.getpid()}, not 1: the container was started with an"
                ' init process (docker run --init, or the daemon\'s "init": true)'
            )
        missing = self.cgroup.missing()
        if missing:
            problems.append(f"{self.cgroup.name} counters unreadable: {missing}")
        checks: list[tuple[str, Callable[[], object]]] = [
            ("pidfd_open", ExitWatch.check),
            ("prlimit64", lambda: resource.prlimit(0, resource.RLIMIT_CORE)),
        ]
        if not self.kernel.gvisor:  # gVisor: ids are found otherwise (Kernel.remove_ipc)
            checks.append(("System V IPC listing", lambda: ipc_ids("shm")))
        if CHECK_EXPOSURE and (exposed := runner_exposed()):
            problems.append(exposed)
        for call, check in checks:
            try:
                check()
            except OSError as exc:
                problems.append(
                    f"the kernel or the container's seccomp profile refuses {call},"
                    f" which the runner needs: {exc.strerror}"
                )
        return problems

    def run(self, request: dict[str, Any], sizes: list[int]) -> None:
        stream = request.get("stdin") == "stream"
        size = sizes[0] if sizes else 0
        watch = self.watch = Watch(self.channel, request["limits"], size, stream)
        if self.dirty is not None:  # nothing runs here again: the service runs it elsewhere
            self.channel.discard(sum(sizes))
            error = f"Dirty: {self.dirty}"
            self.channel.queue(
                {"op": "run", "ok": False, "error": error, "dirty": self.dirty, "ran": False}
            )
            watch.flush()
            watch.skip_stream()
            return
        result: dict[str, Any] | None = None
        try:
            memory_base = self.cgroup.memory_bytes() or 0  # the program's files count
            restore(self.baseline)
            env = {str(k): str(v) for k, v in request["env"].items()}
            # After a compile step (keep_files) every run has the same limits.
            final = not request.get("keep_files")
            argv = [str(a) for a in request["argv"]]
            merge = bool(request.get("merge_stderr"))
            result = self.execute(watch, argv, env, final, memory_base, merge)
            if request.get("keep_files"):
                try:
                    self.baseline = snapshot(WORKDIR)
                    result["kept_bytes"] = sum(len(data) for _, _, data in self.baseline)
                except TooBig as exc:  # what the compile step made cannot be a program
                    result["kept_error"] = str(exc)
        finally:
            # Whatever happened, the input is consumed (the stream stays in step) and the
            # frames sent so far are complete; a failed run is cleaned before its answer.
            if not stream:
                self.channel.discard(watch.stdin_left)
                watch.stdin_left = 0
            watch.flush()
            if watch.dirty is not None:
                self.dirty = watch.dirty
            if result is None:
                self.clean_up()
        self.channel.queue(dict(result, op="run", ok=True), bytes(watch.err))
        watch.flush()
        watch.skip_stream()
        # Every process of the run is dead already (killed before its status was read);
        # the rest of the clean-up overlaps the service's work on this answer. If it
        # fails, the next run answers "dirty" and this container is not used again.
        self.clean_up()

    def execute(
        self,
        watch: Watch,
        argv: list[str],
        env: dict[str, str],
        final: bool,
        memory_base: int,
        merge_stderr: bool = False,
    ) -> dict[str, Any]:
        """One run's steps: spawn, watch (measuring as it goes), collect."""
        limits = watch.limits
        meter = Meter(self.cgroup, memory_base, self.kernel.gvisor)
        # Under gVisor the host's pids cgroup counts the sandbox kernel's threads, not
        # the program's processes; gVisor counts those against RLIMIT_NPROC (per uid:
        # the runner is the one other task), as the pids cgroup would.
        nproc = limits["processes"] + 1 if self.kernel.gvisor else None
        started = time.monotonic()
        try:
            has_input = watch.stdin_left > 0 or watch.stream
            process = start(argv, env, limits, final, nproc, has_input, merge_stderr)
        except NotStarted as exc:
            return not_started(watch, argv[0], exc.error)
        credit = watch.watch(process, meter, started)
        return collect(watch, process, meter, started, credit)

    def clean_up(self) -> None:
        if self.dirty is None:
            try:
                clean(self.kernel)
            except (Dirty, OSError) as exc:
                self.dirty = f"the sandbox could not be cleaned after a test: {exc}"

    def put(self, request: dict[str, Any], sizes: list[int]) -> None:
        blobs = [self.channel.read_exact(n) for n in sizes]
        wipe(WORKDIR, time.monotonic() + CLEAN_DEADLINE_S)
        self.baseline = [
            (str(f["name"]), int(f.get("mode", 0o644)), blob)
            for f, blob in zip(request["files"], blobs, strict=True)
        ]
        self.channel.send({"op": "put", "ok": True})

    def reset(self) -> None:
        """Between two submissions: no program (the baseline emptied) and everything
        a test could leave cleaned again, checked, before the answer; a container
        that cannot be made clean says so and is not used again."""
        self.baseline = []
        self.clean_up()
        answer: dict[str, Any] = {"op": "reset", "ok": self.dirty is None}
        if self.dirty is not None:
            answer.update(error=self.dirty, dirty=self.dirty)
        self.channel.send(answer)

    def export(self) -> None:
        """The baseline, to start a fresh container from (test isolation)."""
        names = [{"name": name, "mode": mode} for name, mode, _ in self.baseline]
        blobs = [data for _, _, data in self.baseline]
        self.channel.send({"op": "export", "ok": True, "files": names}, *blobs)

    def serve(self) -> None:
        while True:
            try:
                request, sizes = self.channel.receive()
            except EOFError:
                return
            op = request.get("op")
            try:
                if op == "put":
                    self.put(request, sizes)
                elif op == "export":
                    self.export()
                elif op == "reset":
                    self.reset()
                elif op == "run":
                    self.run(request, sizes)
                else:
                    self.channel.discard(sum(sizes))
                    self.channel.send({"op": op, "ok": False, "error": "unknown op"})
            except EOFError:
                return
            except Exception as exc:
                error = f"{type(exc).__name__}: {exc}"
                self.channel.queue({"op": op, "ok": False, "error": error, "dirty": self.dirty})
                if self.watch is None:
                    self.channel.flush()
                else:  # a streamed input is read to its end
                    self.watch.flush()
                    self.watch.skip_stream()
            finally:
                self.watch = None


def main() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)  # as PID 1, default means "ignored"
    channel = Channel()
    hello: dict[str, Any] = {"op": "ready", "version": PROTOCOL_VERSION, "pid": os.getpid()}
    try:
        runner = Runner(channel)
        runner.kernel.harden()  # inherited by every process the runner starts
        problems = runner.problems()
        if not problems:
            clean(runner.kernel)  # the first test starts from the same state as the others
        hello["cgroup"] = runner.cgroup.version
        hello["accounting"] = runner.cgroup.name
    except Exception as exc:  # e.g. no ctypes, or seccomp refused: never run unguarded
        problems = [f"the runner cannot protect the sandbox: {type(exc).__name__}: {exc}"]
    channel.send(dict(hello, ok=not problems, error="; ".join(problems)))
    if not problems:
        runner.serve()
