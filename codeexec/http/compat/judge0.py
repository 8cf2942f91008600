"""Judge0 CE 1.13.1's API (under ``CODEEXEC_JUDGE0_PREFIX``, default ``/judge0``), so a
Judge0 client works by changing its base URL.

A Judge0 submission is an ad-hoc run (``codeexec.intake.ad_hoc``) queued as a job by
``runs_view.submit_run``: the same intake, sandbox, limits, verdicts and job machinery
as every door. This module only maps: Judge0's request fields onto a run (validated
with Judge0's limits and its Rails-style 422 messages, the limits being codeexec's
own, as ``/config_info`` reports them), and a job back onto Judge0's fields, statuses
and formats. What the request said that codeexec does not keep elsewhere (the language
id asked for, limits echoed back) is the job's ``door_data``. docs/compat.md has the
field-by-field table.
"""

from __future__ import annotations

import base64
import binascii
import io
import math
import os
import platform
import re
import shlex
import uuid
from dataclasses import dataclass
from datetime import datetime
from importlib import metadata
from typing import Any

from aiohttp import web

from codeexec.config import Settings
from codeexec.http.auth import is_admin, principal, sees_everything
from codeexec.http.body import BodyLimits, read_json
from codeexec.http.errors import ApiError, json_response
from codeexec.http.keys import JOB_QUEUE, JOBS, LANGUAGES, LIFECYCLE, SETTINGS, SUBMISSIONS
from codeexec.http.runs_view import RunSummary, submit_run
from codeexec.http.submissions_view import wait_done
from codeexec.intake import MAX_REPEAT, AdHocRun, args_problem
from codeexec.model import Language, SourceFile, Status, Submission, Verdict
from codeexec.packages.archive import PackageError, PackageLimits, ZipPackage
from codeexec.store.submissions import SubmissionFilter

JUDGE0_VERSION = "1.13.1"
DOOR = "judge0"

STATUSES = {
    1: "In Queue",
    2: "Processing",
    3: "Accepted",
    4: "Wrong Answer",
    5: "Time Limit Exceeded",
    6: "Compilation Error",
    7: "Runtime Error (SIGSEGV)",
    8: "Runtime Error (SIGXFSZ)",
    9: "Runtime Error (SIGFPE)",
    10: "Runtime Error (SIGABRT)",
    11: "Runtime Error (NZEC)",
    12: "Runtime Error (Other)",
    13: "Internal Error",
    14: "Exec Format Error",
}
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
_ENCODED = frozenset({"source_code", "stdin", "expected_output", "stdout", "stderr"})
_BATCH_VALUES = 64  # JSON values of one submission in a batch
_ARGS_CHARS = 512  # Judge0's limit on command_line_arguments and compiler_options
_ARGS_STRIPPED = re.compile(r"[$&;<>|`]")  # what Judge0 removes before its shell sees them
NOT_UTF8 = (
    "some attributes for this submission cannot be converted to UTF-8,"
    " use base64_encoded=true query parameter"
)


class Unprocessable(Exception):
    """A request Judge0 answers with 422 and ``{field: [messages]}``."""

    def __init__(self, errors: dict[str, list[str]]) -> None:
        super().__init__(str(errors))
        self.errors = errors


def _error(status: int, message: str, headers: dict[str, str] | None = None) -> web.Response:
    return json_response({"error": message}, status, headers)


# -- what codeexec allows, in Judge0's terms ------------------------------------------


