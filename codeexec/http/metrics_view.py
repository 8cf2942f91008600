"""``GET /metrics`` in Prometheus' text format, and the HTTP metrics middleware.

``/metrics`` is for admins (like problem management) unless ``CODEEXEC_METRICS_PUBLIC``
is set. What mirrors live state (jobs queued, running, workers alive, warm containers
idle, the engine) is read when scraped; the queued count is one bounded database query.

An HTTP request is counted with its route template (``/api/v1/submissions/{sid}``; a
request that matched no route: ``unmatched``) and the status the client got: this
middleware is outside ``json_errors``, so it sees the answer an ``ApiError`` became. Its
latency is the time until its response's headers were ready: for an ordinary response,
until the handler returned it (sending the body is not counted); for a stream (SSE),
until the stream began, not how long it then ran (as long as the judging it follows).
A request cancelled by the service stopping is not counted.
"""

from __future__ import annotations

import asyncio
import logging
import time

from aiohttp import web
from prometheus_client.exposition import CONTENT_TYPE_PLAIN_0_0_4

from codeexec.http.auth import METRICS_PATH, principal, require_admin
from codeexec.http.errors import ApiError, Handler
from codeexec.http.keys import JOB_QUEUE, JOBS, LANGUAGES, LIFECYCLE, METRICS, SANDBOXES, SETTINGS
from codeexec.http.operations import Operation, Reply, operation
from codeexec.observe.metrics import UNMATCHED

log = logging.getLogger(__name__)
QUEUE_QUERY_S = 2.0  # the longest a scrape waits for the queued count
_PREPARED_AT = web.RequestKey("metrics_prepared_at", float)


def route_of(request: web.Request) -> str:
    resource = request.match_info.route.resource
    return UNMATCHED if resource is None else resource.canonical


def _record(request: web.Request, status: int, started: float, streamed: bool = False) -> None:
    ended = request.get(_PREPARED_AT, time.monotonic()) if streamed else time.monotonic()
    request.app[METRICS].http_request(request.method, route_of(request), status, ended - started)


@web.middleware
async def count_requests(request: web.Request, handler: Handler) -> web.StreamResponse:
    started = time.monotonic()
    try:
        response = await handler(request)
    except web.HTTPException as exc:  # a redirect, which json_errors passes on
        _record(request, exc.status, started)
        raise
    except Exception:  # json_errors answers everything else; should it not: a 500
        _record(request, 500, started)
        raise
    _record(request, response.status, started, streamed=response.prepared)
    return response


async def _headers_sent(request: web.Request, _response: web.StreamResponse) -> None:
    if _PREPARED_AT not in request:
        request[_PREPARED_AT] = time.monotonic()


async def _queued(app: web.Application) -> int | None:
    queue = app.get(JOB_QUEUE)
    if queue is None:
        return None
    try:
        async with asyncio.timeout(QUEUE_QUERY_S):
            return await queue.count_queued()
    except Exception as exc:  # a scrape still answers; the gauge says "unknown" (NaN)
        log.warning("metrics: could not count queued jobs: %r", exc)
        return None


@operation(
    Operation(
        "metrics", "Prometheus metrics (admin, or anyone with CODEEXEC_METRICS_PUBLIC)",
        ("operations",),
        {200: Reply("the metrics in Prometheus' text format",
                    media_type=CONTENT_TYPE_PLAIN_0_0_4, schema={"type": "string"})},
        access="admin",
    )
)  # fmt: skip
async def metrics(request: web.Request) -> web.Response:
    app = request.app
    if not app[SETTINGS].auth.metrics_public:
        if principal(request).role == "anonymous" and app[SETTINGS].auth.admin_token is None:
            raise ApiError(
                403,
                "Metrics are for admins",
                "use an admin API key or set CODEEXEC_ADMIN_TOKEN;"
                " CODEEXEC_METRICS_PUBLIC=true opens them to all",
            )
        require_admin(request)
    recorded = app[METRICS]
    jobs, factory = app.get(JOBS), app.get(SANDBOXES)
    pool = factory.pool if factory is not None else None
    idle = pool.stats()["idle"] if pool is not None else {}
    recorded.live(
        queued=await _queued(app),
        running=jobs.stats()["running_here"] if jobs is not None else 0,
        workers=jobs.workers_alive() if jobs is not None else 0,
        idle={language: idle.get(language, 0) for language in app[LANGUAGES]},
    )
    if (engine := app[LIFECYCLE].engine) is not None:
        recorded.engine(engine.product, engine.version, engine.cgroup_version)
    # The classic text format, which every Prometheus reads (what prometheus-client
    # answers a scraper that asks for nothing else).
    text = recorded.exposition()
    return web.Response(body=text, headers={"Content-Type": CONTENT_TYPE_PLAIN_0_0_4})


def add_routes(app: web.Application) -> None:
    app.router.add_get(METRICS_PATH, metrics)
    app.on_response_prepare.append(_headers_sent)
