"""``/api/v1/submissions``: asynchronous judging (jobs).

Submit (202 + ``Location``), read, poll (``/status``: 200 while running, 303 to
``/result`` once done), list with filters, pause and resume, cancel, rerun, delete, read
the event log or
follow it live (Server-Sent Events), and do several at once (``/batch``). Every job is
in the database from the moment it is accepted; workers (``codeexec.jobs.runner``) judge
it on the same path as ``/exec``. A submitter sees only its own jobs (404 otherwise).
"""

from __future__ import annotations

import json
import logging
import time
from datetime import UTC, datetime
from typing import Annotated, Any

from aiohttp import web
from pydantic import BaseModel, Field, StrictStr, ValidationError

from codeexec import logs
from codeexec.bounded import INT32_MAX, Input, at_most, limits_context
from codeexec.http.answers import respond
from codeexec.http.auth import principal, sees_everything
from codeexec.http.body import BodyLimits, read_json
from codeexec.http.error_schema import ErrorBody
from codeexec.http.errors import (
    ApiError,
    bounded_int,
    choice_schema,
    query_choice,
    query_int,
    refused,
    validation_error,
)
from codeexec.http.exec_view import (
    DEFAULT_LANGUAGE,
    LanguageIn,
    ProblemIdIn,
    intake_request,
    submission_limits,
)
from codeexec.http.job_schema import (
    BatchOut,
    BatchRead,
    EventsOut,
    SubmissionList,
    SubmissionOut,
    SubmissionStatusOut,
)
from codeexec.http.keys import (
    EVENTS,
    INTAKE,
    JOB_QUEUE,
    JOBS,
    LANGUAGES,
    NOTIFIER,
    SETTINGS,
    SUBMISSIONS,
    WEBHOOKS,
)
from codeexec.http.operations import Body, Operation, Param, Reply, links, operation
from codeexec.http.source_schema import FileName, SourceFiles
from codeexec.http.visibility import Viewer, event_for, test_for, viewer_of
from codeexec.intake import Rejected, Request
from codeexec.jobs.webhooks import WebhookRefused
from codeexec.model import Event, Scope, SourceFile, Status, Submission
from codeexec.store.submissions import SORTS, SubmissionFilter

log = logging.getLogger(__name__)

BASE = "/api/v1/submissions"
_MAX_PAGE = 200
_SSE_KEEPALIVE_S = 15.0


_ID_CHARS = 64  # ids in URLs and queries (the store's are 32)
# ?ids=: one id or more, of 1.._ID_CHARS characters (empty ones between commas are skipped)
_IDS = f"^,*[^,]{{1,{_ID_CHARS}}}(,+[^,]{{1,{_ID_CHARS}}})*,*$"
_STREAM = ("1", "true", "0", "false")
_BATCH_ITEM_VALUES = 256  # JSON values of one submission in a batch (no extra fields)


class SubmissionIn(Input):
    problem_id: ProblemIdIn
    language: LanguageIn = DEFAULT_LANGUAGE
    source: StrictStr | None = None  # with files: at most CODEEXEC_MAX_SOURCE_BYTES (413)
    files: SourceFiles | None = None
    entry_point: FileName | None = None
    callback_url: Annotated[StrictStr, Field(max_length=2000)] | None = None
    scope: Scope = Field(
        "all",
        description='the tests judged: "all", or "shown" (only the shown ones: samples;'
        " 422 for a problem with none)",
    )


class BatchIn(Input):
    submissions: Annotated[
        list[SubmissionIn], Field(min_length=1, fail_fast=True), at_most("batch_max")
    ]


