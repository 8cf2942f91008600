"""``/api/v1/runs``: ad-hoc runs — a program run on the caller's stdin, with no stored
problem — answered at once (``?wait=true``) or as a job (202 + ``Location``).

A run is a job like any submission (durable, cancellable, rate-limited; cancel, events
and delete are the submissions routes), judged on the same path; its problem travels
inline (``codeexec.intake.ad_hoc``). The Judge0 and Piston doors map onto ``submit_run``
and ``RunSummary`` here.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from typing import Annotated, Any, Literal

from aiohttp import web
from pydantic import Field, StrictBool, StrictInt, StrictStr, ValidationError

from codeexec.bounded import Input, Positive
from codeexec.config import LimitSettings
from codeexec.http.answers import respond
from codeexec.http.auth import principal, sees_everything
from codeexec.http.body import read_json
from codeexec.http.error_schema import ErrorBody
from codeexec.http.errors import ApiError, validation_error
from codeexec.http.exec_view import DEFAULT_LANGUAGE, LanguageIn, submission_limits
from codeexec.http.job_schema import RunOut
from codeexec.http.keys import JOBS, SETTINGS, SUBMISSIONS
from codeexec.http.operations import Body, Operation, Reply, links, operation
from codeexec.http.source_schema import FileName, SourceFiles, source_files
from codeexec.http.submissions_view import (
    WAIT,
    accept_job,
    check_queue_room,
    iso_time,
    wait_done,
    wants_wait,
)
from codeexec.intake import MAX_REPEAT, AdHocRun, args_problem
from codeexec.intake.ad_hoc import MAX_ARGS
from codeexec.model import AD_HOC_ID, Output, Result, Status, Submission, TestReport, Verdict

BASE = "/api/v1/runs"


class RunLimitsIn(Input):
    time_ms: Positive | None = None
    wall_time_ms: Positive | None = None
    memory_mb: Annotated[StrictInt, Field(ge=8)] | None = None
    output_kb: Positive | None = None
    processes: Positive | None = None


class RunIn(Input):
    language: LanguageIn = DEFAULT_LANGUAGE
    source: StrictStr | None = None
    files: SourceFiles | None = None
    entry_point: FileName | None = None
    stdin: StrictStr | None = None
    stdin_b64: StrictStr | None = None  # instead of stdin: bytes that are not text
    expected_output: StrictStr | None = None  # None: the output is not checked
    checker: Literal["exact", "lines", "tokens"] = "lines"
    args: Annotated[list[StrictStr], Field(max_length=MAX_ARGS, fail_fast=True)] | None = None
    merge_stderr: StrictBool = False
    repeat: Annotated[StrictInt, Field(ge=1, le=MAX_REPEAT)] = 1
    limits: RunLimitsIn | None = None
    callback_url: Annotated[StrictStr, Field(max_length=2000)] | None = None


def over_maximum(limits: LimitSettings, asked: dict[str, int | None]) -> list[tuple[str, int]]:
    """The limits asked for (by ``time_ms``, ``wall_time_ms``, ``memory_mb``,
    ``output_kb``, ``processes``) that exceed the server's maxima, with each maximum."""
    maxima = {
        "time_ms": limits.max_time_limit_ms,
        "wall_time_ms": 2 * limits.max_time_limit_ms,
        "memory_mb": limits.max_memory_limit_mb,
        "output_kb": limits.max_output_limit_kb,
        "processes": limits.sandbox_pids,
    }
    return [
        (name, maxima[name])
        for name, value in asked.items()
        if value is not None and value > maxima[name]
    ]


def _run_of(payload: RunIn, settings: LimitSettings) -> AdHocRun:
    if payload.stdin is not None and payload.stdin_b64 is not None:
        raise ApiError(422, "Invalid run", "stdin: give stdin or stdin_b64, not both")
    stdin = (payload.stdin or "").encode()
    if payload.stdin_b64 is not None:
        try:
            stdin = base64.b64decode(payload.stdin_b64, validate=True)
        except ValueError:
            raise ApiError(422, "Invalid run", "stdin_b64: not valid base64") from None
    args = tuple(payload.args or ())
    if (problem := args_problem(args)) is not None:
        raise ApiError(422, "Invalid run", f"args: {problem}")
    limits = payload.limits or RunLimitsIn()
    over = over_maximum(settings, limits.model_dump())
    if over:
        detail = "; ".join(f"limits.{name}: at most {most}" for name, most in over)
        raise ApiError(422, "Invalid run", detail)
    expected = payload.expected_output
    return AdHocRun(
        language=payload.language,
        code=payload.source,
        files=source_files(payload.files),
        entry_point=payload.entry_point,
        stdin=stdin,
        expected_output=expected.encode() if expected is not None else None,
        checker=payload.checker,
        args=args,
        merge_stderr=payload.merge_stderr,
        repeat=payload.repeat,
        time_limit_ms=limits.time_ms,
        wall_time_limit_ms=limits.wall_time_ms,
        memory_limit_mb=limits.memory_mb,
        output_limit_kb=limits.output_kb,
        process_limit=limits.processes,
    )


async def submit_run(
    request: web.Request,
    run: AdHocRun,
    callback_url: str | None = None,
    door: tuple[str, dict[str, Any]] | None = None,
) -> Submission:
    """Queue an ad-hoc run as a job (ApiError when it cannot be: queue full, intake's
    refusal, a refused callback URL); ``door``: see ``accept_job``."""
    await check_queue_room(request, 1)
    created = await accept_job(request, run.request(), callback_url, door=door)
    request.app[JOBS].wake()
    return created