@dataclass(frozen=True)
class Config:
    """Judge0's configuration fields, from codeexec's settings (``/config_info``)."""

    settings: Settings

    def info(self) -> dict[str, Any]:
        lim, jobs = self.settings.limits, self.settings.jobs
        time_s = lim.default_time_limit_ms / 1000
        return {
            "maintenance_mode": False,
            "enable_wait_result": True,
            "enable_compiler_options": False,
            "allowed_languages_for_compile_options": [],
            "enable_command_line_arguments": True,
            "enable_submission_delete": True,
            "enable_callbacks": True,
            "callbacks_max_tries": jobs.webhook_attempts,
            "callbacks_timeout": jobs.webhook_timeout_s,
            "enable_additional_files": True,
            "max_queue_size": jobs.job_queue_size,
            "cpu_time_limit": time_s,
            "max_cpu_time_limit": lim.max_time_limit_ms / 1000,
            "cpu_extra_time": 0.0,
            "max_cpu_extra_time": 5.0,
            "wall_time_limit": lim.wall_ms(None, lim.default_time_limit_ms) / 1000,
            "max_wall_time_limit": 2 * lim.max_time_limit_ms / 1000,
            "memory_limit": lim.default_memory_limit_mb * 1024,
            "max_memory_limit": lim.max_memory_limit_mb * 1024,
            # The stack may take the whole memory limit; stack_limit is not used.
            "stack_limit": lim.default_memory_limit_mb * 1024,
            "max_stack_limit": lim.max_memory_limit_mb * 1024,
            "max_processes_and_or_threads": lim.default_process_limit,
            "max_max_processes_and_or_threads": lim.sandbox_pids,
            "enable_per_process_and_thread_time_limit": False,
            "allow_enable_per_process_and_thread_time_limit": False,
            "enable_per_process_and_thread_memory_limit": False,
            "allow_enable_per_process_and_thread_memory_limit": False,
            "max_file_size": lim.default_output_limit_kb,
            "max_max_file_size": lim.max_output_limit_kb,
            "number_of_runs": 1,
            "max_number_of_runs": MAX_REPEAT,
            "redirect_stderr_to_stdout": False,
            "max_extract_size": self.settings.http.max_source_bytes // 1024,
            "enable_batched_submissions": True,
            "max_submission_batch_size": jobs.batch_max,
            "submission_cache_duration": 0.0,
            "use_docs_as_homepage": False,
            "allow_enable_network": False,
            "enable_network": False,
        }


# -- languages --------------------------------------------------------------------------


def _version_number(line: str) -> str | None:
    found = re.search(r"\d+(?:\.\d+)+", line)
    return found.group(0) if found else None


def _listed(app: web.Application) -> list[tuple[int, Language]]:
    """(Judge0 id, language) for every language usable or being prepared, by id."""
    lifecycle = app[LIFECYCLE]
    known = {**lifecycle.usable(app[LANGUAGES])}
    for language_id in lifecycle.preparing():
        if language_id in app[LANGUAGES]:
            known[language_id] = app[LANGUAGES][language_id]
    return sorted((i, lang) for lang in known.values() for i in lang.judge0_ids)


def _name(app: web.Application, language: Language) -> str:
    number = _version_number(app[LIFECYCLE].versions.get(language.id, ""))
    return f"{language.name} ({number})" if number else language.name


def _language_of(app: web.Application, judge0_id: int) -> Language | None:
    return next((lang for i, lang in _listed(app) if i == judge0_id), None)


async def list_languages(request: web.Request) -> web.Response:
    items = [{"id": i, "name": _name(request.app, lang)} for i, lang in _listed(request.app)]
    return json_response(sorted(items, key=lambda item: (item["name"], item["id"])))


async def all_languages(request: web.Request) -> web.Response:
    items = [
        {"id": i, "name": _name(request.app, lang), "is_archived": False}
        for i, lang in _listed(request.app)
    ]
    return json_response(sorted(items, key=lambda item: (item["name"], item["id"])))


async def get_language(request: web.Request) -> web.Response:
    raw = request.match_info["id"]
    language = _language_of(request.app, int(raw)) if raw.isascii() and raw.isdigit() else None
    if language is None:
        return _error(404, f"Couldn't find Language with 'id'={raw[:20]}")
    compile_cmd = " ".join(language.compile_command([language.source_file]) or ()) or None
    return json_response(
        {
            "id": int(raw),
            "name": _name(request.app, language),
            "is_archived": False,
            "source_file": language.source_file,
            "compile_cmd": compile_cmd,
            "run_cmd": " ".join(language.run),
        }
    )


async def list_statuses(request: web.Request) -> web.Response:
    return json_response([{"id": i, "description": d} for i, d in STATUSES.items()])


# -- about the service ---------------------------------------------------------------


def _codeexec_version() -> str:
    try:
        return metadata.version("codeexec")
    except metadata.PackageNotFoundError:
        return "unknown"