_TAGS = ("submissions",)
NOT_FOUND = Reply("no such submission (or not the caller's)", ErrorBody)
_YES = ("1", "true", "yes")
_YES_NO = (*_YES, "0", "false", "no")
WAIT = Param(
    "wait", choice_schema(_YES_NO),
    "answer when the job is done (200), if within CODEEXEC_MAX_WAIT_S; else 202 (any case)",
)  # fmt: skip
# Where a new job's answer leads (the document's links: stateful fuzzing follows them).
_JOB_LINKS = links(
    {"sid": "$response.body#/id"},
    "getSubmission", "getSubmissionStatus", "getSubmissionResult", "getSubmissionEvents",
    "cancelSubmission", "rerunSubmission", "deleteSubmission", "pauseSubmission",
    "resumeSubmission",
)  # fmt: skip
_QUEUED = {
    200: Reply("done (with ?wait=true)", SubmissionOut, headers=("Location",), links=_JOB_LINKS),
    202: Reply("queued", SubmissionOut, headers=("Location",), links=_JOB_LINKS),
}
_REFUSED = {
    400: Reply("unknown language, bad files, or an invalid query parameter", ErrorBody),
    403: Reply("disallowed functions in the program (no job is made)", ErrorBody),
    404: Reply("no such problem", ErrorBody),
    422: Reply(
        "invalid fields (errors lists them) or callback URL, or scope \"shown\" on a problem"
        " with no shown test", ErrorBody,
    ),
    503: Reply(
        "too many jobs queued, too many programs waiting for screening, or the language"
        " is being prepared", ErrorBody, headers=("Retry-After",),
    ),
}  # fmt: skip


def iso_time(value: datetime | None) -> str | None:
    """A job's time as the API shows it (UTC, ISO 8601, ``Z``)."""
    return value.isoformat() + "Z" if value is not None else None


def seed_state(s: Submission) -> str:
    """Seed 000's states: NOT_STARTED, STARTED, NOT_EXECUTED, FINISHED_OK, FINISHED_ERROR."""
    if s.status == Status.QUEUED:
        return "NOT_STARTED"
    if s.status == Status.RUNNING:
        return "STARTED"
    if s.status == Status.PAUSED:
        return "STARTED" if s.started_at is not None else "NOT_STARTED"
    if s.status == Status.FINISHED:
        return "FINISHED_OK" if s.result and s.result.passed else "FINISHED_ERROR"
    return "NOT_EXECUTED"  # cancelled or failed


def submission_out(s: Submission, viewer: Viewer) -> dict[str, Any]:
    """A job as ``viewer`` may see it (hidden tests' results: ``visibility.test_for``)."""
    out: dict[str, Any] = {
        "id": s.id,
        "problem_id": s.problem_id,
        "problem_version": s.problem_version,
        "language": s.language,
        "owner": s.owner,
        "status": s.status,
        "state": seed_state(s),
        "done": s.done,
        "created_at": iso_time(s.created_at),
        "started_at": iso_time(s.started_at),
        "finished_at": iso_time(s.finished_at),
        "rerun_of": s.rerun_of,
        "callback_url": s.callback_url,
        "webhook": s.webhook_state,
        "attempts": s.attempts,
        "worker": s.worker,
        "scope": s.scope,
        "files": [{"name": n, "content": c} for n, c in s.files],
    }
    if s.result is not None:
        r = s.result
        out |= {
            "verdict": r.verdict.value,
            "passed": r.passed,
            "tests": {
                "shown": {
                    "passed": r.count(hidden=False, passed=True),
                    "failed": r.count(hidden=False, passed=False),
                },
                "hidden": {
                    "passed": r.count(hidden=True, passed=True),
                    "failed": r.count(hidden=True, passed=False),
                },
            },
            "compile_output": r.compile_output,
            "results": [test_for(viewer, t.as_json()) for t in r.tests],
        }
        if r.scoring is not None:
            out |= {
                "score": r.scoring.score,
                "max_score": r.scoring.max_score,
                "groups": [g.as_json() for g in r.scoring.groups],
            }
            if viewer.sees_hidden and r.scoring.error is not None:
                out["score_error"] = r.scoring.error
    if s.status == Status.FAILED:
        out["error"] = s.error
    if s.status in (Status.RUNNING, Status.PAUSED) and s.cancel_requested:
        out["cancel_requested"] = True
    if s.status == Status.PAUSED:
        out["paused_at"] = iso_time(s.paused_at)
    return out


def _location(sid: str) -> dict[str, str]:
    return {"Location": f"{BASE}/{sid}"}


async def _visible(request: web.Request, sid: str) -> Submission:
    """The submission if the caller may see it; 404 otherwise (whether or not it exists)."""
    found = await request.app[SUBMISSIONS].get(sid)
    if found is None or not (sees_everything(request) or found.owner == principal(request).key_id):
        raise ApiError(404, "Submission not found", f"no submission {sid!r}")
    return found


