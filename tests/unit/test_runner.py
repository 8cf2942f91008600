"""The in-container runner's own logic, run on the host: its seccomp program (through
a small BPF interpreter) and its clean-up between tests (on a real directory tree).
The real sandbox runs the same code in tests/test_hostile.py (tests/hostile/trust.toml)."""

from __future__ import annotations

import ast
import contextlib
import os
import resource
import socket
import stat
import struct
import subprocess
import sys
import time
from pathlib import Path

import pytest

from codeexec.sandbox.runner import bundle, cleanup, kernel, seccomp
from codeexec.sandbox.runner.accounting import Gvisor
from codeexec.sandbox.runner.channel import PROTOCOL_VERSION
from codeexec.sandbox.runner.kernel import Dirty
from codeexec.sandbox.runner.watch import ExitWatch

AUDIT_I386 = 0x40000003
AUDIT_ARM = 0x40000028


def run_bpf(program: bytes, nr: int, arch: int, arg0: int = 0, arg1: int = 0) -> int:
    """Evaluate a classic BPF seccomp program on one system call."""
    args = struct.pack("<6Q", arg0, arg1, 0, 0, 0, 0)
    data = struct.pack("<iI", nr, arch) + struct.pack("<Q", 0) + args
    insns = [struct.unpack("HBBI", program[i : i + 8]) for i in range(0, len(program), 8)]
    pc, acc = 0, 0
    while True:
        code, jt, jf, k = insns[pc]
        if code == 0x20:  # ld [k]
            acc = struct.unpack_from("<I", data, k)[0]
            pc += 1
        elif code == 0x06:  # ret k
            return k
        else:
            taken = {0x15: acc == k, 0x35: acc >= k, 0x45: bool(acc & k)}[code]
            pc += 1 + (jt if taken else jf)


X86 = seccomp.AUDIT_ARCH["x86_64"]
ARM64 = seccomp.AUDIT_ARCH["aarch64"]


@pytest.mark.parametrize(
    ("machine", "nr", "arch", "arg0", "expected"),
    [
        ("x86_64", 0, X86, 0, seccomp.RET_ALLOW),  # read
        ("x86_64", 425, X86, 0, seccomp.RET_EPERM),  # io_uring_setup
        ("x86_64", 427, X86, 0, seccomp.RET_EPERM),  # io_uring_register
        ("x86_64", 250, X86, 0, seccomp.RET_EPERM),  # keyctl
        ("x86_64", 272, X86, 0, seccomp.RET_EPERM),  # unshare
        ("x86_64", 434, X86, 0, seccomp.RET_ALLOW),  # pidfd_open (the runner needs it)
        ("x86_64", 56, X86, 0x01200011, seccomp.RET_ALLOW),  # clone as fork() does it
        ("x86_64", 56, X86, 0x10000000 | 17, seccomp.RET_EPERM),  # clone(CLONE_NEWUSER)
        ("x86_64", 56, X86, 0x40000000, seccomp.RET_EPERM),  # clone(CLONE_NEWNET)
        ("x86_64", 435, X86, 0, seccomp.RET_ENOSYS),  # clone3: libc falls back to clone
        ("x86_64", 425, AUDIT_I386, 0, seccomp.RET_KILL_PROCESS),  # int 0x80
        ("x86_64", 20, AUDIT_I386, 0, seccomp.RET_KILL_PROCESS),  # even getpid by int 0x80
        ("x86_64", 0x40000000 | 425, X86, 0, seccomp.RET_KILL_PROCESS),  # x32
        ("x86_64", 0x40000000, X86, 0, seccomp.RET_KILL_PROCESS),  # x32 read
        ("aarch64", 63, ARM64, 0, seccomp.RET_ALLOW),  # read
        ("aarch64", 425, ARM64, 0, seccomp.RET_EPERM),
        ("aarch64", 219, ARM64, 0, seccomp.RET_EPERM),  # keyctl
        ("aarch64", 220, ARM64, 0x10000000, seccomp.RET_EPERM),  # clone(CLONE_NEWUSER)
        ("aarch64", 220, ARM64, 17, seccomp.RET_ALLOW),
        ("aarch64", 425, AUDIT_ARM, 0, seccomp.RET_KILL_PROCESS),  # 32-bit ARM
        ("x86_64", 206, X86, 1, seccomp.RET_EPERM),  # io_setup: a host-wide AIO quota
        ("x86_64", 302, X86, 1, seccomp.RET_EPERM),  # prlimit64 on PID 1, the runner
        ("x86_64", 302, X86, 0, seccomp.RET_ALLOW),  # prlimit64 on itself
        ("x86_64", 302, X86, 57, seccomp.RET_ALLOW),  # on another process of the test
        ("x86_64", 203, X86, 1, seccomp.RET_EPERM),  # sched_setaffinity(1)
        ("x86_64", 314, X86, 1, seccomp.RET_EPERM),  # sched_setattr(1)
        ("aarch64", 261, ARM64, 1, seccomp.RET_EPERM),  # prlimit64(1) on arm64
        ("aarch64", 261, ARM64, 7, seccomp.RET_ALLOW),
    ],
)
def test_seccomp_program(machine: str, nr: int, arch: int, arg0: int, expected: int) -> None:
    assert run_bpf(seccomp.seccomp_program(machine), nr, arch, arg0) == expected


