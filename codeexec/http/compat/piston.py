"""Piston v2's API (engineer-man/piston, ``api/src/api/v2.js``), so that a program written
for Piston works against codeexec with only its base URL changed:
``GET {CODEEXEC_PISTON_PREFIX}/api/v2/runtimes`` and ``POST .../api/v2/execute``.

An execute is an ad-hoc run (``codeexec.http.runs_view``): ``submit_run``, ``wait_done``
and ``RunSummary``, the one intake, job and judging path every door shares. A request is
checked in Piston's order with Piston's messages, and every error under these paths is
Piston's ``{"message": ...}`` (``errors.ERROR_SHAPES``). What is mapped, what is ignored
and what differs: docs/compat.md, "Piston v2".
"""

from __future__ import annotations

import base64
import binascii
import logging
import math
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import nodesemver
from aiohttp import web

from codeexec.config import LimitSettings
from codeexec.http.body import read_json
from codeexec.http.compat.piston_schema import PistonError as PistonErrorBody
from codeexec.http.compat.piston_schema import (
    PistonExecuteIn,
    PistonExecuteOut,
    PistonRuntime,
)
from codeexec.http.errors import ERROR_SHAPES, ApiError, json_response
from codeexec.http.exec_view import DEFAULT_LANGUAGE, submission_limits
from codeexec.http.keys import JOB_QUEUE, JOBS, LANGUAGES, LIFECYCLE, SETTINGS
from codeexec.http.operations import Body, Operation, Reply, operation
from codeexec.http.runs_view import RunSummary, over_maximum, submit_run
from codeexec.http.submissions_view import wait_done
from codeexec.intake import AdHocRun, args_problem
from codeexec.model import Language, SourceFile, Status, TestReport, Verdict

API = "/api/v2"
# npm semver's MAX_LENGTH: a longer range is no range (its parser is slow on long
# runs of whitespace, so it never sees one).
MAX_VERSION_CHARS = 256
UNKNOWN_VERSION = "0.0.0"  # a language whose version command printed no version
ENCODINGS = ("utf8", "base64", "hex")
MIB = 1024 * 1024
MIN_MEMORY_MB = 8  # the least a run may ask for (RunLimitsIn's bound)
# Piston's default compile_timeout and compile_cpu_time, which its clients send as their
# own default: always accepted, whatever the language's compile time limit.
PISTON_COMPILE_MS = 10_000
# nodesemver logs every range it cannot parse, with a traceback, at INFO.
logging.getLogger("nodesemver").setLevel(logging.WARNING)


class PistonError(ValueError):
    """A request Piston would refuse: 400 with this message."""


class NotReady(Exception):
    """The language asked for is still being prepared (its image is being built)."""

    def __init__(self, language: str, progress: str) -> None:
        super().__init__(f"Language {language!r} is being prepared; retry shortly: {progress}")


# -- runtimes ---------------------------------------------------------------------------

_VERSION = re.compile(r"(?<![\d.])(\d{1,9})\.(\d{1,9})(?:\.(\d{1,9}))?")
_NUMBER = re.compile(r"(?<![\d.])(\d{1,9})(?![\d.])")


def semver_of(line: str | None) -> str:
    """``X.Y.Z`` from a version command's first line ("Python 3.11.2", "go version
    go1.19.8 linux/amd64", "kotlinc-jvm 1.3-SNAPSHOT" is 1.3.0): its first dotted number,
    padded to three parts (a fourth is dropped); else a lone number (``X.0.0``); else
    ``UNKNOWN_VERSION``."""
    if line:
        if found := _VERSION.search(line):
            return ".".join(str(int(part or 0)) for part in found.groups())
        if lone := _NUMBER.search(line):
            return f"{int(lone[1])}.0.0"
    return UNKNOWN_VERSION


@dataclass(frozen=True)
class Runtime:
    """A codeexec language as Piston lists it: its first Piston name, the rest as
    aliases, and the one version installed."""

    language: Language
    name: str
    version: str
    aliases: tuple[str, ...]

    def answers_to(self, name: str) -> bool:
        return name == self.name or name in self.aliases

    def as_json(self) -> dict[str, Any]:
        return {"language": self.name, "version": self.version, "aliases": list(self.aliases)}


def runtime_of(language: Language, version_line: str | None) -> Runtime:
    names = language.piston_names or (language.id,)
    return Runtime(language, names[0], semver_of(version_line), tuple(names[1:]))


def runtimes_of(languages: Iterable[Language], versions: Mapping[str, str]) -> list[Runtime]:
    found = (runtime_of(lang, versions.get(lang.id)) for lang in languages)
    return sorted(found, key=lambda rt: rt.name)


