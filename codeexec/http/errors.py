"""Every error is JSON: ``{"error": "<message>"}`` (plus an optional ``detail``).

Handlers raise ``ApiError``; aiohttp's own HTTP errors (unknown route, wrong method,
body too large) and unexpected exceptions are turned into the same shape here. A
crash answers 500 with no traceback in the body; the traceback goes to the log.

A door that speaks another service's API (``codeexec.http.compat``) words every error
under its paths in that API's shape, middlewares' (401, 429, 503) included: it registers
its shape for its path prefix in ``ERROR_SHAPES``.
"""

from __future__ import annotations

import functools
import json
import logging
import re
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web
from pydantic import ValidationError

from codeexec.intake import Rejected

log = logging.getLogger(__name__)

BAD_REQUEST = "Error reading request body"  # seed 004's exact message for 400
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

dumps = functools.partial(json.dumps, ensure_ascii=False)


class ApiError(Exception):
    def __init__(
        self,
        status: int,
        message: str,
        detail: str | None = None,
        headers: dict[str, str] | None = None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.detail = detail
        self.headers = headers or {}
        self.extra = extra or {}


def refused(rejected: Rejected, bad_request: str, retry_after_s: int) -> ApiError:
    """Intake's refusal in the API's format; ``bad_request`` is the door's own wording
    of a 400 (seed 004's fixed message for ``/exec``)."""
    headers = {"Retry-After": str(retry_after_s)} if rejected.busy else None
    return ApiError(rejected.status, rejected.title or bad_request, rejected.detail, headers)


def json_response(
    body: Any, status: int = 200, headers: dict[str, str] | None = None
) -> web.Response:
    return web.json_response(body, status=status, headers=headers, dumps=dumps)


def error_response(error: ApiError) -> web.Response:
    body: dict[str, Any] = {"error": error.message}
    if error.detail:
        body["detail"] = error.detail
    body.update(error.extra)
    return json_response(body, status=error.status, headers=error.headers)


ErrorShape = Callable[[ApiError], web.Response]
# {path prefix: how an error looks under it}: a compatibility door's own error format.
ERROR_SHAPES = web.AppKey("error_shapes", dict[str, ErrorShape])


def _shape_for(request: web.Request) -> ErrorShape:
    for prefix, shape in request.app.get(ERROR_SHAPES, {}).items():
        if request.path.startswith(prefix + "/"):
            return shape
    return error_response


_HTTP_MESSAGES = {
    404: "Not found",
    405: "Method not allowed",
    413: "Request body too large",
}


MAX_ERRORS = 20  # validation errors listed in one answer


def field_errors(exc: ValidationError) -> list[dict[str, str]]:
    """At most ``MAX_ERRORS`` of ``exc``'s errors as ``{"field", "message"}``. The request
    models (``codeexec.bounded``) keep their number small; this keeps the answer small."""
    listed = exc.errors(include_url=False, include_context=False, include_input=False)
    return [
        {"field": ".".join(str(p) for p in e["loc"])[:200] or "body", "message": e["msg"][:500]}
        for e in listed[:MAX_ERRORS]
    ]


def validation_error(exc: ValidationError, message: str = "Invalid request") -> ApiError:
    """422 naming the fields that are wrong and why (a bounded list)."""
    errors = field_errors(exc)
    detail = "; ".join(f"{e['field']}: {e['message']}" for e in errors[:5])
    extra: dict[str, Any] = {"errors": errors}
    if exc.error_count() > len(errors):
        extra["errors_total"] = exc.error_count()
    return ApiError(422, message, detail, extra=extra)


def bounded_int(raw: str, low: int, high: int) -> int | None:
    """``raw`` as an integer in ``low..high`` if it is one written in ASCII digits
    (``str.isdigit`` also takes '²' and other scripts' digits), else None. Long strings
    are never converted (``int()`` is quadratic in the digits)."""
    if not (raw.isascii() and raw.isdigit()) or len(raw) > len(str(high)):
        return None
    value = int(raw)
    return value if low <= value <= high else None


def query_int(request: web.Request, name: str, default: int, low: int, high: int) -> int:
    """An integer query parameter within ``low..high`` (400 otherwise), or ``default``."""
    raw = request.query.get(name)
    if raw is None:
        return default
    value = bounded_int(raw, low, high)
    if value is None:
        raise ApiError(400, "Invalid query parameter", f"{name} must be {low}..{high}")
    return value


def any_case(word: str) -> str:
    """A regular expression (ECMA 262 too, for the document) of ``word`` in any case."""
    return "".join(f"[{c.lower()}{c.upper()}]" if c.isalpha() else re.escape(c) for c in word)


def choice_schema(choices: tuple[str, ...]) -> dict[str, Any]:
    """The document's schema of ``query_choice(..., choices)``: any case."""
    return {"type": "string", "pattern": f"^({'|'.join(map(any_case, choices))})$"}


def query_choice(request: web.Request, name: str, choices: tuple[str, ...]) -> str | None:
    """A query parameter that is one of ``choices`` (any case; lower-cased), or None
    when absent; another value is a 400, as an integer out of range is."""
    raw = request.query.get(name)
    if raw is None:
        return None
    if raw.lower() not in choices:
        raise ApiError(
            400, "Invalid query parameter", f"{name} must be one of {', '.join(choices)}"
        )
    return raw.lower()


def _allowed(request: web.Request, fallback: str | None) -> dict[str, str]:
    """A 405's ``Allow``: the methods of the first route resource the path matches (the
    one the document lists it under), not aiohttp's union over every resource that
    matches it (``/submissions/batch`` also matches ``/submissions/{sid}``)."""
    resources = request.app.router.resources()
    for resource in resources:
        info = resource.get_info()
        pattern = info.get("pattern")
        if info.get("path") == request.path or (
            pattern is not None and pattern.fullmatch(request.path)
        ):
            # A template's methods may be spread over several resources.
            methods = {
                route.method
                for same in resources
                if same.canonical == resource.canonical
                for route in same
            }
            return {"Allow": ",".join(sorted(methods))}
    return {"Allow": fallback} if fallback else {}


@web.middleware
async def json_errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        return await handler(request)
    except ApiError as exc:
        return _shape_for(request)(exc)
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        message = _HTTP_MESSAGES.get(exc.status, exc.reason)
        headers = _allowed(request, exc.headers.get("Allow")) if exc.status == 405 else {}
        return _shape_for(request)(ApiError(exc.status, message, headers=headers))
    except Exception:
        # The path as a field (quoted on the console): decoded, it may hold spaces and "=".
        log.exception("unhandled error", extra={"method": request.method, "path": request.path})
        return _shape_for(request)(ApiError(500, "Internal server error"))
