"""Where the logs go and in which format: chosen once by the command that runs."""

from __future__ import annotations

import logging
import sys
from typing import TextIO

from codeexec.config import LogFormat
from codeexec.logs.formatters import ConsoleFormatter, JsonFormatter


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
