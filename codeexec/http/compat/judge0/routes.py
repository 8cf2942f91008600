"""Judge0's submission routes: create (wait or not), show, delete, list, batches; and
where every Judge0 route is mounted."""

from __future__ import annotations

import math
from typing import Any

from aiohttp import web

from codeexec.config import Settings
from codeexec.http.auth import JUDGE0_ROUTES, principal, sees_everything
from codeexec.http.body import BodyLimits, read_json
from codeexec.http.compat.judge0.info import (
    STATUSES,
    about,
    all_languages,
    config_info,
    error,
    get_language,
    isolate,
    license_text,
    list_languages,
    list_statuses,
    system_info,
    version,
    workers,
)
from codeexec.http.compat.judge0.render import (
    DOOR,
    FIELDS,
    NOT_UTF8,
    NotText,
    base64_requested,
    requested_fields,
    sid_of,
    status_of,
    submission_fields,
    token_of,
)
from codeexec.http.compat.judge0.request import Unprocessable, parse_submission
from codeexec.http.compat.judge0.schema import (
    Judge0BatchIn,
    Judge0BatchItem,
    Judge0BatchRead,
    Judge0Error,
    Judge0Errors,
    Judge0Submission,
    Judge0SubmissionIn,
    Judge0SubmissionPage,
    Judge0Token,
)
from codeexec.http.errors import ApiError, json_response
from codeexec.http.keys import SETTINGS, SUBMISSIONS
from codeexec.http.operations import Body, Operation, Param, Reply, links, operation
from codeexec.http.runs_view import submit_run
from codeexec.http.submissions_view import wait_done
from codeexec.model import Submission
from codeexec.store.submissions import SubmissionFilter

_BATCH_VALUES = 64  # JSON values of one submission in a batch
_PAGE_MAX = 999_999_999  # ?page=, ?per_page=: longer numbers are refused unread
TAGS = ("judge0",)
# Judge0's own query rules, documented as they are: a field name it does not know is a
# 400; a flag is on only when it is exactly "true" (anything else is off, not an error).
_FIELD = "(" + "|".join((r"\*", *FIELDS)) + ")"
FIELDS_PARAM = Param(
    "fields", {"type": "string", "pattern": f"^,*({_FIELD}(,+{_FIELD})*,*)?$"},
    "comma-separated fields, or *",
)  # fmt: skip
BASE64_PARAM = Param("base64_encoded", {"type": "string"},
                     "true: text fields in base64 (Ruby's encode64), both ways; any other"
                     " value: plain text, as Judge0 takes it")  # fmt: skip
NOT_FOUND = Reply("no such submission", Judge0Error)
_INVALID = Reply("invalid fields: {field: [messages]}", Judge0Errors)
_BAD = Reply("invalid fields= or parameters, or a field not UTF-8 without base64",
             Judge0Error)  # fmt: skip
_ADMIN = Reply("needs an admin key (X-Auth-User)", Judge0Error)
_BUSY = Reply("queue is full", Judge0Error, headers=("Retry-After",))


# -- routes ------------------------------------------------------------------------------


def _limits(settings: Settings, batch: bool) -> BodyLimits:
    values = _BATCH_VALUES * settings.jobs.batch_max + 16 if batch else _BATCH_VALUES
    # A submission's body carries base64 (4/3) of the source and additional files.
    size = 2 * settings.http.max_body_bytes
    return BodyLimits(8 * size if batch else size, values)


async def _create(request: web.Request, body: Any) -> Submission:
    """Queue one Judge0 submission (Unprocessable, or ApiError from the job path)."""
    parsed = parse_submission(request, body, base64_requested(request))
    return await submit_run(request, parsed.run, parsed.callback_url, door=(DOOR, parsed.echo))


def _refusal(exc: ApiError) -> web.Response:
    """codeexec's refusal of a valid Judge0 request in Judge0's terms."""
    if exc.status == 503:
        return error(503, "queue is full" if "queued" in exc.message else exc.message,
                      exc.headers)  # fmt: skip
    field = "callback_url" if "callback" in exc.message else "source_code"
    detail = f"{exc.message}: {exc.detail}" if exc.detail else exc.message
    return json_response({field: [detail]}, 422)


