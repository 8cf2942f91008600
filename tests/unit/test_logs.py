"""The log formats: JSON lines that parse, readable console lines, values that cannot
forge or split a line, and which request ids a caller may choose."""

from __future__ import annotations

import io
import json
import logging
import sys
import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from codeexec.logs import (
    REQUEST_ID,
    SUBMISSION_ID,
    ConsoleFormatter,
    JsonFormatter,
    escape,
    request_id_from,
    valid_request_id,
)
from codeexec.logs.setup import wants_json, writer
from codeexec.store.engine import create_engine

HOSTILE = "evil\r\n2025-01-01 INFO codeexec: forged\x1b[2J\x00\u2028\x85\u202e end"


def record(
    message: str = "hello %s", *args: object, exc: bool = False, **fields: object
) -> logging.LogRecord:
    exc_info = None
    if exc:
        try:
            raise ValueError("bad\r\nvalue")
        except ValueError:
            exc_info = sys.exc_info()
    made = logging.LogRecord("codeexec.test", logging.WARNING, __file__, 1, message, args, exc_info)
    made.__dict__.update(fields)
    return made


def test_json_line_has_the_fields_and_parses() -> None:
    line = JsonFormatter().format(record("job %s", "x", event="submission.finished", passed=3))
    parsed = json.loads(line)
    assert parsed["level"] == "warning"
    assert parsed["logger"] == "codeexec.test"
    assert parsed["message"] == "job x"
    assert parsed["event"] == "submission.finished" and parsed["passed"] == 3
    assert parsed["time"].endswith("+00:00")
    assert "request_id" not in parsed and "submission_id" not in parsed


def test_json_line_carries_the_context_ids() -> None:
    request_token = REQUEST_ID.set("abc-123")
    submission_token = SUBMISSION_ID.set("s1")
    try:
        parsed = json.loads(JsonFormatter().format(record()))
        # A field the record names itself wins over the context's.
        named = json.loads(JsonFormatter().format(record(submission_id="s2")))
    finally:
        SUBMISSION_ID.reset(submission_token)
        REQUEST_ID.reset(request_token)
    assert parsed["request_id"] == "abc-123" and parsed["submission_id"] == "s1"
    assert named["submission_id"] == "s2"


def test_json_line_escapes_control_characters_in_every_value() -> None:
    line = JsonFormatter().format(record("url %s", HOSTILE, exc=True, header=HOSTILE))
    assert line.isascii() and line.isprintable()  # no CR, LF, ESC, NUL, U+2028 ...
    assert "\n" not in line and "\r" not in line
    parsed = json.loads(line)
    assert parsed["message"] == "url " + HOSTILE  # the value itself, intact once parsed
    assert parsed["header"] == HOSTILE
    assert "ValueError: bad\r\nvalue" in parsed["exc"]


def test_json_line_base_fields_cannot_be_overridden() -> None:
    parsed = json.loads(JsonFormatter().format(record(level="forged", time="forged")))
    assert parsed["level"] == "warning" and parsed["time"] != "forged"


def test_console_line_is_readable() -> None:
    token = REQUEST_ID.set("abc-123")
    try:
        line = ConsoleFormatter().format(
            record("request", event="request", status=404, route=None, note="two words")
        )
    finally:
        REQUEST_ID.reset(token)
    assert " WARNING codeexec.test: request " in line
    assert "request_id=abc-123" in line and "status=404" in line and "route=null" in line
    assert 'note="two words"' in line
    assert "event=" not in line  # the message already names the event


def test_console_line_escapes_control_characters() -> None:
    line = ConsoleFormatter().format(record("url %s", HOSTILE, header=HOSTILE))
    assert "\n" not in line and "\r" not in line and "\x1b" not in line and "\x00" not in line
    assert "\u2028" not in line and "\x85" not in line and "\u202e" not in line
    assert "evil\\r\\n2025" in line and "\\x1b[2J\\x00\\u2028\\x85\\u202e end" in line


def test_console_traceback_lines_are_indented_and_escaped() -> None:
    line = ConsoleFormatter().format(record("failed", exc=True))
    first, *rest = line.split("\n")
    assert first.endswith("codeexec.test: failed")
    assert rest and all(part.startswith("    ") for part in rest)
    assert any("ValueError: bad\\r" in part for part in rest)