async def _accept(
    request: web.Request, payload: SubmissionIn, rerun_of: str | None = None, paused: bool = False
) -> Submission:
    request_in = intake_request(
        payload.problem_id,
        payload.language,
        payload.source,
        payload.files,
        payload.entry_point,
        payload.scope,
    )
    return await accept_job(request, request_in, payload.callback_url, rerun_of, paused=paused)


async def accept_job(
    request: web.Request,
    request_in: Request,
    callback_url: str | None = None,
    rerun_of: str | None = None,
    door: tuple[str, dict[str, Any]] | None = None,
    bad_request: str = "Invalid submission",
    paused: bool = False,
) -> Submission:
    """Screen and queue one job, a submission or an ad-hoc run (ApiError when it cannot
    be: intake's refusal, or a callback URL the webhook guard refuses); ``door``: the
    door that answers for it in its own format, and what it keeps of the request;
    ``bad_request``: the door's wording of a 400; ``paused``: held back until resumed."""
    app = request.app
    try:
        work = await app[INTAKE].accept(request_in)
    except Rejected as exc:
        raise refused(exc, bad_request, app[SETTINGS].admission.retry_after_s) from None
    if callback_url is not None:
        try:
            await app[WEBHOOKS].check(callback_url)
        except WebhookRefused as exc:
            raise ApiError(422, "Invalid callback_url", str(exc)) from exc
    created = await app[SUBMISSIONS].create(
        principal(request).key_id,
        work.snapshot.problem.id,
        work.language.id,
        tuple(work.files.items()),
        callback_url,
        rerun_of,
        accepted_version=work.snapshot.problem.version,
        screening_error=work.screening.compile_error,
        inline=request_in.inline,
        door=door[0] if door is not None else None,
        door_data=door[1] if door is not None else None,
        scope=request_in.scope,
        paused=paused,
    )
    # Accepted and queued are one moment for a job: it is stored queued.
    logs.event(
        log,
        "submission.accepted",
        submission_id=created.id,
        problem_id=created.problem_id,
        language=created.language,
        door=door[0] if door is not None else None,
        rerun_of=rerun_of,
        paused=paused,
    )
    if (runner := app.get(JOBS)) is not None:
        runner.remember_request(created.id, logs.REQUEST_ID.get())
    return created


async def check_queue_room(request: web.Request, adding: int) -> None:
    settings = request.app[SETTINGS]
    if await request.app[JOB_QUEUE].count_queued() + adding > settings.jobs.job_queue_size:
        raise ApiError(
            503,
            "Server busy: too many submissions queued",
            f"at most {settings.jobs.job_queue_size} queued",
            headers={"Retry-After": str(settings.admission.retry_after_s)},
        )


async def wait_done(request: web.Request, sid: str, within_s: float) -> Submission | None:
    app = request.app
    deadline = time.monotonic() + within_s
    while True:
        found = await app[SUBMISSIONS].get(sid)
        if found is None or found.done:
            return found
        left = deadline - time.monotonic()
        if left <= 0:
            return found
        await app[NOTIFIER].wait(sid, min(left, app[SETTINGS].jobs.job_poll_s))


def wants_wait(request: web.Request) -> bool:
    return query_choice(request, "wait", _YES_NO) in _YES


PAUSED = Param(
    "paused", choice_schema(_YES_NO),
    "submit it paused: held back from workers until resumed (any case)",
)  # fmt: skip


async def _answer_new(request: web.Request, created: Submission, wait: bool) -> web.Response:
    request.app[JOBS].wake()
    if wait:
        finished = await wait_done(request, created.id, request.app[SETTINGS].jobs.max_wait_s)
        if finished is not None and finished.done:
            body = submission_out(finished, viewer_of(request))
            return respond(SubmissionOut, body, 200, _location(created.id))
        created = finished or created
    body = submission_out(created, viewer_of(request))
    return respond(SubmissionOut, body, 202, _location(created.id))


async def _payload(request: web.Request, model: type[BaseModel], limits: BodyLimits) -> Any:
    data = await read_json(request, limits)
    try:
        return model.model_validate(data, context=limits_context(request.app[SETTINGS]))
    except ValidationError as exc:
        raise validation_error(exc, "Invalid submission") from None


# -- one submission -------------------------------------------------------------------


