"""What a log line belongs to: the request being handled and the submission being
judged, carried by context variables so any code on that path logs them without
being handed them."""

from __future__ import annotations

import logging
import re
import uuid
from contextvars import Context, ContextVar, copy_context

REQUEST_ID: ContextVar[str | None] = ContextVar("request_id", default=None)
SUBMISSION_ID: ContextVar[str | None] = ContextVar("submission_id", default=None)

MAX_REQUEST_ID = 128
# A caller's id is echoed in a header and written in every line: only short, plain ones.
_SAFE_ID = re.compile(rf"[A-Za-z0-9._:-]{{1,{MAX_REQUEST_ID}}}")


def valid_request_id(value: str) -> bool:
    return _SAFE_ID.fullmatch(value) is not None


def new_request_id() -> str:
    return uuid.uuid4().hex


def request_id_from(header: str | None) -> str:
    """The caller's ``X-Request-Id`` if it is short and safe, else a fresh one."""
    if header is not None and valid_request_id(header):
        return header
    return new_request_id()


def context_ids() -> dict[str, str]:
    """The request and the submission being handled here, those that are known."""
    ids = {"request_id": REQUEST_ID.get(), "submission_id": SUBMISSION_ID.get()}
    return {key: value for key, value in ids.items() if value is not None}


def detached() -> Context:
    """A context for a task that outlives the request or job that starts it (a
    language build, a warm sandbox): the current one without their ids, so its lines
    do not claim to belong to whoever happened to start it."""
    context = copy_context()
    context.run(REQUEST_ID.set, None)
    context.run(SUBMISSION_ID.set, None)
    return context


def event(logger: logging.Logger, name: str, level: int = logging.INFO, **fields: object) -> None:
    """Log the event ``name`` (its message and its ``event`` field) with ``fields`` and
    the ids of ``context_ids()`` (a field given wins), all on the record itself, where
    any handler finds them. A field may not be named as a ``LogRecord`` attribute
    (``name``, ``msg``, ...)."""
    if logger.isEnabledFor(level):
        extra = {"event": name, **context_ids(), **fields}
        logger.log(level, name, extra=extra, stacklevel=2)
