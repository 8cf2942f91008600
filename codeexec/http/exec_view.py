"""``POST /exec``: seed 004's contract, exactly.

Request ``{"code": str, "id": str, "language"?: str}``; response ``error``,
``shownTests`` (``input``, ``expected``, ``got``, ``passed`` + extra ``verdict``,
``time_ms``, ``memory_kb``), ``shownPassed``, ``shownFailed``, ``hiddenTests``
(``passed``, ``failed``), ``passed``; a scoring problem's also ``score`` and
``max_score``. Nothing a hidden test printed reaches the response: hidden tests only
count.
"""

from __future__ import annotations

import logging
from typing import Annotated, Any, Literal

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field, StrictStr, ValidationError

from codeexec.http.answers import Answer, respond
from codeexec.http.body import BodyLimits, read_json
from codeexec.http.error_schema import ErrorBody
from codeexec.http.errors import BAD_REQUEST, ApiError, field_errors, refused
from codeexec.http.keys import ADMISSION, INTAKE, JOBS, JUDGE, SETTINGS
from codeexec.http.operations import Body, Operation, Reply, operation
from codeexec.http.source_schema import FileName, SourceFileIn, SourceFiles, source_files
from codeexec.intake import Rejected, Request
from codeexec.jobs.elsewhere import NoWorkers
from codeexec.judge.admission import QueueFull
from codeexec.judge.pipeline import judge_program
from codeexec.judge.report import report
from codeexec.judge.verdicts import MESSAGES
from codeexec.logs import event
from codeexec.model import Result, Scope, Shown, TestReport, Verdict
from codeexec.sandbox.api import SandboxError

log = logging.getLogger(__name__)

# JSON values in one submission's body: a few fields and up to 64 files (3 values each),
# with room for fields a client adds (/exec ignores them).
SUBMISSION_VALUES = 1024
ProblemIdIn = Annotated[StrictStr, Field(max_length=64)]  # the store's id column
LanguageIn = Annotated[StrictStr, Field(max_length=32)]
# The language of a submission that names none (seed 004's /exec clients never do): part
# of the API, not of any language's definition.
DEFAULT_LANGUAGE = "python"


def submission_limits(max_bytes: int) -> BodyLimits:
    return BodyLimits(max_bytes, SUBMISSION_VALUES)


class ExecRequest(BaseModel):
    model_config = ConfigDict(extra="ignore")  # seed 004's clients may send more

    id: ProblemIdIn
    code: StrictStr | None = None  # with files: at most CODEEXEC_MAX_SOURCE_BYTES (413)
    files: SourceFiles | None = None  # instead of code: several named files
    entry_point: FileName | None = None  # which of the files is the program
    language: LanguageIn = DEFAULT_LANGUAGE


VerdictOut = Literal["AC", "WA", "TLE", "MLE", "RE", "OLE", "CE", "IE", "SK"]


class ShownTestOut(Answer):
    """A shown test: seed 004's four fields, then codeexec's (always given)."""

    expected: str
    got: str
    input: str
    passed: bool
    verdict: VerdictOut | None = None
    time_ms: int | None = None
    wall_ms: int | None = None
    memory_kb: int | None = None
    exit_code: int | None = None
    signal: int | None = None
    got_truncated: bool | None = None
    feedback: str | None = None


class Counts(Answer):
    failed: int
    passed: int


class ExecResponse(Answer):
    """Seed 004's answer (its fields, plus more per shown test)."""

    error: str = Field(description="the compile output, or the first failing shown test's error")
    shownTests: list[ShownTestOut]
    shownPassed: int
    shownFailed: int
    hiddenTests: Counts
    passed: bool
    score: float | None = Field(
        None, description="a scoring problem's only: what the submission scored"
    )
    max_score: float | None = Field(
        None, description="a scoring problem's only: the most it can score (null: unbounded)"
    )


# Seed 004's example, exactly (the extra per-test fields are left out of it).
SEED_REQUEST = {"code": "x = input()\nprint(x.lower())", "id": "HQ000000000000000002"}
SEED_RESPONSE = {
    "error": "",
    "shownTests": [
        {"expected": "dan", "got": "dan", "input": "DaN", "passed": True},
        {"expected": "perez", "got": "perez", "input": "perEz", "passed": True},
    ],
    "shownPassed": 2,
    "shownFailed": 0,
    "hiddenTests": {"failed": 0, "passed": 2},
    "passed": True,
}


def _error_of(test: TestReport, shown: Shown) -> str:
    if test.verdict == Verdict.RE:
        message = shown.stderr.strip()
        if message:
            return message
        if test.signal is not None:
            return f"Runtime error (killed by signal {test.signal})"
        return f"Runtime error (exit code {test.exit_code})"
    if test.verdict == Verdict.IE:
        return "Internal error while judging (not caused by the submission)"
    return MESSAGES.get(test.verdict, "")