def version_matches(version: str, wanted: str) -> bool:
    """Whether ``version`` satisfies the range ``wanted`` as npm's semver (Piston's)
    reads it: exact, ``*``, ``x``-ranges, ``^``, ``~``, comparisons, hyphen ranges and
    ``||``. A range that does not parse matches nothing."""
    if len(wanted) > MAX_VERSION_CHARS:
        return False
    return bool(nodesemver.satisfies(version, wanted, loose=False))


# -- a request --------------------------------------------------------------------------


def decode_content(content: str, encoding: str, where: str) -> str:
    """A file's text from its content as sent. Piston writes the bytes; codeexec's files
    are text, so base64 and hex must decode to UTF-8 (PistonError otherwise)."""
    if encoding == "utf8":
        return content
    if encoding == "base64":
        # Lenient as Node's decoder is where it is harmless: line breaks, the URL-safe
        # alphabet, missing padding; any other character is an error.
        packed = re.sub(r"\s+", "", content).translate(str.maketrans("-_", "+/"))
        packed += "=" * (-len(packed) % 4)
        try:
            data = base64.b64decode(packed, validate=True)
        except (binascii.Error, ValueError):
            raise PistonError(f"{where}.content is not valid base64") from None
    else:
        try:
            data = bytes.fromhex(content)
        except ValueError:
            raise PistonError(f"{where}.content is not valid hex") from None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise PistonError(
            f"{where}.content does not decode to UTF-8 text: codeexec runs text files only"
        ) from None


def _encoding_of(file: Mapping[str, Any], where: str) -> str:
    encoding = file.get("encoding")
    if encoding is None or encoding == "":
        return "utf8"
    if isinstance(encoding, str) and encoding.lower() in ("utf8", "utf-8"):
        return "utf8"
    if encoding in ENCODINGS:
        return str(encoding)
    raise PistonError(f"{where}.encoding must be one of {', '.join(ENCODINGS)}")


@dataclass(frozen=True)
class Limits:
    """A request's run limits in codeexec's units (None: the server's default)."""

    time_ms: int | None = None
    wall_time_ms: int | None = None
    memory_mb: int | None = None


# Piston's order: each constraint for compile, then for run.
_CONSTRAINTS = ("memory_limit", "timeout", "cpu_time")
_STAGES = ("compile", "run")
# Where each run limit goes in codeexec (``over_maximum``'s names).
_RUN_LIMITS = {"timeout": "wall_time_ms", "cpu_time": "time_ms", "memory_limit": "memory_mb"}


def configured_limits(language: Language, limits: LimitSettings) -> dict[str, int]:
    """Piston's "configured limit" of each constraint, in Piston's units (ms, bytes): a
    run's are the server's maxima; a compile's, the language's compile limits (which
    always apply: a compile stage gets no other), its times at least Piston's default
    (``PISTON_COMPILE_MS``), which clients send unasked."""
    huge = 2**62
    maxima = dict(over_maximum(limits, dict.fromkeys(_RUN_LIMITS.values(), huge)))
    compiling = language.compile_limits
    compile_ms = max(compiling.time_ms, PISTON_COMPILE_MS)
    return {
        "compile_memory_limit": compiling.memory_mb * MIB,
        "compile_timeout": compile_ms,
        "compile_cpu_time": compile_ms,
        "run_memory_limit": maxima["memory_mb"] * MIB,
        "run_timeout": maxima["wall_time_ms"],
        "run_cpu_time": maxima["time_ms"],
    }


def limits_of(body: Mapping[str, Any], configured: Mapping[str, int]) -> Limits:
    """The run limits a request asks for, checked as Piston checks them: a value that is
    absent, null or 0 is not given; -1 for a memory limit is no limit (the server's
    default); fractions of a millisecond or a mebibyte are rounded up."""
    run: dict[str, int] = {}
    for constraint in _CONSTRAINTS:
        for stage in _STAGES:
            name = f"{stage}_{constraint}"
            value = body.get(name)
            if value is None or value is False or value == 0 or value == "":
                continue
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise PistonError(f"If specified, {name} must be a number")
            if value > configured[name]:
                raise PistonError(
                    f"{name} cannot exceed the configured limit of {configured[name]}"
                )
            if constraint == "memory_limit" and value == -1:
                continue
            if value < 0:
                raise PistonError(f"{name} must be non-negative")
            if stage == "run":
                run[constraint] = math.ceil(value / MIB if constraint == "memory_limit" else value)
    memory_mb = run.get("memory_limit")
    if memory_mb is not None and memory_mb < MIN_MEMORY_MB:
        raise PistonError(f"run_memory_limit must be at least {MIN_MEMORY_MB * MIB}")
    return Limits(run.get("cpu_time"), run.get("timeout"), memory_mb)


