"""The in-container runner: PID 1 of every sandbox container.

It is sent into the container as ``python3 -I -c <this file>`` so an image only needs
a Python interpreter, and it uses nothing but the standard library. It talks to the
service over its own stdin/stdout (the Docker attach stream) with length-prefixed
messages (see ``codeexec/sandbox/protocol.py``). For each ``run`` request it:

1. restores the baseline files (the source, or what the compile step produced);
2. starts the command as a fresh process (posix_spawn) with its own rlimits, and
   streams the test's input to it and its output back as it comes, so the runner's
   own memory stays flat whatever the sizes;
3. enforces CPU/wall/output limits and samples the container's memory (anonymous and
   shared: tmpfs files, SysV/POSIX shared memory, memfd all count);
4. kills every process and answers with exit status, CPU time, wall time, peak memory
   and the captured stderr;
5. wipes every place a program can write (scratch directories at any depth, their own
   metadata, SysV IPC objects, POSIX message queues) and checks that nothing is left —
   or answers the next request that the sandbox is dirty (guarantee 2).

Why PID 1: inside a PID namespace the init process cannot be sent SIGKILL/SIGSTOP by
its own descendants (``kill(-1, 9)`` from a submission leaves it alive), and its own
``kill(-1, 9)`` reaches every other process in one atomic step. It refuses to start
as anything else (e.g. under ``docker run --init``). It also makes itself non-dumpable
so a same-uid submission cannot ptrace it or open its /proc files, and installs a
seccomp filter of its own, whatever profile the Docker daemon applies.
"""

import collections
import contextlib
import fcntl
import json
import os
import resource
import select
import signal
import socket
import stat
import struct
import sys
import time
from collections.abc import Callable
from typing import Any, ClassVar

PROTOCOL_VERSION = 2
HEADER = struct.Struct(">I")
MAX_HEADER = 1 << 20
WORKDIR = "/sandbox"
SCRATCH_DIRS = ("/sandbox", "/tmp")
MQUEUE_DIR = "/dev/mqueue"
SHM_DIR = "/dev/shm"
POLL_S = 0.02  # CPU and memory are sampled this often while a program runs
CHUNK = 1 << 16
OUT_HIGH_WATER = 1 << 20  # stop reading a program's stdout while this much is unsent
MAX_CREDIT = 3  # wall time waited on the service is credited up to 3 times the limit
COALESCE_S = 0.01  # output waits at most this long to be sent with more
CLEAN_DEADLINE_S = 10.0
DRAIN_S = 2.0


class Dirty(Exception):
    """Something of a test survived the clean-up: the sandbox must not be used again."""


# --- the channel to the service: fd 0 in, fd 1 out, never blocking the run loop ------


class Channel:
    def __init__(self) -> None:
        os.set_blocking(0, False)
        os.set_blocking(1, False)
        self.pending: collections.deque[memoryview] = collections.deque()
        self.pending_bytes = 0

    def read_some(self, limit: int) -> bytes:
        """Up to ``limit`` bytes if any are there now (never more than asked, so the
        next message stays unread); EOFError once the service has gone."""
        try:
            data = os.read(0, limit)
        except BlockingIOError:
            return b""
        if not data:
            raise EOFError
        return data

    def read_exact(self, n: int) -> bytes:
        parts = []
        while n:
            select.select([0], [], [])
            data = self.read_some(min(n, 1 << 20))
            parts.append(data)
            n -= len(data)
        return b"".join(parts)

    def discard(self, n: int) -> None:
        while n:
            select.select([0], [], [])
            n -= len(self.read_some(min(n, 1 << 20)))

    def receive(self) -> tuple[dict[str, Any], list[int]]:
        """A request header and the sizes of the blobs that follow it (unread)."""
        (size,) = HEADER.unpack(self.read_exact(HEADER.size))
        if size > MAX_HEADER:
            raise ValueError("header too large")
        header = json.loads(self.read_exact(size))
        sizes = header.get("blobs", []) if isinstance(header, dict) else None
        if not isinstance(sizes, list) or not all(isinstance(n, int) and n >= 0 for n in sizes):
            raise ValueError("malformed header")  # out of step with the service: stop
        return header, sizes

    def queue(self, header: dict[str, Any], *blobs: bytes) -> None:
        data = json.dumps(dict(header, blobs=[len(b) for b in blobs])).encode()
        for part in (HEADER.pack(len(data)) + data, *blobs):
            if part:
                self.pending.append(memoryview(part))
                self.pending_bytes += len(part)

    def flush_some(self) -> None:
        while self.pending:
            head = self.pending[0]
            try:
                n = os.write(1, head)
            except BlockingIOError:
                return
            self.pending_bytes -= n
            if n < len(head):
                self.pending[0] = head[n:]
                return
            self.pending.popleft()

    def flush(self) -> None:
        while self.pending:
            select.select([], [1], [])
            self.flush_some()

    def send(self, header: dict[str, Any], *blobs: bytes) -> None:
        self.queue(header, *blobs)
        self.flush()


# --- the runner's own seccomp filter ---------------------------------------------------

