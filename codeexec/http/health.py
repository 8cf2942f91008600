"""``/healthz`` (the process answers) and ``/readyz`` (it can judge right now)."""

from __future__ import annotations

import asyncio

from aiohttp import web

from codeexec.http.errors import json_response
from codeexec.http.keys import (
    ADMISSION,
    DOCKER,
    JOB_QUEUE,
    JOBS,
    LANGUAGES,
    LIFECYCLE,
    SANDBOXES,
    STORE,
)


async def healthz(_request: web.Request) -> web.Response:
    return json_response({"status": "ok"})


async def readyz(request: web.Request) -> web.Response:
    app = request.app
    lifecycle = app[LIFECYCLE]
    database, docker_ok = await asyncio.gather(app[STORE].ping(), app[DOCKER].ping())
    queued = await app[JOB_QUEUE].count_queued() if database else None
    languages = {lang_id: lifecycle.availability(lang_id) for lang_id in app[LANGUAGES]}
    ready = (
        database
        and docker_ok
        and not lifecycle.draining
        and any(v["available"] for v in languages.values())
    )
    body = {
        "status": "ready" if ready else "unavailable",
        "database": database,
        "docker": docker_ok,
        "draining": lifecycle.draining,
        "languages": languages,
        "engine": lifecycle.engine.as_dict() if lifecycle.engine else None,
        "sandbox_cgroup": app[SANDBOXES].runner_cgroup,
        "sandbox_accounting": app[SANDBOXES].runner_accounting,
        "execution": app[ADMISSION].stats(),
        "pool": pool.stats() if (pool := app[SANDBOXES].pool) else None,
        "jobs": app[JOBS].stats() | {"queued": queued},
    }
    return json_response(body, status=200 if ready else 503)