@dataclass(frozen=True)
class Execute:
    """A checked execute request: what it runs on, and the run it becomes."""

    runtime: Runtime
    run: AdHocRun


def find_runtime(runtimes: Iterable[Runtime], language: str, version: str) -> Runtime | None:
    return next(
        (rt for rt in runtimes if rt.answers_to(language) and version_matches(rt.version, version)),
        None,
    )


def _files_of(language: Language, files: list[Any]) -> tuple[list[SourceFile], str]:
    """The program's files, and its entry file: the first UTF-8 file (Piston runs it).
    Unnamed files are ``file<i>.code``, as in Piston. A language that compiles every
    source together (``entry = "all"``) gets the entry file under its source file name
    (``main.c``) when the name given is not one of its sources: Piston's C compiles
    every file whatever its name."""
    encodings = [_encoding_of(file, f"files[{i}]") for i, file in enumerate(files)]
    if "utf8" not in encodings:
        raise PistonError("files must include at least one utf8 encoded file")
    named: list[tuple[str, str, str]] = []  # name, text, encoding
    for i, (file, encoding) in enumerate(zip(files, encodings, strict=True)):
        where = f"files[{i}]"
        name = file.get("name")
        if name is not None and not isinstance(name, str):
            raise PistonError(f"{where}.name must be a string")
        text = decode_content(file["content"], encoding, where)
        named.append((name or f"file{i}.code", text, encoding))
    entry = named[encodings.index("utf8")][0]
    if language.entry == "all" and not language.is_source(entry):
        taken = {name for name, _, _ in named}
        renamed = language.source_file
        if renamed in taken:
            renamed = entry + (language.extensions[0] if language.extensions else "")
        named = [(renamed if n == entry else n, text, enc) for n, text, enc in named]
        entry = renamed
    return [SourceFile(name, text) for name, text, _ in named], entry


def execute_of(
    body: Any,
    runtimes: Iterable[Runtime],
    limits: LimitSettings,
    preparing: Callable[[str], str | None] = lambda name: None,
) -> Execute:
    """A Piston execute request as a codeexec run (PistonError: why Piston would refuse
    it). ``preparing``: where the preparation of the language a Piston name names stands,
    if it is being prepared (NotReady then)."""
    if not isinstance(body, dict):
        body = {}
    language, version, files = body.get("language"), body.get("version"), body.get("files")
    if not language or not isinstance(language, str):
        raise PistonError("language is required as a string")
    if not version or not isinstance(version, str):
        raise PistonError("version is required as a string")
    if not isinstance(files, list):
        raise PistonError("files is required as an array")
    for i, file in enumerate(files):
        if not isinstance(file, dict) or not isinstance(file.get("content"), str):
            raise PistonError(f"files[{i}].content is required as a string")
    runtime = find_runtime(runtimes, language, version)
    if runtime is None:
        if (progress := preparing(language)) is not None:
            raise NotReady(language, progress)
        raise PistonError(f"{language}-{version} runtime is unknown")
    program, entry = _files_of(runtime.language, files)
    asked = limits_of(body, configured_limits(runtime.language, limits))
    stdin = body.get("stdin")
    if stdin is None:
        stdin = ""
    if not isinstance(stdin, str):
        raise PistonError("stdin must be a string")
    if not stdin.endswith("\n"):
        stdin += "\n"  # Piston's rule: stdin always ends with a newline
    args = body.get("args")
    if args is None:
        args = []
    if not isinstance(args, list) or not all(isinstance(a, str) for a in args):
        raise PistonError("args must be an array of strings")
    if (problem := args_problem(args)) is not None:
        raise PistonError(f"args: {problem}")
    run = AdHocRun(
        language=runtime.language.id,
        files=program,
        entry_point=entry,
        stdin=stdin.encode(),
        args=tuple(args),
        time_limit_ms=asked.time_ms,
        wall_time_limit_ms=asked.wall_time_ms,
        memory_limit_mb=asked.memory_mb,
    )
    return Execute(runtime, run)


# -- an answer --------------------------------------------------------------------------