PR_SET_DUMPABLE = 4
PR_SET_SECCOMP = 22
PR_SET_NO_NEW_PRIVS = 38
SECCOMP_MODE_FILTER = 2
RET_KILL_PROCESS = 0x80000000
RET_ALLOW = 0x7FFF0000
RET_EPERM = 0x00050000 | 1
RET_ENOSYS = 0x00050000 | 38
X32_SYSCALL_BIT = 0x40000000
# Namespace flags of clone(2); the low byte of its flags is the exit signal, so
# CLONE_NEWTIME (0x80) is only meaningful to clone3/unshare, which are refused whole.
CLONE_NAMESPACES = 0x7E020000
AUDIT_ARCH = {"x86_64": 0xC000003E, "aarch64": 0xC00000B7}
# Refused with EPERM (as Docker's default profile refuses them without capabilities):
# kernel attack surface a judged program never needs. Numbers: (x86_64, aarch64).
DENIED = {
    "io_uring_setup": (425, 425),
    "io_uring_enter": (426, 426),
    "io_uring_register": (427, 427),
    "keyctl": (250, 219),
    "add_key": (248, 217),
    "request_key": (249, 218),
    "unshare": (272, 97),
    "setns": (308, 268),
    "mount": (165, 40),
    "umount2": (166, 39),
    "pivot_root": (155, 41),
    "chroot": (161, 51),
    "open_tree": (428, 428),
    "move_mount": (429, 429),
    "fsopen": (430, 430),
    "fsconfig": (431, 431),
    "fsmount": (432, 432),
    "fspick": (433, 433),
    "mount_setattr": (442, 442),
    "bpf": (321, 280),
    "perf_event_open": (298, 241),
    "userfaultfd": (323, 282),
    "kexec_load": (246, 104),
    "kexec_file_load": (320, 294),
    "init_module": (175, 105),
    "finit_module": (313, 273),
    "delete_module": (176, 106),
    "open_by_handle_at": (304, 265),
    "name_to_handle_at": (303, 264),
    "quotactl": (179, 60),
    "quotactl_fd": (443, 443),
    "swapon": (167, 224),
    "swapoff": (168, 225),
    "reboot": (169, 142),
    "acct": (163, 89),
    "syslog": (103, 116),
    "settimeofday": (164, 170),
    "clock_settime": (227, 112),
    "clock_adjtime": (305, 266),
    "adjtimex": (159, 171),
    "sethostname": (170, 161),
    "setdomainname": (171, 162),
    "lookup_dcookie": (212, 18),
    "fanotify_init": (300, 262),
    "vhangup": (153, 58),
    "nfsservctl": (180, 42),
    "memfd_secret": (447, 447),
    "mq_open": (240, 180),  # POSIX message queues: kernel memory outside the program
    "io_setup": (206, 0),  # Linux AIO contexts are a host-wide quota (aio-max-nr)
    "io_submit": (209, 2),
    "cachestat": (451, 451),  # page-cache state of files: a side channel
    # Evicting or prefetching the page cache of the image's files (shared by every
    # container on the host) would let a program write bits that a later one reads.
    "fadvise64": (221, 223),
    "readahead": (187, 213),
    "iopl": (172, None),
    "ioperm": (173, None),
    "modify_ldt": (154, None),
    "uselib": (134, None),
    "ustat": (136, None),
    "sysfs": (139, None),
    "_sysctl": (156, None),
}
CLONE = {"x86_64": 56, "aarch64": 220}
CLONE3 = 435
# The runner and the program share a uid, so these calls could otherwise change the
# runner's own limits or scheduling (PID 1 is the runner): refused when aimed at it.
AIMED_AT_PID_1 = {  # name: (x86_64, aarch64); the target pid is args[0]
    "prlimit64": (302, 261),
    "sched_setaffinity": (203, 122),
    "sched_setscheduler": (144, 119),
    "sched_setparam": (142, 118),
    "sched_setattr": (314, 274),
}
# setpriority/ioprio_set(which, who): refused for "the user" (every process of the uid,
# the runner too) and for who == 1 (the runner, or its process group).
WHICH_WHO = {"setpriority": ((141, 140), 2), "ioprio_set": ((251, 30), 3)}
# Sockets: unix ones only. There is no network (network_mode=none), and on cgroup v1 the
# buffers of TCP sockets on loopback are charged to no cgroup; vsock would reach the
# host's VM services; netlink and ICMP sockets are kernel surface. args[0] is the family.
AF_UNIX = 1
SOCKET_CALLS = {"socket": (41, 198), "socketpair": (53, 199)}
MADVISE = (28, 233)
MADV_COLD, MADV_PAGEOUT = 20, 21  # evict pages of a file mapping from the page cache


def _bpf(code: int, jt: int, jf: int, k: int) -> bytes:
    return struct.pack("HBBI", code, jt, jf, k)


_LD_W_ABS, _JEQ, _JGE, _JSET, _RET = 0x20, 0x15, 0x35, 0x45, 0x06
ARG0, ARG1, ARG2 = 16, 24, 32  # offsets of the low halves of args[0..2] in seccomp_data


def seccomp_program(machine: str) -> bytes:
    """The filter for the native architecture: any other ABI (i386 ``int 0x80``,
    x32, 32-bit ARM) kills the process, so no table escapes the numbers below."""
    column = 0 if machine == "x86_64" else 1
    denied = sorted({nr for nums in DENIED.values() if (nr := nums[column]) is not None})
    # (code, true-target, false-target, k) with targets as labels, resolved below.
    Insn = tuple[int, Any, Any, int]
    prog: list[Insn] = [
        (_LD_W_ABS, 0, 0, 4),  # seccomp_data.arch
        (_JEQ, 0, "kill", AUDIT_ARCH[machine]),
        (_LD_W_ABS, 0, 0, 0),  # seccomp_data.nr
    ]
    if machine == "x86_64":
        prog.append((_JGE, "kill", 0, X32_SYSCALL_BIT))
    prog += [(_JEQ, "eperm", 0, nr) for nr in denied]
    prog += [
        (_JEQ, "enosys", 0, CLONE3),  # its flags sit in memory a filter cannot read
        (_JEQ, "clone", 0, CLONE[machine]),
    ]
    prog += [(_JEQ, "pid1", 0, nums[column]) for nums in AIMED_AT_PID_1.values()]
    prog += [(_JEQ, name, 0, nums[column]) for name, (nums, _) in WHICH_WHO.items()]
    prog += [(_JEQ, "unix_only", 0, nums[column]) for nums in SOCKET_CALLS.values()]
    prog.append((_JEQ, "madvise", 0, MADVISE[column]))
    blocks: dict[str, list[Insn]] = {
        "clone": [(_LD_W_ABS, 0, 0, ARG0), (_JSET, "eperm", "allow", CLONE_NAMESPACES)],
        "pid1": [(_LD_W_ABS, 0, 0, ARG0), (_JEQ, "eperm", "allow", 1)],
        "unix_only": [(_LD_W_ABS, 0, 0, ARG0), (_JEQ, "allow", "eperm", AF_UNIX)],
        "madvise": [
            (_LD_W_ABS, 0, 0, ARG2),
            (_JEQ, "eperm", 0, MADV_COLD),
            (_JEQ, "eperm", "allow", MADV_PAGEOUT),
        ],
    }
    for name, (_, user) in WHICH_WHO.items():
        blocks[name] = [
            (_LD_W_ABS, 0, 0, ARG0),
            (_JEQ, "eperm", 0, user),
            (_LD_W_ABS, 0, 0, ARG1),
            (_JEQ, "eperm", "allow", 1),
        ]
    prog.append((_RET, 0, 0, RET_ALLOW))
    labels: dict[str, int] = {}
    for name, block in blocks.items():
        labels[name] = len(prog)
        prog += block
    returns = {"allow": RET_ALLOW, "eperm": RET_EPERM, "enosys": RET_ENOSYS}
    returns["kill"] = RET_KILL_PROCESS
    for name, value in returns.items():
        labels[name] = len(prog)
        prog.append((_RET, 0, 0, value))
    out = []
    for i, (code, jt, jf, k) in enumerate(prog):
        jt = labels[jt] - i - 1 if isinstance(jt, str) else jt
        jf = labels[jf] - i - 1 if isinstance(jf, str) else jf
        assert 0 <= jt < 256 and 0 <= jf < 256, "jump too far for classic BPF"
        out.append(_bpf(code, jt, jf, k))
    return b"".join(out)