@operation(
    Operation(
        "createSubmission", "Submit a program for judging, as a job", _TAGS,
        _QUEUED | _REFUSED,
        body=Body(SubmissionIn, example={"problem_id": "HQ000000000000000002",
                                         "source": "print(input().lower())"}),
        params=(WAIT, PAUSED),
    )
)  # fmt: skip
async def create_submission(request: web.Request) -> web.Response:
    wait = wants_wait(request)  # a bad ?wait= or ?paused= is refused before a job is made
    paused = query_choice(request, "paused", _YES_NO) in _YES
    limits = submission_limits(request.app[SETTINGS].http.max_body_bytes)
    payload: SubmissionIn = await _payload(request, SubmissionIn, limits)
    await check_queue_room(request, 1)
    return await _answer_new(request, await _accept(request, payload, paused=paused), wait)


@operation(
    Operation("getSubmission", "A job", _TAGS,
              {200: Reply("the job", SubmissionOut), 404: NOT_FOUND})
)  # fmt: skip
async def get_submission(request: web.Request) -> web.Response:
    found = await _visible(request, request.match_info["sid"])
    return respond(SubmissionOut, submission_out(found, viewer_of(request)))


@operation(
    Operation(
        "getSubmissionStatus", "Poll a job: 200 while it runs, 303 to its result when done",
        _TAGS,
        {
            200: Reply("not done yet", SubmissionStatusOut),
            303: Reply("done: see Location (.../result)",
                       headers=("Location",)),
            404: NOT_FOUND,
        },
    )
)  # fmt: skip
async def get_status(request: web.Request) -> web.Response:
    found = await _visible(request, request.match_info["sid"])
    if found.done:
        raise web.HTTPSeeOther(f"{BASE}/{found.id}/result")
    return respond(SubmissionStatusOut, {"id": found.id, "status": found.status, "done": False})


@operation(
    Operation(
        "getSubmissionResult", "A finished job", _TAGS,
        {200: Reply("the job, done", SubmissionOut), 404: NOT_FOUND,
         409: Reply("not finished yet (status says where it is)", ErrorBody)},
    )
)  # fmt: skip
async def get_result(request: web.Request) -> web.Response:
    found = await _visible(request, request.match_info["sid"])
    if not found.done:
        raise ApiError(
            409,
            "Not finished yet",
            f"status is {found.status}; poll {BASE}/{found.id}/status",
            extra={"status": found.status},
        )
    return respond(SubmissionOut, submission_out(found, viewer_of(request)))


@operation(
    Operation(
        "cancelSubmission", "Cancel a job (a job already done is answered as it is)", _TAGS,
        {200: Reply("the job, cancelled or done", SubmissionOut), 404: NOT_FOUND},
    )
)  # fmt: skip
async def cancel_submission(request: web.Request) -> web.Response:
    found = await _visible(request, request.match_info["sid"])
    if found.done:
        return respond(SubmissionOut, submission_out(found, viewer_of(request)))  # idempotent
    app = request.app
    updated = await app[JOB_QUEUE].request_cancel(found.id)
    if (
        updated is not None
        and updated.status in (Status.RUNNING, Status.PAUSED)
        and app[JOBS].cancel_here(found.id)
    ):
        # Running here: its sandbox goes now; answer once the job says so.
        updated = await wait_done(request, found.id, 10.0)
    if updated is None:
        raise ApiError(404, "Submission not found")
    return respond(SubmissionOut, submission_out(updated, viewer_of(request)))


_PAUSE_ANSWERS = {
    200: Reply("the job as it is now", SubmissionOut),
    404: NOT_FOUND,
    409: Reply("the job is done", ErrorBody),
}


@operation(
    Operation(
        "pauseSubmission",
        "Pause a job: a queued one is held back from workers, a running one's sandboxes"
        " are frozen (its wall time stops); paused already: answered as it is",
        _TAGS, _PAUSE_ANSWERS,
    )
)  # fmt: skip
async def pause_submission(request: web.Request) -> web.Response:
    found = await _visible(request, request.match_info["sid"])
    _refuse_done(found)
    app = request.app
    updated = await app[JOB_QUEUE].pause(found.id)
    if updated is not None and updated.status == Status.PAUSED and updated.claimed_by:
        # Frozen now if it runs here; another process's worker sees it within
        # CODEEXEC_JOB_POLL_S.
        await app[JOBS].pause_here(found.id, True)
    _notify(request, found, updated, "paused")
    return _job_now(request, updated)


