"""A Judge0 submission's fields in: validated with Judge0's limits (codeexec's own, as
``/config_info`` reports them) and its Rails-style 422 messages, and mapped onto an
ad-hoc run."""

from __future__ import annotations

import base64
import binascii
import io
import math
import re
import shlex
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from codeexec.config import Settings
from codeexec.http.compat.judge0.info import Config, language_of
from codeexec.http.keys import SETTINGS
from codeexec.intake import MAX_REPEAT, AdHocRun, args_problem
from codeexec.model import Language, SourceFile
from codeexec.packages.archive import PackageError, PackageLimits, ZipPackage

_ENCODED = frozenset({"source_code", "stdin", "expected_output", "stdout", "stderr"})
_ARGS_CHARS = 512  # Judge0's limit on command_line_arguments and compiler_options
_ARGS_STRIPPED = re.compile(r"[$&;<>|`]")  # what Judge0 removes before its shell sees them


class Unprocessable(Exception):
    """A request Judge0 answers with 422 and ``{field: [messages]}``."""

    def __init__(self, errors: dict[str, list[str]]) -> None:
        super().__init__(str(errors))
        self.errors = errors


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
    integer: bool = False,
) -> float | None:
    """A numeric field checked as Rails' ``numericality`` does (numbers or numeric
    strings), None when absent. ``integer``: an integer column's, cast (truncated) as
    Rails casts it before validating (``number_of_runs: 0.5`` is 0: "must be greater
    than 0")."""
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
    if integer:
        number = float(math.trunc(number))
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
    language, as_int = None, None
    if language_id is None or language_id == "":
        errors.setdefault("language_id", []).append("can't be blank")
    else:
        as_int = _number(body, "language_id", errors, -(2**31), 2**31, integer=True)
        if as_int is not None:
            language = language_of(request.app, int(as_int))
        if language is None and "language_id" not in errors:
            errors["language_id"] = [f"language with id {language_id} doesn't exist"]
    source = data["source_code"]
    if not source and "source_code" not in errors:
        errors["source_code"] = ["can't be blank"]
    runs = _number(body, "number_of_runs", errors, 0, MAX_REPEAT, above=True, integer=True)
    cpu = _number(body, "cpu_time_limit", errors, 0, config["max_cpu_time_limit"])
    extra_time = _number(body, "cpu_extra_time", errors, 0, config["max_cpu_extra_time"])
    wall = _number(body, "wall_time_limit", errors, 1, config["max_wall_time_limit"])
    memory = _number(body, "memory_limit", errors, 2048, config["max_memory_limit"], integer=True)
    stack = _number(body, "stack_limit", errors, 0, config["max_stack_limit"], integer=True)
    processes = _number(
        body, "max_processes_and_or_threads", errors, 0,
        config["max_max_processes_and_or_threads"], above=True, integer=True,
    )  # fmt: skip
    file_size = _number(body, "max_file_size", errors, 0, config["max_max_file_size"], integer=True)
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
    assert language is not None and code is not None and as_int is not None
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
        "language_id": int(as_int),
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