class Kernel:
    """prctl, seccomp and System V IPC through ctypes."""

    def __init__(self) -> None:
        import ctypes

        self.libc = ctypes.CDLL(None, use_errno=True)
        self.ctypes: Any = ctypes
        self.gvisor = self.is_gvisor()
        self.ipc_last: dict[str, int] = {}  # gVisor: the id of each kind's last probe

    def is_gvisor(self) -> bool:
        """Whether the kernel is gVisor's (runsc): its log starts with its banner. Linux
        refuses unprivileged containers its log (CAP_SYSLOG, Docker's seccomp profile),
        or shows its own; nothing in the container can write to it before the runner."""
        buf = self.ctypes.create_string_buffer(1 << 12)
        n = self.libc.klogctl(3, buf, len(buf))  # SYSLOG_ACTION_READ_ALL
        return n > 0 and gvisor_banner(buf.raw[:n])

    def ipc_call(self, kind: str, action: str, ident: int = 0) -> int:
        """One System V call: create a private object ("new") or remove one ("rmid");
        the result, or -errno."""
        libc, ctypes = self.libc, self.ctypes
        if action == "new":
            n = {"shm": lambda: libc.shmget(0, 1, 0o600), "msg": lambda: libc.msgget(0, 0o600)}
            result = n[kind]() if kind in n else libc.semget(0, 1, 0o600)
        elif kind == "sem":
            result = libc.semctl(ident, 0, 0)  # IPC_RMID
        else:
            result = getattr(libc, f"{kind}ctl")(ident, 0, None)
        return int(result) if result >= 0 else -ctypes.get_errno()

    def remove_ipc_gvisor(self, deadline: float) -> None:
        """gVisor has no /proc/sysvipc, but hands out the ids of each kind in sequence
        after the last one used (wrapping at 2**31). So a new object's id ("probe")
        bounds every id made since the previous probe: each is removed (or was gone).
        The first probe is taken before any program ran: nothing to look for then."""
        for kind in ("shm", "msg", "sem"):
            probe = self.ipc_call(kind, "new")
            if probe < 0 or self.ipc_call(kind, "rmid", probe) < 0:
                raise Dirty(f"cannot create and remove a System V {kind} object")
            ident = self.ipc_last.get(kind, probe)
            while ident != probe and (ident := (ident + 1) % (1 << 31)) != probe:
                if ident % 1024 == 0 and time.monotonic() > deadline:
                    raise Dirty(f"System V {kind} ids could not be checked in time")
                err = self.ipc_call(kind, "rmid", ident)
                if err < 0 and err not in (-22, -43):  # EINVAL, EIDRM: no such object
                    raise Dirty(f"cannot remove System V {kind} {ident}: {os.strerror(-err)}")
            self.ipc_last[kind] = probe

    def harden(self) -> None:
        """Non-dumpable, no new privileges, and the seccomp filter, inherited by every
        process the runner starts. Raises if any of it does not take."""
        ctypes = self.ctypes
        machine = os.uname().machine
        if machine not in AUDIT_ARCH:
            raise OSError(f"no seccomp filter for architecture {machine}")
        program = seccomp_program(machine)
        buffer = ctypes.create_string_buffer(program)

        class SockFprog(ctypes.Structure):  # type: ignore[misc,name-defined]
            _fields_: ClassVar = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]

        fprog = SockFprog(len(program) // 8, ctypes.addressof(buffer))
        for args in (
            (PR_SET_DUMPABLE, 0, 0, 0, 0),
            (PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0),
            (PR_SET_SECCOMP, SECCOMP_MODE_FILTER, ctypes.byref(fprog), 0, 0),
        ):
            if self.libc.prctl(*args) != 0:
                raise OSError(ctypes.get_errno(), f"prctl{args[:2]} failed")

    def remove_ipc(self, deadline: float) -> None:
        """Remove every System V shared memory segment, message queue and semaphore
        set of this IPC namespace (the container's own)."""
        if self.gvisor:
            self.remove_ipc_gvisor(deadline)
            return
        for kind, control in (("shm", "shmctl"), ("msg", "msgctl"), ("sem", "semctl")):
            found = ipc_ids(kind)
            for ident in found:
                fn = getattr(self.libc, control)
                args = (ident, 0, 0) if kind == "sem" else (ident, 0, None)  # IPC_RMID
                if fn(*args) != 0:
                    raise Dirty(f"cannot remove System V {kind} {ident}")
            if found and ipc_ids(kind):
                raise Dirty(f"System V {kind} objects remain")


def gvisor_banner(log: bytes) -> bool:
    return log.split(b"\n", 1)[0].endswith(b"] Starting gVisor...")


def ipc_ids(kind: str) -> list[int]:
    with open(f"/proc/sysvipc/{kind}", "rb") as f:
        lines = f.read().splitlines()[1:]
    return [int(line.split()[1]) for line in lines if line.strip()]


# --- accounting: the container's cgroup counters, v1 or v2 ---------------------------


def _read_stat(path: str) -> dict[bytes, int] | None:
    """A cgroup file of ``key value`` lines."""
    try:
        with open(path, "rb") as f:
            pairs = (line.split(b" ", 1) for line in f.read().splitlines() if b" " in line)
            return {key: int(value) for key, value in pairs}
    except (OSError, ValueError):
        return None


def _read_keys(path: str, keys: tuple[bytes, ...]) -> int | None:
    """The sum of ``keys`` in a cgroup file of ``key value`` lines."""
    values = _read_stat(path)
    if values is None or any(k not in values for k in keys):
        return None
    return sum(values[k] for k in keys)


# v2 kernels before "kernel" was added to memory.stat (5.18) list its parts.
V2_KERNEL_PARTS = (b"kernel_stack", b"pagetables", b"percpu", b"sock", b"slab_unreclaimable")


def _read_int(path: str) -> int | None:
    try:
        with open(path, "rb") as f:
            return int(f.read().strip())
    except (OSError, ValueError):
        return None


class Cgroup:
    """CPU time, memory held and OOM kills of the container, from its cgroup (v1 or v2).

    Memory counts what a program can hold and the kernel cannot simply drop: anonymous
    pages, shmem (tmpfs files, SysV and POSIX shared memory, memfd, shared anonymous
    mappings) and kernel memory charged to the cgroup (pipe and socket buffers, message
    queues, page tables, ...). Page cache of files it reads is not the program's."""

    def __init__(self, root: str = "/sys/fs/cgroup") -> None:
        self.kernel_file: str | None
        if os.path.exists(f"{root}/cgroup.controllers"):
            self.version = 2
            self.name = "cgroup v2"
            self.cpu_file = f"{root}/cpu.stat"
            self.memory_file = f"{root}/memory.stat"
            self.memory_keys: tuple[bytes, ...] = (b"anon", b"shmem")
            self.kernel_file = None
            self.oom_file = f"{root}/memory.events"
        else:
            self.version = 1
            self.name = "cgroup v1"
            self.cpu_file = f"{root}/cpuacct/cpuacct.usage"
            self.memory_file = f"{root}/memory/memory.stat"
            self.memory_keys = (b"total_rss", b"total_shmem")
            self.kernel_file = f"{root}/memory/memory.kmem.usage_in_bytes"
            self.oom_file = f"{root}/memory/memory.oom_control"

    def cpu_ns(self) -> int | None:
        if self.version == 2:
            usec = _read_keys(self.cpu_file, (b"usage_usec",))
            return None if usec is None else usec * 1000
        return _read_int(self.cpu_file)

    def memory_bytes(self) -> int | None:
        stat = _read_stat(self.memory_file)
        if stat is None or any(k not in stat for k in self.memory_keys):
            return None
        held = sum(stat[k] for k in self.memory_keys)
        if self.version == 1:
            kernel = _read_int(self.kernel_file) if self.kernel_file else None
            return held + (kernel or 0)
        # v2: "kernel" is every kernel charge, of which reclaimable slab (dentry and
        # inode caches) is not held by the program.
        if b"kernel" in stat:
            return held + stat[b"kernel"] - stat.get(b"slab_reclaimable", 0)
        return held + sum(stat.get(k, 0) for k in V2_KERNEL_PARTS)

    def oom_kills(self) -> int | None:
        return _read_keys(self.oom_file, (b"oom_kill",))

    def missing(self) -> list[str]:
        """Counters that cannot be read: judging without them would be blind."""
        checks = {
            self.cpu_file: self.cpu_ns(),
            self.memory_file: self.memory_bytes(),
            self.oom_file: self.oom_kills(),
        }
        return [path for path, value in checks.items() if value is None]


class Gvisor:
    """CPU time and memory held under gVisor (runsc), where the container's kernel is
    gVisor's sentry. It shows the container no cgroup counters (runsc 2022 drops
    Docker's cgroup mount; its --cgroupfs has no CPU usage, no memory.stat, no OOM
    count), but what it shows is the sandbox's alone, so the same quantities are read
    from other files:

    - memory: ``AnonPages`` of /proc/meminfo, which gVisor computes as anonymous
      memory plus tmpfs (its ``Shmem`` repeats the tmpfs part): what v1's
      ``total_rss + total_shmem`` counts. Page cache of files read is excluded, as on
      Linux. Kernel memory (pipe buffers, ...) is the sentry's heap and not shown: the
      host's cgroup limit on the whole sandbox bounds it (MLE when it kills).
    - CPU: every process's own time and its reaped children's (/proc/<pid>/stat, in
      clock ticks), the runner's from getrusage: the container's total, like cpuacct.
      gVisor charges time in 10 ms ticks of its own clock while a task runs.
    - OOM kills: the sentry kills nothing for memory; the host kills the whole sandbox,
      which the service judges MLE from Docker's OOMKilled."""

    version = None
    name = "gvisor"
    TICK_NS = 1_000_000_000 // os.sysconf("SC_CLK_TCK")

    def __init__(self, proc: str = "/proc") -> None:
        self.proc = proc

    def cpu_ns(self) -> int | None:
        total = 0
        for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN):
            usage = resource.getrusage(who)
            total += int((usage.ru_utime + usage.ru_stime) * 1e9)
        ticks = 0
        try:
            names = os.listdir(self.proc)
        except OSError:
            return None
        pids = (int(n) for n in names if n.isdigit() and int(n) != os.getpid())
        for pid in sorted(pids):  # parents first: a child reaped meanwhile is missed for
            try:  # one sample rather than counted twice
                with open(f"{self.proc}/{pid}/stat", "rb") as f:
                    fields = f.read().rsplit(b")", 1)[1].split()
                ticks += sum(int(v) for v in fields[11:15])  # utime stime cutime cstime
            except (OSError, IndexError, ValueError):
                continue  # gone (reaped: its time is in its parent's)
        return total + ticks * self.TICK_NS

    def memory_bytes(self) -> int | None:
        try:
            with open(f"{self.proc}/meminfo", "rb") as f:
                for line in f:
                    if line.startswith(b"AnonPages:"):
                        return int(line.split()[1]) * 1024  # in kB
        except (OSError, ValueError, IndexError):
            pass
        return None

    def oom_kills(self) -> int | None:
        return 0

    def missing(self) -> list[str]:
        checks = {"/proc/meminfo": self.memory_bytes(), "/proc/<pid>/stat": self.cpu_ns()}
        return [path for path, value in checks.items() if value is None]


