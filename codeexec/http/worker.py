"""``codeexec worker``: job workers without the API, on the database ``codeexec serve``
uses, judging with this host's Docker engine and images.

The same start-up as the service's (``make_worker_app``): the database migrated, stray
containers of this instance removed, images checked and built or pulled as
``CODEEXEC_BUILD_IMAGES`` says (each build's progress logged), languages self-tested,
then the workers claim jobs. ``--health-port`` serves ``/healthz``, ``/readyz`` and
``/metrics`` once started; without it nothing listens. SIGTERM or SIGINT drains as
``serve`` does: no new job is claimed, running ones get ``CODEEXEC_DRAIN_TIMEOUT_S``,
then go back to the queue.
"""

from __future__ import annotations

import asyncio
import logging
import signal

from aiohttp import web

from codeexec.config import Settings
from codeexec.http.app import make_worker_app

log = logging.getLogger(__name__)


async def run_worker(settings: Settings, health_port: int | None) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    runner = web.AppRunner(
        make_worker_app(settings),
        access_log=None,  # one structured event per request instead
        shutdown_timeout=settings.http.drain_timeout_s,
    )
    log.info(
        "codeexec worker %s: %d job worker(s), database %s",
        settings.worker,
        settings.workers,
        settings.store.database_url.split("@")[-1],
    )
    try:
        await runner.setup()  # images, self-tests, then the job workers start
        if health_port is not None:
            site = web.TCPSite(
                runner,
                settings.http.host,
                health_port,
                shutdown_timeout=settings.http.drain_timeout_s,
            )
            await site.start()
            log.info("health on http://%s:%d/readyz", settings.http.host, health_port)
        log.info("worker ready: claiming jobs")
        await stop.wait()
        log.info("worker stopping: draining running jobs")
    finally:
        await runner.cleanup()
