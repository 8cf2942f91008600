"""``POST /exec``: seed 004's contract, exactly.

Request ``{"code": str, "id": str, "language"?: str}``; response ``error``,
``shownTests`` (``input``, ``expected``, ``got``, ``passed`` + extra ``verdict``,
``time_ms``, ``memory_kb``), ``shownPassed``, ``shownFailed``, ``hiddenTests``
(``passed``, ``failed``), ``passed``. Nothing a hidden test printed reaches the
response: hidden tests only count.
"""

from __future__ import annotations

import logging
from typing import Annotated, Any

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field, StrictStr, ValidationError

from codeexec.http.body import BodyLimits, read_json
from codeexec.http.errors import BAD_REQUEST, ApiError, field_errors, json_response
from codeexec.http.keys import ADMISSION, JUDGE, LANGUAGES, LIFECYCLE, SCREENER, SETTINGS, STORE
from codeexec.judge.admission import QueueFull
from codeexec.judge.pipeline import Disallowed, judge_program, screen
from codeexec.judge.verdicts import MESSAGES, shown_text
from codeexec.model import Judgement, Language, ProblemSnapshot, TestResult, Verdict
from codeexec.sandbox.program import (
    FileName,
    SourceFileIn,
    SourceFiles,
    SubmissionError,
    program_files,
)
from codeexec.sandbox.sandbox import SandboxError
from codeexec.screening.service import ScreeningResult

log = logging.getLogger(__name__)

_ERROR_TEXT_LIMIT = 8 * 1024

# JSON values in one submission's body: a few fields and up to 64 files (3 values each),
# with room for fields a client adds (/exec ignores them).
SUBMISSION_VALUES = 1024
ProblemIdIn = Annotated[StrictStr, Field(max_length=64)]  # the store's id column
LanguageIn = Annotated[StrictStr, Field(max_length=32)]


def submission_limits(max_bytes: int) -> BodyLimits:
    return BodyLimits(max_bytes, SUBMISSION_VALUES)


class ExecRequest(BaseModel):
    model_config = ConfigDict(extra="ignore")  # seed 004's clients may send more

    id: ProblemIdIn
    code: StrictStr | None = None  # with files: at most CODEEXEC_MAX_SOURCE_BYTES (413)
    files: SourceFiles | None = None  # instead of code: several named files
    entry_point: FileName | None = None  # which of the files is the program
    language: LanguageIn = "python"


def _error_of(result: TestResult) -> str:
    if result.verdict == Verdict.RE:
        message = shown_text(result.stderr[-_ERROR_TEXT_LIMIT:]).strip()
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
                "expected": shown_text(test.expected_output),
                "got": shown_text(result.stdout),
                "input": shown_text(test.input),
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


def _parse(data: Any) -> ExecRequest:
    try:
        return ExecRequest.model_validate(data)
    except ValidationError as exc:
        first = field_errors(exc)[0]
        raise ApiError(400, BAD_REQUEST, f"{first['field']}: {first['message']}") from None


def submitted_program(
    app: web.Application,
    language_id: str,
    code: str | None,
    files: list[SourceFileIn] | None,
    entry_point: str | None,
    message: str,
) -> tuple[Language, dict[str, str]]:
    """The language and the files a request submits, validated: 400 (with ``message``)
    for an unknown or unavailable language or bad files, 413 over the source limit."""
    usable = app[LIFECYCLE].usable(app[LANGUAGES])
    language = usable.get(language_id)
    if language is None:
        raise ApiError(
            400,
            message,
            f"unknown or unavailable language {language_id!r}; use one of {sorted(usable)}",
        )
    try:
        texts = program_files(language, code, files, entry_point)
    except SubmissionError as exc:
        raise ApiError(400, message, str(exc)) from exc
    check_source_size(texts, app[SETTINGS].max_source_bytes)
    return language, texts


def check_source_size(texts: dict[str, str], limit: int) -> None:
    """413 when a program's files together are over ``limit`` bytes (UTF-8)."""
    if sum(len(t.encode("utf-8", errors="surrogatepass")) for t in texts.values()) > limit:
        raise ApiError(413, "Code too large", f"at most {limit} bytes")


async def screened_submission(
    app: web.Application,
    problem_id: str,
    language_id: str,
    code: str | None,
    files: list[SourceFileIn] | None,
    entry_point: str | None,
    message: str,
) -> tuple[Language, dict[str, str], ProblemSnapshot, ScreeningResult]:
    """A submission checked as far as it can be before judging: its program (400/413),
    its problem (404), and the problem's screening policy (403; 503 when screening is
    saturated)."""
    language, texts = submitted_program(app, language_id, code, files, entry_point, message)
    snapshot = await app[STORE].snapshot(problem_id)
    if snapshot is None:
        raise ApiError(404, "Problem not found", f"no problem with id {problem_id!r}")
    try:
        screening = await screen(app[SCREENER], language, texts, snapshot)
    except QueueFull as exc:
        retry = str(app[SETTINGS].retry_after_s)
        raise ApiError(
            503, "Server busy: too many programs being screened", headers={"Retry-After": retry}
        ) from exc
    if screening.disallowed:
        raise ApiError(403, Disallowed(screening.disallowed).message)
    return language, texts, snapshot, screening


async def exec_code(request: web.Request) -> web.Response:
    app = request.app
    settings = app[SETTINGS]
    limits = submission_limits(settings.max_body_bytes)
    payload = _parse(await read_json(request, limits, BAD_REQUEST))

    language, texts, snapshot, screening = await screened_submission(
        app, payload.id, payload.language, payload.code, payload.files, payload.entry_point,
        BAD_REQUEST,
    )  # fmt: skip
    try:
        async with app[ADMISSION].slot():
            judgement = await judge_program(app[JUDGE], screening, language, texts, snapshot)
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