def pipe_unread(fd: int) -> int:
    """Bytes in the pipe behind ``fd`` (either end) not yet read."""
    buf = bytearray(4)
    try:
        fcntl.ioctl(fd, FIONREAD, buf)
    except OSError:
        return 0
    return int.from_bytes(buf, sys.byteorder)


def pipe_capacity(fd: int) -> int:
    try:
        return fcntl.fcntl(fd, F_GETPIPE_SZ)
    except OSError:
        return 1 << 16


FIONREAD, F_GETPIPE_SZ = 0x541B, 1032


def peak_rss_kb(pid: int) -> int:
    """A live process's own peak RSS (VmHWM of its address space), 0 if unknown."""
    try:
        with open(f"/proc/{pid}/status", "rb") as f:
            for line in f:
                if line.startswith(b"VmHWM:"):
                    return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        pass
    return 0


# --- clean-up between tests ------------------------------------------------------------


def other_pids(me: int) -> list[int]:
    return [int(name) for name in os.listdir("/proc") if name.isdigit() and int(name) != me]


def kill_everything(deadline: float) -> None:
    """SIGKILL every other process and reap them all.

    ``kill(-1)`` from PID 1 reaches every process of the namespace in one step that
    fork cannot race (the kernel holds the task list while it signals); orphans of
    killed parents re-parent to us, so reaping until we have no child left reaps all."""
    with contextlib.suppress(ProcessLookupError):
        os.kill(-1, signal.SIGKILL)
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            break
        if pid == 0:
            if time.monotonic() > deadline:
                raise Dirty("processes did not die")
            time.sleep(0.0002)
    if other_pids(os.getpid()):
        raise Dirty("processes survived")