@operation(
    Operation(
        "judge0CreateSubmission", "Create a submission (Judge0)", TAGS,
        {201: Reply("its token; with ?wait=true, the submission's fields", Judge0Submission,
                    links=links({"token": "$response.body#/token"},
                                "judge0GetSubmission", "judge0DeleteSubmission")),
         400: _BAD, 422: _INVALID, 503: _BUSY},
        body=Body(Judge0SubmissionIn, example={"source_code": "print(input())", "language_id": 71,
                                         "stdin": "hello"}),
        params=(Param("wait", {"type": "string"},
                      "true: answer when it is done; any other value: at once (as Judge0)"),
                FIELDS_PARAM, BASE64_PARAM),
        access="judge0", door="judge0",
    )
)  # fmt: skip
async def create_submission(request: web.Request) -> web.Response:
    fields = requested_fields(request)
    wait = request.query.get("wait") == "true"
    body = await read_json(request, _limits(request.app[SETTINGS], batch=False))
    try:
        created = await _create(request, body)
    except Unprocessable as exc:
        return json_response(exc.errors, 422)
    except ApiError as exc:
        return _refusal(exc)
    if not wait:
        return json_response(Judge0Token(token=token_of(created.id)).model_dump(), 201)
    finished = await wait_done(request, created.id, request.app[SETTINGS].jobs.max_wait_s)
    try:
        out = submission_fields(request.app, finished or created, fields, base64_requested(request))
    except NotText:
        return json_response({"error": NOT_UTF8, "token": token_of(created.id)}, 201)
    return json_response(out, 201)


async def _found(request: web.Request, token: str) -> Submission | None:
    sid = sid_of(token)
    found = await request.app[SUBMISSIONS].get(sid) if sid is not None else None
    if found is None or found.door != DOOR:
        return None
    if not (sees_everything(request) or found.owner == principal(request).key_id):
        return None
    return found


@operation(
    Operation("judge0GetSubmission", "A submission (Judge0)", TAGS,
              {200: Reply("its fields", Judge0Submission), 400: _BAD, 404: NOT_FOUND},
              params=(FIELDS_PARAM, BASE64_PARAM), access="judge0", door="judge0")
)  # fmt: skip
async def get_submission(request: web.Request) -> web.Response:
    fields = requested_fields(request)
    found = await _found(request, request.match_info["token"])
    if found is None:
        return error(404, "Not Found")
    try:
        return json_response(
            submission_fields(request.app, found, fields, base64_requested(request))
        )
    except NotText:
        return error(400, NOT_UTF8)


@operation(
    Operation(
        "judge0DeleteSubmission", "Delete a finished submission (Judge0, admin)", TAGS,
        {200: Reply("its fields, as they were", Judge0Submission),
         400: Reply("not finished yet, or invalid fields=", Judge0Error), 403: _ADMIN,
         404: NOT_FOUND},
        params=(FIELDS_PARAM,), access="judge0", door="judge0",
    )
)  # fmt: skip
async def delete_submission(request: web.Request) -> web.Response:
    if not sees_everything(request):  # Judge0's X-Auth-User; anyone where auth is off
        return error(403, "this route needs an admin key (X-Auth-User)")
    fields = requested_fields(request)
    found = await _found(request, request.match_info["token"])
    if found is None:
        return error(404, "Not Found")
    if not found.done:
        status_id = status_of(found)[0]
        return error(
            400,
            f"submission cannot be deleted because its status is {status_id}"
            f" ({STATUSES[status_id]})",
        )
    out = submission_fields(request.app, found, fields, True)
    await request.app[SUBMISSIONS].delete(found.id)
    return json_response(out)


