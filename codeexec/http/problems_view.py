"""``/api/v1/problems``: create, list, read, update, replace and delete problems, and
add, replace, reorder and delete their tests.

Writes need the admin token (``codeexec.http.auth``). Every change of tests makes a new
version; a submission is judged against the one version it started with.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Sequence
from typing import Any, TypeVar

from aiohttp import web
from pydantic import BaseModel, ValidationError

from codeexec.bounded import limits_context
from codeexec.checker import CheckerArgsError, validate_spec
from codeexec.checker.program import CheckerFailed
from codeexec.http.answers import respond
from codeexec.http.auth import require_admin
from codeexec.http.body import BodyLimits, read_json
from codeexec.http.error_schema import ErrorBody
from codeexec.http.errors import (
    ApiError,
    bounded_int,
    choice_schema,
    query_choice,
    query_int,
    validation_error,
)
from codeexec.http.import_view import import_problem
from codeexec.http.keys import JUDGE, LANGUAGES, LIFECYCLE, SETTINGS, STORE
from codeexec.http.operations import Body, Operation, Param, Reply, links, operation
from codeexec.http.problem_schema import (
    CheckerIn,
    OrderIn,
    ProblemIn,
    ProblemList,
    ProblemOut,
    ProblemSettingsIn,
    ProblemTestOut,
    TestsIn,
    TestsOut,
    TestsReplaceIn,
)
from codeexec.http.source_schema import source_files
from codeexec.http.statements_view import add_routes as add_statement_routes
from codeexec.http.statements_view import problem_files
from codeexec.http.visibility import Viewer, problem_for, problem_test_for, viewer_of
from codeexec.intake import SubmissionError, binary_files, program_files
from codeexec.intake.program import source_bytes
from codeexec.model import (
    PROBLEM_ID_PATTERN,
    PROGRAM_MODES,
    CheckerProgram,
    CheckerSpec,
    Language,
    Problem,
    TestCase,
    TestSummary,
)
from codeexec.store.problems import ProblemStore

Model = TypeVar("Model", bound=BaseModel)
_MAX_PAGE = 200
_PROBLEMS = ("problems",)
_TESTS = ("tests",)
_NO_PROBLEM = Reply("no such problem", ErrorBody)
_NO_TEST = Reply("no such problem, or no test at that position", ErrorBody)
_INVALID = Reply("invalid fields (errors lists them), checker or screening policy", ErrorBody)
_SAVED = Reply(
    "the problem as saved, with its tests' sizes", ProblemOut, headers=("Location",),
    links=links(
        {"problem_id": "$response.body#/id"},
        "getProblem", "updateProblem", "listTests", "addTests", "replaceTests", "deleteProblem",
    ),
)  # fmt: skip
_PAGE = (
    Param("limit", {"type": "integer", "minimum": 1, "maximum": _MAX_PAGE}, "page size"),
    Param("offset", {"type": "integer", "minimum": 0, "maximum": 1 << 31}, "skip"),
)
_TESTS_SHOWN = ("full", "summary")
_BAD_QUERY = Reply("invalid query parameter", ErrorBody)
_CODE_TOO_LARGE = Reply("the body, or a custom checker's program, is too large", ErrorBody)


# JSON values a body may hold (codeexec.http.body): a test is at most 7, the settings
# (a checker's files and arguments, screening lists) at most a few thousand.
_TEST_VALUES = 8
_SETTINGS_VALUES = 8192


async def _payload(
    request: web.Request, model: type[Model], values: int, max_bytes: int | None = None
) -> Model:
    settings = request.app[SETTINGS]
    limits = BodyLimits(max_bytes or settings.http.max_problem_body_mb << 20, values)
    data = await read_json(request, limits)
    try:
        return model.model_validate(data, context=limits_context(settings))
    except ValidationError as exc:
        raise validation_error(exc) from None


def _tests_values(request: web.Request) -> int:
    return _TEST_VALUES * request.app[SETTINGS].http.max_tests + 64


def _unprocessable(message: str, detail: str) -> ApiError:
    return ApiError(422, message, detail)


async def checker_spec(app: web.Application, given: CheckerIn | str | None) -> CheckerSpec:
    """The checker a request describes, validated; a custom one is compiled now, so a
    problem setter sees its compile errors at once (422) rather than IE verdicts later."""
    if given is None:
        return CheckerSpec()
    if isinstance(given, str):
        return CheckerSpec(given)
    program = None
    if given.mode in PROGRAM_MODES:
        usable = app[LIFECYCLE].usable(app[LANGUAGES])
        language = usable.get(given.language or "")
        if language is None:
            raise _unprocessable(
                "Invalid checker", f"checker.language must be one of {sorted(usable)}"
            )
        try:
            texts = program_files(
                language, given.source, source_files(given.files), given.entry_point
            )
        except SubmissionError as exc:
            raise _unprocessable("Invalid checker", f"checker: {exc}") from exc
        if binaries := binary_files(texts):
            raise _unprocessable("Invalid checker", f"checker: {binaries} are not source files")
        limit = app[SETTINGS].http.max_source_bytes
        if source_bytes(texts) > limit:
            raise ApiError(413, "Code too large", f"at most {limit} bytes")
        program = CheckerProgram(language.id, tuple(texts.items()))
    elif given.language or given.source or given.files or given.entry_point:
        raise _unprocessable(
            "Invalid checker",
            "checker.language/source/files go with modes 'custom' and 'interactive' only",
        )
    spec = CheckerSpec(given.mode, tuple(given.args), program)
    try:
        validate_spec(spec)
    except CheckerArgsError as exc:
        raise _unprocessable("Invalid checker", f"checker: {exc}") from exc
    # serve --no-workers has no Docker: a checker that does not compile fails its jobs
    if program is not None and JUDGE in app:
        try:
            await app[JUDGE].checkers.verify(spec)
        except CheckerFailed as exc:
            raise _unprocessable("Checker does not compile", str(exc)) from exc
    return spec


def _check_screening(app: web.Application, screening: dict[str, list[str]] | None) -> None:
    known: dict[str, Language] = app[LANGUAGES]
    unknown = sorted(set(screening or {}) - set(known))
    if unknown:
        raise _unprocessable(
            "Invalid screening policy",
            f"screening: unknown language(s) {unknown}; use {sorted(known)}",
        )


async def _settings(app: web.Application, payload: ProblemSettingsIn) -> dict[str, Any]:
    """The settings a request sets (only those it names), in store form."""
    given = payload.model_dump(exclude_unset=True, include=set(ProblemSettingsIn.model_fields))
    if "title" in given and given["title"] is None:
        given["title"] = ""
    if "checker" in given:
        given["checker"] = await checker_spec(app, payload.checker)
    if "screening" in given:
        _check_screening(app, payload.screening)
    return given


def _store(request: web.Request) -> ProblemStore:
    return request.app[STORE]


async def _problem(request: web.Request) -> Problem:
    problem_id = request.match_info["problem_id"]
    problem = await _store(request).get_problem(problem_id)
    if problem is None:
        raise ApiError(404, "Problem not found", f"no problem with id {problem_id!r}")
    return problem


async def _summaries(request: web.Request, problem: Problem) -> list[TestSummary]:
    """The tests of the problem's version without their data (none is loaded)."""
    return await _store(request).test_summaries(problem.id, problem.version)


