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
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.detail = detail
        self.headers = headers or {}


def json_response(
    body: Any, status: int = 200, headers: dict[str, str] | None = None
) -> web.Response:
    return web.json_response(body, status=status, headers=headers, dumps=dumps)


def error_response(error: ApiError) -> web.Response:
    body: dict[str, str] = {"error": error.message}
    if error.detail:
        body["detail"] = error.detail
    return json_response(body, status=error.status, headers=error.headers)


_HTTP_MESSAGES = {
    404: "Not found",
    405: "Method not allowed",
    413: "Request body too large",
}


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