async def about(request: web.Request) -> web.Response:
    return json_response(
        {
            "version": JUDGE0_VERSION,  # the API this is compatible with; clients check it
            "homepage": "https://github.com/codeexec/codeexec",
            "source_code": "https://github.com/codeexec/codeexec",
            "maintainer": "codeexec",
            "codeexec_version": _codeexec_version(),
        }
    )


async def version(request: web.Request) -> web.Response:
    return web.Response(text=JUDGE0_VERSION)


async def config_info(request: web.Request) -> web.Response:
    return json_response(Config(request.app[SETTINGS]).info())


async def isolate(request: web.Request) -> web.Response:
    return web.Response(text="codeexec sandbox: Docker containers, not isolate\n")


async def license_text(request: web.Request) -> web.Response:
    return web.Response(
        text="codeexec serves Judge0 CE 1.13.1's API; it is not Judge0 and includes none"
        " of its code. See codeexec's own license.\n"
    )


async def system_info(request: web.Request) -> web.Response:
    return json_response(
        {
            "Architecture": platform.machine(),
            "CPU(s)": os.cpu_count(),
            "Model name": platform.processor() or platform.machine(),
            "Kernel": platform.release(),
        }
    )


async def workers(request: web.Request) -> web.Response:
    app = request.app
    stats = app[JOBS].stats()
    queued = await app[JOB_QUEUE].count_queued()
    running = stats["running_here"]
    return json_response(
        [
            {
                "queue": JUDGE0_VERSION,
                "size": queued,
                "available": stats["workers"],
                "idle": stats["workers"] - running,
                "working": running,
                "paused": 0,
                "failed": 0,
            }
        ]
    )


# -- a submission's fields in -----------------------------------------------------------


def _decode(value: str, field: str, errors: dict[str, list[str]]) -> bytes:
    """Base64 as Judge0 clients send it (Ruby's encode64 wraps lines: whitespace is
    ignored), strictly otherwise."""
    try:
        return base64.b64decode("".join(value.split()), validate=True)
    except (binascii.Error, ValueError):
        errors.setdefault(field, []).append("is not valid base64")
        return b""


def _number(
    body: dict[str, Any],
    field: str,
    errors: dict[str, list[str]],
    low: float,
    high: float,
    *,
    above: bool = False,
) -> float | None:
    """A numeric field checked as Rails' ``numericality`` does (numbers or numeric
    strings), None when absent."""
    value = body.get(field)
    if value is None or value == "":
        return None
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        errors.setdefault(field, []).append("is not a number")
        return None
    try:
        number = float(value)
    except ValueError:
        errors.setdefault(field, []).append("is not a number")
        return None
    if not math.isfinite(number):
        errors.setdefault(field, []).append("is not a number")
        return None
    if above and number <= low:
        errors[field] = [f"must be greater than {_rails_number(low)}"]
    elif not above and number < low:
        errors[field] = [f"must be greater than or equal to {_rails_number(low)}"]
    elif number > high:
        errors[field] = [f"must be less than or equal to {_rails_number(high)}"]
    return number


def _rails_number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() and abs(value) >= 1000 else str(value)


_FALSE = frozenset({"0", "f", "false", "off"})


def _flag(body: dict[str, Any], field: str) -> bool | None:
    """A boolean cast as ActiveModel casts one; None when absent."""
    value = body.get(field)
    if value is None or value == "":
        return None
    if isinstance(value, str):
        return value.strip().lower() not in _FALSE
    return bool(value)


def _text_field(body: dict[str, Any], field: str, errors: dict[str, list[str]]) -> str | None:
    value = body.get(field)
    if value is None:
        return None
    if not isinstance(value, str):
        errors.setdefault(field, []).append("must be a string")
        return None
    return value


@dataclass(frozen=True)
class Judge0Request:
    run: AdHocRun
    echo: dict[str, Any]  # what the job keeps to answer with Judge0's fields
    callback_url: str | None = None