def test_console_quotes_values_that_would_be_ambiguous() -> None:
    line = ConsoleFormatter().format(record("x", a='say "hi"', b="k=v", c="", d="back\\slash"))
    assert 'a="say \\"hi\\""' in line and 'b="k=v"' in line and 'c=""' in line
    assert 'd="back\\\\slash"' in line


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("plain text", "plain text"),
        ("a\r\nb", "a\\r\\nb"),
        ("\x1b[31mred", "\\x1b[31mred"),
        ("nul\x00", "nul\\x00"),
        ("tab\there", "tab\\there"),
        ("\x7f\x9b", "\\x7f\\x9b"),
        ("line\u2028sep", "line\\u2028sep"),
        ("café ünïcode", "café ünïcode"),
    ],
)
def test_escape(text: str, shown: str) -> None:
    assert escape(text) == shown


@pytest.mark.parametrize("good", ["abc-123", "a", "A.b_c:d-9", "x" * 128])
def test_safe_request_ids_are_honoured(good: str) -> None:
    assert valid_request_id(good)
    assert request_id_from(good) == good


@pytest.mark.parametrize(
    "bad", ["", "x" * 129, "a b", "a\r\nb", "a\x1b[2J", "é", "a/b", "a;b", "a\x00"]
)
def test_unsafe_request_ids_are_replaced(bad: str) -> None:
    assert not valid_request_id(bad)
    fresh = request_id_from(bad)
    assert fresh != bad and valid_request_id(fresh) and len(fresh) == 32


def test_missing_request_id_is_generated_fresh_each_time() -> None:
    assert request_id_from(None) != request_id_from(None)


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_auto_format_is_json_unless_a_terminal() -> None:
    assert wants_json("auto", io.StringIO())
    assert not wants_json("auto", _Terminal())
    assert wants_json("json", _Terminal())
    assert not wants_json("console", io.StringIO())


async def test_a_database_error_never_carries_the_values_it_was_writing(tmp_path: Path) -> None:
    """SQLAlchemy puts a failed statement's parameters in its exception's message,
    which a traceback logs whole (a busy database, a lost connection mid-insert): a
    submission's source, test data, a key's webhook secret. The engine hides them."""
    engine = create_engine(f"sqlite:///{tmp_path / 'db.sqlite3'}")
    try:
        async with engine.begin() as conn:
            await conn.execute(text("CREATE TABLE t (id TEXT PRIMARY KEY, v TEXT)"))
            await conn.execute(text("INSERT INTO t VALUES ('a', 'x')"))
        with pytest.raises(IntegrityError) as caught:
            async with engine.begin() as conn:
                secret = {"id": "a", "v": "webhook-secret-0123456789"}
                await conn.execute(text("INSERT INTO t VALUES (:id, :v)"), secret)
    finally:
        await engine.dispose()
    assert "UNIQUE constraint failed" in str(caught.value)
    assert "webhook-secret" not in str(caught.value)


class _Stalled(io.StringIO):
    """A stderr nobody reads for now (a full pipe): every write waits until opened."""

    def __init__(self) -> None:
        super().__init__()
        self.open = threading.Event()

    def write(self, text: str) -> int:
        self.open.wait(10)
        return super().write(text)


def test_a_stalled_log_reader_blocks_no_caller_and_drops_are_counted() -> None:
    stream = _Stalled()
    handler, listener = writer("json", stream, max_waiting=5)
    logger = logging.getLogger("codeexec.test.stalled")
    logger.propagate, logger.level = False, logging.INFO
    logger.addHandler(handler)
    listener.start()
    try:
        token = REQUEST_ID.set("r-1")
        started = time.monotonic()
        for n in range(200):
            logger.info("line %d", n)
        assert time.monotonic() - started < 1.0  # the writer waits; callers do not
        stream.open.set()
        while not handler.queue.empty():  # type: ignore[attr-defined]
            time.sleep(0.01)
        logger.info("after")  # the first line let through again carries the count
        REQUEST_ID.reset(token)
    finally:
        listener.stop()
        logger.removeHandler(handler)
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    notes = [line for line in lines if line.get("event") == "log.dropped"]
    kept = [line for line in lines if line["message"].startswith("line ")]
    assert sum(note["lines"] for note in notes) == 200 - len(kept) > 0
    assert all(note["level"] == "warning" for note in notes)
    assert lines[-1]["message"] == "after" and lines[-1]["request_id"] == "r-1"
    assert all(line["request_id"] == "r-1" for line in kept)  # read on the caller's side