def _with_tests(viewer: Viewer, problem: Problem, tests: Sequence[TestCase | TestSummary]) -> Any:
    """The problem and its tests (with their data, or only their sizes) as ``viewer``
    may see them."""
    return problem_for(viewer, problem) | {
        "tests": [problem_test_for(viewer, i, t) for i, t in enumerate(tests, 1)]
    }


async def _tests(request: web.Request, problem: Problem) -> tuple[TestCase, ...]:
    snapshot = await _store(request).snapshot(problem.id)
    if snapshot is None:
        raise ApiError(404, "Problem not found", f"no problem with id {problem.id!r}")
    return snapshot.tests


def _location(problem_id: str) -> dict[str, str]:
    return {"Location": f"/api/v1/problems/{problem_id}"}


async def _saved(request: web.Request, problem: Problem, status: int = 200) -> web.Response:
    """The problem as stored now, with its tests' sizes (not their data)."""
    tests = await _summaries(request, problem)
    body = _with_tests(viewer_of(request), problem, tests)
    body |= await problem_files(_store(request), problem)
    return respond(ProblemOut, body, status, _location(problem.id))


# -- problems ------------------------------------------------------------------------


@operation(
    Operation("listProblems", "Problems, a page at a time", _PROBLEMS,
              {200: Reply("a page of problems", ProblemList), 400: _BAD_QUERY}, params=_PAGE)
)  # fmt: skip
async def list_problems(request: web.Request) -> web.Response:
    limit = query_int(request, "limit", 50, 1, _MAX_PAGE)
    offset = query_int(request, "offset", 0, 0, 1 << 31)
    items, total = await _store(request).list_problems(limit, offset)
    return respond(
        ProblemList,
        {
            "items": [
                {
                    "id": p.id,
                    "title": p.title,
                    "version": p.version,
                    "tests": p.tests,
                    "hidden_tests": p.hidden_tests,
                    "updated_at": p.updated_at.isoformat(),
                }
                for p in items
            ],
            "total": total,
            "limit": limit,
            "offset": offset,
        },
    )