@pytest.mark.parametrize(
    ("nr", "which", "who", "expected"),
    [
        (141, 0, 1, seccomp.RET_EPERM),  # setpriority(PRIO_PROCESS, 1): the runner
        (141, 1, 1, seccomp.RET_EPERM),  # setpriority(PRIO_PGRP, 1)
        (141, 2, 65534, seccomp.RET_EPERM),  # setpriority(PRIO_USER, uid): the runner too
        (141, 0, 0, seccomp.RET_ALLOW),  # itself
        (141, 0, 42, seccomp.RET_ALLOW),  # another process of the test
        (251, 1, 1, seccomp.RET_EPERM),  # ioprio_set(IOPRIO_WHO_PROCESS, 1)
        (251, 3, 65534, seccomp.RET_EPERM),  # ioprio_set(IOPRIO_WHO_USER, uid)
        (251, 1, 0, seccomp.RET_ALLOW),
    ],
)
def test_calls_aimed_at_the_runner_are_refused(
    nr: int, which: int, who: int, expected: int
) -> None:
    assert run_bpf(seccomp.seccomp_program("x86_64"), nr, X86, which, who) == expected


def test_every_denied_call_is_refused_natively() -> None:
    for machine, column in (("x86_64", 0), ("aarch64", 1)):
        program = seccomp.seccomp_program(machine)
        for name, numbers in seccomp.DENIED.items():
            nr = numbers[column]
            if nr is not None:
                arch = seccomp.AUDIT_ARCH[machine]
                assert run_bpf(program, nr, arch) == seccomp.RET_EPERM, (machine, name)


def make_mess(root: Path) -> Path:
    """Every kind of leftover a test could leave, and a file outside that must survive."""
    outside = root.parent / "outside.txt"
    outside.write_text("keep me")
    fd = os.open(root, os.O_RDONLY | os.O_DIRECTORY)
    for _ in range(3000):  # far deeper than Python's recursion limit
        os.mkdir("d", dir_fd=fd)
        child = os.open("d", os.O_RDONLY | os.O_DIRECTORY, dir_fd=fd)
        os.close(fd)
        fd = child
    os.close(os.open("bottom", os.O_CREAT | os.O_WRONLY, 0o600, dir_fd=fd))
    os.fchmod(fd, 0)  # an unreadable directory at the bottom
    os.close(fd)
    fd = os.open(root, os.O_RDONLY | os.O_DIRECTORY)
    for _ in range(20):  # 20 * 251 bytes: a path far beyond PATH_MAX
        os.mkdir("n" * 250, dir_fd=fd)
        child = os.open("n" * 250, os.O_RDONLY | os.O_DIRECTORY, dir_fd=fd)
        os.close(fd)
        fd = child
    os.close(fd)
    (root / "locked").mkdir()
    (root / "locked" / "inner").write_text("x")
    (root / "locked").chmod(0)
    (root / "nomode").write_text("x")
    (root / "nomode").chmod(0)
    os.mkfifo(root / "fifo")
    with socket.socket(socket.AF_UNIX) as s:
        s.bind(str(root / "sock"))
    (root / "original").write_text("x")
    os.link(root / "original", root / "hardlink")
    os.symlink(outside, root / "link-out")
    os.symlink(root.parent, root / "link-dir")
    (root / "\n").write_text("x")
    os.close(os.open(os.fsencode(root) + b"/\xff\xfe", os.O_CREAT | os.O_WRONLY, 0o600))
    for i in range(2000):
        (root / f"f{i}").write_text("x")
    return outside


