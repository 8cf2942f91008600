"""The runner's own seccomp filter, as a classic BPF program (installed by
``kernel.Kernel.harden``; tests/unit/test_runner.py runs it through an interpreter)."""

import struct
from typing import Any

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
