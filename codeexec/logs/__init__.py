"""Structured logs: one JSON object per line for a pipeline, readable lines on a
terminal, and the request and submission a line belongs to (docs/deploy.md, "Logs").

Call sites keep the standard library's ``logging.getLogger(__name__)``; ``event()``
adds a named event with fields, ``configure()`` (once, in ``codeexec serve`` and the
other commands) chooses the format. Values are escaped where they are written, so no
caller can forge or split a log line.
"""

from codeexec.logs.context import (
    REQUEST_ID,
    SUBMISSION_ID,
    detached,
    event,
    new_request_id,
    request_id_from,
    valid_request_id,
)
from codeexec.logs.formatters import ConsoleFormatter, JsonFormatter, escape
from codeexec.logs.setup import configure

__all__ = [
    "REQUEST_ID",
    "SUBMISSION_ID",
    "ConsoleFormatter",
    "JsonFormatter",
    "configure",
    "detached",
    "escape",
    "event",
    "new_request_id",
    "request_id_from",
    "valid_request_id",
]