@operation(
    Operation(
        "judge0ListSubmissions", "Submissions, a page at a time (Judge0, admin)", TAGS,
        {200: Reply("a page", Judge0SubmissionPage), 400: _BAD, 403: _ADMIN},
        params=(Param("page", {"type": "integer", "minimum": 1, "maximum": _PAGE_MAX}, "page"),
                Param("per_page", {"type": "integer", "minimum": 0, "maximum": _PAGE_MAX},
                      "page size (200 at most are listed)"),
                FIELDS_PARAM, BASE64_PARAM),
        access="judge0", door="judge0",
    )
)  # fmt: skip
async def list_submissions(request: web.Request) -> web.Response:
    if not sees_everything(request):  # Judge0's X-Auth-User; anyone where auth is off
        return error(403, "this route needs an admin key (X-Auth-User)")
    fields = requested_fields(request)
    page = _page(request.query.get("page", "1"), "page", 1)
    per_page = _page(request.query.get("per_page", "20"), "per_page", 0)
    per_page = min(per_page, 200)
    items, total = await request.app[SUBMISSIONS].find(
        SubmissionFilter(door=DOOR), "-created_at", per_page, (page - 1) * per_page
    )
    try:
        listed = [
            submission_fields(request.app, s, fields, base64_requested(request)) for s in items
        ]
    except NotText:
        return error(
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
        value = int(raw) if len(raw) <= len(str(_PAGE_MAX)) else -1
    except ValueError:
        value = -1
    if value < low:
        raise ApiError(400, f"invalid {name}: {raw[:20]}")
    return value


@operation(
    Operation(
        "judge0CreateBatch", "Create several submissions (Judge0)", TAGS,
        {201: Reply("for each, its token or its errors",
                    model=Judge0BatchItem, many=True),
         400: Reply("no submissions, or too many", Judge0Error),
         422: Reply("none was accepted: each one's errors",
                    model=Judge0BatchItem, many=True),
         503: _BUSY},
        body=Body(Judge0BatchIn), params=(BASE64_PARAM,), access="judge0", door="judge0",
    )
)  # fmt: skip
async def create_batch(request: web.Request) -> web.Response:
    settings = request.app[SETTINGS]
    body = await read_json(request, _limits(settings, batch=True))
    items = body.get("submissions") if isinstance(body, dict) else None
    count = len(items) if isinstance(items, list) else 0
    if count > settings.jobs.batch_max:
        return error(
            400,
            "number of submissions in a batch should be less than or equal to"
            f" {settings.jobs.batch_max}",
        )
    if not isinstance(items, list) or count == 0:
        return error(400, "there should be at least one submission in a batch")
    answers: list[dict[str, Any]] = []
    most = _limits(settings, batch=False).max_bytes
    for item in items:
        if _size(item) > most:  # each no larger than a submission sent alone
            answers.append({"submission": [f"is too large (at most {most} bytes)"]})
            continue
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
        answers.append({"token": token_of(created.id)})
    ok = any("token" in a for a in answers)
    return json_response(answers, 201 if ok else 422)


def _size(item: Any) -> int:
    """What a batch item's text weighs (its values are flat: strings, numbers, flags)."""
    if not isinstance(item, dict):
        return 0
    return sum(len(v) for v in item.values() if isinstance(v, str))


def _refusal_errors(exc: ApiError) -> dict[str, list[str]]:
    detail = f"{exc.message}: {exc.detail}" if exc.detail else exc.message
    return {"source_code": [detail]}


@operation(
    Operation(
        "judge0GetBatch", "Several submissions by token (Judge0)", TAGS,
        {200: Reply("each one's fields (null: not found)", Judge0BatchRead),
         400: Reply("no tokens, too many, invalid fields=, or not UTF-8", Judge0Error)},
        params=(Param("tokens", {"type": "string", "pattern": "[^,\\s]"},
                      "comma-separated tokens (CODEEXEC_BATCH_MAX at most)", required=True),
                FIELDS_PARAM, BASE64_PARAM),
        access="judge0", door="judge0",
    )
)  # fmt: skip
async def get_batch(request: web.Request) -> web.Response:
    settings = request.app[SETTINGS]
    fields = requested_fields(request)
    raw = request.headers.get("tokens") or request.query.get("tokens", "")
    tokens = [t for t in raw.strip().split(",") if t]
    if len(tokens) > settings.jobs.batch_max:
        return error(
            400,
            "number of submissions in a batch should be less than or equal to"
            f" {settings.jobs.batch_max}",
        )
    if not tokens:
        return error(400, "there should be at least one submission in a batch")
    out: list[dict[str, Any] | None] = []
    for token in tokens:
        found = await _found(request, token)
        try:
            out.append(
                submission_fields(request.app, found, fields, base64_requested(request))
                if found is not None
                else None
            )
        except NotText:
            return error(
                400,
                "some attributes for one or more submissions cannot be converted to UTF-8,"
                " use base64_encoded=true query parameter",
            )
    return json_response({"submissions": out})


def add_routes(router: web.UrlDispatcher, prefix: str) -> None:
    p = prefix.rstrip("/")
    routes = [
        ("POST", "/submissions", create_submission),
        ("GET", "/submissions", list_submissions),
        ("POST", "/submissions/batch", create_batch),
        ("GET", "/submissions/batch", get_batch),
        ("GET", "/submissions/{token}", get_submission),
        ("DELETE", "/submissions/{token}", delete_submission),
        ("GET", "/languages", list_languages),
        ("GET", "/languages/all", all_languages),
        ("GET", "/languages/{id}", get_language),
        ("GET", "/statuses", list_statuses),
        ("GET", "/about", about),
        ("GET", "/version", version),
        ("GET", "/config_info", config_info),
        ("GET", "/isolate", isolate),
        ("GET", "/license", license_text),
        ("GET", "/system_info", system_info),
        ("GET", "/workers", workers),
    ]
    for method, path, handler in routes:
        router.add_route(method, p + path, handler, name=f"{JUDGE0_ROUTES}.{handler.__name__}")
