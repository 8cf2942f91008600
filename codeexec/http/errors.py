"""Every error is JSON: ``{"error": "<message>"}`` (plus an optional ``detail``).

Handlers raise ``ApiError``; aiohttp's own HTTP errors (unknown route, wrong method,
body too large) and unexpected exceptions are turned into the same shape here. A
crash answers 500 with no traceback in the body; the traceback goes to the log.
"""

from __future__ import annotations

import functools
import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web
from pydantic import ValidationError

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


_HTTP_MESSAGES = {
    404: "Not found",
    405: "Method not allowed",
    413: "Request body too large",
}


def validation_error(exc: ValidationError, message: str = "Invalid request") -> ApiError:
    """422 naming every field that is wrong and why."""
    errors = [
        {"field": ".".join(str(p) for p in e["loc"]) or "body", "message": e["msg"]}
        for e in exc.errors()
    ]
    detail = "; ".join(f"{e['field']}: {e['message']}" for e in errors[:5])
    return ApiError(422, message, detail, extra={"errors": errors})


def query_int(request: web.Request, name: str, default: int, low: int, high: int) -> int:
    """An integer query parameter within ``low..high`` (400 otherwise), or ``default``."""
    raw = request.query.get(name)
    if raw is None:
        return default
    if not raw.isdigit() or not low <= int(raw) <= high:
        raise ApiError(400, "Invalid query parameter", f"{name} must be {low}..{high}")
    return int(raw)


async def read_json(request: web.Request, max_bytes: int) -> Any:
    """The body as JSON: 415 unless JSON, 413 over ``max_bytes``, 400 unless it parses.
    Read with its own limit (some routes take more than the app-wide body limit)."""
    if request.content_type != "application/json":
        raise ApiError(415, "Content-Type must be application/json")
    if (request.content_length or 0) > max_bytes:
        raise ApiError(413, "Request body too large", f"at most {max_bytes} bytes")
    body = bytearray()
    async for chunk in request.content.iter_chunked(1 << 16):
        body += chunk
        if len(body) > max_bytes:
            raise ApiError(413, "Request body too large", f"at most {max_bytes} bytes")
    try:
        return json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ApiError(400, "Body is not valid JSON", str(exc)) from exc


@web.middleware
async def json_errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        return await handler(request)
    except ApiError as exc:
        return error_response(exc)
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        message = _HTTP_MESSAGES.get(exc.status, exc.reason)
        headers = {k: v for k, v in exc.headers.items() if k.lower() == "allow"}
        return error_response(ApiError(exc.status, message, headers=headers))
    except Exception:
        log.exception("unhandled error on %s %s", request.method, request.path)
        return error_response(ApiError(500, "Internal server error"))