def parse_submission(request: web.Request, body: Any, base64_encoded: bool) -> Judge0Request:
    """A Judge0 submission body as a run (Unprocessable: Judge0's 422 errors)."""
    if not isinstance(body, dict):
        raise Unprocessable({"submission": ["must be a JSON object"]})
    errors: dict[str, list[str]] = {}
    config = Config(request.app[SETTINGS]).info()
    texts = {f: _text_field(body, f, errors) for f in (*_ENCODED, "additional_files")}
    data: dict[str, bytes | None] = {}
    for field in ("source_code", "stdin", "expected_output"):
        text = texts.get(field)
        if text is None:
            data[field] = None
        elif base64_encoded:
            data[field] = _decode(text, field, errors)
        else:
            data[field] = text.encode()
    language_id = body.get("language_id")
    language = None
    if language_id is None or language_id == "":
        errors.setdefault("language_id", []).append("can't be blank")
    else:
        as_int = _number(body, "language_id", errors, -(2**31), 2**31)
        if as_int is not None and as_int.is_integer():
            language = _language_of(request.app, int(as_int))
        if language is None and "language_id" not in errors:
            errors["language_id"] = [f"language with id {language_id} doesn't exist"]
    source = data["source_code"]
    if not source and "source_code" not in errors:
        errors["source_code"] = ["can't be blank"]
    runs = _number(body, "number_of_runs", errors, 0, MAX_REPEAT, above=True)
    cpu = _number(body, "cpu_time_limit", errors, 0, config["max_cpu_time_limit"])
    extra_time = _number(body, "cpu_extra_time", errors, 0, config["max_cpu_extra_time"])
    wall = _number(body, "wall_time_limit", errors, 1, config["max_wall_time_limit"])
    memory = _number(body, "memory_limit", errors, 2048, config["max_memory_limit"])
    stack = _number(body, "stack_limit", errors, 0, config["max_stack_limit"])
    processes = _number(
        body, "max_processes_and_or_threads", errors, 0,
        config["max_max_processes_and_or_threads"], above=True,
    )  # fmt: skip
    file_size = _number(body, "max_file_size", errors, 0, config["max_max_file_size"])
    for option in ("time", "memory"):
        field = f"enable_per_process_and_thread_{option}_limit"
        if _flag(body, field):
            errors[field] = ["this option cannot be enabled"]
    if _flag(body, "enable_network"):
        errors["enable_network"] = ["enabling network is not allowed"]
    if (body.get("compiler_options") or "") != "":
        errors["compiler_options"] = ["setting compiler options is not allowed"]
    callback_url = _text_field(body, "callback_url", errors) or None
    arguments = _text_field(body, "command_line_arguments", errors) or ""
    args: tuple[str, ...] = ()
    if len(arguments) > _ARGS_CHARS:
        errors["command_line_arguments"] = [f"is too long (maximum is {_ARGS_CHARS} characters)"]
    else:
        try:  # as Judge0's bash run script splits them, once it removed $&;<>|`
            args = tuple(shlex.split(_ARGS_STRIPPED.sub("", arguments)))
        except ValueError as exc:
            errors["command_line_arguments"] = [f"cannot be split into arguments: {exc}"]
        if (problem := args_problem(args)) is not None:
            errors["command_line_arguments"] = [problem]
    extra: list[SourceFile] = []
    zipped = texts.get("additional_files")
    if zipped and language is not None:
        extra = _additional_files(
            _decode(zipped, "additional_files", errors), language, request.app[SETTINGS], errors
        )
    code = None
    if source and language is not None:
        try:
            code = source.decode("utf-8")
        except UnicodeDecodeError:
            errors.setdefault("source_code", []).append("must be UTF-8 text")
    if errors:
        raise Unprocessable(errors)
    assert language is not None and code is not None and isinstance(language_id, int | str)
    files = None
    if extra:
        files = [SourceFile(language.source_file, code), *extra]
    run = AdHocRun(
        language=language.id,
        code=None if files else code,
        files=files,
        entry_point=language.source_file if files else None,
        stdin=data["stdin"] or b"",
        expected_output=data["expected_output"],
        args=args,
        merge_stderr=bool(_flag(body, "redirect_stderr_to_stdout")),
        repeat=int(runs) if runs is not None else 1,
        time_limit_ms=max(1, math.ceil(cpu * 1000)) if cpu else None,
        wall_time_limit_ms=math.ceil(wall * 1000) if wall else None,
        memory_limit_mb=max(1, math.ceil(memory / 1024)) if memory else None,
        output_limit_kb=max(1, int(file_size)) if file_size else None,
        process_limit=int(processes) if processes else None,
    )
    echo = {
        "language_id": int(float(language_id)),
        "number_of_runs": run.repeat,
        "cpu_time_limit": cpu if cpu is not None else config["cpu_time_limit"],
        "cpu_extra_time": extra_time if extra_time is not None else config["cpu_extra_time"],
        "wall_time_limit": wall if wall is not None else config["wall_time_limit"],
        "memory_limit": int(memory) if memory is not None else config["memory_limit"],
        "stack_limit": int(stack) if stack is not None else config["stack_limit"],
        "max_processes_and_or_threads": int(processes)
        if processes is not None
        else config["max_processes_and_or_threads"],
        "max_file_size": int(file_size) if file_size is not None else config["max_file_size"],
        "redirect_stderr_to_stdout": run.merge_stderr,
        "command_line_arguments": arguments or None,
        "additional_files": "".join(zipped.split()) if zipped else None,
        "expected_output_given": data["expected_output"] is not None,
    }
    return Judge0Request(run, echo, callback_url)


