"""The in-container runner: PID 1 of every sandbox container.

It is sent into the container as ``python3 -I -c <source>`` (``bundle.py`` makes the
one source from the modules of this package), so an image only needs a Python
interpreter, and it uses nothing but the standard library. For each ``run`` request:

1. **spawn** (``spawn.py``): the baseline files are restored and the command starts as
   a fresh process (posix_spawn) with its own rlimits;
2. **watch** (``watch.py``): the test's input is streamed to it and its output back as
   it comes, so the runner's own memory stays flat whatever the sizes; output, wall
   time and (through ``measure``) CPU and memory limits are enforced;
3. **measure** (``measure.py``): CPU time and memory held by the container's processes
   (``accounting.py``: cgroup v1 or v2 counters, or gVisor's) are sampled while it runs
   and read once more at its end;
4. **collect** (``collect.py``): every process is killed, the pipes are read to their
   end and the answer is made: exit status, CPU and wall time, peak memory, stderr;
5. **clean** (``cleanup.py``): every place a program can write (scratch directories at
   any depth, their own metadata, SysV IPC objects, POSIX message queues) is wiped and
   checked to be empty, or the next request is answered "dirty" (guarantee 2).

``serve.py`` holds the loop that answers requests; ``kernel.py`` and ``seccomp.py`` what
the runner does to protect itself. Why PID 1: inside a PID namespace the init process
cannot be sent SIGKILL/SIGSTOP by its own descendants (``kill(-1, 9)`` from a submission
leaves it alive), and its own ``kill(-1, 9)`` reaches every other process in one atomic
step. It refuses to start as anything else (e.g. under ``docker run --init``). It makes
itself non-dumpable so a same-uid submission cannot ptrace it or open its /proc files,
and installs a seccomp filter of its own, whatever profile the Docker daemon applies.

The protocol (the one place it is written down)
-----------------------------------------------
Transport: the runner reads fd 0 and writes fd 1, the container's stdin and stdout,
which the service reaches through one Docker attach connection (Docker adds its own
8-byte frame to every stdout/stderr chunk: ``codeexec/sandbox/protocol.py`` removes
it). Each message either way is ``uint32 big-endian length + JSON header`` followed by
the blobs that ``header["blobs"]`` lists the sizes of (headers are at most 1 MiB; the
service checks every size against a cap before it buffers anything).

- ``{"op": "ready", "version": 2, "pid": 1, "ok", "error", "cgroup": 1|2|null,
  "accounting": "cgroup v1"|"cgroup v2"|"gvisor"}``: sent once, first. ``ok`` false
  means the container must not judge (``error`` says why: not PID 1, counters
  unreadable, a needed call refused, the runner's descriptors exposed); the runner then
  stops.
- ``{"op": "put", "files": [{"name", "mode"}]}`` + one blob per file: the program's
  files, relative to /sandbox; they replace the baseline every run starts from.
  Answer ``{"op": "put", "ok": true}``.
- ``{"op": "reset"}``: between two submissions (a container serves several, see
  ``sandbox/pool.py``): the baseline emptied and the clean-up after a test done again
  and checked. Answer ``{"op": "reset", "ok": true}``, or ``ok: false`` with ``error``
  and ``dirty`` when it cannot be made clean (the container is then removed).
- ``{"op": "export"}``: answer ``{"op": "export", "ok": true, "files": [...]}`` + one blob
  per file: the baseline (what a compile step left), to start a fresh container from.
- ``{"op": "run", "argv", "env", "keep_files", "limits": {cpu_ms, wall_ms,
  output_bytes, stderr_bytes, file_bytes, open_files, stack_bytes, memory_bytes,
  processes}}`` + one blob, the input. The service sends the input while the runner
  sends the program's stdout as ``{"op": "out"}`` messages of at most ``CHUNK`` bytes
  (coalesced for ``COALESCE_S``), and at most ``output_bytes`` in all. Then the answer:
  ``{"op": "run", "ok": true, "exit_code", "signal", "cpu_ms", "wall_ms", "memory_kb",
  "oom_killed", "killed_for": null|"cpu"|"wall"|"output"|"memory"|"stopped", "stdout_overflow",
  "stdout_total", "stderr_total"}`` (with ``keep_files``: ``kept_bytes``, or
  ``kept_error`` when what the step left cannot be a program) + one blob, the stderr
  (at most ``stderr_bytes``). Time the program spent blocked on the service (input not
  yet sent, output not yet taken) is credited to its wall time, up to ``MAX_CREDIT``
  times the limit. Time the container stood still (frozen by the service: a paused
  job; ``watch.STALL_S`` or longer) is not counted at all.
- A streamed run (interactive problems: the input is what the other party of the
  conversation writes, as it writes it): the run header says ``"stdin": "stream"`` and
  announces no blob; the input follows as frames of ``uint32 size`` + data (at most
  ``MAX_FRAME``); size 0 closes the program's stdin; ``STOP_FRAME`` ends the run's input
  and, if the program still runs, the program (``killed_for`` "stopped"). The service
  always sends the stop frame, at the latest once it has the answer; the runner reads
  the frames up to it before the next request; once the program has ended it reads
  (and drops) them while it sends the rest of the output and the answer, so neither
  party of a conversation waits on the other's runner. Waiting for streamed input is
  credited like any wait on the service (the other party's time and the transport's);
  waiting for the other party to take the output is not (a flood is the program's).
- Failures: ``{"op", "ok": false, "error", "dirty"}``; a run refused because an earlier
  test could not be cleaned up also says ``"ran": false``. A dirty runner runs nothing
  again (the service removes the container). An unknown op gets ``"unknown op"``;
  a malformed header ends the runner (the stream is out of step).
"""