ODIR = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC


def wipe(root: str, deadline: float) -> None:
    """Delete everything inside ``root``, whatever its depth, name lengths or modes.

    Iterative and descriptor-relative: one directory open at a time, names never
    joined into paths (so no PATH_MAX and no recursion limit), links never followed."""
    fd = os.open(root, ODIR)
    trail: list[str] = []
    try:
        with contextlib.suppress(PermissionError):  # not ours (/dev/mqueue): sticky, fine
            os.fchmod(fd, 0o700)
        while True:
            if time.monotonic() > deadline:
                raise Dirty(f"{root} could not be emptied in time")
            subdir = None
            with os.scandir(fd) as entries:
                for entry in entries:
                    if entry.is_dir(follow_symlinks=False):
                        subdir = entry.name
                        break
                    os.unlink(entry.name, dir_fd=fd)
            if subdir is not None:
                # It is a directory (lstat'ed) and nothing else runs: chmod cannot be raced.
                os.chmod(subdir, 0o700, dir_fd=fd)
                child = os.open(subdir, ODIR, dir_fd=fd)
                os.close(fd)
                fd = child
                trail.append(subdir)
                continue
            if not trail:
                return
            parent = os.open("..", ODIR, dir_fd=fd)
            os.close(fd)
            fd = parent
            os.rmdir(trail.pop(), dir_fd=fd)
    finally:
        os.close(fd)


FS_IOC_GETFLAGS, FS_IOC_SETFLAGS = 0x80086601, 0x40086602
EPOCH = (0, 0)


def reset_root(root: str) -> None:
    """A scratch directory's own metadata back to its start: mode, extended attributes
    (incl. ACLs), inode flags and times could otherwise carry data to the next test."""
    fd = os.open(root, ODIR)
    try:
        os.fchmod(fd, 0o700)
        for name in os.listxattr(fd):
            os.removexattr(fd, name)
        flags = bytearray(4)
        with contextlib.suppress(OSError):
            fcntl.ioctl(fd, FS_IOC_GETFLAGS, flags)
            if any(flags):
                fcntl.ioctl(fd, FS_IOC_SETFLAGS, bytes(4))
        os.utime(fd, ns=EPOCH)
    finally:
        os.close(fd)


def collect_unix_garbage() -> None:
    """Start the kernel's collector of unix sockets held only by descriptors in flight
    (SCM_RIGHTS): closing any unix socket queues it. Otherwise such a cycle — and every
    file, pty or pipe it holds — can outlive its processes by seconds."""
    with contextlib.suppress(OSError):
        a, b = socket.socketpair()
        a.close()
        b.close()


def leftovers() -> list[str]:
    """Kernel objects of a test that outlive its processes and files, if any: unix
    sockets (abstract names carry data), ptys (their buffers do), and scratch space
    still allocated to files without names (held open by descriptors in flight)."""
    found = []
    with open("/proc/net/unix", "rb") as f:
        sockets = len(f.read().splitlines()) - 1
    if sockets:
        found.append(f"{sockets} unix sockets")
    ptys = [name for name in os.listdir("/dev/pts") if name != "ptmx"]
    if ptys:
        found.append(f"ptys {ptys}")
    for root in SCRATCH_DIRS:
        fs = os.statvfs(root)
        if fs.f_blocks - fs.f_bfree or fs.f_files - fs.f_ffree > 1:
            found.append(f"space of deleted files in {root}")
    return found


def clean(kernel: Kernel) -> None:
    """Leave the container as a fresh one: the next test finds no process, no file,
    no IPC object, no socket of this one. Raises Dirty if that cannot be made true."""
    deadline = time.monotonic() + CLEAN_DEADLINE_S
    kill_everything(deadline)
    for root in SCRATCH_DIRS:
        wipe(root, deadline)
        reset_root(root)
        if os.listdir(root):
            raise Dirty(f"{root} is not empty")
    # /dev/mqueue, and under gVisor /dev/shm: runsc mounts a tmpfs there (mode 1777)
    # whatever the container's IPC mode. Not ours to reset, but what is in them is.
    for shared in (MQUEUE_DIR, SHM_DIR):
        if os.path.isdir(shared) and os.listdir(shared):
            wipe(shared, deadline)
            if os.listdir(shared):
                raise Dirty(f"{shared} is not empty")
    kernel.remove_ipc(deadline)
    garbage_deadline = time.monotonic() + DRAIN_S
    while found := leftovers():
        if time.monotonic() > garbage_deadline:
            raise Dirty(f"left after the test: {', '.join(found)}")
        collect_unix_garbage()
        time.sleep(0.005)


# --- files of the program ---------------------------------------------------------------

Files = list[tuple[str, int, bytes]]


class TooBig(Exception):
    """What a compile step left is too deep, too many or too large to keep."""


SNAPSHOT_DEPTH, SNAPSHOT_FILES = 32, 10_000


