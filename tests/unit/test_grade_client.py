"""GradeClient's time bounds, against a small fake server: a job's event stream lasts
as long as the job (kept alive), while a server that goes silent is given up on."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from codeexec.grade.client import GradeClient, Unreachable

JOB = {"id": "abc123", "status": "finished", "verdict": "AC", "tests": []}


def _fake(stream_s: float, keepalive_s: float | None) -> web.Application:
    async def submit(request: web.Request) -> web.Response:
        return web.json_response({"id": "abc123"}, status=202)

    async def job(request: web.Request) -> web.Response:
        return web.json_response(JOB)

    async def events(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
        await response.prepare(request)
        loop = asyncio.get_running_loop()
        end = loop.time() + stream_s
        while loop.time() < end:
            await asyncio.sleep(keepalive_s or stream_s)
            if keepalive_s:
                await response.write(b": keep-alive\n\n")
        data = json.dumps({"data": {"verdict": "AC"}})
        await response.write(f"event: finished\ndata: {data}\n\n".encode())
        await response.write_eof()
        return response

    app = web.Application()
    app.router.add_post("/api/v1/submissions", submit)
    app.router.add_get("/api/v1/submissions/abc123", job)
    app.router.add_get("/api/v1/submissions/abc123/events", events)
    return app


async def _grade(app: web.Application, **bounds: Any) -> Any:
    async with TestServer(app) as server:
        client = GradeClient(str(server.make_url("/")), None, **bounds)
        try:
            return await client.grade("a.py", {"a.py": ""}, "p", "python", lambda *_: None)
        finally:
            await client.close()


async def test_a_kept_alive_stream_outlives_the_request_bound() -> None:
    graded = await _grade(_fake(1.5, 0.2), request_s=0.5, silence_s=0.5)
    assert graded.job == JOB and graded.error is None


async def test_a_silent_server_is_unreachable() -> None:
    with pytest.raises(Unreachable, match="events of abc123"):
        await _grade(_fake(1.5, None), request_s=5, silence_s=0.5)