def exec_response(result: Result) -> dict[str, Any]:
    """Seed 004's shape: shown tests whole, hidden ones only counted; ``error`` is the
    compile output, else the first failing shown test's message."""
    shown: list[dict[str, Any]] = []
    error = result.compile_output if result.verdict == Verdict.CE else ""
    for test in result.tests:
        if test.shown is None:
            continue
        ok = test.verdict == Verdict.AC
        if not error and not ok:
            error = _error_of(test, test.shown)
        shown.append(
            {
                "expected": test.shown.expected,
                "got": test.shown.got,
                "input": test.shown.input,
                "passed": ok,
                "verdict": test.verdict.value,
                "time_ms": test.time_ms,
                "wall_ms": test.wall_ms,
                "memory_kb": test.memory_kb,
                "exit_code": test.exit_code,
                "signal": test.signal,
                "got_truncated": test.shown.got_truncated,
                "feedback": test.shown.feedback,
            }
        )
    scored = {}
    if result.scoring is not None:
        scored = {"score": result.scoring.score, "max_score": result.scoring.max_score}
    return {
        "error": error,
        "shownTests": shown,
        "shownPassed": result.count(hidden=False, passed=True),
        "shownFailed": result.count(hidden=False, passed=False),
        "hiddenTests": {
            "failed": result.count(hidden=True, passed=False),
            "passed": result.count(hidden=True, passed=True),
        },
        "passed": result.passed,
        **scored,
    }


def _parse(data: Any) -> ExecRequest:
    try:
        return ExecRequest.model_validate(data)
    except ValidationError as exc:
        first = field_errors(exc)[0]
        raise ApiError(400, BAD_REQUEST, f"{first['field']}: {first['message']}") from None


def intake_request(
    problem_id: str,
    language: str,
    code: str | None,
    files: list[SourceFileIn] | None,
    entry_point: str | None,
    scope: Scope = "all",
) -> Request:
    return Request(problem_id, language, code, source_files(files), entry_point, scope=scope)


@operation(
    Operation(
        "exec",
        "Judge a program against a problem's tests, and wait for the verdicts",
        ("exec",),
        {
            200: Reply(
                "every test was run (or the program did not compile)",
                ExecResponse,
                example=SEED_RESPONSE,
            ),
            400: Reply(
                "Error reading request body: a field missing or of the wrong type,"
                " an unknown language, bad files",
                ErrorBody,
            ),
            403: Reply("Found disallowed functions in code", ErrorBody),
            404: Reply("no such problem", ErrorBody),
            413: Reply("the body, or the program, is too large", ErrorBody),
            503: Reply(
                "too many submissions waiting, or the language is being prepared",
                ErrorBody,
                headers=("Retry-After",),
            ),
            504: Reply(
                "serve --no-workers only: no worker judged it within CODEEXEC_MAX_WAIT_S;"
                " Location is the job, where its result will be",
                ErrorBody,
                headers=("Location",),
            ),
        },
        description="Seed 004's contract. Hidden tests are only counted. On a process"
        " that judges nothing (`serve --no-workers`) the program is judged as a job by a"
        " `codeexec worker`, waited for up to CODEEXEC_MAX_WAIT_S (then 504).",
        body=Body(ExecRequest, example=SEED_REQUEST),
    )
)
async def exec_code(request: web.Request) -> web.Response:
    app = request.app
    settings = app[SETTINGS]
    limits = submission_limits(settings.http.max_body_bytes)
    payload = _parse(await read_json(request, limits, BAD_REQUEST))

    request_in = intake_request(
        payload.id, payload.language, payload.code, payload.files, payload.entry_point
    )
    if JOBS in app and isinstance(app[JOBS], NoWorkers):  # serve --no-workers: no Docker
        # Imported here: it builds on the jobs API's view, which imports this module.
        from codeexec.http.exec_queued import exec_by_job

        return await exec_by_job(request, request_in)
    try:
        work = await app[INTAKE].accept(request_in)
    except Rejected as exc:
        raise refused(exc, BAD_REQUEST, settings.admission.retry_after_s) from None
    event(
        log, "submission.accepted", problem_id=work.snapshot.problem.id, language=work.language.id
    )
    try:
        async with app[ADMISSION].slot():
            judgement = await judge_program(app[JUDGE], work)
    except QueueFull as exc:
        raise ApiError(
            503,
            "Server busy: too many submissions queued",
            headers={"Retry-After": str(settings.admission.retry_after_s)},
        ) from exc
    except SandboxError:
        log.exception("sandbox failure judging problem %s", payload.id)
        raise ApiError(500, "Error executing code") from None
    return respond(ExecResponse, exec_response(report(work.snapshot, judgement)))