async def _save_whole(request: web.Request, payload: ProblemIn, problem_id: str) -> Problem:
    settings = await _settings(request.app, payload)
    problem = Problem(id=problem_id, **settings)
    tests = [t.to_test_case() for t in payload.tests]
    return await _store(request).save(problem, tests)


@operation(
    Operation(
        "createProblem", "Create a problem with its tests", _PROBLEMS,
        {201: _SAVED, 409: Reply("a problem with that id exists", ErrorBody),
         413: _CODE_TOO_LARGE, 422: _INVALID},
        body=Body(ProblemIn, example={
            "id": "sum", "title": "Sum", "time_limit_ms": 1000,
            "tests": [{"input": "1 2\n", "expected_output": "3\n"},
                      {"input": "5 5\n", "expected_output": "10\n", "hidden": True}],
        }),
        access="admin",
    )
)  # fmt: skip
async def create_problem(request: web.Request) -> web.Response:
    require_admin(request)
    payload = await _payload(request, ProblemIn, _tests_values(request) + _SETTINGS_VALUES)
    problem_id = payload.id or f"p{secrets.token_hex(8)}"
    if await _store(request).exists(problem_id):
        raise ApiError(
            409, "Problem exists", f"{problem_id!r} exists; PUT /api/v1/problems/{problem_id}"
        )
    return await _saved(request, await _save_whole(request, payload, problem_id), 201)


@operation(
    Operation(
        "replaceProblem", "Create or replace a problem (settings and tests)", _PROBLEMS,
        {200: _SAVED, 201: _SAVED, 413: _CODE_TOO_LARGE, 422: _INVALID},
        body=Body(ProblemIn), access="admin",
    )
)  # fmt: skip
async def replace_problem(request: web.Request) -> web.Response:
    """PUT: create the problem with this id, or replace all its settings and tests."""
    require_admin(request)
    problem_id = request.match_info["problem_id"]
    if not re.fullmatch(PROBLEM_ID_PATTERN, problem_id):
        raise _unprocessable(
            "Invalid problem", f"the id in the URL must match {PROBLEM_ID_PATTERN}"
        )
    payload = await _payload(request, ProblemIn, _tests_values(request) + _SETTINGS_VALUES)
    if payload.id is not None and payload.id != problem_id:
        raise _unprocessable("Invalid problem", "id in the body differs from the URL")
    existed = await _store(request).exists(problem_id)
    problem = await _save_whole(request, payload, problem_id)
    return await _saved(request, problem, 200 if existed else 201)