@operation(
    Operation(
        "resumeSubmission",
        "Resume a paused job: it runs on from where it was, or is queued (in its place) if"
        " it had not started or its worker was lost; not paused: answered as it is",
        _TAGS, _PAUSE_ANSWERS,
    )
)  # fmt: skip
async def resume_submission(request: web.Request) -> web.Response:
    found = await _visible(request, request.match_info["sid"])
    _refuse_done(found)
    app = request.app
    updated = await app[JOB_QUEUE].resume(found.id)
    if updated is not None and updated.status == Status.RUNNING:
        await app[JOBS].pause_here(found.id, False)
    app[JOBS].wake()
    _notify(request, found, updated, "resumed")
    return _job_now(request, updated)


def _notify(request: web.Request, before: Submission, now: Submission | None, what: str) -> None:
    """A callback notice when the job was paused or resumed now (a door's callbacks,
    Judge0's, carry outcomes only)."""
    changed = now is not None and (now.status == Status.PAUSED) != (before.status == Status.PAUSED)
    if changed and before.callback_url and before.door is None:
        request.app[WEBHOOKS].deliver(before.id, what)


def _refuse_done(job: Submission) -> None:
    if job.done:
        raise ApiError(409, "Already done", f"status is {job.status}", extra={"status": job.status})


def _job_now(request: web.Request, job: Submission | None) -> web.Response:
    if job is None:
        raise ApiError(404, "Submission not found")
    _refuse_done(job)  # it may have ended meanwhile
    return respond(SubmissionOut, submission_out(job, viewer_of(request)))


@operation(
    Operation(
        "rerunSubmission", "Judge a job's program again, as a new job", _TAGS,
        _QUEUED | _REFUSED | {404: Reply("no such job, or its problem is gone", ErrorBody)},
        params=(WAIT,),
    )
)  # fmt: skip
async def rerun_submission(request: web.Request) -> web.Response:
    wait = wants_wait(request)
    found = await _visible(request, request.match_info["sid"])
    await check_queue_room(request, 1)
    language = request.app[LANGUAGES].get(found.language)
    entry = language.source_file if language is not None else None
    files = [SourceFile(n, c) for n, c in found.files]
    # An ad-hoc run is run again on the problem it carries, a job on the tests it judged.
    again = Request(found.problem_id, found.language, None, files, entry, found.inline, found.scope)
    created = await accept_job(request, again, found.callback_url, rerun_of=found.id)
    return await _answer_new(request, created, wait)


@operation(
    Operation(
        "deleteSubmission", "Delete a job (a running one is cancelled first)", _TAGS,
        {204: Reply("deleted"), 404: NOT_FOUND},
    )
)  # fmt: skip
async def delete_submission(request: web.Request) -> web.Response:
    found = await _visible(request, request.match_info["sid"])
    app = request.app
    if found.claimed_by is not None and not found.done:  # running or paused: cancelled
        # first, its sandbox removed
        await app[JOB_QUEUE].request_cancel(found.id)
        # If another process runs it, its worker sees the request at its next renewal.
        app[JOBS].cancel_here(found.id)
        await wait_done(request, found.id, app[SETTINGS].jobs.job_lease_s)
    await app[SUBMISSIONS].delete(found.id)
    return web.Response(status=204)


# -- events ----------------------------------------------------------------------------


def _event_out(event: Event, viewer: Viewer) -> dict[str, Any]:
    return {
        "seq": event.seq,
        "kind": event.kind,
        "data": event_for(viewer, event.kind, event.data),
        "at": iso_time(event.created_at),
    }


_FINAL_EVENTS = frozenset({Status.FINISHED, Status.CANCELLED, Status.FAILED})


