"""Step 2 of a run: watch the program until it ends or breaks a limit, streaming its
input from the service and its output back as they come."""

import contextlib
import fcntl
import os
import select
import signal
import sys
import time

from .channel import CHUNK, COALESCE_S, MAX_CREDIT, MAX_FRAME, STOP_FRAME, Channel
from .cleanup import DRAIN_S, collect_unix_garbage
from .measure import FIRST_SAMPLE_S, POLL_S, Meter
from .spawn import Process

OUT_HIGH_WATER = 1 << 20  # stop reading a program's stdout while this much is unsent
# The watch loop wakes at least every POLL_S. Coming back this much later than it asked
# means the whole container stood still: frozen by the service (a paused job; a frozen
# container's clock runs on) or the host stalled. That time is not the program's: it is
# not counted as wall time. A program cannot stall the runner this long itself: the CPU
# quota's throttling (the runner shares the container's cgroup) lasts at most one CFS
# period (100 ms), and CPU it burns is judged by the CPU limit anyway.
STALL_S = 0.25


def stalled(since: float, now: float, asked: float) -> float:
    """The time the runner stood still between ``since`` and ``now``, when it had asked
    to wake after ``asked`` seconds: 0 unless it came back ``STALL_S`` late or more."""
    late = now - since - asked
    return late if late >= STALL_S else 0.0


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


