"""The in-container runner: PID 1 of every sandbox container.

It is sent into the container as ``python3 -I -c <this file>`` so an image only needs
a Python interpreter, and it uses nothing but the standard library. It talks to the
service over its own stdin/stdout (the Docker attach stream) with length-prefixed
messages (see ``codeexec/sandbox/protocol.py``), and for each request it:

1. kills every other process in the container and wipes the scratch directories, so
   nothing of an earlier test survives (guarantee 2);
2. restores the baseline files (the source, or what the compile step produced);
3. starts the command as a fresh process (posix_spawn) with its own rlimits, feeds it the input,
   reads stdout/stderr as capped streams, and enforces CPU/wall/output limits;
4. answers with exit status, CPU time, wall time, peak memory and the captured output.

Why PID 1: inside a PID namespace the init process cannot be sent SIGKILL/SIGSTOP by
its own descendants (``kill(-1, 9)`` from a submission leaves it alive). It also makes
itself non-dumpable so a same-uid submission cannot ptrace it or open its /proc files.
"""

import contextlib
import json
import os
import resource
import select
import signal
import stat
import struct
import sys
import time
from typing import Any, BinaryIO

PROTOCOL_VERSION = 1
HEADER = struct.Struct(">I")
MAX_HEADER = 1 << 20
WORKDIR = "/sandbox"
SCRATCH_DIRS = ("/sandbox", "/tmp")
CGROUP_CPU = "/sys/fs/cgroup/cpuacct/cpuacct.usage"
CGROUP_OOM = "/sys/fs/cgroup/memory/memory.oom_control"
CGROUP_MEMORY_STAT = "/sys/fs/cgroup/memory/memory.stat"
POLL_S = 0.05
CHUNK = 1 << 16


def send(header: dict[str, Any], *blobs: bytes) -> None:
    data = json.dumps(dict(header, blobs=[len(b) for b in blobs])).encode()
    out = sys.stdout.buffer
    out.write(HEADER.pack(len(data)) + data)
    for blob in blobs:
        out.write(blob)
    out.flush()


def read_exact(stream: BinaryIO, n: int) -> bytes:
    parts = []
    while n:
        chunk = stream.read(n)
        if not chunk:
            raise EOFError
        parts.append(chunk)
        n -= len(chunk)
    return b"".join(parts)


def receive(stream: BinaryIO) -> tuple[dict[str, Any], list[bytes]]:
    (size,) = HEADER.unpack(read_exact(stream, HEADER.size))
    if size > MAX_HEADER:
        raise ValueError("header too large")
    header = json.loads(read_exact(stream, size))
    blobs = [read_exact(stream, n) for n in header.get("blobs", [])]
    return header, blobs


PR_SET_DUMPABLE = 4
PR_SET_SECCOMP = 22
PR_SET_NO_NEW_PRIVS = 38
SECCOMP_MODE_FILTER = 2


def _bpf(code: int, jt: int, jf: int, k: int) -> bytes:
    return struct.pack("HBBI", code, jt, jf, k)


# A seccomp filter added on top of Docker's default profile, which still allows
# io_uring (a frequent source of kernel exploits): io_uring_setup/enter/register
# (425-427 on x86_64 and aarch64) fail with EPERM; everything else is left to Docker's.
_LD_ABS, _JEQ, _JGE, _JGT, _RET = 0x20, 0x15, 0x35, 0x25, 0x06
EXTRA_SECCOMP = b"".join(
    [
        _bpf(_LD_ABS, 0, 0, 4),  # arch
        _bpf(_JEQ, 1, 0, 0xC000003E),  # x86_64
        _bpf(_JEQ, 0, 4, 0xC00000B7),  # aarch64; another arch: allow
        _bpf(_LD_ABS, 0, 0, 0),  # syscall number
        _bpf(_JGE, 0, 2, 425),
        _bpf(_JGT, 1, 0, 427),
        _bpf(_RET, 0, 0, 0x00050000 | 1),  # SECCOMP_RET_ERRNO | EPERM
        _bpf(_RET, 0, 0, 0x7FFF0000),  # SECCOMP_RET_ALLOW
    ]
)


class Kernel:
    """prctl through ctypes; absent ctypes degrades to a warning, not a failure."""

    def __init__(self) -> None:
        self.libc: Any = None
        self.filter: Any = None
        try:
            import ctypes

            self.libc = ctypes.CDLL(None, use_errno=True)
            length = len(EXTRA_SECCOMP) // 8
            buffer = ctypes.create_string_buffer(EXTRA_SECCOMP)

            class SockFprog(ctypes.Structure):
                _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]

            self._buffer = buffer
            self.filter = SockFprog(length, ctypes.addressof(buffer))
            self._byref = ctypes.byref
        except Exception as exc:
            sys.stderr.write(f"runner: no ctypes, sandbox hardening reduced: {exc!r}\n")

    def make_undumpable(self) -> None:
        if self.libc is not None:
            self.libc.prctl(PR_SET_DUMPABLE, 0, 0, 0, 0)

    def restrict_syscalls(self) -> None:
        if self.libc is not None:
            self.libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)
            self.libc.prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, self._byref(self.filter))


