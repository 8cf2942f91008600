"""Step 1 of a run: start the command as a fresh process with its limits."""

import contextlib
import os
import resource
import signal
from dataclasses import dataclass


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


class NotStarted(Exception):
    """The command could not be executed (no such file, not executable, ...)."""

    def __init__(self, error: OSError) -> None:
        super().__init__(error.strerror)
        self.error = error


@dataclass
class Process:
    """A started program: its pid and the runner's (non-blocking) ends of its pipes."""

    pid: int
    stdin: int | None  # None once closed: all input passed on, or none to pass
    stdout: int
    stderr: int
    # exec recorded the spawning address space's peak (the runner's: vfork shares it)
    # as the program's ru_maxrss floor; only a larger value is the program's own.
    rss_floor: int


def start(
    argv: list[str],
    env: dict[str, str],
    limits: dict[str, int],
    final: bool,
    nproc: int | None,
    has_input: bool,
    merge_stderr: bool = False,
) -> Process:
    """The command started with fresh pipes for its stdin, stdout and stderr (with
    ``merge_stderr`` its stderr is its stdout pipe, and the stderr pipe only ends);
    raises NotStarted (its pipes closed) when it cannot be executed. Other errors (no
    pipes left) are the runner's, not the program's, and propagate."""
    stdin_r, stdin_w = os.pipe()
    stdout_r, stdout_w = os.pipe()
    stderr_r, stderr_w = os.pipe()
    program_err = stdout_w if merge_stderr else stderr_w
    try:
        pid = spawn(argv, env, limits, (stdin_r, stdout_w, program_err), final, nproc)
    except OSError as exc:
        for fd in (stdin_r, stdin_w, stdout_r, stdout_w, stderr_r, stderr_w):
            os.close(fd)
        raise NotStarted(exc) from exc
    rss_floor = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    for fd in (stdin_r, stdout_w, stderr_w):
        os.close(fd)
    for fd in (stdin_w, stdout_r, stderr_r):
        os.set_blocking(fd, False)
    program_in: int | None = stdin_w
    if not has_input:
        os.close(stdin_w)
        program_in = None
    return Process(pid, program_in, stdout_r, stderr_r, rss_floor)
