"""``/healthz`` (the process answers) and ``/readyz`` (it can judge right now)."""

from __future__ import annotations

import asyncio
from typing import Any, Literal

from aiohttp import web
from pydantic import Field

from codeexec.http.answers import Answer, respond
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
from codeexec.http.operations import Operation, Reply, operation
from codeexec.sandbox.docker_gateway import DockerGateway


class Alive(Answer):
    status: Literal["ok"]


class Availability(Answer):
    available: bool
    reason: str | None = None
    preparing: str | None = None


class Readiness(Answer):
    status: Literal["ready", "unavailable"]
    database: bool
    docker: bool | None = Field(
        description="the Docker engine answers (null: this process judges nothing,"
        " serve --no-workers)"
    )
    draining: bool
    languages: dict[str, Availability]
    engine: dict[str, Any] | None = Field(description="the Docker engine, as docker info says")
    sandbox_cgroup: int | None
    sandbox_accounting: str | None
    execution: dict[str, int | float] = Field(description="the execution queue (/exec)")
    pool: dict[str, Any] | None = Field(description="warm containers (null: no pool)")
    jobs: dict[str, int | None] = Field(description="job workers here, jobs queued in all")


_TAGS = ("health",)


@operation(
    Operation("healthz", "The process answers", _TAGS,
              {200: Reply("alive", Alive, example={"status": "ok"})}, access="open")
)  # fmt: skip
async def healthz(_request: web.Request) -> web.Response:
    return respond(Alive, {"status": "ok"})


@operation(
    Operation(
        "readyz", "The service can judge now: database, Docker, a language, not draining",
        _TAGS,
        {200: Reply("ready", Readiness),
         503: Reply("not ready: the body says which part is missing", Readiness)},
        access="open",
    )
)  # fmt: skip
async def readyz(request: web.Request) -> web.Response:
    app = request.app
    lifecycle = app[LIFECYCLE]
    docker, sandboxes = app.get(DOCKER), app.get(SANDBOXES)
    database, docker_ok = await asyncio.gather(app[STORE].ping(), _ping(docker))
    queued = await app[JOB_QUEUE].count_queued() if database else None
    languages = {lang_id: lifecycle.availability(lang_id) for lang_id in app[LANGUAGES]}
    ready = (
        database
        and docker_ok is not False
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
        "sandbox_cgroup": sandboxes.runner_cgroup if sandboxes else None,
        "sandbox_accounting": sandboxes.runner_accounting if sandboxes else None,
        "execution": app[ADMISSION].stats(),
        "pool": pool.stats() if sandboxes and (pool := sandboxes.pool) else None,
        "jobs": app[JOBS].stats() | {"queued": queued},
    }
    return respond(Readiness, body, status=200 if ready else 503)


async def _ping(docker: DockerGateway | None) -> bool | None:
    """Whether the engine answers; None in a process that judges nothing."""
    return await docker.ping() if docker is not None else None
