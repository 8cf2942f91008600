"""The two formats: JSON lines (``JsonFormatter``) and readable lines with
``key=value`` fields (``ConsoleFormatter``). Both escape control characters, so a
value a caller chose (a URL, a header, an exception's message) cannot end a line,
start a forged one, or drive a terminal."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from typing import Any

from codeexec.logs.context import context_ids

# What every record has; anything else on a record came from ``extra=`` and is a field.
_STANDARD = frozenset(logging.LogRecord("", 0, "", 0, "", (), None).__dict__) | {
    "message",
    "asctime",
    "taskName",
}
_SHORT = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def escape(text: str) -> str:
    """``text`` with every character that is not printable (C0 and C1 controls, DEL,
    line and paragraph separators, bidirectional and other format characters, lone
    surrogates) written as a Python escape; the space is kept."""
    if text.isprintable():
        return text
    return "".join(
        c if c.isprintable() or c == " " else _SHORT.get(c) or ascii(c)[1:-1] for c in text
    )


def fields_of(record: logging.LogRecord) -> dict[str, Any]:
    """The request and submission the record belongs to (for a plain ``log.info``
    line, those of the context it is written in), then its own fields (which win: a
    webhook names the submission it delivers)."""
    fields: dict[str, Any] = context_ids()
    fields.update(
        (key, value)
        for key, value in record.__dict__.items()
        if key not in _STANDARD and not key.startswith("_")
    )
    return fields


class JsonFormatter(logging.Formatter):
    """One JSON object per line: ``time`` (UTC), ``level``, ``logger``, ``message``, then
    ``event``, ``request_id``, ``submission_id`` and the event's fields when there are,
    and ``exc`` with a traceback. ASCII only: every control and non-ASCII character is
    a ``\\u`` escape, so a line never splits whatever the consumer takes for a newline."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key, value in fields_of(record).items():
            line.setdefault(key, value)
        if record.exc_info:
            line["exc"] = self.formatException(record.exc_info)
        if record.stack_info:
            line["stack"] = self.formatStack(record.stack_info)
        return json.dumps(line, ensure_ascii=True, default=str)


def _value(value: Any) -> str:
    """A field's value as logfmt writes it: quoted when it holds a space, a quote, a
    backslash or ``=`` (or is empty), escaped either way."""
    text = value if isinstance(value, str) else json.dumps(value, default=str)
    if text and not any(c in text for c in ' "\\='):
        return escape(text)
    return '"' + escape(text.replace("\\", "\\\\").replace('"', '\\"')) + '"'


class ConsoleFormatter(logging.Formatter):
    """``2025-01-31 12:00:00.123 INFO  logger: message key=value ...``, local time; a
    traceback follows on lines of its own, each indented so none can pass for a record."""

    def format(self, record: logging.LogRecord) -> str:
        when = datetime.fromtimestamp(record.created).strftime("%Y-%m-%d %H:%M:%S")
        head = f"{when}.{int(record.msecs):03d} {record.levelname:<5} {record.name}: "
        parts = [head + escape(record.getMessage())]
        fields = fields_of(record)
        fields.pop("event", None)  # the message already says it
        parts += [f"{key}={_value(value)}" for key, value in fields.items()]
        text = " ".join(parts)
        extra = []
        if record.exc_info:
            extra.append(self.formatException(record.exc_info))
        if record.stack_info:
            extra.append(self.formatStack(record.stack_info))
        for block in extra:
            text += "".join("\n    " + escape(line) for line in block.split("\n"))
        return text