def snapshot(directory: str) -> Files:
    """Regular files under ``directory`` as (relative name, mode, bytes); links skipped.
    Walked without recursion and bounded: a compile step writes what the source asks
    for (``javac -d .`` makes one directory per package level)."""
    files: Files = []
    pending = [("", 0)]
    while pending:
        prefix, depth = pending.pop()
        if depth > SNAPSHOT_DEPTH:
            raise TooBig(f"the compiled program is nested deeper than {SNAPSHOT_DEPTH} levels")
        for name in sorted(os.listdir(os.path.join(directory, prefix))):
            rel = prefix + name
            path = os.path.join(directory, rel)
            st = os.lstat(path)
            if stat.S_ISDIR(st.st_mode):
                pending.append((rel + "/", depth + 1))
            elif stat.S_ISREG(st.st_mode):
                if len(files) >= SNAPSHOT_FILES:
                    raise TooBig(f"the compiled program has more than {SNAPSHOT_FILES} files")
                with open(path, "rb") as f:
                    files.append((rel, stat.S_IMODE(st.st_mode), f.read()))
    return sorted(files)


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


# --- one run -------------------------------------------------------------------------


def set_soft(which: int, value: int) -> None:
    _, hard = resource.getrlimit(which)
    if hard != resource.RLIM_INFINITY:
        value = min(value, hard)
    with contextlib.suppress(ValueError, OSError):
        resource.setrlimit(which, (value, hard))


# Signals the runner ignores (Python ignores SIGPIPE and SIGXFSZ) that a program must
# start with at their defaults.
RESET_SIGNALS = (signal.SIGPIPE, signal.SIGXFSZ, signal.SIGXCPU, signal.SIGINT, signal.SIGTERM)