@operation(
    Operation(
        "getProblem", "A problem and its tests (with their data, or only their sizes)",
        _PROBLEMS, {200: Reply("the problem", ProblemOut), 400: _BAD_QUERY, 404: _NO_PROBLEM},
        params=(Param("tests", choice_schema(_TESTS_SHOWN),
                      "summary: the tests' sizes, not their data (any case)"),),
    )
)  # fmt: skip
async def get_problem(request: web.Request) -> web.Response:
    problem = await _problem(request)
    viewer = viewer_of(request)
    if query_choice(request, "tests", _TESTS_SHOWN) == "summary":
        body = _with_tests(viewer, problem, await _summaries(request, problem))
    else:
        body = _with_tests(viewer, problem, await _tests(request, problem))
    body |= await problem_files(_store(request), problem)
    return respond(ProblemOut, body)


@operation(
    Operation(
        "updateProblem", "Change some of a problem's settings", _PROBLEMS,
        {200: _SAVED, 404: _NO_PROBLEM, 413: _CODE_TOO_LARGE, 422: _INVALID},
        body=Body(ProblemSettingsIn), access="admin",
    )
)  # fmt: skip
async def update_problem(request: web.Request) -> web.Response:
    require_admin(request)
    payload = await _payload(request, ProblemSettingsIn, _SETTINGS_VALUES)
    current = await _problem(request)
    changes = await _settings(request.app, payload)
    updated = await _store(request).update_settings(current.id, changes)
    if updated is None:
        raise ApiError(404, "Problem not found", f"no problem with id {current.id!r}")
    return await _saved(request, updated)


@operation(
    Operation("deleteProblem", "Delete a problem", _PROBLEMS,
              {204: Reply("deleted"), 404: _NO_PROBLEM}, access="admin")
)  # fmt: skip
async def delete_problem(request: web.Request) -> web.Response:
    require_admin(request)
    problem_id = request.match_info["problem_id"]
    if not await _store(request).delete(problem_id):
        raise ApiError(404, "Problem not found", f"no problem with id {problem_id!r}")
    return web.Response(status=204)


# -- tests ---------------------------------------------------------------------------


def _position(request: web.Request, count: int) -> int:
    """The 0-based index of the URL's 1-based ``{position}``."""
    raw = request.match_info["position"]
    position = bounded_int(raw, 1, count)
    if position is None:
        raise ApiError(404, "Test not found", f"no test {raw[:20]}; the problem has {count}")
    return position - 1


async def _edit(
    request: web.Request, problem: Problem, plan: list[int | TestCase], status: int = 200
) -> web.Response:
    try:
        edited = await _store(request).edit_tests(problem.id, plan)
    except IndexError as exc:
        raise _unprocessable("Invalid test positions", str(exc)) from exc
    if edited is None:
        raise ApiError(404, "Problem not found", f"no problem with id {problem.id!r}")
    return await _saved(request, edited, status)


@operation(
    Operation("listTests", "A problem's tests", _TESTS,
              {200: Reply("the tests of the problem's version", TestsOut), 404: _NO_PROBLEM})
)  # fmt: skip
async def list_tests(request: web.Request) -> web.Response:
    problem = await _problem(request)
    tests = await _tests(request, problem)
    viewer = viewer_of(request)
    return respond(
        TestsOut,
        {
            "version": problem.version,
            "tests": [problem_test_for(viewer, i, t) for i, t in enumerate(tests, 1)],
        },
    )


@operation(
    Operation("getTest", "One of a problem's tests", _TESTS,
              {200: Reply("the test", ProblemTestOut), 404: _NO_TEST})
)  # fmt: skip
async def get_test(request: web.Request) -> web.Response:
    problem = await _problem(request)
    tests = await _tests(request, problem)
    index = _position(request, len(tests))
    return respond(ProblemTestOut, problem_test_for(viewer_of(request), index + 1, tests[index]))