@dataclass(frozen=True)
class RunSummary:
    """What a finished run did, as every run door reports it. With several runs
    (``repeat``) they stop counting at the first that is not accepted (Judge0's rule):
    the output is that run's (else the last one's), times and memory are averages."""

    verdict: Verdict
    compile_output: str
    compile_failed: bool
    shown: TestReport  # the run whose output is reported
    output: Output
    cpu_ms: int
    wall_ms: int
    memory_kb: int
    runs: tuple[TestReport, ...]

    @classmethod
    def of(cls, result: Result) -> RunSummary:
        counted: list[TestReport] = []
        for test in result.tests:
            counted.append(test)
            if test.verdict != Verdict.AC:
                break
        if not counted:  # no run at all (never for a run intake accepted)
            counted.append(TestReport(1, False, result.verdict, None, 0, 0, 0, None, None, None))
        shown = counted[-1]
        n = len(counted)
        return cls(
            verdict=result.verdict,
            compile_output=result.compile_output,
            compile_failed=result.verdict == Verdict.CE,
            shown=shown,
            output=shown.output or Output(b"", b""),
            cpu_ms=round(sum(t.time_ms for t in counted) / n),
            wall_ms=round(sum(t.wall_ms for t in counted) / n),
            memory_kb=round(sum(t.memory_kb for t in counted) / n),
            runs=result.tests,
        )


def _text(name: str, data: bytes) -> dict[str, Any]:
    """``name`` as text; when the bytes are not UTF-8, also ``name_b64`` with them."""
    try:
        return {name: data.decode("utf-8")}
    except UnicodeDecodeError:
        return {
            name: data.decode("utf-8", errors="replace"),
            f"{name}_b64": base64.b64encode(data).decode(),
        }


def run_out(s: Submission) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": s.id,
        "language": s.language,
        "status": s.status,
        "done": s.done,
        "created_at": iso_time(s.created_at),
        "started_at": iso_time(s.started_at),
        "finished_at": iso_time(s.finished_at),
        "worker": s.worker,
    }
    if s.result is not None:
        summary = RunSummary.of(s.result)
        out |= {
            "verdict": summary.verdict.value,
            "compile_output": summary.compile_output,
            **_text("stdout", summary.output.stdout),
            **_text("stderr", summary.output.stderr),
            "stdout_truncated": summary.output.stdout_truncated,
            "stderr_truncated": summary.output.stderr_truncated,
            "exit_code": summary.shown.exit_code,
            "signal": summary.shown.signal,
            "time_ms": summary.cpu_ms,
            "wall_ms": summary.wall_ms,
            "memory_kb": summary.memory_kb,
        }
        if len(summary.runs) > 1:
            out["runs"] = [
                {
                    "verdict": t.verdict.value,
                    "exit_code": t.exit_code,
                    "signal": t.signal,
                    "time_ms": t.time_ms,
                    "wall_ms": t.wall_ms,
                    "memory_kb": t.memory_kb,
                }
                for t in summary.runs
            ]
    if s.status == Status.FAILED:
        out["error"] = s.error
    return out


def _location(sid: str) -> dict[str, str]:
    return {"Location": f"{BASE}/{sid}"}


_TAGS = ("runs",)
_RUN_EXAMPLE = {
    "language": DEFAULT_LANGUAGE,
    "source": "import sys\nprint(input().upper(), sys.argv[1:])",
    "stdin": "hello",
    "args": ["-v"],
    "limits": {"time_ms": 1000},
}


_LINKS = links({"rid": "$response.body#/id"}, "getRun")


@operation(
    Operation(
        "createRun", "Run a program on a given stdin (no stored problem), as a job", _TAGS,
        {
            200: Reply("done (with ?wait=true)", RunOut, headers=("Location",), links=_LINKS),
            202: Reply("queued", RunOut, headers=("Location",), links=_LINKS),
            400: Reply("unknown language, bad files, or an invalid query parameter", ErrorBody),
            403: Reply("disallowed functions in the program", ErrorBody),
            422: Reply("invalid fields, stdin_b64, args, limits over the maximum", ErrorBody),
            503: Reply("too many jobs queued, or the language is being prepared", ErrorBody,
                       headers=("Retry-After",)),
        },
        body=Body(RunIn, example=_RUN_EXAMPLE),
        params=(WAIT,),
    )
)  # fmt: skip
async def create_run(request: web.Request) -> web.Response:
    wait = wants_wait(request)  # a bad ?wait= is refused before a job is made
    app = request.app
    settings = app[SETTINGS]
    data = await read_json(request, submission_limits(settings.http.max_body_bytes))
    try:
        payload = RunIn.model_validate(data)
    except ValidationError as exc:
        raise validation_error(exc, "Invalid run") from None
    created = await submit_run(request, _run_of(payload, settings.limits), payload.callback_url)
    if wait:
        finished = await wait_done(request, created.id, settings.jobs.max_wait_s)
        if finished is not None and finished.done:
            return respond(RunOut, run_out(finished), 200, _location(created.id))
        created = finished or created
    return respond(RunOut, run_out(created), 202, _location(created.id))


@operation(
    Operation("getRun", "An ad-hoc run", _TAGS,
              {200: Reply("the run", RunOut),
               404: Reply("no such run (or not the caller's)", ErrorBody)})
)  # fmt: skip
async def get_run(request: web.Request) -> web.Response:
    sid = request.match_info["rid"]
    found = await request.app[SUBMISSIONS].get(sid)
    mine = found is not None and (
        sees_everything(request) or found.owner == principal(request).key_id
    )
    if found is None or not mine or found.problem_id != AD_HOC_ID:
        raise ApiError(404, "Run not found", f"no run {sid!r}")
    return respond(RunOut, run_out(found))


def add_routes(router: web.UrlDispatcher) -> None:
    router.add_post(BASE, create_run)
    router.add_get(BASE + "/{rid}", get_run)