def _additional_files(
    archive: bytes, language: Language, settings: Settings, errors: dict[str, list[str]]
) -> list[SourceFile]:
    """The zip's files beside the source (Judge0 unzips with -n: the source stays)."""
    if not archive:
        return []
    limits = PackageLimits(settings.http.max_source_bytes, 256)
    try:
        package = ZipPackage(io.BytesIO(archive), "", limits, problem=False)
    except PackageError as exc:
        errors.setdefault("additional_files", []).append(f"is not a usable zip: {exc}")
        return []
    files = []
    try:
        for name in sorted(package.names()):
            if name == language.source_file:
                continue
            data = package.read(name)
            try:
                files.append(SourceFile(name, data.decode("utf-8")))
            except UnicodeDecodeError:
                errors.setdefault("additional_files", []).append(
                    f"{name}: only text (UTF-8) files can be given"
                )
    except PackageError as exc:
        errors.setdefault("additional_files", []).append(str(exc))
    finally:
        package.close()
    return files


# -- a submission's fields out ----------------------------------------------------------


def _token(sid: str) -> str:
    return str(uuid.UUID(hex=sid))


def _sid(token: str) -> str | None:
    try:
        return uuid.UUID(token).hex
    except ValueError:
        return None


def _status(s: Submission) -> tuple[int, str | None]:
    """Judge0's status id and message for a job."""
    if s.status == Status.QUEUED:
        return 1, None
    if s.status == Status.RUNNING:
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


def _decimal(seconds: float) -> str:
    """Seconds as Rails renders a decimal column: a string, "0.012", "5.0"."""
    text = f"{seconds:.3f}".rstrip("0")
    return text + "0" if text.endswith(".") else text


def _when(value: datetime | None) -> str | None:
    if value is None:
        return None
    return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"


