"""The channel to the service: fd 0 in, fd 1 out, never blocking the run loop (the
message format is in this package's docstring)."""

import collections
import itertools
import json
import os
import select
import struct
from typing import Any

PROTOCOL_VERSION = 2
HEADER = struct.Struct(">I")
MAX_HEADER = 1 << 20
CHUNK = 1 << 16  # the largest piece of output in one message, and of input read at once
COALESCE_S = 0.01  # output waits at most this long to be sent with more
MAX_CREDIT = 3  # wall time waited on the service is credited up to 3 times the limit
# Streamed input (interactive runs): frames of ``uint32 size`` + data; size 0 closes the
# program's stdin, STOP_FRAME ends the run's input (and the program, if still running).
MAX_FRAME = 1 << 20
STOP_FRAME = 0xFFFFFFFF
IOV_MAX = 1024  # parts in one writev (Linux's UIO_MAXIOV)


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
        # Everything queued in one write: each write is a chunk the engine's attach
        # proxy wakes up for and frames (a test's output, answer and stderr were three).
        while self.pending:
            parts = list(itertools.islice(self.pending, IOV_MAX))
            try:
                n = os.writev(1, parts)
            except BlockingIOError:
                return
            self.pending_bytes -= n
            while n and n >= len(self.pending[0]):
                n -= len(self.pending.popleft())
            if n:
                self.pending[0] = self.pending[0][n:]
                return
            if len(parts) < IOV_MAX:
                return

    def flush(self) -> None:
        while self.pending:
            select.select([], [1], [])
            self.flush_some()

    def send(self, header: dict[str, Any], *blobs: bytes) -> None:
        self.queue(header, *blobs)
        self.flush()
