"""The service's side of a run, against a scripted runner on a socket pair: input and
output stream both ways at once, output beyond the limit or a runner that could not
clean up ends the sandbox (the judge then says IE and goes on in a fresh one)."""

from __future__ import annotations

import asyncio
import json
import socket
import struct
from collections.abc import Awaitable, Callable
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from codeexec.model import RunLimits
from codeexec.sandbox.api import Pipe, SandboxDirty, SandboxError
from codeexec.sandbox.languages import load_language
from codeexec.sandbox.protocol import RunnerStream
from codeexec.sandbox.sandbox import Sandbox

LIMITS = RunLimits(
    cpu_ms=1000,
    wall_ms=2000,
    memory_mb=64,
    output_bytes=8 << 20,
    stderr_bytes=4096,
    file_bytes=1 << 20,
)
LANGUAGES = Path(__file__).resolve().parents[2] / "codeexec/languages"
Script = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


def message(header: dict[str, Any], *blobs: bytes) -> bytes:
    """A runner message as Docker's attach stream carries it (stdout frames)."""
    data = json.dumps({**header, "blobs": [len(b) for b in blobs]}).encode()
    payload = struct.pack(">I", len(data)) + data + b"".join(blobs)
    return struct.pack(">BxxxI", 1, len(payload)) + payload


async def read_request(reader: asyncio.StreamReader) -> tuple[dict[str, Any], int]:
    (size,) = struct.unpack(">I", await reader.readexactly(4))
    header = json.loads(await reader.readexactly(size))
    return header, sum(header["blobs"])


async def with_runner(script: Script) -> Sandbox:
    host, container = socket.socketpair()
    reader, writer = await asyncio.open_connection(sock=host)
    runner_reader, runner_writer = await asyncio.open_connection(sock=container)
    task = asyncio.create_task(script(runner_reader, runner_writer))
    language = load_language(LANGUAGES / "python")
    box = Sandbox("c0ffee", RunnerStream(reader, writer), language, SimpleNamespace(gateway=None),  # type: ignore[arg-type]
                  memory_mb=64, processes=8)  # fmt: skip
    box._script = task  # type: ignore[attr-defined]  # kept alive with the box
    return box


def result(**fields: Any) -> dict[str, Any]:
    base = {"op": "run", "ok": True, "exit_code": 0, "signal": None, "cpu_ms": 1}
    base |= {"wall_ms": 1, "memory_kb": 100, "oom_killed": False, "killed_for": None}
    return base | fields