def signal_name(number: int | None) -> str | None:
    """A signal's name as Piston reports it (``globals.SIGNALS``), or None."""
    if number is None:
        return None
    if 1 <= number <= len(_SIGNALS):
        return f"SIG{_SIGNALS[number - 1]}"
    if 34 <= number <= 49:
        return "SIGRTMIN" + (f"+{number - 34}" if number > 34 else "")
    if 50 <= number <= 64:
        return "SIGRTMAX" + (f"-{64 - number}" if number < 64 else "")
    return None


# Signals 1-31 on Linux, by number (Piston's table; 32 and 33 have no name there).
_SIGNALS = (
    *("HUP", "INT", "QUIT", "ILL", "TRAP", "ABRT", "BUS", "FPE", "KILL", "USR1", "SEGV"),
    *("USR2", "PIPE", "ALRM", "TERM", "STKFLT", "CHLD", "CONT", "STOP", "TSTP", "TTIN"),
    *("TTOU", "URG", "XCPU", "XFSZ", "VTALRM", "PROF", "WINCH", "IO", "PWR", "SYS"),
)
_COMPILE_TIMEOUT = "Compilation exceeded its time limit"
_COMPILE_MEMORY = "Compilation exceeded its memory limit"


def _text(data: bytes) -> str:
    return data.decode("utf-8", errors="replace")


def _ended(code: int | None, signal: int | None) -> dict[str, Any]:
    """How a process that ended by itself is reported: by a signal, or by its exit
    status (isolate's messages, which Piston passes on)."""
    if signal is not None:
        return _stage(None, signal_name(signal), "SG", f"Caught fatal signal {signal}")
    if code:
        return _stage(code, None, "RE", f"Exited with error status {code}")
    return _stage(code if code is not None else 0, None, None, None)


def _stage(
    code: int | None, signal: str | None, status: str | None, message: str | None
) -> dict[str, Any]:
    return {"code": code, "signal": signal, "status": status, "message": message}


def outcome_of(test: TestReport) -> dict[str, Any]:
    """``code``, ``signal``, ``status`` and ``message`` of a run as Piston words them:
    killed at a limit, ``code`` is null and ``signal`` SIGKILL (``TO`` time, ``OL``
    output; memory: the kernel's kill, ``SG``); ``XX`` is codeexec's internal error."""
    verdict = test.verdict
    if verdict == Verdict.TLE:
        return _stage(None, "SIGKILL", "TO", "Time limit exceeded")
    if verdict == Verdict.OLE:
        return _stage(None, "SIGKILL", "OL", "stdout length exceeded")
    if verdict == Verdict.MLE:
        if test.signal is None and test.exit_code:  # the runtime's own out-of-memory error
            return _ended(test.exit_code, None)
        return _stage(None, signal_name(test.signal or 9), "SG", "Memory limit exceeded")
    if verdict == Verdict.IE:
        return _stage(None, None, "XX", "Internal error: the run could not be completed")
    return _ended(test.exit_code, test.signal)


def compile_stage(output: str, failed: bool) -> dict[str, Any]:
    """The compile stage. codeexec keeps a failed compile's output (stderr and stdout
    together) and nothing of a successful one's; its exit status is reported as 1, and
    its times and memory are not measured apart (null)."""
    if not failed:
        ended = _stage(0, None, None, None)
    elif output.startswith(_COMPILE_TIMEOUT):
        ended = _stage(None, "SIGKILL", "TO", "Time limit exceeded")
    elif output.startswith(_COMPILE_MEMORY):
        ended = _stage(None, "SIGKILL", "SG", "Memory limit exceeded")
    else:
        ended = _ended(1, None)
    text = output if failed else ""
    return {"stdout": "", "stderr": text, "output": text, **ended} | {
        "cpu_time": None,
        "wall_time": None,
        "memory": None,
    }


def run_stage(summary: RunSummary) -> dict[str, Any]:
    """The run stage: ``output`` is stdout then stderr (codeexec keeps the two apart;
    Piston interleaves them as they arrive)."""
    stdout, stderr = _text(summary.output.stdout), _text(summary.output.stderr)
    shown = summary.shown
    return {"stdout": stdout, "stderr": stderr, "output": stdout + stderr} | (
        outcome_of(shown)
        | {"cpu_time": shown.time_ms, "wall_time": shown.wall_ms, "memory": shown.memory_kb * 1024}
    )


def has_compile_stage(runtime: Runtime) -> bool:
    """Whether Piston shows a compile stage for the language: codeexec compiles it, and
    Piston's own package does too (``piston_compile_stage`` in its language.toml: false
    for those codeexec only checks or builds first, as ``bash -n`` and ``go build``)."""
    language = runtime.language
    return language.compile is not None and language.piston_compile_stage