def test_wipe_empties_any_tree_without_following_links(tmp_path: Path) -> None:
    root = tmp_path / "scratch"
    root.mkdir()
    outside = make_mess(root)
    cleanup.wipe(str(root), time.monotonic() + 60)
    assert os.listdir(root) == []
    assert outside.read_text() == "keep me"
    assert tmp_path.exists()


def test_wipe_gives_up_at_its_deadline(tmp_path: Path) -> None:
    (tmp_path / "x").write_text("x")
    with pytest.raises(Dirty):
        cleanup.wipe(str(tmp_path), time.monotonic() - 1)


def test_reset_root_restores_mode_times_and_attributes(tmp_path: Path) -> None:
    root = tmp_path / "scratch"
    root.mkdir()
    root.chmod(0o751)
    os.utime(root, ns=(31415, 31415))
    with contextlib.suppress(OSError):  # a file system without user xattrs: the rest applies
        os.setxattr(root, "user.stash", b"secret")
    cleanup.reset_root(str(root))
    st = root.stat()
    assert stat.S_IMODE(st.st_mode) == 0o700
    assert st.st_mtime_ns == 0
    assert os.listxattr(root) == []


# --- gVisor (runsc): what the runner reads and does where its kernel is gVisor's --------


def test_gvisor_is_recognised_by_its_kernel_log_only() -> None:
    assert kernel.gvisor_banner(b"<6>[   0.000000] Starting gVisor...\n<6>[   0.5] Feeding...")
    assert not kernel.gvisor_banner(b"<6>[    0.000000] Linux version 6.1.0 (gcc)\n")
    assert not kernel.gvisor_banner(b"<6>[ 1.0] x\n<6>[   0.000000] Starting gVisor...\n")
    assert not kernel.gvisor_banner(b"")


def test_gvisor_accounting_reads_meminfo_and_every_process_times(tmp_path: Path) -> None:
    (tmp_path / "meminfo").write_text("MemTotal: 100 kB\nAnonPages:     2048 kB\nShmem: 7 kB\n")
    ticks = {12: (3, 4, 5, 6), 40: (1, 0, 0, 0)}  # utime stime cutime cstime
    for pid, (u, s, cu, cs) in ticks.items():
        (tmp_path / str(pid)).mkdir()
        rest = f"S 1 1 1 0 0 0 0 0 0 0 {u} {s} {cu} {cs} 20 0 1 0 5 0 0"
        (tmp_path / str(pid) / "stat").write_text(f"{pid} (a) b)) {rest}\n")
    (tmp_path / "77").mkdir()  # a process that was reaped while the directory was read
    (tmp_path / "self").mkdir()
    accounting = Gvisor(str(tmp_path))
    assert accounting.memory_bytes() == 2048 * 1024
    assert accounting.oom_kills() == 0 and accounting.missing() == []

    def own_ns() -> int:
        return sum(
            int((u.ru_utime + u.ru_stime) * 1e9)
            for u in map(resource.getrusage, (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN))
        )

    before = own_ns()
    total = accounting.cpu_ns()
    after = own_ns()
    assert total is not None
    others = sum(sum(t) for t in ticks.values()) * Gvisor.TICK_NS
    assert before + others <= total <= after + others
    assert Gvisor(str(tmp_path / "no")).missing() == [
        "/proc/meminfo",
        "/proc/<pid>/stat",
    ]