def spawn(
    argv: list[str],
    env: dict[str, str],
    limits: dict[str, int],
    fds: tuple[int, int, int],
    final: bool,
    nproc: int | None = None,
) -> int:
    """Start the command as a fresh process in its own session, with its limits.

    posix_spawn (vfork + exec) does not copy the runner, which is what makes a test
    cost about what starting the program costs. Limits are set on the runner and
    inherited from the first instruction; right after the spawn each hard limit is
    lowered to its soft value, so the program cannot raise any of them (in the
    microseconds between, the container's own ulimits bound it). The stack limit is
    the exception: the end of execve writes back the one it started with, so for a
    ``final`` run (every run after a compile step has the same limits) the runner
    pins its own. The runner's descriptors are close-on-exec: only 0, 1, 2 pass."""
    wanted = {
        resource.RLIMIT_CORE: 0,
        resource.RLIMIT_FSIZE: limits["file_bytes"],
        resource.RLIMIT_NOFILE: limits["open_files"],
        resource.RLIMIT_STACK: limits["stack_bytes"],
    }
    if nproc is not None:  # gVisor: the container's pids limit counts the sentry's threads
        wanted[resource.RLIMIT_NPROC] = nproc
    for which, value in wanted.items():
        set_soft(which, value)
    if final:
        stack = resource.getrlimit(resource.RLIMIT_STACK)[0]
        with contextlib.suppress(ValueError, OSError):
            resource.setrlimit(resource.RLIMIT_STACK, (stack, stack))
    pid = os.posix_spawnp(
        argv[0],
        argv,
        env,
        file_actions=[(os.POSIX_SPAWN_DUP2, fd, target) for target, fd in enumerate(fds)],
        setsid=True,
        setsigdef=RESET_SIGNALS,
    )
    wanted[resource.RLIMIT_CPU] = max(1, -(-limits["cpu_ms"] // 1000)) + 1
    for which, value in wanted.items():
        soft = resource.getrlimit(which)[0] if which != resource.RLIMIT_CPU else value
        pin(pid, which, soft)
    with contextlib.suppress(OSError), open(f"/proc/{pid}/oom_score_adj", "w") as f:
        f.write("1000")  # the submission, never the runner, is the OOM victim
    return pid


def pin(pid: int, which: int, value: int) -> None:
    """Soft and hard limit of ``pid`` to ``value`` (lowering needs no privilege)."""
    with contextlib.suppress(OSError, ValueError):
        resource.prlimit(pid, which, (value, value))


# Tests of the other runtimes' accounting turn this off in the source they send
# (tests/test_runtimes.py); the service never does.
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


class ExitWatch:
    """A descriptor that becomes readable once the program has ended: its pidfd, or
    where the kernel has no pidfd_open (gVisor's 2022 sentry, Linux before 5.3) a pipe
    that SIGCHLD wakes, with waitid(WNOWAIT) telling whether the program ended (an
    orphan re-parented to the runner wakes it too)."""

    wakeup: int | None = None  # the SIGCHLD pipe, once installed

    @classmethod
    def check(cls) -> None:
        """Raises unless programs can be watched; installs the SIGCHLD pipe if needed
        (before any program starts, so no SIGCHLD is missed)."""
        try:
            os.close(os.pidfd_open(os.getpid()))
        except OSError as exc:
            if exc.errno != 38 or cls.wakeup is not None:  # ENOSYS: not in this kernel
                raise
            read_end, write_end = os.pipe2(os.O_NONBLOCK | os.O_CLOEXEC)
            signal.signal(signal.SIGCHLD, lambda *_: None)
            signal.set_wakeup_fd(write_end, warn_on_full_buffer=False)
            cls.wakeup = read_end

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.fd = os.pidfd_open(pid) if self.wakeup is None else self.wakeup

    def ended(self) -> bool:
        """Called once ``fd`` is readable."""
        if self.fd != self.wakeup:
            return True
        with contextlib.suppress(BlockingIOError):
            while os.read(self.fd, 4096):
                pass
        return os.waitid(os.P_PID, self.pid, os.WEXITED | os.WNOHANG | os.WNOWAIT) is not None

    def close(self) -> None:
        if self.fd != self.wakeup:
            os.close(self.fd)


def self_cpu_ns() -> int:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return int((usage.ru_utime + usage.ru_stime) * 1e9)


class Run:
    """One command run: its pipes, limits, streams and measurements."""

    def __init__(self, runner: "Runner", request: dict[str, Any], stdin_size: int) -> None:
        self.runner = runner
        self.channel = runner.channel
        self.cgroup = runner.cgroup
        self.limits: dict[str, int] = request["limits"]
        self.stdin_left = stdin_size  # bytes of input still to come from the service
        self.stdin_buf = memoryview(b"")
        self.out_total = 0
        self.out_sent = 0
        self.err = bytearray()
        self.err_total = 0
        self.killed_for: str | None = None
        self.err_fd = -1
        # Output is sent in messages of up to CHUNK, or after COALESCE_S: a program that
        # writes a byte at a time must not cost the service a message per byte.
        self.out_buf = bytearray()
        self.out_since = 0.0

    def execute(
        self, argv: list[str], env: dict[str, str], final: bool, memory_base: int
    ) -> dict[str, Any]:
        """Run the command; ``memory_base`` is the container's memory before the program's
        files were restored, so they count as the program's."""
        limits = self.limits
        stdin_r, stdin_w = os.pipe()
        stdout_r, stdout_w = os.pipe()
        stderr_r, stderr_w = os.pipe()
        self.err_fd = stderr_r
        cpu_before = self.cgroup.cpu_ns()
        oom_before = self.cgroup.oom_kills()
        memory_peak = memory_base
        own_peak = 0
        self_before = self_cpu_ns()
        started = time.monotonic()
        try:
            # Under gVisor the host's pids cgroup counts the sandbox kernel's threads,
            # not the program's processes; gVisor counts those against RLIMIT_NPROC
            # (per uid: the runner is the one other task), as the pids cgroup would.
            nproc = limits["processes"] + 1 if self.runner.kernel.gvisor else None
            pid = spawn(argv, env, limits, (stdin_r, stdout_w, stderr_w), final, nproc)
        except OSError as exc:
            for fd in (stdin_r, stdin_w, stdout_r, stdout_w, stderr_r, stderr_w):
                os.close(fd)
            self.err += f"cannot execute {argv[0]}: {exc.strerror}\n".encode()
            return {
                "exit_code": 127,
                "signal": None,
                "cpu_ms": 0,
                "wall_ms": 0,
                "memory_kb": 0,
                "oom_killed": False,
            }
        # exec recorded the spawning address space's peak (ours: vfork shares it) as the
        # program's ru_maxrss floor; only a larger value is the program's own.
        rss_floor = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        for fd in (stdin_r, stdout_w, stderr_w):
            os.close(fd)
        for fd in (stdin_w, stdout_r, stderr_r):
            os.set_blocking(fd, False)
        watch = ExitWatch(pid)
        program_in: int | None = stdin_w
        if not self.stdin_left:
            os.close(stdin_w)
            program_in = None
        readers = {stdout_r, stderr_r}
        wall_s = limits["wall_ms"] / 1000.0
        credit = 0.0  # time the program spent waiting for the service, not for itself
        cpu_limit_ns = limits["cpu_ms"] * 1_000_000
        next_sample = started + POLL_S
        while True:
            rlist = [watch.fd, *(fd for fd in readers if fd != stdout_r)]
            if stdout_r in readers and self._unsent() < OUT_HIGH_WATER:
                rlist.append(stdout_r)
            if self.stdin_left and not self.stdin_buf:
                rlist.append(0)
            wlist = [program_in] if program_in is not None and self.stdin_buf else []
            if self.channel.pending:
                wlist.append(1)
            # The program blocked on the service — its input used up and the rest not yet
            # sent, or its output pipe full because the service has not taken what was
            # sent — is transport time, not charged to it. A program that merely sleeps
            # meanwhile is not blocked and earns nothing.
            waiting = (
                program_in is not None
                and self.stdin_left > 0
                and not self.stdin_buf
                and pipe_unread(program_in) == 0
            ) or (
                stdout_r in readers
                and self._unsent() >= OUT_HIGH_WATER
                and pipe_unread(stdout_r) >= pipe_capacity(stdout_r)
            )
            wall_deadline = started + wall_s + min(credit, MAX_CREDIT * wall_s)
            before = time.monotonic()
            deadline = min(next_sample, wall_deadline)
            if self.out_buf:
                deadline = min(deadline, self.out_since + COALESCE_S)
            timeout = max(0.0, deadline - before)
            ready_r, ready_w, _ = select.select(rlist, wlist, [], timeout)
            now = time.monotonic()
            if waiting:
                credit += now - before
            if 0 in ready_r:
                chunk = self.channel.read_some(min(CHUNK, self.stdin_left))
                self.stdin_left -= len(chunk)
                self.stdin_buf = memoryview(chunk if program_in is not None else b"")
            if program_in is not None and (program_in in ready_w or not self.stdin_buf):
                program_in = self._feed(program_in)
            if 1 in ready_w:
                self.channel.flush_some()
            for fd in (stdout_r, stderr_r):
                if fd in ready_r and not self._drain(fd):
                    os.close(fd)
                    readers.discard(fd)
            if self.out_buf and now - self.out_since >= COALESCE_S:
                self._ship()
            if watch.fd in ready_r and watch.ended():
                break
            if self.out_total > limits["output_bytes"]:
                self.killed_for = "output"
            elif now >= started + wall_s + min(credit, MAX_CREDIT * wall_s):
                self.killed_for = "wall"
            elif now >= next_sample:
                next_sample = now + POLL_S
                memory_peak = max(memory_peak, self.cgroup.memory_bytes() or 0)
                own_peak = max(own_peak, peak_rss_kb(pid))
                used = self.cgroup.cpu_ns()
                own = self_cpu_ns() - self_before
                over = cpu_limit_ns + 50_000_000
                if cpu_before is not None and used is not None and used - cpu_before - own > over:
                    self.killed_for = "cpu"
                # gVisor's kernel kills nothing for memory, and the host kills the whole
                # sandbox only at its ceiling: the runner stops the program at its limit.
                held = memory_peak - memory_base
                if self.runner.kernel.gvisor and held > limits["memory_bytes"]:
                    self.killed_for = "memory"
            if self.killed_for is not None:
                break
        wall_ns = int((time.monotonic() - started - credit) * 1e9)
        # What the program still holds when it ends (files, shared memory) counts too.
        memory_peak = max(memory_peak, self.cgroup.memory_bytes() or 0)
        with contextlib.suppress(ProcessLookupError):
            os.kill(-1, signal.SIGKILL)  # whatever it left running dies with it
        _, status, usage = os.wait4(pid, 0)
        watch.close()
        self._drain_to_end(readers)
        self._ship()
        if self.killed_for is None and self.out_total > limits["output_bytes"]:
            self.killed_for = "output"  # found while reading what it left in the pipe
        if program_in is not None:
            os.close(program_in)
        cpu_after = self.cgroup.cpu_ns()
        if cpu_before is not None and cpu_after is not None:
            cpu_ns = max(0, cpu_after - cpu_before - (self_cpu_ns() - self_before))
        else:
            cpu_ns = int((usage.ru_utime + usage.ru_stime) * 1e9)
        oom_after = self.cgroup.oom_kills()
        if usage.ru_maxrss > rss_floor:
            own_peak = max(own_peak, usage.ru_maxrss)
        return {
            "exit_code": os.WEXITSTATUS(status) if os.WIFEXITED(status) else None,
            "signal": os.WTERMSIG(status) if os.WIFSIGNALED(status) else None,
            "cpu_ms": cpu_ns // 1_000_000,
            "wall_ms": max(0, wall_ns) // 1_000_000,
            "memory_kb": max(own_peak, (memory_peak - memory_base) // 1024),
            "oom_killed": bool(oom_before is not None and (oom_after or 0) > oom_before),
        }

    def _drain_to_end(self, readers: set[int]) -> None:
        """Read what is left in the program's pipes once every process is dead.

        A descriptor in flight on a unix socket (SCM_RIGHTS) outlives its processes
        until the kernel's garbage collector frees it, so a write end may stay open:
        the collector is started, and a pipe still open after DRAIN_S marks the sandbox
        dirty instead of holding the runner."""
        collect_unix_garbage()
        deadline = time.monotonic() + DRAIN_S
        while readers:
            ready, _, _ = select.select(list(readers), [], [], 0.05)
            for fd in ready:
                if not self._drain(fd):
                    os.close(fd)
                    readers.discard(fd)
            if not ready:
                if time.monotonic() > deadline:
                    self.runner.dirty = "a pipe of the program stayed open after it ended"
                    break
                collect_unix_garbage()
        for fd in readers:
            os.close(fd)

    def _feed(self, fd: int) -> int | None:
        """Pass input on to the program; close its stdin once all of it went through."""
        if self.stdin_buf:
            try:
                self.stdin_buf = self.stdin_buf[os.write(fd, self.stdin_buf) :]
            except BlockingIOError:
                return fd
            except BrokenPipeError:  # the program stopped reading: the rest is dropped
                self.stdin_buf = memoryview(b"")
                os.close(fd)
                return None
        if not self.stdin_buf and not self.stdin_left:
            os.close(fd)
            return None
        return fd

    def _drain(self, fd: int) -> bool:
        """Read what the program wrote to ``fd``; False at end of file."""
        try:
            data = os.read(fd, CHUNK)
        except BlockingIOError:
            return True
        if not data:
            return False
        if fd == self.err_fd:
            self.err_total += len(data)
            self.err += data[: max(0, self.limits["stderr_bytes"] - len(self.err))]
            return True
        self.out_total += len(data)
        keep = data[: max(0, self.limits["output_bytes"] - self.out_sent)]
        if keep:
            self.out_sent += len(keep)
            if not self.out_buf:
                self.out_since = time.monotonic()
            self.out_buf += keep
            if len(self.out_buf) >= CHUNK:
                self._ship()
        return True

    def _ship(self) -> None:
        """Queue the buffered output as messages of at most CHUNK bytes."""
        data = bytes(self.out_buf)
        self.out_buf.clear()
        for start in range(0, len(data), CHUNK):
            self.channel.queue({"op": "out"}, data[start : start + CHUNK])

    def _unsent(self) -> int:
        return self.channel.pending_bytes + len(self.out_buf)


class Runner:
    def __init__(self, channel: Channel) -> None:
        self.channel = channel
        self.kernel = Kernel()
        self.cgroup: Cgroup | Gvisor = Gvisor() if self.kernel.gvisor else Cgroup()
        self.baseline: Files = []
        self.dirty: str | None = None

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
        if self.dirty is not None:  # nothing runs here again: the service runs it elsewhere
            self.channel.discard(sum(sizes))
            error = f"Dirty: {self.dirty}"
            self.channel.send(
                {"op": "run", "ok": False, "error": error, "dirty": self.dirty, "ran": False}
            )
            return
        run = Run(self, request, sizes[0] if sizes else 0)
        result: dict[str, Any] | None = None
        try:
            memory_base = self.cgroup.memory_bytes() or 0  # the program's files count
            restore(self.baseline)
            env = {str(k): str(v) for k, v in request["env"].items()}
            # After a compile step (keep_files) every run has the same limits.
            final = not request.get("keep_files")
            result = run.execute([str(a) for a in request["argv"]], env, final, memory_base)
            result.update(
                killed_for=run.killed_for,
                stdout_overflow=run.out_total > run.limits["output_bytes"],
                stdout_total=run.out_total,
                stderr_total=run.err_total,
            )
            if request.get("keep_files"):
                try:
                    self.baseline = snapshot(WORKDIR)
                    result["kept_bytes"] = sum(len(data) for _, _, data in self.baseline)
                except TooBig as exc:  # what the compile step made cannot be a program
                    result["kept_error"] = str(exc)
        finally:
            # Whatever happened, the input is consumed (the stream stays in step) and the
            # frames sent so far are complete; a failed run is cleaned before its answer.
            self.channel.discard(run.stdin_left)
            run.stdin_left = 0
            self.channel.flush()
            if result is None:
                self.clean_up()
        self.channel.send(dict(result, op="run", ok=True), bytes(run.err))
        # Every process of the run is dead already (killed before its status was read);
        # the rest of the clean-up overlaps the service's work on this answer. If it
        # fails, the next run answers "dirty" and this container is not used again.
        self.clean_up()

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
                elif op == "run":
                    self.run(request, sizes)
                else:
                    self.channel.discard(sum(sizes))
                    self.channel.send({"op": op, "ok": False, "error": "unknown op"})
            except EOFError:
                return
            except Exception as exc:
                error = f"{type(exc).__name__}: {exc}"
                self.channel.send({"op": op, "ok": False, "error": error, "dirty": self.dirty})


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


if __name__ == "__main__":
    main()