async def test_input_and_output_stream_at_the_same_time() -> None:
    """4 MB in and 4 MB out through a runner that echoes as it reads: neither side
    waits for the other to finish (no deadlock, nothing held whole by the runner)."""

    async def echo(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        _, left = await read_request(reader)
        while left:
            chunk = await reader.read(min(left, 1 << 16))
            left -= len(chunk)
            writer.write(message({"op": "out"}, chunk))
            await writer.drain()
        writer.write(message(result(), b"err"))
        await writer.drain()

    box = await with_runner(echo)
    data = bytes(range(256)) * (4 << 12)
    got = bytearray()
    outcome = await box.run(("x",), data, LIMITS, stdout_to=got.extend)
    assert bytes(got) == data and outcome.stdout == b"" and outcome.stderr == b"err"
    assert box.alive


async def test_output_is_kept_when_no_sink_is_given() -> None:
    async def two_chunks(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        writer.write(message({"op": "out"}, b"hello ") + message({"op": "out"}, b"world"))
        writer.write(message(result(exit_code=3), b""))
        await writer.drain()

    box = await with_runner(two_chunks)
    outcome = await box.run(("x",), b"", LIMITS)
    assert outcome.stdout == b"hello world" and outcome.exit_code == 3


async def test_a_runner_that_could_not_clean_up_ends_the_sandbox() -> None:
    async def dirty(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        reply = {"op": "run", "ok": False, "error": "Dirty: processes survived"}
        writer.write(message(reply | {"dirty": "processes survived"}))
        await writer.drain()

    box = await with_runner(dirty)
    with pytest.raises(SandboxError, match="processes survived"):
        await box.run(("x",), b"", LIMITS)
    assert not box.alive  # the judge runs the remaining tests in a fresh container


async def test_a_runner_that_refuses_to_run_in_a_dirty_sandbox_says_so() -> None:
    """The command did not run: the judge runs that test in a fresh container instead of
    calling it IE (what an earlier test left is not the next one's doing)."""

    async def refuses(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        reply = {"op": "run", "ok": False, "error": "Dirty: a pipe stayed open", "ran": False}
        writer.write(message(reply | {"dirty": "a pipe stayed open"}))
        await writer.drain()

    box = await with_runner(refuses)
    with pytest.raises(SandboxDirty, match="a pipe stayed open"):
        await box.run(("x",), b"", LIMITS)
    assert not box.alive


async def test_more_output_than_the_limit_is_a_protocol_error() -> None:
    async def flood(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        for _ in range(200):
            writer.write(message({"op": "out"}, b"x" * (1 << 16)))
        await writer.drain()

    box = await with_runner(flood)
    with pytest.raises(SandboxError):
        await box.run(("x",), b"", LIMITS)
    assert not box.alive


async def test_a_silent_runner_times_out() -> None:
    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        await asyncio.sleep(3600)

    box = await with_runner(silent)
    fast = RunLimits(cpu_ms=10, wall_ms=10, memory_mb=64, output_bytes=10, stderr_bytes=10,
                     file_bytes=10)  # fmt: skip
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("codeexec.sandbox.sandbox._REPLY_GRACE_S", 0.2)
        with pytest.raises(SandboxError, match="did not answer"):
            await box.run(("x",), b"", fast)
    assert not box.alive


async def test_a_piped_input_is_sent_as_frames_ended_by_the_stop_frame() -> None:
    """An interactive run's input: each write a frame, 0 when the pipe closes, and the
    stop frame once the run has answered, so the runner reads the next request in step."""
    frames: list[int | bytes] = []

    async def framed(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        header, blobs = await read_request(reader)
        assert header["stdin"] == "stream" and blobs == 0
        while True:
            (size,) = struct.unpack(">I", await reader.readexactly(4))
            if size in (0, 0xFFFFFFFF):
                frames.append(size)
                if size == 0:  # the program's stdin is closed: it answers
                    writer.write(message({"op": "out"}, b"bye") + message(result(), b""))
                    await writer.drain()
                    continue
                return
            frames.append(await reader.readexactly(size))

    box = await with_runner(framed)
    pipe = Pipe()
    said = bytearray()
    running = asyncio.create_task(box.run(("x",), pipe, LIMITS, stdout_to=said.extend))
    await pipe.write(b"5\n")
    await pipe.write(b"x" * 70_000)  # more than one frame
    pipe.close()
    outcome = await running
    await asyncio.wait_for(box._script, 1)  # type: ignore[attr-defined]  # read to its end
    assert said == b"bye" and outcome.exit_code == 0 and box.alive
    assert frames == [b"5\n", b"x" * 65536, b"x" * 4464, 0, 0xFFFFFFFF]


async def test_a_pipe_holds_its_writer_back_and_drops_writes_once_its_reader_has_gone() -> None:
    pipe = Pipe(limit=10)
    writing = asyncio.create_task(pipe.write(b"x" * 20))
    await asyncio.sleep(0)
    assert not writing.done()  # over the limit: held until the reader takes it
    assert await pipe.read() == b"x" * 20
    await asyncio.wait_for(writing, 1)
    pipe.close()
    await pipe.write(b"late")  # dropped
    assert await pipe.read() == b""
    pipe.stop()
    assert await pipe.read() is None


async def test_a_streamed_run_that_fails_stops_its_pipe() -> None:
    """Nobody reads a failed run's input any more: the other party of the conversation,
    held back writing to it, goes on instead of waiting for its own time-out."""

    async def vanishes(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        writer.close()

    box = await with_runner(vanishes)
    pipe = Pipe(limit=10)
    writing = asyncio.create_task(pipe.write(b"x" * 20))  # held back: over the limit
    with pytest.raises(SandboxError):
        await box.run(("x",), pipe, LIMITS, stdout_to=lambda _: None)
    assert pipe.stopped and not box.alive
    await asyncio.wait_for(writing, 1)


@pytest.mark.parametrize(("held_s", "answers"), [(0.3, True), (3600, False)])
async def test_time_the_sink_holds_output_back_is_not_the_runners(
    held_s: float, answers: bool
) -> None:
    """A conversation's other party that does not read yet holds this run's output back
    (the runner cannot answer meanwhile): that time does not count against the runner,
    up to the run's own bound once more."""

    async def says_then_answers(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        writer.write(message({"op": "out"}, b"query") + message(result(), b""))
        await writer.drain()
        while await reader.read(1 << 16):  # the frames, up to the stop frame
            pass

    async def slow_reader(_: bytes) -> None:
        await asyncio.sleep(held_s)

    box = await with_runner(says_then_answers)
    fast = RunLimits(cpu_ms=10, wall_ms=10, memory_mb=64, output_bytes=10, stderr_bytes=10,
                     file_bytes=10)  # fmt: skip
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("codeexec.sandbox.sandbox._REPLY_GRACE_S", 0.2)  # within: 0.24 s
        running = box.run(("x",), Pipe(), fast, stdout_to=slow_reader)
        if answers:
            assert (await running).exit_code == 0 and box.alive
        else:
            with pytest.raises(SandboxError, match="did not answer"):
                await asyncio.wait_for(running, 5)
            assert not box.alive


async def test_a_sandbox_out_of_step_is_not_used_again() -> None:
    """A run that timed out leaves its answer still to come: a later request (e.g. the
    next test's interactor or checker in the same session) must not read it as its own
    reply, nor send the next test's data to a runner still busy with the last one."""
    late = asyncio.Event()

    async def late_answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        await late.wait()
        writer.write(message(result(), b""))  # the timed-out run's answer, late
        await writer.drain()
        await read_request(reader)
        writer.write(message({"op": "put", "ok": True}))
        await writer.drain()

    box = await with_runner(late_answer)
    fast = RunLimits(cpu_ms=10, wall_ms=10, memory_mb=64, output_bytes=10, stderr_bytes=10,
                     file_bytes=10)  # fmt: skip
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("codeexec.sandbox.sandbox._REPLY_GRACE_S", 0.2)
        with pytest.raises(SandboxError, match="did not answer"):
            await box.run(("x",), b"", fast)
    assert not box.alive
    late.set()
    with pytest.raises(SandboxError, match="not used again"):
        await box.put_files(())
    with pytest.raises(SandboxError, match="not used again"):
        await box.run(("x",), b"", fast)
