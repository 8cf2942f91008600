"""A job as Judge0 renders a submission: its fields, statuses and formats (Rails'
decimals and times, Ruby's base64), Judge0 tokens, and its callback."""

from __future__ import annotations

import base64
import uuid
from datetime import datetime
from typing import Any

from aiohttp import web

from codeexec.http.compat.judge0.info import STATUSES, name_of
from codeexec.http.errors import ApiError
from codeexec.http.keys import LANGUAGES
from codeexec.http.runs_view import RunSummary
from codeexec.model import Status, Submission, Verdict

DOOR = "judge0"

_SIGNAL_STATUS = {11: 7, 25: 8, 8: 9, 6: 10}  # Judge0's find_runtime_error_by_status_code

# Judge0 1.13.1's submission serializer: its table's columns but "id", then status and
# language; ``fields=*`` answers exactly these.
FIELDS = (
    "source_code", "language_id", "stdin", "expected_output", "stdout", "status_id",
    "created_at", "finished_at", "time", "memory", "stderr", "token", "number_of_runs",
    "cpu_time_limit", "cpu_extra_time", "wall_time_limit", "memory_limit", "stack_limit",
    "max_processes_and_or_threads", "enable_per_process_and_thread_time_limit",
    "enable_per_process_and_thread_memory_limit", "max_file_size", "compile_output",
    "exit_code", "exit_signal", "message", "wall_time", "compiler_options",
    "command_line_arguments", "redirect_stderr_to_stdout", "callback_url",
    "additional_files", "enable_network", "status", "language",
)  # fmt: skip
DEFAULT_FIELDS = (
    "token", "time", "memory", "stdout", "stderr", "compile_output", "message", "status",
)  # fmt: skip

NOT_UTF8 = (
    "some attributes for this submission cannot be converted to UTF-8,"
    " use base64_encoded=true query parameter"
)


# -- a submission's fields out ----------------------------------------------------------


def token_of(sid: str) -> str:
    return str(uuid.UUID(hex=sid))


def sid_of(token: str) -> str | None:
    try:
        return uuid.UUID(token).hex
    except ValueError:
        return None


def status_of(s: Submission) -> tuple[int, str | None]:
    """Judge0's status id and message for a job."""
    if s.status == Status.QUEUED or (s.status == Status.PAUSED and s.claimed_by is None):
        return 1, None
    if s.status in (Status.RUNNING, Status.PAUSED):  # paused: frozen while it ran
        return 2, None
    if s.status != Status.FINISHED or s.result is None:
        return 13, s.error or "cancelled"
    summary = RunSummary.of(s.result)
    shown = summary.shown
    verdict = summary.verdict
    if verdict == Verdict.AC:
        return 3, None
    if verdict == Verdict.WA:
        return 4, None
    if verdict == Verdict.TLE:
        return 5, "Time limit exceeded"
    if verdict == Verdict.CE:
        return 6, None
    if verdict == Verdict.OLE:
        return 8, "Output limit exceeded"
    if verdict == Verdict.MLE:  # Judge0's kill at its memory limit: SIGKILL, "Other"
        return 12, "Memory limit exceeded"
    if verdict == Verdict.RE:
        if shown.signal is not None:
            return _SIGNAL_STATUS.get(shown.signal, 12), f"Caught fatal signal {shown.signal}"
        return 11, f"Exited with error status {shown.exit_code}"
    return 13, "Internal error while judging (not caused by the submission)"


def decimal(seconds: float) -> str:
    """Seconds as Rails renders a decimal column: a string, "0.012", "5.0"."""
    text = f"{seconds:.3f}".rstrip("0")
    return text + "0" if text.endswith(".") else text


def when(value: datetime | None) -> str | None:
    if value is None:
        return None
    return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"


def encode64(data: bytes) -> str:
    """Ruby's Base64.encode64: lines of 60 characters, each ending in a newline."""
    text = base64.b64encode(data).decode()
    return "".join(text[i : i + 60] + "\n" for i in range(0, len(text), 60))


class NotText(Exception):
    """A field is not UTF-8 and base64 was not asked for."""