def _encode64(data: bytes) -> str:
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
    status_id, message = _status(s)
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
                "time": _decimal(summary.cpu_ms / 1000),
                "wall_time": _decimal(summary.wall_ms / 1000),
                "memory": summary.memory_kb,
                "exit_code": summary.shown.exit_code if summary.shown.exit_code is not None else 0,
                "exit_signal": summary.shown.signal,
            }
    judge0_id = int(echo.get("language_id", 0))
    name = _name(app, language) if language is not None else s.language
    values |= {
        "language_id": judge0_id,
        "status_id": status_id,
        "status": {"id": status_id, "description": STATUSES[status_id]},
        "language": {"id": judge0_id, "name": name},
        "created_at": _when(s.created_at),
        "finished_at": _when(s.finished_at),
        "token": _token(s.id),
        "number_of_runs": echo.get("number_of_runs", 1),
        "cpu_time_limit": _decimal(float(echo.get("cpu_time_limit", 0))),
        "cpu_extra_time": _decimal(float(echo.get("cpu_extra_time", 0))),
        "wall_time_limit": _decimal(float(echo.get("wall_time_limit", 0))),
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
        "additional_files": _encode64(base64.b64decode(echo["additional_files"]))
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
                out[field] = _encode64(raw if isinstance(raw, bytes) else raw.encode())
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
        return "PUT", {"token": _token(s.id)}


def _fields(request: web.Request) -> tuple[str, ...]:
    """``?fields=``: Judge0's rule (unknown names are a 400; none: the default set)."""
    asked = [f for f in request.query.get("fields", "").split(",") if f]
    invalid = [f for f in asked if f != "*" and f not in FIELDS]
    if invalid:
        raise ApiError(400, f"invalid fields: [{', '.join(x[:40] for x in invalid[:20])}]")
    if "*" in asked:
        return FIELDS
    return tuple(dict.fromkeys(asked)) or DEFAULT_FIELDS


def _base64_encoded(request: web.Request) -> bool:
    return request.query.get("base64_encoded") == "true"


# -- routes ------------------------------------------------------------------------------


def _limits(settings: Settings, batch: bool) -> BodyLimits:
    values = _BATCH_VALUES * settings.jobs.batch_max + 16 if batch else _BATCH_VALUES
    # A submission's body carries base64 (4/3) of the source and additional files.
    size = 2 * settings.http.max_body_bytes
    return BodyLimits(8 * size if batch else size, values)


async def _create(request: web.Request, body: Any) -> Submission:
    """Queue one Judge0 submission (Unprocessable, or ApiError from the job path)."""
    parsed = parse_submission(request, body, _base64_encoded(request))
    return await submit_run(request, parsed.run, parsed.callback_url, door=(DOOR, parsed.echo))


def _refusal(exc: ApiError) -> web.Response:
    """codeexec's refusal of a valid Judge0 request in Judge0's terms."""
    if exc.status == 503:
        return _error(503, "queue is full" if "queued" in exc.message else exc.message,
                      exc.headers)  # fmt: skip
    field = "callback_url" if "callback" in exc.message else "source_code"
    detail = f"{exc.message}: {exc.detail}" if exc.detail else exc.message
    return json_response({field: [detail]}, 422)


async def create_submission(request: web.Request) -> web.Response:
    fields = _fields(request)
    wait = request.query.get("wait") == "true"
    body = await read_json(request, _limits(request.app[SETTINGS], batch=False))
    try:
        created = await _create(request, body)
    except Unprocessable as exc:
        return json_response(exc.errors, 422)
    except ApiError as exc:
        return _refusal(exc)
    if not wait:
        return json_response({"token": _token(created.id)}, 201)
    finished = await wait_done(request, created.id, request.app[SETTINGS].jobs.max_wait_s)
    try:
        out = submission_fields(request.app, finished or created, fields, _base64_encoded(request))
    except NotText:
        return json_response({"error": NOT_UTF8, "token": _token(created.id)}, 201)
    return json_response(out, 201)


async def _found(request: web.Request, token: str) -> Submission | None:
    sid = _sid(token)
    found = await request.app[SUBMISSIONS].get(sid) if sid is not None else None
    if found is None or found.door != DOOR:
        return None
    if not (sees_everything(request) or found.owner == principal(request).key_id):
        return None
    return found


async def get_submission(request: web.Request) -> web.Response:
    fields = _fields(request)
    found = await _found(request, request.match_info["token"])
    if found is None:
        return _error(404, "Not Found")
    try:
        return json_response(
            submission_fields(request.app, found, fields, _base64_encoded(request))
        )
    except NotText:
        return _error(400, NOT_UTF8)


async def delete_submission(request: web.Request) -> web.Response:
    if not is_admin(request):
        return web.Response(status=403)
    fields = _fields(request)
    found = await _found(request, request.match_info["token"])
    if found is None:
        return _error(404, "Not Found")
    if found.status in (Status.QUEUED, Status.RUNNING):
        status_id = 1 if found.status == Status.QUEUED else 2
        return _error(
            400,
            f"submission cannot be deleted because its status is {status_id}"
            f" ({STATUSES[status_id]})",
        )
    out = submission_fields(request.app, found, fields, True)
    await request.app[SUBMISSIONS].delete(found.id)
    return json_response(out)


async def list_submissions(request: web.Request) -> web.Response:
    if not is_admin(request):
        return web.Response(status=403)
    fields = _fields(request)
    page = _page(request.query.get("page", "1"), "page", 1)
    per_page = _page(request.query.get("per_page", "20"), "per_page", 0)
    per_page = min(per_page, 200)
    items, total = await request.app[SUBMISSIONS].find(
        SubmissionFilter(door=DOOR), "-created_at", per_page, (page - 1) * per_page
    )
    try:
        listed = [
            submission_fields(request.app, s, fields, _base64_encoded(request)) for s in items
        ]
    except NotText:
        return _error(
            400,
            "some attributes for one or more submissions cannot be converted to UTF-8,"
            " use base64_encoded=true query parameter",
        )
    pages = max(1, math.ceil(total / per_page)) if per_page else 1
    return json_response(
        {
            "submissions": listed,
            "meta": {
                "current_page": page,
                "next_page": page + 1 if page < pages else None,
                "prev_page": page - 1 if page > 1 else None,
                "total_pages": pages,
                "total_count": total,
            },
        }
    )


def _page(raw: str, name: str, low: int) -> int:
    try:
        value = int(raw) if len(raw) < 10 else -1
    except ValueError:
        value = -1
    if value < low:
        raise ApiError(400, f"invalid {name}: {raw[:20]}")
    return value


async def create_batch(request: web.Request) -> web.Response:
    settings = request.app[SETTINGS]
    body = await read_json(request, _limits(settings, batch=True))
    items = body.get("submissions") if isinstance(body, dict) else None
    count = len(items) if isinstance(items, list) else 0
    if count > settings.jobs.batch_max:
        return _error(
            400,
            "number of submissions in a batch should be less than or equal to"
            f" {settings.jobs.batch_max}",
        )
    if not isinstance(items, list) or count == 0:
        return _error(400, "there should be at least one submission in a batch")
    answers: list[dict[str, Any]] = []
    for item in items:
        try:
            created = await _create(request, item)
        except Unprocessable as exc:
            answers.append(dict(exc.errors))
            continue
        except ApiError as exc:
            if exc.status == 503:
                return _refusal(exc)
            answers.append(_refusal_errors(exc))
            continue
        answers.append({"token": _token(created.id)})
    ok = any("token" in a for a in answers)
    return json_response(answers, 201 if ok else 422)


def _refusal_errors(exc: ApiError) -> dict[str, list[str]]:
    detail = f"{exc.message}: {exc.detail}" if exc.detail else exc.message
    return {"source_code": [detail]}


async def get_batch(request: web.Request) -> web.Response:
    settings = request.app[SETTINGS]
    fields = _fields(request)
    raw = request.headers.get("tokens") or request.query.get("tokens", "")
    tokens = [t for t in raw.strip().split(",") if t]
    if len(tokens) > settings.jobs.batch_max:
        return _error(
            400,
            "number of submissions in a batch should be less than or equal to"
            f" {settings.jobs.batch_max}",
        )
    if not tokens:
        return _error(400, "there should be at least one submission in a batch")
    out: list[dict[str, Any] | None] = []
    for token in tokens:
        found = await _found(request, token)
        try:
            out.append(
                submission_fields(request.app, found, fields, _base64_encoded(request))
                if found is not None
                else None
            )
        except NotText:
            return _error(
                400,
                "some attributes for one or more submissions cannot be converted to UTF-8,"
                " use base64_encoded=true query parameter",
            )
    return json_response({"submissions": out})


def add_routes(router: web.UrlDispatcher, prefix: str) -> None:
    p = prefix.rstrip("/")
    router.add_post(p + "/submissions", create_submission)
    router.add_get(p + "/submissions", list_submissions)
    router.add_post(p + "/submissions/batch", create_batch)
    router.add_get(p + "/submissions/batch", get_batch)
    router.add_get(p + "/submissions/{token}", get_submission)
    router.add_delete(p + "/submissions/{token}", delete_submission)
    router.add_get(p + "/languages", list_languages)
    router.add_get(p + "/languages/all", all_languages)
    router.add_get(p + "/languages/{id}", get_language)
    router.add_get(p + "/statuses", list_statuses)
    router.add_get(p + "/about", about)
    router.add_get(p + "/version", version)
    router.add_get(p + "/config_info", config_info)
    router.add_get(p + "/isolate", isolate)
    router.add_get(p + "/license", license_text)
    router.add_get(p + "/system_info", system_info)
    router.add_get(p + "/workers", workers)