class GvisorIpc(kernel.Kernel):
    """The runner's System V clean-up against a model of gVisor's registry: ids handed
    out in sequence after the last one used, wrapping at 2**31, no /proc/sysvipc."""

    def __init__(self, last: int = 0) -> None:  # no libc needed
        self.gvisor = True
        self.ipc_last = {}
        self.last = dict.fromkeys(("shm", "msg", "sem"), last)
        self.objects: dict[str, set[int]] = {kind: set() for kind in self.last}

    def ipc_call(self, kind: str, action: str, ident: int = 0) -> int:
        if action == "new":
            ident = self.last[kind]
            while (ident := (ident + 1) % (1 << 31)) in self.objects[kind]:
                pass
            self.last[kind] = ident
            self.objects[kind].add(ident)
            return ident
        if ident not in self.objects[kind]:
            return -22
        self.objects[kind].remove(ident)
        return 0


@pytest.mark.parametrize("start", [0, (1 << 31) - 5])
def test_system_v_objects_are_found_and_removed_under_gvisor(start: int) -> None:
    kernel = GvisorIpc(start)
    kernel.remove_ipc(time.monotonic() + 5)  # before the first test: nothing there
    for _ in range(3):  # a test makes objects, removes some itself, wraps the ids
        made = [kernel.ipc_call(kind, "new") for kind in ("shm", "msg", "sem") * 4]
        kernel.ipc_call("shm", "rmid", made[0])
        assert any(kernel.objects.values())
        kernel.remove_ipc(time.monotonic() + 5)
        assert not any(kernel.objects.values())


def test_system_v_clean_up_under_gvisor_gives_up_at_its_deadline() -> None:
    kernel = GvisorIpc()
    kernel.remove_ipc(time.monotonic() + 5)
    kernel.last["shm"] += 5000  # ids used and freed by the test: each must be tried
    with pytest.raises(Dirty, match="in time"):
        kernel.remove_ipc(time.monotonic() - 1)


def test_exit_watch_without_pidfd_wakes_on_sigchld_for_the_program_only() -> None:
    """gVisor (2022) has no pidfd_open: a SIGCHLD pipe and waitid(WNOWAIT) stand in."""
    import select
    import signal

    read_end, write_end = os.pipe2(os.O_NONBLOCK | os.O_CLOEXEC)
    previous = signal.signal(signal.SIGCHLD, lambda *_: None)
    old_fd = signal.set_wakeup_fd(write_end, warn_on_full_buffer=False)
    try:
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(ExitWatch, "wakeup", read_end)
            other = os.posix_spawnp("true", ["true"], dict(os.environ))
            program = os.posix_spawnp("sleep", ["sleep", "0.3"], dict(os.environ))
            watch = ExitWatch(program)
            assert watch.fd == read_end
            wakes, deadline = 0, time.monotonic() + 5
            while time.monotonic() < deadline:
                if select.select([watch.fd], [], [], 1)[0]:
                    wakes += 1
                    if watch.ended():
                        break
            else:
                raise AssertionError("the program's end was not seen")
            assert wakes >= 2  # the other child's SIGCHLD woke it first, without ending it
            watch.close()
            os.waitpid(other, 0)
            os.waitpid(program, 0)
    finally:
        signal.set_wakeup_fd(old_fd)
        signal.signal(signal.SIGCHLD, previous)
        os.close(read_end)
        os.close(write_end)


RUNNER_PACKAGE = Path(bundle.__file__).parent


