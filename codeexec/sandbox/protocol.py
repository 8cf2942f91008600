"""Host side of the runner protocol, over a Docker attach stream.

The protocol itself (messages, fields, who sends what when) is written down in one
place: the docstring of ``codeexec/sandbox/runner/__init__.py``. Here: Docker
multiplexes a non-TTY container's stdout and stderr on the attach socket in frames of
``[stream, 0, 0, 0, size:uint32be] + payload``; the runner's messages ride in the stdout
frames. Every size read from the sandbox is checked against a cap before anything is
buffered, so the service's memory stays bounded whatever the sandbox sends.
"""

from __future__ import annotations

import asyncio
import json
import logging
import struct
from typing import Any

from codeexec.sandbox.api import Blob, Pipe

log = logging.getLogger(__name__)

_DOCKER_FRAME = struct.Struct(">BxxxI")
_HEADER = struct.Struct(">I")
MAX_HEADER_BYTES = 1 << 20
_COPY_CHUNK = 256 * 1024
_FRAME_MAX, _STOP_FRAME = 1 << 16, 0xFFFFFFFF  # the runner's MAX_FRAME and STOP_FRAME


def blob_size(blob: Blob) -> int:
    if isinstance(blob, bytes):
        return len(blob)
    return blob.seek(0, 2)


STDOUT, STDERR = 1, 2


class ProtocolError(Exception):
    """The sandbox said something the protocol does not allow, or went away."""


class RunnerStream:
    """Framed messages to and from the runner over one attach connection."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._reader = reader
        self._writer = writer
        self._pending = memoryview(b"")  # stdout bytes received but not yet consumed
        self._diagnostics = bytearray()

    async def send(self, header: dict[str, Any], *blobs: Blob) -> None:
        self.send_header(header, *blobs)
        for blob in blobs:
            await self.send_body(blob)
        await self._writer.drain()

    def send_header(self, header: dict[str, Any], *blobs: Blob, inline: bool = False) -> None:
        """The header announcing ``blobs``, which must follow with ``send_body`` — or,
        ``inline``, are sent with it (bytes only): one write, which the engine's attach
        proxy forwards as one chunk instead of two."""
        data = json.dumps({**header, "blobs": [blob_size(b) for b in blobs]}).encode()
        message = _HEADER.pack(len(data)) + data
        if inline:
            message += b"".join(b for b in blobs if isinstance(b, bytes))
        self._writer.write(message)

    async def send_body(self, blob: Blob) -> None:
        if isinstance(blob, bytes):
            self._writer.write(blob)
        else:
            blob.seek(0)
            while chunk := blob.read(_COPY_CHUNK):
                self._writer.write(chunk)
                await self._writer.drain()
        await self._writer.drain()

    async def drain(self) -> None:
        await self._writer.drain()

    async def send_frames(self, pipe: Pipe) -> None:
        """A streamed input: each chunk as a frame of ``uint32 size`` + data, size 0
        when the pipe is closed, and the stop frame (the end of this run's input) once
        it is stopped."""
        while (data := await pipe.read()) is not None:
            if not data:  # closed: the reader's stdin ends; only the stop frame follows
                self._writer.write(_HEADER.pack(0))
                await self._writer.drain()
                await pipe.wait_stopped()
                break
            for start in range(0, len(data), _FRAME_MAX):
                part = data[start : start + _FRAME_MAX]
                self._writer.write(_HEADER.pack(len(part)) + part)
            await self._writer.drain()
        self._writer.write(_HEADER.pack(_STOP_FRAME))
        await self._writer.drain()

    async def receive(self, max_blob_bytes: int) -> tuple[dict[str, Any], list[bytes]]:
        """A message and its blobs, each at most ``max_blob_bytes``."""
        (size,) = _HEADER.unpack(await self._read_stdout(_HEADER.size))
        if size > MAX_HEADER_BYTES:
            raise ProtocolError(f"runner header of {size} bytes")
        header = json.loads(await self._read_stdout(size))
        if not isinstance(header, dict):
            raise ProtocolError("runner header is not an object")
        sizes = header.get("blobs", [])
        if not isinstance(sizes, list) or any(
            not isinstance(n, int) or n < 0 or n > max_blob_bytes for n in sizes
        ):
            raise ProtocolError(f"runner blob sizes out of bounds: {sizes!r:.200}")
        return header, [await self._read_stdout(n) for n in sizes]

    async def _read_stdout(self, n: int) -> bytes:
        """Exactly n bytes of the runner's stdout, copied once (outputs can be large)."""
        parts: list[memoryview] = []
        while n:
            if not self._pending:
                self._pending = memoryview(await self._next_stdout_frame())
            part, self._pending = self._pending[:n], self._pending[n:]
            parts.append(part)
            n -= len(part)
        return b"".join(parts)

    async def _next_stdout_frame(self) -> bytes:
        while True:
            try:
                stream, size = _DOCKER_FRAME.unpack(await self._reader.readexactly(8))
                payload = await self._reader.readexactly(size)
            except asyncio.IncompleteReadError as exc:
                raise ProtocolError("sandbox closed the stream") from exc
            if stream == STDOUT:
                return payload
            # The runner's own diagnostics on stderr: log them, bounded.
            self._diagnostics += payload[: 4096 - len(self._diagnostics)]
            if b"\n" in payload:
                log.warning("sandbox runner: %s", self._diagnostics.decode(errors="replace"))
                self._diagnostics.clear()

    def close(self) -> None:
        self._writer.close()