@operation(
    Operation(
        "getSubmissionEvents",
        "A job's events so far, or followed live as Server-Sent Events", _TAGS,
        {
            200: Reply(
                "the events (JSON), or a text/event-stream of them that ends with the job"
                " (each: id, event: its kind, data: the event as JSON)",
                EventsOut,
                others={"text/event-stream": {"type": "string"}},
            ),
            400: Reply("invalid Last-Event-ID", ErrorBody),
            404: NOT_FOUND,
        },
        params=(
            Param("stream", choice_schema(_STREAM),
                  "stream the events (as Accept: text/event-stream does; any case)"),
            Param("Last-Event-ID", {"type": "string", "pattern": "^[0-9]{1,10}$"},
                  "stream the events after this one", where="header"),
        ),
    )
)  # fmt: skip
async def get_events(request: web.Request) -> web.StreamResponse:
    found = await _visible(request, request.match_info["sid"])
    event_log = request.app[EVENTS]
    stream = query_choice(request, "stream", _STREAM)
    streaming = "text/event-stream" in request.headers.get("Accept", "") or stream in _YES
    if not streaming:
        events = await event_log.events(found.id)
        viewer = viewer_of(request)
        body = {"id": found.id, "events": [_event_out(e, viewer) for e in events]}
        return respond(EventsOut, body)
    # A browser resends the last id it got from us; anything else is refused.
    after = bounded_int(request.headers.get("Last-Event-ID", "0") or "0", 0, INT32_MAX)
    if after is None:
        raise ApiError(400, "Invalid Last-Event-ID", f"an event id: 0..{INT32_MAX}")
    return await _stream_events(request, found, after)


async def _stream_events(request: web.Request, found: Submission, after: int) -> web.StreamResponse:
    """The event log so far, then each new event as it happens, until the job ends."""
    app = request.app
    viewer = viewer_of(request)
    response = web.StreamResponse(
        headers={
            "Content-Type": "text/event-stream",
            "Cache-Control": "no-cache",
            "X-Accel-Buffering": "no",
        }
    )
    await response.prepare(request)
    quiet_since = time.monotonic()
    while True:
        events = await app[EVENTS].events(found.id, after)
        for event in events:
            payload = json.dumps(_event_out(event, viewer), ensure_ascii=False)
            await response.write(
                f"id: {event.seq}\nevent: {event.kind}\ndata: {payload}\n\n".encode()
            )
            after = event.seq
            if event.kind in _FINAL_EVENTS:
                await response.write_eof()
                return response
        if events:
            quiet_since = time.monotonic()
        elif time.monotonic() - quiet_since > _SSE_KEEPALIVE_S:
            await response.write(b": keep-alive\n\n")
            quiet_since = time.monotonic()
        await app[NOTIFIER].wait(found.id, app[SETTINGS].jobs.job_poll_s)


# -- many ------------------------------------------------------------------------------


def _parse_time(name: str, raw: str | None) -> datetime | None:
    if raw is None:
        return None
    try:
        value = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError as exc:
        raise ApiError(400, "Invalid query parameter", f"{name} must be an ISO 8601 time") from exc
    if value.tzinfo is not None:
        value = value.astimezone(UTC).replace(tzinfo=None)
    return value


@operation(
    Operation(
        "listSubmissions", "Jobs, filtered and sorted (a submitter sees its own)", _TAGS,
        {200: Reply("a page of jobs", SubmissionList),
         400: Reply("invalid query parameter", ErrorBody)},
        params=(
            Param("status", {"type": "string", "enum": [str(s) for s in Status]}, "status"),
            Param("problem_id", {"type": "string"}, "problem"),
            Param("language", {"type": "string"}, "language"),
            Param("owner", {"type": "string"}, "API key id (admins)"),
            Param("verdict", {"type": "string"}, "verdict"),
            Param("created_after", {"type": "string", "format": "date-time"}, "ISO 8601"),
            Param("created_before", {"type": "string", "format": "date-time"}, "ISO 8601"),
            Param("sort", {"type": "string", "enum": list(SORTS)}, "order"),
            Param("limit", {"type": "integer", "minimum": 1, "maximum": _MAX_PAGE}, "page size"),
            Param("offset", {"type": "integer", "minimum": 0, "maximum": 1 << 31}, "skip"),
        ),
    )
)  # fmt: skip
async def list_submissions(request: web.Request) -> web.Response:
    q = request.query
    status = q.get("status")
    if status is not None and status not in set(Status):
        raise ApiError(
            400, "Invalid query parameter", f"status must be one of {[str(s) for s in Status]}"
        )
    sort = q.get("sort", "-created_at")
    if sort not in SORTS:
        raise ApiError(400, "Invalid query parameter", f"sort must be one of {list(SORTS)}")
    owner = q.get("owner")
    if not sees_everything(request):
        owner = principal(request).key_id  # a submitter lists only its own
    where = SubmissionFilter(
        status=status,
        problem_id=q.get("problem_id"),
        language=q.get("language"),
        owner=owner,
        verdict=q.get("verdict"),
        created_after=_parse_time("created_after", q.get("created_after")),
        created_before=_parse_time("created_before", q.get("created_before")),
    )
    limit = query_int(request, "limit", 20, 1, _MAX_PAGE)
    offset = query_int(request, "offset", 0, 0, 1 << 31)
    items, total = await request.app[SUBMISSIONS].find(where, sort, limit, offset)
    return respond(
        SubmissionList,
        {
            "items": [submission_out(s, viewer_of(request)) for s in items],
            "total": total,
            "limit": limit,
            "offset": offset,
        },
    )