KERNEL = Kernel()


def read_int(path: str) -> int | None:
    try:
        with open(path, "rb") as f:
            return int(f.read().strip())
    except (OSError, ValueError):
        return None


def read_cgroup_value(path: str, wanted: bytes) -> int | None:
    """One counter from a cgroup file of ``key value`` lines."""
    try:
        with open(path, "rb") as f:
            for line in f:
                key, _, value = line.partition(b" ")
                if key == wanted:
                    return int(value)
    except (OSError, ValueError):
        pass
    return None


def read_oom_kills() -> int | None:
    return read_cgroup_value(CGROUP_OOM, b"oom_kill")


def read_anon_bytes() -> int | None:
    """Anonymous memory of every process in the container (page cache excluded)."""
    return read_cgroup_value(CGROUP_MEMORY_STAT, b"total_rss")


def self_cpu_ns() -> int:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return int((usage.ru_utime + usage.ru_stime) * 1e9)


def other_pids(me: int) -> list[int]:
    pids = []
    for name in os.listdir("/proc"):
        if name.isdigit():
            pid = int(name)
            if pid != me:
                pids.append(pid)
    return pids


def reap(pid: int) -> None:
    with contextlib.suppress(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)


def kill_all(spare: int | None = None) -> None:
    """SIGKILL every process in the container except this one, and reap them.

    ``spare`` is a child whose exit status and rusage we still need: it is killed but
    not reaped here. Orphans re-parent to us (PID 1), so repeated passes also catch
    double-forked daemons and processes forked while we were killing.
    """
    me = os.getpid()
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        pids = other_pids(me)
        for pid in pids:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
            if pid != spare:
                reap(pid)
        # The spare child stays listed (as a zombie) until its caller reaps it.
        if not [p for p in pids if p != spare]:
            return
        time.sleep(0.0005)


def wipe(directory: str) -> None:
    """Delete everything inside ``directory`` without following symlinks."""
    try:
        entries = os.listdir(directory)
    except OSError:
        return
    for name in entries:
        path = os.path.join(directory, name)
        try:
            st = os.lstat(path)
        except OSError:
            continue
        if stat.S_ISDIR(st.st_mode):
            with contextlib.suppress(OSError):
                os.chmod(path, 0o700)
            wipe(path)
            with contextlib.suppress(OSError):
                os.rmdir(path)
        else:
            with contextlib.suppress(OSError):
                os.unlink(path)


Files = list[tuple[str, int, bytes]]


def snapshot(directory: str, prefix: str = "") -> Files:
    """Regular files under ``directory`` as (relative name, mode, bytes); links skipped."""
    files: Files = []
    for name in sorted(os.listdir(directory)):
        path = os.path.join(directory, name)
        rel = prefix + name
        st = os.lstat(path)
        if stat.S_ISDIR(st.st_mode):
            files.extend(snapshot(path, rel + "/"))
        elif stat.S_ISREG(st.st_mode):
            with open(path, "rb") as f:
                files.append((rel, stat.S_IMODE(st.st_mode), f.read()))
    return files


def restore(files: Files) -> None:
    for rel, mode, data in files:
        path = os.path.join(WORKDIR, rel)
        parent = os.path.dirname(path)
        if parent != WORKDIR:
            os.makedirs(parent, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, mode)
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view) :]
        finally:
            os.close(fd)
        os.chmod(path, mode)


def set_limit(which: int, soft: int, hard: int | None = None) -> None:
    with contextlib.suppress(ValueError, OSError):
        resource.setrlimit(which, (soft, soft if hard is None else hard))


# Signals the runner ignores (Python ignores SIGPIPE and SIGXFSZ) that a program must
# start with at their defaults.
RESET_SIGNALS = (signal.SIGPIPE, signal.SIGXFSZ, signal.SIGXCPU, signal.SIGINT, signal.SIGTERM)