def test_the_bundle_holds_every_runner_module_after_the_ones_it_imports() -> None:
    """The container has no copy of the package: ``python3 -I -c`` gets one source, in
    which a module must come after every module it imports, and nothing outside the
    standard library (or of the service) can be imported."""
    modules = {p.stem for p in RUNNER_PACKAGE.glob("*.py")} - {"__init__", "bundle"}
    assert set(bundle.MODULES) == modules
    for position, name in enumerate(bundle.MODULES):
        tree = ast.parse((RUNNER_PACKAGE / f"{name}.py").read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.level:
                assert node.module in bundle.MODULES[:position], (name, node.module)
            elif isinstance(node, ast.ImportFrom | ast.Import):
                names = [node.module] if isinstance(node, ast.ImportFrom) else []
                names += [] if isinstance(node, ast.ImportFrom) else [a.name for a in node.names]
                for module in names:
                    assert module and module.split(".")[0] in sys.stdlib_module_names, (
                        name,
                        module,
                    )


def test_the_bundle_is_the_modules_text_and_starts_the_runner(tmp_path: Path) -> None:
    source = bundle.runner_source()
    for name in bundle.MODULES:
        assert (RUNNER_PACKAGE / f"{name}.py").read_text(encoding="utf-8") in source
    # Run on the host with ``serve.main`` swapped for a probe: every module loads under
    # the package name and the relative imports resolve to the same objects.
    probe = source.replace(
        "runner.serve.main()\n",
        "print(runner.serve.Watch is runner.watch.Watch, runner.collect.Meter is"
        " runner.measure.Meter, runner.serve.PROTOCOL_VERSION)\n",
    )
    done = subprocess.run(
        [sys.executable, "-I", "-c", probe], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["True", "True", str(PROTOCOL_VERSION)]


def test_a_command_that_cannot_be_executed_is_the_programs_failure_not_the_runners() -> None:
    """``start`` raises NotStarted (with every pipe closed) for a command that cannot
    be executed, which the runner answers as exit 127 "cannot execute"; it changes the
    caller's rlimits, so it runs in a process of its own."""
    probe = """
import os
from codeexec.sandbox.runner.spawn import NotStarted, start
limits = {"file_bytes": 1 << 20, "open_files": 64, "stack_bytes": 8 << 20, "cpu_ms": 1000}
before = len(os.listdir("/proc/self/fd"))
try:
    start(["/no/such/program"], {}, limits, final=False, nproc=None, has_input=True)
except NotStarted as exc:
    print(exc.error.errno, len(os.listdir("/proc/self/fd")) - before)
"""
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["2", "0"]  # ENOENT, no descriptor left open


def test_queued_messages_leave_in_one_write_and_survive_partial_writes() -> None:
    """The channel writes everything queued at once (one chunk for the engine's attach
    proxy to forward), and a pipe that takes only part of it gets the rest, in order."""
    code = r"""
import os, sys
from codeexec.sandbox.runner import channel as ch
r, w = os.pipe()
os.dup2(w, 1)
c = ch.Channel()
c.queue({"op": "out"}, b"x" * 70000)  # more than a pipe's 64 KiB: a partial write
c.queue({"op": "run", "ok": True}, b"err")
writes = []
real = os.writev
def counting(fd, parts):
    writes.append(len(parts))
    return real(fd, parts)
os.writev = counting
got = bytearray()
while c.pending:
    c.flush_some()
    os.set_blocking(r, False)
    try:
        while chunk := os.read(r, 1 << 20):
            got += chunk
    except BlockingIOError:
        pass
expected = bytearray()
for header, blob in (({"op": "out"}, b"x" * 70000), ({"op": "run", "ok": True}, b"err")):
    import json
    data = json.dumps(dict(header, blobs=[len(blob)])).encode()
    expected += ch.HEADER.pack(len(data)) + data + blob
assert got == expected, (len(got), len(expected))
assert writes[0] == 4, writes  # both messages' parts in the first write
print("ok", writes)
"""
    done = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        cwd=Path(__file__).resolve().parents[2],
        timeout=30,
    )
    assert done.returncode == 0, done.stderr.decode()[-2000:]