@operation(
    Operation(
        "createSubmissionBatch",
        "Submit several programs at once (stops at the first refused: index, created)",
        _TAGS,
        {202: Reply("all queued", BatchOut)} | _REFUSED,
        body=Body(BatchIn),
    )
)  # fmt: skip
async def create_batch(request: web.Request) -> web.Response:
    settings = request.app[SETTINGS]
    limits = BodyLimits(  # a batch may be larger than one submission, not 50 times
        8 * settings.http.max_body_bytes, _BATCH_ITEM_VALUES * settings.jobs.batch_max + 16
    )
    payload: BatchIn = await _payload(request, BatchIn, limits)
    await check_queue_room(request, len(payload.submissions))
    created = []
    for index, item in enumerate(payload.submissions):
        try:
            created.append(await _accept(request, item))
        except ApiError as exc:
            # The ones before it are queued already: say which failed and why.
            raise ApiError(
                exc.status,
                exc.message,
                f"submissions.{index}: {exc.detail or exc.message}",
                extra={"index": index, "created": [s.id for s in created]},
            ) from exc
    request.app[JOBS].wake()
    viewer = viewer_of(request)
    return respond(BatchOut, {"items": [submission_out(s, viewer) for s in created]}, 202)


@operation(
    Operation(
        "getSubmissionBatch", "Several jobs by id", _TAGS,
        {200: Reply("the jobs found, and the ids missing", BatchRead),
         400: Reply("invalid query parameter", ErrorBody)},
        params=(Param("ids", {"type": "string", "pattern": _IDS},
                      "comma-separated job ids (CODEEXEC_BATCH_MAX at most)", required=True),),
    )
)  # fmt: skip
async def get_batch(request: web.Request) -> web.Response:
    ids = [i for i in request.query.get("ids", "").split(",") if i]
    settings = request.app[SETTINGS]
    if not ids or len(ids) > settings.jobs.batch_max or max(map(len, ids)) > _ID_CHARS:
        raise ApiError(
            400, "Invalid query parameter",
            f"ids: 1 to {settings.jobs.batch_max} ids of at most {_ID_CHARS} characters",
        )  # fmt: skip
    items, _ = await request.app[SUBMISSIONS].find(
        SubmissionFilter(ids=ids), "created_at", len(ids), 0
    )
    mine = principal(request).key_id
    visible = {s.id: s for s in items if sees_everything(request) or s.owner == mine}
    return respond(
        BatchRead,
        {
            "items": [submission_out(visible[i], viewer_of(request)) for i in ids if i in visible],
            "missing": [i for i in ids if i not in visible],
        },
    )


def add_routes(router: web.UrlDispatcher) -> None:
    one = BASE + "/{sid}"
    router.add_post(BASE, create_submission)
    router.add_get(BASE, list_submissions)
    router.add_post(BASE + "/batch", create_batch)
    router.add_get(BASE + "/batch", get_batch)
    router.add_get(one, get_submission)
    router.add_delete(one, delete_submission)
    router.add_get(one + "/status", get_status)
    router.add_get(one + "/result", get_result)
    router.add_get(one + "/events", get_events)
    router.add_post(one + "/cancel", cancel_submission)
    router.add_post(one + "/rerun", rerun_submission)
    router.add_post(one + "/pause", pause_submission)
    router.add_post(one + "/resume", resume_submission)
