"""``POST /exec``: seed 004's contract, exactly.

Request ``{"code": str, "id": str, "language"?: str}``; response ``error``,
``shownTests`` (``input``, ``expected``, ``got``, ``passed`` + extra ``verdict``,
``time_ms``, ``memory_kb``), ``shownPassed``, ``shownFailed``, ``hiddenTests``
(``passed``, ``failed``), ``passed``. Nothing a hidden test printed reaches the
response: hidden tests only count.
"""

from __future__ import annotations

import json
import logging
from pathlib import PurePosixPath
from typing import Any

from aiohttp import web
from pydantic import BaseModel, ConfigDict, StrictStr, ValidationError

from codeexec.http.errors import BAD_REQUEST, ApiError, json_response
from codeexec.http.keys import ADMISSION, JUDGE, LANGUAGES, LIFECYCLE, SCREENER, SETTINGS, STORE
from codeexec.judge.admission import QueueFull
from codeexec.judge.verdicts import MESSAGES, Judgement, TestResult, Verdict
from codeexec.sandbox.program import SourceFileIn, SubmissionError, program_files
from codeexec.sandbox.sandbox import SandboxError, SandboxFile
from codeexec.screening.service import ScreeningResult
from codeexec.store.problems import ProblemSnapshot

log = logging.getLogger(__name__)

_ERROR_TEXT_LIMIT = 8 * 1024


class ExecRequest(BaseModel):
    model_config = ConfigDict(extra="ignore")

    id: StrictStr
    code: StrictStr | None = None
    files: list[SourceFileIn] | None = None  # instead of code: several named files
    entry_point: StrictStr | None = None  # which of the files is the program
    language: StrictStr = "python"


def _text(data: bytes) -> str:
    """What a person should see: UTF-8 (invalid bytes become U+FFFD), final newline dropped."""
    return data.decode("utf-8", errors="replace").rstrip("\r\n")


def _error_of(result: TestResult) -> str:
    if result.verdict == Verdict.RE:
        message = _text(result.stderr[-_ERROR_TEXT_LIMIT:]).strip()
        if message:
            return message
        if result.signal is not None:
            return f"Runtime error (killed by signal {result.signal})"
        return f"Runtime error (exit code {result.exit_code})"
    if result.verdict == Verdict.IE:
        return "Internal error while judging (not caused by the submission)"
    return MESSAGES.get(result.verdict, "")


def exec_response(snapshot: ProblemSnapshot, judgement: Judgement) -> dict[str, Any]:
    shown: list[dict[str, Any]] = []
    hidden = {"failed": 0, "passed": 0}
    error = judgement.compile_output if judgement.compile_failed else ""
    for test, result in zip(snapshot.tests, judgement.results, strict=True):
        ok = result.verdict == Verdict.AC
        if test.hidden:
            hidden["passed" if ok else "failed"] += 1
            continue
        if not error and not ok:
            error = _error_of(result)  # only ever from a shown test
        shown.append(
            {
                "expected": _text(test.expected_output),
                "got": _text(result.stdout),
                "input": _text(test.input),
                "passed": ok,
                "verdict": result.verdict.value,
                "time_ms": result.cpu_ms,
                "wall_ms": result.wall_ms,
                "memory_kb": result.memory_kb,
                "exit_code": result.exit_code,
                "signal": result.signal,
                "got_truncated": result.stdout_truncated,
                "feedback": result.feedback,
            }
        )
    shown_passed = sum(1 for t in shown if t["passed"])
    return {
        "error": error,
        "shownTests": shown,
        "shownPassed": shown_passed,
        "shownFailed": len(shown) - shown_passed,
        "hiddenTests": hidden,
        "passed": judgement.passed,
    }


def _parse(body: bytes) -> ExecRequest:
    try:
        return ExecRequest.model_validate(json.loads(body))
    except (ValueError, UnicodeDecodeError) as exc:  # ValidationError is a ValueError
        detail = (
            _validation_detail(exc)
            if isinstance(exc, ValidationError)
            else "body is not valid JSON"
        )
        raise ApiError(400, BAD_REQUEST, detail) from exc


def _validation_detail(exc: ValidationError) -> str:
    first = exc.errors()[0]
    where = ".".join(str(p) for p in first["loc"]) or "body"
    return f"{where}: {first['msg']}"


async def exec_code(request: web.Request) -> web.Response:
    app = request.app
    settings = app[SETTINGS]
    if request.content_type != "application/json":
        raise ApiError(415, "Content-Type must be application/json")
    payload = _parse(await request.read())

    languages, unavailable = app[LANGUAGES], app[LIFECYCLE].unavailable
    language = languages.get(payload.language)
    if language is None or payload.language in unavailable:
        usable = sorted(set(languages) - set(unavailable))
        raise ApiError(
            400,
            BAD_REQUEST,
            f"unknown or unavailable language {payload.language!r}; use one of {usable}",
        )
    try:
        texts = program_files(language, payload.code, payload.files, payload.entry_point)
    except SubmissionError as exc:
        raise ApiError(400, BAD_REQUEST, str(exc)) from exc
    program = tuple(SandboxFile.source(name, text) for name, text in texts.items())
    if sum(len(f.data) for f in program) > settings.max_source_bytes:
        raise ApiError(413, "Code too large", f"at most {settings.max_source_bytes} bytes")

    snapshot = await app[STORE].snapshot(payload.id)
    if snapshot is None:
        raise ApiError(404, "Problem not found", f"no problem with id {payload.id!r}")

    screener = app[SCREENER]
    policy = screener.policy_for(language.id, snapshot.problem.screening)
    # Every file in the language's own source format is screened (and, for Python,
    # syntax-checked); other files (headers, data) are not programs of that language.
    suffix = PurePosixPath(language.source_file).suffix
    screenings = [
        await screener.screen(language.id, text, name, policy)
        for name, text in texts.items()
        if PurePosixPath(name).suffix == suffix
    ]
    screening = ScreeningResult(
        tuple(sorted({n for s in screenings for n in s.disallowed})),
        next((s.compile_error for s in screenings if s.compile_error), None),
    )
    if screening.disallowed:
        names = ", ".join(screening.disallowed)
        raise ApiError(403, f"Found disallowed functions in code ({names})")
    if screening.compile_error:
        judgement = Judgement(
            tuple(TestResult(Verdict.CE, t.hidden) for t in snapshot.tests),
            compile_output=screening.compile_error,
            compile_failed=True,
        )
        return json_response(exec_response(snapshot, judgement))

    try:
        async with app[ADMISSION].slot():
            judgement = await app[JUDGE].judge(language, program, snapshot)
    except QueueFull as exc:
        raise ApiError(
            503,
            "Server busy: too many submissions queued",
            headers={"Retry-After": str(settings.retry_after_s)},
        ) from exc
    except SandboxError:
        log.exception("sandbox failure judging problem %s", payload.id)
        raise ApiError(500, "Error executing code") from None
    return json_response(exec_response(snapshot, judgement))