@operation(
    Operation(
        "addTests", "Add tests (a new version of the problem)", _TESTS,
        {201: _SAVED, 404: _NO_PROBLEM, 422: _INVALID},
        body=Body(TestsIn), access="admin",
    )
)  # fmt: skip
async def add_tests(request: web.Request) -> web.Response:
    require_admin(request)
    payload = await _payload(request, TestsIn, _tests_values(request))
    problem = await _problem(request)
    count = len(await _summaries(request, problem))
    most = request.app[SETTINGS].http.max_tests
    if count + len(payload.tests) > most:
        raise _unprocessable("Too many tests", f"at most {most} tests per problem; it has {count}")
    at = count if payload.position is None else min(payload.position - 1, count)
    plan: list[int | TestCase] = list(range(count))
    plan[at:at] = [t.to_test_case() for t in payload.tests]
    return await _edit(request, problem, plan, 201)


@operation(
    Operation(
        "replaceTests", "Replace all of a problem's tests", _TESTS,
        {200: _SAVED, 404: _NO_PROBLEM, 422: _INVALID},
        body=Body(TestsReplaceIn), access="admin",
    )
)  # fmt: skip
async def replace_tests(request: web.Request) -> web.Response:
    require_admin(request)
    payload = await _payload(request, TestsReplaceIn, _tests_values(request))
    problem = await _problem(request)
    return await _edit(request, problem, [t.to_test_case() for t in payload.tests])


@operation(
    Operation(
        "reorderTests", "Put a problem's tests in a new order", _TESTS,
        {200: _SAVED, 404: _NO_PROBLEM, 422: _INVALID},
        body=Body(OrderIn), access="admin",
    )
)  # fmt: skip
async def reorder_tests(request: web.Request) -> web.Response:
    require_admin(request)
    most = request.app[SETTINGS].http.max_tests
    payload = await _payload(request, OrderIn, most + 64, max(1 << 20, 16 * most))
    problem = await _problem(request)
    count = len(await _summaries(request, problem))
    if sorted(payload.order) != list(range(1, count + 1)):
        raise _unprocessable(
            "Invalid order", f"order must list each position 1..{count} exactly once"
        )
    return await _edit(request, problem, [p - 1 for p in payload.order])


@operation(
    Operation(
        "replaceTest", "Replace one test (give it as the one item of tests)", _TESTS,
        {200: _SAVED, 404: _NO_TEST, 422: _INVALID},
        body=Body(TestsReplaceIn), access="admin",
    )
)  # fmt: skip
async def replace_test(request: web.Request) -> web.Response:
    require_admin(request)
    payload = await _payload(request, TestsReplaceIn, 64)
    if len(payload.tests) != 1:
        raise _unprocessable("Invalid test", "give exactly one test in 'tests'")
    problem = await _problem(request)
    count = len(await _summaries(request, problem))
    index = _position(request, count)
    plan: list[int | TestCase] = list(range(count))
    plan[index] = payload.tests[0].to_test_case()
    return await _edit(request, problem, plan)


@operation(
    Operation("deleteTest", "Delete one test", _TESTS,
              {200: _SAVED, 404: _NO_TEST}, access="admin")
)  # fmt: skip
async def delete_test(request: web.Request) -> web.Response:
    require_admin(request)
    problem = await _problem(request)
    count = len(await _summaries(request, problem))
    index = _position(request, count)
    return await _edit(request, problem, [i for i in range(count) if i != index])


def add_routes(router: web.UrlDispatcher) -> None:
    base = "/api/v1/problems"
    one = base + "/{problem_id}"
    router.add_get(base, list_problems)
    router.add_post(base, create_problem)
    router.add_post(base + "/import", import_problem)
    router.add_get(one, get_problem)
    router.add_put(one, replace_problem)
    router.add_patch(one, update_problem)
    router.add_delete(one, delete_problem)
    router.add_get(one + "/tests", list_tests)
    router.add_post(one + "/tests", add_tests)
    router.add_put(one + "/tests", replace_tests)
    router.add_put(one + "/tests/order", reorder_tests)
    router.add_get(one + "/tests/{position}", get_test)
    router.add_put(one + "/tests/{position}", replace_test)
    router.add_delete(one + "/tests/{position}", delete_test)
    add_statement_routes(router)
