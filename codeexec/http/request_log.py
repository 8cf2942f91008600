"""Request ids and the access log.

``request_context`` is the outermost middleware: it takes the caller's ``X-Request-Id``
when it is short and safe (at most 128 of ``[A-Za-z0-9._:-]``) or makes one, puts it
in the context every log line of the request reads, and writes one ``request`` event
when the request ends (method, route template, status, duration, key id; never a
token). ``add_request_id`` returns the id on every response the application prepares,
errors and event streams included, just before its headers are sent.
"""

from __future__ import annotations

import asyncio
import logging
import time

from aiohttp import web

from codeexec.http.auth import principal
from codeexec.http.errors import Handler
from codeexec.logs import REQUEST_ID, event, request_id_from

REQUEST_ID_HEADER = "X-Request-Id"
CLIENT_CLOSED = 499  # the status logged when the caller left first (nginx's)
_REQUEST_ID = web.RequestKey("request_id", str)
access_log = logging.getLogger("codeexec.access")


def _route(request: web.Request) -> str | None:
    """The matched route's template (``/api/v1/submissions/{sid}``), never the path
    with its ids; None when no route matched."""
    resource = request.match_info.route.resource
    return resource.canonical if resource is not None else None


@web.middleware
async def request_context(request: web.Request, handler: Handler) -> web.StreamResponse:
    request_id = request_id_from(request.headers.get(REQUEST_ID_HEADER))
    request[_REQUEST_ID] = request_id
    token = REQUEST_ID.set(request_id)
    started = time.perf_counter()
    status = 500
    try:
        response = await handler(request)
        status = response.status
        return response
    except web.HTTPException as exc:  # a redirect, which aiohttp answers itself
        status = exc.status
        raise
    except asyncio.CancelledError:
        status = CLIENT_CLOSED
        raise
    finally:
        event(
            access_log,
            "request",
            method=request.method,
            route=_route(request),
            status=status,
            duration_ms=round((time.perf_counter() - started) * 1000, 1),
            key_id=principal(request).key_id,
        )
        REQUEST_ID.reset(token)


async def add_request_id(request: web.Request, response: web.StreamResponse) -> None:
    """``on_response_prepare``: the request's id on its response."""
    request_id = request.get(_REQUEST_ID)
    if request_id is not None:
        response.headers[REQUEST_ID_HEADER] = request_id