class Watch:
    """The streams of one run and what the watching found: output sent, stderr kept,
    the limit the program broke (``killed_for``), a reason the sandbox is dirty."""

    def __init__(
        self, channel: Channel, limits: dict[str, int], stdin_size: int, stream: bool = False
    ) -> None:
        self.channel = channel
        self.limits = limits
        # Input is one blob of ``stdin_size`` bytes, or (``stream``: interactive runs) a
        # sequence of frames the service sends while the program runs, ended by a stop
        # frame; ``stdin_left`` is what is still to come of the blob or current frame.
        self.stdin_left = stdin_size
        self.stream = stream
        self.stream_open = stream  # the stop frame has not come yet
        self.stdin_eof = False  # streaming: the service closed the program's input
        self.frame_head = bytearray()
        self.stdin_buf = memoryview(b"")
        self.out_total = 0
        self.out_sent = 0
        self.err = bytearray()
        self.err_total = 0
        self.killed_for: str | None = None
        self.dirty: str | None = None
        self.err_fd = -1
        self.readers: set[int] = set()  # the program's output pipes not yet at their end
        # Output is sent in messages of up to CHUNK, or after COALESCE_S: a program that
        # writes a byte at a time must not cost the service a message per byte.
        self.out_buf = bytearray()
        self.out_since = 0.0

    def watch(self, process: Process, meter: Meter, started: float) -> float:
        """Until the program ends or breaks a limit (``killed_for``); returns the wall
        time credited to it: time it waited for the service, not for itself, and time
        the container stood still (``stalled``: frozen)."""
        limits = self.limits
        stdout_r, self.err_fd = process.stdout, process.stderr
        self.readers = {stdout_r, process.stderr}
        exit_watch = ExitWatch(process.pid)
        wall_s = limits["wall_ms"] / 1000.0
        credit = 0.0
        frozen = 0.0
        last = started  # when the loop last woke
        period = FIRST_SAMPLE_S
        next_sample = started + period
        try:
            while True:
                rlist = [exit_watch.fd, *(fd for fd in self.readers if fd != stdout_r)]
                if stdout_r in self.readers and self._unsent() < OUT_HIGH_WATER:
                    rlist.append(stdout_r)
                if (self.stdin_left or self.stream_open) and not self.stdin_buf:
                    rlist.append(0)
                program_in = process.stdin
                wlist = [program_in] if program_in is not None and self.stdin_buf else []
                if self.channel.pending:
                    wlist.append(1)
                # The program blocked on the service — its input used up and the rest not
                # yet sent, or its output pipe full because the service has not taken what
                # was sent — is transport time, not charged to it. A program that merely
                # sleeps meanwhile is not blocked and earns nothing.
                # Streamed input comes from the other party of a conversation: waiting for
                # it is the other's time and the transport's (~1 ms a round trip), credited
                # alike (the service ends a conversation silent for the wall limit). Its
                # output not taken is a flood the other party does not read: not credited.
                waiting = (
                    program_in is not None
                    and (self.stdin_left > 0 or (self.stream_open and not self.stdin_eof))
                    and not self.stdin_buf
                    and pipe_unread(program_in) == 0
                ) or (
                    not self.stream
                    and stdout_r in self.readers
                    and self._unsent() >= OUT_HIGH_WATER
                    and pipe_unread(stdout_r) >= pipe_capacity(stdout_r)
                )
                wall_deadline = started + wall_s + min(credit, MAX_CREDIT * wall_s) + frozen
                before = time.monotonic()
                deadline = min(next_sample, wall_deadline)
                if self.out_buf:
                    deadline = min(deadline, self.out_since + COALESCE_S)
                timeout = max(0.0, deadline - before)
                ready_r, ready_w, _ = select.select(rlist, wlist, [], timeout)
                now = time.monotonic()
                stood = stalled(last, now, timeout)
                frozen += stood
                last = now
                if waiting:
                    credit += max(0.0, now - before - stood)
                if 0 in ready_r:
                    if self.stream and not self.stdin_left:
                        self._read_frame_head()
                    else:
                        chunk = self.channel.read_some(min(CHUNK, self.stdin_left))
                        self.stdin_left -= len(chunk)
                        self.stdin_buf = memoryview(chunk if program_in is not None else b"")
                if program_in is not None and (program_in in ready_w or not self.stdin_buf):
                    process.stdin = self._feed(program_in)
                if 1 in ready_w:
                    self.channel.flush_some()
                for fd in (stdout_r, process.stderr):
                    if fd in ready_r and not self._drain(fd):
                        os.close(fd)
                        self.readers.discard(fd)
                if self.out_buf and now - self.out_since >= COALESCE_S:
                    self.ship()
                if exit_watch.fd in ready_r and exit_watch.ended():
                    return credit + frozen
                if self.stream and not self.stream_open:
                    self.killed_for = "stopped"  # the service ended the interaction
                elif self.out_total > limits["output_bytes"]:
                    self.killed_for = "output"
                elif now >= started + wall_s + min(credit, MAX_CREDIT * wall_s) + frozen:
                    self.killed_for = "wall"
                elif now >= next_sample:
                    period = min(POLL_S, period * 2)
                    next_sample = now + period
                    self.killed_for = meter.sample(process.pid, limits)
                if self.killed_for is not None:
                    return credit + frozen
        finally:
            exit_watch.close()

    def drain_to_end(self) -> None:
        """Read what is left in the program's pipes once every process is dead.

        A descriptor in flight on a unix socket (SCM_RIGHTS) outlives its processes
        until the kernel's garbage collector frees it, so a write end may stay open:
        the collector is started, and a pipe still open after DRAIN_S marks the sandbox
        dirty instead of holding the runner."""
        collect_unix_garbage()
        deadline = time.monotonic() + DRAIN_S
        readers = self.readers
        while readers:
            ready, _, _ = select.select(list(readers), [], [], 0.05)
            for fd in ready:
                if not self._drain(fd):
                    os.close(fd)
                    readers.discard(fd)
            if not ready:
                if time.monotonic() > deadline:
                    self.dirty = "a pipe of the program stayed open after it ended"
                    break
                collect_unix_garbage()
        for fd in readers:
            os.close(fd)
        readers.clear()

    def _read_frame_head(self) -> None:
        """Read (part of) the next input frame's ``uint32`` length: ``STOP_FRAME`` ends
        the run's input and the program, 0 closes the program's stdin."""
        self.frame_head += self.channel.read_some(4 - len(self.frame_head))
        if len(self.frame_head) < 4:
            return
        size = int.from_bytes(self.frame_head, "big")
        self.frame_head.clear()
        if size == STOP_FRAME:
            self.stream_open = False
        elif size == 0:
            self.stdin_eof = True
        elif size > MAX_FRAME:
            raise ValueError(f"input frame of {size} bytes")  # out of step: stop
        else:
            self.stdin_left = size

    def skip_stream(self) -> None:
        """After the answer: read the rest of a streamed input up to its stop frame, so
        the next request is read in step (the service sends it once it has the answer)."""
        while self.stream_open:
            select.select([0], [], [])
            self._skip_some()

    def flush(self) -> None:
        """Send what is queued once the program has ended. A streamed input is read
        (and dropped) meanwhile: the other party of the conversation may be blocked on
        writing it, and the service on passing it, before this runner's output and
        answer are taken."""
        while self.channel.pending:
            ready_r, ready_w, _ = select.select([0] if self.stream_open else [], [1], [])
            if ready_w:
                self.channel.flush_some()
            if ready_r:
                self._skip_some()

    def _skip_some(self) -> None:
        """Read and drop what is there of the streamed input (frame by frame)."""
        if self.stdin_left:
            self.stdin_left -= len(self.channel.read_some(min(CHUNK, self.stdin_left)))
        else:
            self._read_frame_head()

    def _input_done(self) -> bool:
        if self.stream:
            return self.stdin_eof or not self.stream_open
        return not self.stdin_left

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
        if not self.stdin_buf and not self.stdin_left and self._input_done():
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
            # A conversation cannot wait: the other party may be waiting for this.
            if len(self.out_buf) >= CHUNK or self.stream:
                self.ship()
        return True

    def ship(self) -> None:
        """Queue the buffered output as messages of at most CHUNK bytes."""
        data = bytes(self.out_buf)
        self.out_buf.clear()
        for start in range(0, len(data), CHUNK):
            self.channel.queue({"op": "out"}, data[start : start + CHUNK])

    def _unsent(self) -> int:
        return self.channel.pending_bytes + len(self.out_buf)