def submission_fields(
    app: web.Application, s: Submission, fields: tuple[str, ...], encoded: bool
) -> dict[str, Any]:
    """The job as Judge0 renders a submission (raises NotText)."""
    echo = s.door_data or {}
    files = dict(s.files)
    language = app[LANGUAGES].get(s.language)
    source = files.get(language.source_file if language else "", "")
    test = s.inline.tests[0] if s.inline is not None and s.inline.tests else None
    status_id, message = status_of(s)
    data: dict[str, bytes | str | None] = {
        "source_code": source.encode(),
        "stdin": test.input if test is not None else None,
        "expected_output": test.expected_output
        if test is not None and echo.get("expected_output_given")
        else None,
        "stdout": None,
        "stderr": None,
        "compile_output": None,
        "message": message,
    }
    values: dict[str, Any] = {
        "time": None,
        "wall_time": None,
        "memory": None,
        "exit_code": None,
        "exit_signal": None,
    }
    if s.result is not None and s.status == Status.FINISHED:
        summary = RunSummary.of(s.result)
        data["compile_output"] = summary.compile_output or None
        if not summary.compile_failed:
            data["stdout"] = summary.output.stdout or None
            data["stderr"] = summary.output.stderr or None
            values |= {
                "time": decimal(summary.cpu_ms / 1000),
                "wall_time": decimal(summary.wall_ms / 1000),
                "memory": summary.memory_kb,
                "exit_code": summary.shown.exit_code if summary.shown.exit_code is not None else 0,
                "exit_signal": summary.shown.signal,
            }
    judge0_id = int(echo.get("language_id", 0))
    name = name_of(app, language) if language is not None else s.language
    values |= {
        "language_id": judge0_id,
        "status_id": status_id,
        "status": {"id": status_id, "description": STATUSES[status_id]},
        "language": {"id": judge0_id, "name": name},
        "created_at": when(s.created_at),
        "finished_at": when(s.finished_at),
        "token": token_of(s.id),
        "number_of_runs": echo.get("number_of_runs", 1),
        "cpu_time_limit": decimal(float(echo.get("cpu_time_limit", 0))),
        "cpu_extra_time": decimal(float(echo.get("cpu_extra_time", 0))),
        "wall_time_limit": decimal(float(echo.get("wall_time_limit", 0))),
        "memory_limit": echo.get("memory_limit"),
        "stack_limit": echo.get("stack_limit"),
        "max_processes_and_or_threads": echo.get("max_processes_and_or_threads"),
        "enable_per_process_and_thread_time_limit": False,
        "enable_per_process_and_thread_memory_limit": False,
        "max_file_size": echo.get("max_file_size"),
        "compiler_options": None,
        "command_line_arguments": echo.get("command_line_arguments"),
        "redirect_stderr_to_stdout": echo.get("redirect_stderr_to_stdout", False),
        "callback_url": s.callback_url,
        "additional_files": encode64(base64.b64decode(echo["additional_files"]))
        if echo.get("additional_files")
        else None,
        "enable_network": False,
    }
    out: dict[str, Any] = {}
    for field in fields:
        if field in data:
            raw = data[field]
            if raw is None:
                out[field] = None
            elif encoded:
                out[field] = encode64(raw if isinstance(raw, bytes) else raw.encode())
            elif isinstance(raw, bytes):
                try:
                    out[field] = raw.decode("utf-8")
                except UnicodeDecodeError:
                    raise NotText(field) from None
            else:
                out[field] = raw
        else:
            out[field] = values[field]
    return out


def callback(app: web.Application, s: Submission) -> tuple[str, dict[str, Any]]:
    """Judge0's callback: a PUT of the default fields, base64-encoded."""
    try:
        return "PUT", submission_fields(app, s, DEFAULT_FIELDS, encoded=True)
    except NotText:  # unreachable: encoded fields are always text
        return "PUT", {"token": token_of(s.id)}


def requested_fields(request: web.Request) -> tuple[str, ...]:
    """``?fields=``: Judge0's rule (unknown names are a 400; none: the default set)."""
    asked = [f for f in request.query.get("fields", "").split(",") if f]
    invalid = [f for f in asked if f != "*" and f not in FIELDS]
    if invalid:
        raise ApiError(400, f"invalid fields: [{', '.join(x[:40] for x in invalid[:20])}]")
    if "*" in asked:
        return FIELDS
    return tuple(dict.fromkeys(asked)) or DEFAULT_FIELDS


def base64_requested(request: web.Request) -> bool:
    return request.query.get("base64_encoded") == "true"