def spawn(
    argv: list[str],
    env: dict[str, str],
    limits: dict[str, int],
    stdin_r: int,
    stdout_w: int,
    stderr_w: int,
) -> int:
    """Start the command as a fresh process in its own session, with its limits.

    posix_spawn (vfork + exec) does not copy the runner, which is what makes a test
    cost about what starting the program costs. Limits a program must have from its
    first instruction are set on the runner and inherited; the CPU limit and the OOM
    score follow right after the spawn (the cgroup CPU poll covers those microseconds).
    The runner's own descriptors are close-on-exec, so only stdin/stdout/stderr pass.
    """
    set_limit(resource.RLIMIT_CORE, 0)
    set_limit(resource.RLIMIT_FSIZE, limits["file_bytes"])
    set_limit(resource.RLIMIT_NOFILE, limits["open_files"])
    stack = limits.get("stack_bytes")
    if stack:
        _, hard = resource.getrlimit(resource.RLIMIT_STACK)
        set_limit(resource.RLIMIT_STACK, stack, hard)
    pid = os.posix_spawnp(
        argv[0],
        argv,
        env,
        file_actions=[
            (os.POSIX_SPAWN_DUP2, stdin_r, 0),
            (os.POSIX_SPAWN_DUP2, stdout_w, 1),
            (os.POSIX_SPAWN_DUP2, stderr_w, 2),
        ],
        setsid=True,
        setsigdef=RESET_SIGNALS,
    )
    cpu_s = max(1, -(-limits["cpu_ms"] // 1000)) + 1
    with contextlib.suppress(OSError):
        resource.prlimit(pid, resource.RLIMIT_CPU, (cpu_s, cpu_s + 1))
    with contextlib.suppress(OSError), open(f"/proc/{pid}/oom_score_adj", "w") as f:
        f.write("1000")  # the submission, never the runner, is the OOM victim
    return pid


def not_started(argv: list[str], exc: OSError) -> tuple[dict[str, Any], bytes, bytes]:
    """The result of a command that could not be started (e.g. no such file)."""
    result = {
        "exit_code": 127,
        "signal": None,
        "cpu_ms": 0,
        "wall_ms": 0,
        "memory_kb": 0,
        "oom_killed": False,
        "killed_for": None,
        "stdout_overflow": False,
        "stdout_total": 0,
        "stderr_total": 0,
    }
    return result, b"", f"cannot execute {argv[0]}: {exc.strerror}\n".encode()


class Capture:
    def __init__(self, fd: int, limit: int) -> None:
        self.fd = fd
        self.limit = limit
        self.parts: list[bytes] = []
        self.size = 0
        self.total = 0

    def read(self) -> bool:
        try:
            data = os.read(self.fd, CHUNK)
        except BlockingIOError:
            return True
        if not data:
            return False
        self.total += len(data)
        room = self.limit - self.size
        if room > 0:
            kept = data[:room]
            self.parts.append(kept)
            self.size += len(kept)
        return True

    @property
    def overflowed(self) -> bool:
        return self.total > self.limit

    def value(self) -> bytes:
        return b"".join(self.parts)


def run(request: dict[str, Any], stdin_data: bytes) -> tuple[dict[str, Any], bytes, bytes]:
    limits = request["limits"]
    prep_started = time.perf_counter()
    kill_all()
    for directory in SCRATCH_DIRS:
        wipe(directory)
    restore(BASELINE)

    stdin_r, stdin_pipe = os.pipe()
    stdin_w: int | None = stdin_pipe
    stdout_r, stdout_w = os.pipe()
    stderr_r, stderr_w = os.pipe()
    cpu_before = read_int(CGROUP_CPU)
    oom_before = read_oom_kills()
    # Children's memory: sampled from the cgroup, above what the runner itself holds.
    anon_before = read_anon_bytes()
    anon_peak = anon_before
    self_before = self_cpu_ns()
    started = time.monotonic()
    prep_us = int((time.perf_counter() - prep_started) * 1e6)
    try:
        pid = spawn(request["argv"], request["env"], limits, stdin_r, stdout_w, stderr_w)
    except OSError as exc:
        for fd in (stdin_r, stdin_pipe, stdout_r, stdout_w, stderr_r, stderr_w):
            os.close(fd)
        return not_started(request["argv"], exc)
    for fd in (stdin_r, stdout_w, stderr_w):
        os.close(fd)
    for fd in (stdin_pipe, stdout_r, stderr_r):
        os.set_blocking(fd, False)

    out = Capture(stdout_r, limits["output_bytes"])
    err = Capture(stderr_r, limits["stderr_bytes"])
    readers = {stdout_r: out, stderr_r: err}
    pending = memoryview(stdin_data)
    if not pending:
        os.close(stdin_pipe)
        stdin_w = None
    pidfd = os.pidfd_open(pid)
    wall_deadline = started + limits["wall_ms"] / 1000.0
    cpu_limit_ns = limits["cpu_ms"] * 1_000_000
    next_cpu_check = started + POLL_S
    killed_for = None
    while True:
        now = time.monotonic()
        timeout = max(0.0, min(next_cpu_check, wall_deadline) - now)
        wlist = [stdin_w] if stdin_w is not None else []
        ready_r, ready_w, _ = select.select([*readers, pidfd], wlist, [], timeout)
        if pidfd in ready_r:
            break
        for fd in ready_r:
            if not readers[fd].read():
                os.close(fd)
                del readers[fd]
        if ready_w and stdin_w is not None:
            try:
                pending = pending[os.write(stdin_w, pending[:CHUNK]) :]
            except BlockingIOError:
                pass
            except BrokenPipeError:  # the program stopped reading: fine
                pending = pending[:0]
            if not pending:
                os.close(stdin_w)
                stdin_w = None
        now = time.monotonic()
        if out.overflowed:
            killed_for = "output"
        elif now >= wall_deadline:
            killed_for = "wall"
        elif cpu_before is not None and now >= next_cpu_check:
            next_cpu_check = now + POLL_S
            anon = read_anon_bytes()
            if anon is not None and anon_peak is not None and anon > anon_peak:
                anon_peak = anon
            used = read_int(CGROUP_CPU)
            own = self_cpu_ns() - self_before
            if used is not None and used - cpu_before - own > cpu_limit_ns + 50_000_000:
                killed_for = "cpu"
        if killed_for is not None:
            break
    wall_ns = int((time.monotonic() - started) * 1e9)
    post_started = time.perf_counter()
    # Whatever the program left running dies with it; then every pipe reaches EOF.
    kill_all(spare=pid)
    _, status, usage = os.wait4(pid, 0)
    kill_all()
    while readers:
        ready_r, _, _ = select.select(list(readers), [], [], 1.0)
        if not ready_r:
            break
        for fd in ready_r:
            if not readers[fd].read():
                os.close(fd)
                del readers[fd]
    for fd in [*readers, pidfd, *([stdin_w] if stdin_w is not None else [])]:
        os.close(fd)

    cpu_after = read_int(CGROUP_CPU)
    if cpu_before is not None and cpu_after is not None:
        cpu_ns = max(0, cpu_after - cpu_before - (self_cpu_ns() - self_before))
    else:
        cpu_ns = int((usage.ru_utime + usage.ru_stime) * 1e9)
    oom_after = read_oom_kills()
    result = {
        "exit_code": os.WEXITSTATUS(status) if os.WIFEXITED(status) else None,
        "signal": os.WTERMSIG(status) if os.WIFSIGNALED(status) else None,
        "cpu_ms": cpu_ns // 1_000_000,
        "wall_ms": wall_ns // 1_000_000,
        "memory_kb": max(
            usage.ru_maxrss,
            (anon_peak - anon_before) // 1024 if anon_peak and anon_before else 0,
        ),
        "oom_killed": bool(oom_before is not None and (oom_after or 0) > oom_before),
        "killed_for": killed_for,
        "stdout_overflow": out.overflowed,
        "stdout_total": out.total,
        "stderr_total": err.total,
        "prep_us": prep_us,  # the runner's own work per test, for profiling
        "post_us": int((time.perf_counter() - post_started) * 1e6),
    }
    if request.get("keep_files"):
        BASELINE[:] = snapshot(WORKDIR)
    return result, out.value(), err.value()


BASELINE: Files = []


def main() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)  # as PID 1, default means "ignored"
    KERNEL.make_undumpable()
    KERNEL.restrict_syscalls()  # inherited by every process the runner starts
    stdin = sys.stdin.buffer
    send({"op": "ready", "version": PROTOCOL_VERSION, "pid": os.getpid()})
    while True:
        try:
            request, blobs = receive(stdin)
        except EOFError:
            return
        op = request.get("op")
        try:
            if op == "put":
                wipe(WORKDIR)
                BASELINE[:] = [
                    (f["name"], f.get("mode", 0o644), blob)
                    for f, blob in zip(request["files"], blobs, strict=True)
                ]
                send({"op": "put", "ok": True})
            elif op == "export":  # the baseline, for a fresh container (test isolation)
                names = [{"name": name, "mode": mode} for name, mode, _ in BASELINE]
                send({"op": "export", "ok": True, "files": names}, *(d for _, _, d in BASELINE))
            elif op == "run":
                result, stdout, stderr = run(request, blobs[0] if blobs else b"")
                send(dict(result, op="run", ok=True), stdout, stderr)
            else:
                send({"op": op, "ok": False, "error": "unknown op"})
        except Exception as exc:
            send({"op": op, "ok": False, "error": f"{type(exc).__name__}: {exc}"})


if __name__ == "__main__":
    main()
