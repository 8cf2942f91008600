"""What the runner asks of the kernel itself, through ctypes: hardening (prctl and the
seccomp filter), gVisor detection and System V IPC clean-up."""

import os
import time
from typing import Any, ClassVar

from .seccomp import (
    AUDIT_ARCH,
    PR_SET_DUMPABLE,
    PR_SET_NO_NEW_PRIVS,
    PR_SET_SECCOMP,
    SECCOMP_MODE_FILTER,
    seccomp_program,
)


class Dirty(Exception):
    """Something of a test survived the clean-up: the sandbox must not be used again."""


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
