"""``/exec`` on a process that judges nothing (``serve --no-workers``): the request is
screened and queued as a job like any submission, a ``codeexec worker`` judges it, and
the job's ``Result`` is answered in seed 004's shape, as if judged here. The wait is
bounded by ``CODEEXEC_MAX_WAIT_S`` (as ``?wait=true``): past it, 504 with the job's
address, where its result will be."""

from __future__ import annotations

from aiohttp import web

from codeexec.http.answers import respond
from codeexec.http.errors import BAD_REQUEST, ApiError
from codeexec.http.exec_view import ExecResponse, exec_response
from codeexec.http.keys import JOBS, SETTINGS
from codeexec.http.submissions_view import BASE, accept_job, check_queue_room, wait_done
from codeexec.intake import Request
from codeexec.model import Status


async def exec_by_job(request: web.Request, request_in: Request) -> web.Response:
    app = request.app
    await check_queue_room(request, 1)
    created = await accept_job(request, request_in, bad_request=BAD_REQUEST)
    app[JOBS].wake()
    done = await wait_done(request, created.id, app[SETTINGS].jobs.max_wait_s)
    where = f"{BASE}/{created.id}"
    if done is None or not done.done:
        raise ApiError(
            504,
            "Not judged in time",
            f"the job is still {done.status if done else 'unknown'}; its result will be at {where}",
            headers={"Location": where},
        )
    if done.status != Status.FINISHED or done.result is None:
        raise ApiError(500, "Error executing code", done.error or str(done.status))
    return respond(ExecResponse, exec_response(done.result))
