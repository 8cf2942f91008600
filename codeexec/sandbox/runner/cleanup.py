"""Clean-up between tests: the container left as a fresh one, or ``Dirty`` raised."""

import contextlib
import fcntl
import os
import signal
import socket
import time

from .kernel import Dirty, Kernel

SCRATCH_DIRS = ("/sandbox", "/tmp")
MQUEUE_DIR = "/dev/mqueue"
SHM_DIR = "/dev/shm"
CLEAN_DEADLINE_S = 10.0
DRAIN_S = 2.0  # how long descriptors in flight may keep a test's objects alive


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
