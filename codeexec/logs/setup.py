"""Where the logs go and in which format: chosen once by the command that runs."""

from __future__ import annotations

import atexit
import logging
import queue
import sys
from logging.handlers import QueueHandler, QueueListener
from typing import TextIO

from aiohttp.http_exceptions import HttpProcessingError

from codeexec.config import LogFormat
from codeexec.logs.formatters import ConsoleFormatter, JsonFormatter

_REASON_CHARS = 120


class ParserErrors(logging.Filter):
    """aiohttp logs each request its HTTP parser refuses (400 before any route) as an
    error with a traceback that quotes the offending bytes: any client, without a
    token, turned an 8 KB header into a 40 KB ERROR line. Such a request is the
    caller's mistake or a probe: one INFO line with ``status`` and ``reason`` (cut
    short) as fields, where the console quotes what the caller sent."""

    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        if not isinstance(exc, HttpProcessingError):
            return True
        reason = next((line.strip() for line in exc.message.splitlines() if line.strip()), "")
        reason = reason.rstrip(":")[:_REASON_CHARS]
        remote = record.args[0] if isinstance(record.args, tuple) and record.args else None
        record.msg, record.args = "bad HTTP request from %s", (remote,)
        record.status, record.reason = exc.code, reason
        record.exc_info, record.exc_text = None, None
        level = min(record.levelno, logging.INFO)  # aiohttp logs some at debug already
        record.levelno, record.levelname = level, logging.getLevelName(level)
        return logging.getLogger(record.name).isEnabledFor(level)


PARSER_ERRORS = ParserErrors()


def wants_json(fmt: LogFormat, stream: TextIO) -> bool:
    """``auto``: JSON unless the stream is a terminal (a person reads it)."""
    if fmt == "auto":
        isatty = getattr(stream, "isatty", None)
        return not (isatty is not None and isatty())
    return fmt == "json"


# Lines waiting for the writer thread; beyond, lines are dropped and counted.
MAX_WAITING_LINES = 10_000


class _Dropping(QueueHandler):
    """Formats on the caller's thread (the context's ids are read there) and hands the
    line to the writer thread without waiting: a stalled reader of stderr (a full pipe,
    a blocking log driver) must not stop the event loop. When the queue is full the
    line is dropped, and the next line that gets through is preceded by a count."""

    def __init__(self, waiting: queue.Queue[logging.LogRecord]) -> None:
        super().__init__(waiting)
        self.dropped = 0

    def enqueue(self, record: logging.LogRecord) -> None:
        try:
            if self.dropped:
                note = logging.makeLogRecord(
                    {"name": __name__, "levelno": logging.WARNING, "levelname": "WARNING",
                     "msg": "log.dropped", "event": "log.dropped", "lines": self.dropped}
                )  # fmt: skip
                self.queue.put_nowait(self.prepare(note))
                self.dropped = 0
            self.queue.put_nowait(record)
        except queue.Full:
            self.dropped += 1


def writer(
    fmt: LogFormat, stream: TextIO, max_waiting: int = MAX_WAITING_LINES
) -> tuple[_Dropping, QueueListener]:
    """The handler to log to, and the listener (a thread, to be started) that writes
    what it formatted to ``stream``."""
    waiting: queue.Queue[logging.LogRecord] = queue.Queue(max_waiting)
    handler = _Dropping(waiting)
    handler.setFormatter(JsonFormatter() if wants_json(fmt, stream) else ConsoleFormatter())
    out = logging.StreamHandler(stream)
    out.setFormatter(logging.Formatter("%(message)s"))  # already formatted
    return handler, QueueListener(waiting, out)


def configure(level: str, fmt: LogFormat, stream: TextIO | None = None) -> None:
    """Send every logger's records to ``stream`` (stderr) in ``fmt``, written by a
    thread of their own. Like ``logging.basicConfig``, it leaves a root logger that
    already has handlers (a test runner's) alone."""
    logging.getLogger("aiohttp.server").addFilter(PARSER_ERRORS)
    if logging.getLogger().handlers:
        return
    handler, listener = writer(fmt, stream or sys.stderr)
    logging.basicConfig(level=level.upper(), handlers=[handler])
    listener.start()
    atexit.register(listener.stop)  # writes what is still waiting