def response_of(runtime: Runtime, summary: RunSummary) -> dict[str, Any]:
    """Piston's answer. A compiled language has a ``compile`` stage; when it fails, the
    run stage is the compile stage (Piston's "backward compatibility when the run stage
    is not started"). Other languages' compile errors (Python's syntax check, ``bash
    -n``) are their run stage failing, as the interpreter would report them."""
    compiled = has_compile_stage(runtime)
    out: dict[str, Any] = {}
    if summary.compile_failed:
        stage = compile_stage(summary.compile_output, failed=True)
        if compiled:
            out["compile"] = stage
        out["run"] = stage
    else:
        if compiled:
            out["compile"] = compile_stage("", failed=False)
        out["run"] = run_stage(summary)
    return out | {"language": runtime.name, "version": runtime.version}


# -- the door ---------------------------------------------------------------------------


def piston_error(error: ApiError) -> web.Response:
    """Every error under the Piston paths, as Piston words one: ``{"message": ...}``."""
    message = f"{error.message}: {error.detail}" if error.detail else error.message
    return json_response({"message": message}, error.status, error.headers)


def _runtimes(request: web.Request) -> list[Runtime]:
    app = request.app
    usable = app[LIFECYCLE].usable(app[LANGUAGES])
    return runtimes_of(usable.values(), app[LIFECYCLE].versions)


def _preparing(request: web.Request) -> Callable[[str], str | None]:
    """Where the preparation of the language a Piston name names stands, if it is being
    prepared (asking puts it first, as intake does)."""
    app = request.app

    def progress(name: str) -> str | None:
        for language in app[LANGUAGES].values():
            if name in (language.piston_names or (language.id,)):
                return app[LIFECYCLE].demand(language.id)
        return None

    return progress


_TAGS = ("piston",)


@operation(
    Operation(
        "pistonRuntimes", "The runtimes (Piston v2)", _TAGS,
        {200: Reply("each language's runtime",
                    PistonRuntime, many=True)},
        door="piston",
    )
)  # fmt: skip
async def list_runtimes(request: web.Request) -> web.Response:
    return json_response([rt.as_json() for rt in _runtimes(request)])


@operation(
    Operation(
        "pistonExecute", "Run a program and wait for its output (Piston v2)", _TAGS,
        {
            200: Reply("its compile and run stages", PistonExecuteOut),
            400: Reply("a request Piston would refuse, with Piston's message", PistonErrorBody),
            403: Reply("disallowed functions in the program", PistonErrorBody),
            503: Reply("busy: not done in time, or the language is being prepared",
                       PistonErrorBody, headers=("Retry-After",)),
        },
        body=Body(PistonExecuteIn, media_type="application/json", example={
            "language": DEFAULT_LANGUAGE, "version": "*", "files": [{"content": "print(input())"}],
            "stdin": "hi",
        }),
        door="piston",
    )
)  # fmt: skip
async def execute(request: web.Request) -> web.Response:
    app = request.app
    settings = app[SETTINGS]
    body = await read_json(request, submission_limits(settings.http.max_body_bytes), any_type=True)
    retry = {"Retry-After": str(settings.admission.retry_after_s)}
    try:
        asked = execute_of(body, _runtimes(request), settings.limits, _preparing(request))
    except PistonError as exc:
        raise ApiError(400, str(exc)) from None
    except NotReady as exc:
        raise ApiError(503, str(exc), headers=retry) from None
    created = await submit_run(request, asked.run)
    finished = await wait_done(request, created.id, settings.jobs.max_wait_s)
    if finished is None or not finished.done:
        await app[JOB_QUEUE].request_cancel(created.id)  # nobody will read it
        app[JOBS].cancel_here(created.id)
        raise ApiError(
            503,
            f"the run did not finish within {settings.jobs.max_wait_s:g} s and was cancelled;"
            " the server is busy, retry later",
            headers=retry,
        )
    if finished.status != Status.FINISHED or finished.result is None:
        raise ApiError(500, f"the run {finished.status}: {finished.error or 'no result'}")
    return json_response(response_of(asked.runtime, RunSummary.of(finished.result)))


def add_routes(app: web.Application, prefix: str) -> None:
    """Piston's routes under ``prefix`` (with and without a final slash: Express, which
    Piston runs on, matches both), and Piston's error shape under them."""
    base = prefix + API
    app.setdefault(ERROR_SHAPES, {})[base] = piston_error
    for path in (f"{base}/runtimes", f"{base}/runtimes/"):
        app.router.add_get(path, list_runtimes)
    for path in (f"{base}/execute", f"{base}/execute/"):
        app.router.add_post(path, execute)
