"""Where the logs go and in which format: chosen once by the command that runs."""

from __future__ import annotations

import logging
import sys
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


def configure(level: str, fmt: LogFormat, stream: TextIO | None = None) -> None:
    """Send every logger's records to ``stream`` (stderr) in ``fmt``. Like
    ``logging.basicConfig``, it leaves a root logger that already has handlers (a
    test runner's) alone."""
    out = stream or sys.stderr
    handler = logging.StreamHandler(out)
    handler.setFormatter(JsonFormatter() if wants_json(fmt, out) else ConsoleFormatter())
    logging.basicConfig(level=level.upper(), handlers=[handler])
    logging.getLogger("aiohttp.server").addFilter(PARSER_ERRORS)
