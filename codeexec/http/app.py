"""The aiohttp application: routes, middlewares, and long-lived resources.

Resources (database engine, Docker client, screening worker) live in ``cleanup_ctx``:
created at start-up, released at shutdown in reverse order. On SIGINT/SIGTERM aiohttp
stops listening, ``on_shutdown`` marks the service as draining (new requests on open
connections get 503), in-flight submissions finish within the drain timeout, then the
contexts close and every container is removed.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from functools import partial
from typing import Any

from aiohttp import web

from codeexec.config import Settings
from codeexec.http.auth import METRICS_PATH, authenticate
from codeexec.http.browser_headers import add_browser_headers
from codeexec.http.compat.judge0 import DOOR as JUDGE0_DOOR
from codeexec.http.compat.judge0 import add_routes as add_judge0_routes
from codeexec.http.compat.judge0 import callback as judge0_callback
from codeexec.http.compat.piston import add_routes as add_piston_routes
from codeexec.http.cross_origin import refuse_cross_origin
from codeexec.http.docs_view import add_routes as add_docs_routes
from codeexec.http.errors import ApiError, Handler, json_errors
from codeexec.http.exec_view import exec_code
from codeexec.http.health import healthz, readyz
from codeexec.http.keys import (
    ADMISSION,
    DOCKER,
    EVENTS,
    INTAKE,
    JOB_QUEUE,
    JOBS,
    JUDGE,
    KEYS,
    LANGUAGES,
    LIFECYCLE,
    METRICS,
    NOTIFIER,
    OUTBOX,
    RATE_LIMITER,
    SANDBOXES,
    SCREENER,
    SETTINGS,
    STORE,
    SUBMISSIONS,
    WEBHOOKS,
    Lifecycle,
)
from codeexec.http.keys_view import add_routes as add_key_routes
from codeexec.http.languages_view import list_languages
from codeexec.http.limiter import RateLimiter
from codeexec.http.metrics_view import add_routes as add_metrics_routes
from codeexec.http.metrics_view import count_requests
from codeexec.http.openapi import add_routes as add_openapi_routes
from codeexec.http.problems_view import add_routes as add_problem_routes
from codeexec.http.ratelimit import rate_limit
from codeexec.http.request_log import add_request_id, request_context
from codeexec.http.runs_view import add_routes as add_run_routes
from codeexec.http.runs_view import run_out
from codeexec.http.submissions_view import add_routes as add_submission_routes
from codeexec.http.submissions_view import submission_out
from codeexec.http.visibility import CONTESTANT
from codeexec.http.web_view import add_routes as add_web_routes
from codeexec.intake import Intake
from codeexec.jobs.elsewhere import NoWorkers
from codeexec.jobs.notifier import Notifier
from codeexec.jobs.runner import JobRunner
from codeexec.jobs.webhooks import Webhooks
from codeexec.judge.admission import Admission
from codeexec.judge.judge import Judge
from codeexec.judge.preparation import Preparation, Progress
from codeexec.judge.self_test import installed_versions, run_self_tests
from codeexec.model import AD_HOC_ID, Language, Submission
from codeexec.observe.metrics import Metrics
from codeexec.sandbox.docker_gateway import DockerGateway
from codeexec.sandbox.engine import inspect_engine
from codeexec.sandbox.images import ImageManager
from codeexec.sandbox.languages import discover_languages
from codeexec.sandbox.pool import WarmPool
from codeexec.sandbox.sandbox import Sandbox, SandboxFactory
from codeexec.screening.service import Screener
from codeexec.store.demo import seed_demo_problems
from codeexec.store.engine import create_engine, exclusive, migrate, wait_until_reachable
from codeexec.store.events import EventLog
from codeexec.store.keys import KeyStore
from codeexec.store.outbox import WebhookOutbox
from codeexec.store.problems import ProblemStore
from codeexec.store.queue import JobQueue
from codeexec.store.submissions import SubmissionStore

log = logging.getLogger(__name__)
_ALWAYS_OPEN = frozenset({"/healthz", "/readyz", METRICS_PATH})  # a drain can be watched
# aiohttp's parser refuses (400, before any route) a request line (URL) or header line
# over 8190 bytes and more than 128 headers. Request bodies are never inflated: a
# compressed one is refused (415, codeexec/http/body.py), so a gzip bomb costs nothing.
_HTTP_LIMITS = {
    "max_line_size": 8190,
    "max_field_size": 8190,
    "max_headers": 128,
    "auto_decompress": False,
}


@web.middleware
async def refuse_while_draining(request: web.Request, handler: Handler) -> web.StreamResponse:
    app = request.app
    if app[LIFECYCLE].draining and request.path not in _ALWAYS_OPEN:
        retry = str(app[SETTINGS].admission.retry_after_s)
        raise ApiError(503, "Service is shutting down", headers={"Retry-After": retry})
    return await handler(request)


async def _store(app: web.Application) -> AsyncIterator[None]:
    settings = app[SETTINGS]
    engine = create_engine(settings.store.database_url)
    try:
        await wait_until_reachable(engine, settings.store.database_connect_timeout_s)
        store = ProblemStore(engine, settings.store.test_cache_bytes)
        # Replicas starting together on one database set it up one after the other.
        async with exclusive(engine, "codeexec-setup"):
            await migrate(engine)
            if settings.store.seed_demo_problems:
                await seed_demo_problems(store)
        app[STORE] = store
        app[KEYS] = KeyStore(engine)
        app[SUBMISSIONS] = SubmissionStore(engine)
        app[JOB_QUEUE] = JobQueue(engine)
        app[EVENTS] = EventLog(engine)
        app[OUTBOX] = WebhookOutbox(engine)
        lifecycle, languages = app[LIFECYCLE], app[LANGUAGES]
        # The screener is looked up when a request gets that far (judging=False has none).
        app[INTAKE] = Intake(
            lambda: lifecycle.usable(languages),
            store,
            lambda: app[SCREENER],
            settings.http.max_source_bytes,
            lifecycle.demand,
            app[METRICS],
        )
        yield
    finally:
        await engine.dispose()


async def _sandboxes(app: web.Application) -> AsyncIterator[None]:
    settings = app[SETTINGS]
    gateway = DockerGateway(settings.sandbox.docker_threads, app[METRICS])
    try:
        removed = await gateway.remove_strays(settings.instance_name)
        if removed:
            log.warning("removed %d sandbox container(s) left by an earlier run", removed)
        lifecycle = app[LIFECYCLE]
        unavailable = lifecycle.unavailable
        engine = await inspect_engine(gateway, settings.sandbox.runtime)
        lifecycle.engine = engine
        log.info("sandbox engine: %s", engine.summary())
        if (problem := engine.problem()) is not None:
            log.error("no language can be judged: %s", problem)
            unavailable.update({lang_id: problem for lang_id in app[LANGUAGES]})
        factory = SandboxFactory(settings, gateway, engine)
        languages = app[LANGUAGES]
        judge = Judge(settings, factory, languages, app[METRICS])
        images = ImageManager(settings, gateway)
        wanted = [lang for lang in languages.values() if lang.id not in unavailable]
        current = await asyncio.gather(*(images.is_current(lang) for lang in wanted))
        built = [lang for lang, ok in zip(wanted, current, strict=True) if ok]
        missing = [lang for lang, ok in zip(wanted, current, strict=True) if not ok]
        checks = await asyncio.gather(
            run_self_tests(judge, built, settings.admission.concurrency),
            installed_versions(judge, factory, built, settings.admission.concurrency),
        )
        unavailable.update(checks[0])
        lifecycle.versions.update(checks[1])
        usable = [lang for lang in built if lang.id not in unavailable]
        pool: WarmPool[Sandbox] | None = None
        recycler: asyncio.Task[None] | None = None
        if settings.sandbox.pool_size:
            pool = WarmPool(
                factory,
                settings.sandbox.pool_size,
                settings.sandbox.pool_ttl_s,
                settings.sandbox.pool_parallel_starts,
                keep=settings.admission.concurrency,
            )
            factory.pool = pool
            for language in usable:
                pool.replenish(language)
            recycler = asyncio.create_task(pool.recycle(usable))  # reads the list each round
        preparation = _preparation(settings, gateway, judge, factory, lifecycle, usable, pool)
        mode = settings.sandbox.build_images
        if missing:  # each build's progress is logged as it comes (_preparation)
            names = ", ".join(lang.id for lang in missing)
            log.info("%d image(s) current; missing or outdated (%s): %s", len(built), mode, names)
        for language in missing:
            if mode == "off":
                tag = language.image_tag(settings.sandbox.image_prefix)
                unavailable[language.id] = (
                    f"image {tag} is missing or outdated and CODEEXEC_BUILD_IMAGES is off"
                )
            else:
                preparation.add(language)
        lifecycle.preparation = preparation
        if mode == "startup":
            await preparation.prepare_all()
        elif mode == "background":
            preparation.start_all()
        app[DOCKER] = gateway
        app[SANDBOXES] = factory
        app[JUDGE] = judge
        try:
            yield
        finally:
            await preparation.close()
            if recycler is not None:
                recycler.cancel()
            await factory.remove_all()
            await gateway.remove_strays(settings.instance_name)
    finally:
        gateway.close()


def _preparation(
    settings: Settings,
    gateway: DockerGateway,
    judge: Judge,
    factory: SandboxFactory,
    lifecycle: Lifecycle,
    usable: list[Language],
    pool: WarmPool[Sandbox] | None,
) -> Preparation:
    """Languages whose image is built while the service runs: built, self-tested and
    versioned as those ready at start-up are, then judged and kept warm."""

    async def prepare(language: Language, progress: Progress) -> str | None:
        def report(line: str) -> None:
            log.info("%s", line)
            progress(line.strip())

        await ImageManager(settings, gateway, report).build(language)
        progress("running its self-test")
        failures = await run_self_tests(judge, [language], 1)
        if failures:
            return failures[language.id]
        lifecycle.versions.update(await installed_versions(judge, factory, [language], 1))
        return None

    def ready(language: Language) -> None:
        usable.append(language)
        if pool is not None:
            pool.replenish(language)

    def failed(language_id: str, reason: str) -> None:
        lifecycle.unavailable[language_id] = reason

    return Preparation(
        prepare,
        settings.sandbox.image_builds,
        ready,
        failed,
        settings.sandbox.image_build_timeout_s,
    )


async def _screener(app: web.Application) -> AsyncIterator[None]:
    screener = Screener(app[SETTINGS], app[LANGUAGES])
    await screener.warm_up()
    app[SCREENER] = screener
    try:
        yield
    finally:
        screener.close()


def callback(app: web.Application, s: Submission) -> tuple[str, dict[str, Any]]:
    """A finished job's callback, as the door it came in by sends it (method, body). A
    callback leaves the service for a URL the submitter chose: it always carries the
    contestant's view, whoever submitted (an admin reads the rest over the API)."""
    if s.door == JUDGE0_DOOR:
        return judge0_callback(app, s)
    if s.problem_id == AD_HOC_ID:
        return "POST", run_out(s)
    return "POST", submission_out(s, CONTESTANT)


async def _webhooks(app: web.Application) -> AsyncIterator[None]:
    """Callbacks: checked when a job is submitted, delivered by the worker that finished it."""
    webhooks = Webhooks(
        app[SETTINGS],
        app[SUBMISSIONS],
        app[OUTBOX],
        app[KEYS],
        partial(callback, app),
        metrics=app[METRICS],
    )
    app[WEBHOOKS] = webhooks
    try:
        yield
    finally:
        await webhooks.close()


async def _jobs(app: web.Application) -> AsyncIterator[None]:
    """Job workers, once sandboxes are ready; at shutdown running jobs get the drain
    timeout, then go back to the queue. The callbacks this instance owed are sent again."""
    settings, webhooks = app[SETTINGS], app[WEBHOOKS]

    def finished(done: Submission) -> None:
        if done.callback_url:
            webhooks.deliver(done.id)

    runner = JobRunner(
        settings,
        app[JOB_QUEUE],
        app[EVENTS],
        app[INTAKE],
        app[JUDGE],
        app[ADMISSION],
        app[NOTIFIER],
        finished,
        app[LIFECYCLE].building,
        app[METRICS],
    )
    app[JOBS] = runner
    for pending in await app[OUTBOX].pending_webhooks(settings.instance_name):
        webhooks.deliver(pending)
    await runner.start()
    try:
        yield
    finally:
        await runner.stop(settings.http.drain_timeout_s)


async def _start_draining(app: web.Application) -> None:
    app[LIFECYCLE].draining = True
    log.info("shutting down: draining in-flight submissions")


def _application(settings: Settings) -> web.Application:
    """What every kind of process shares: middlewares, state, drain and headers."""
    app = web.Application(
        client_max_size=settings.http.max_body_bytes,
        # request_context first: every answer, errors included, carries the request id;
        # count_requests next: it sees the status json_errors made of an error.
        middlewares=[
            request_context,
            count_requests,
            json_errors,
            refuse_while_draining,
            refuse_cross_origin,
            authenticate,
            rate_limit,
        ],
        handler_args=_HTTP_LIMITS,
    )
    app[SETTINGS] = settings
    app[LIFECYCLE] = Lifecycle()
    app[METRICS] = Metrics()  # this service's own registry: several may share a process
    app[LANGUAGES] = discover_languages(settings.sandbox.languages_dir, settings.sandbox.languages)
    app[ADMISSION] = Admission(
        settings.admission.concurrency, settings.admission.queue_size, app[METRICS]
    )
    app[NOTIFIER] = Notifier()
    app[RATE_LIMITER] = RateLimiter(settings.auth.rate_limit_per_s, settings.auth.rate_limit_burst)
    app.on_shutdown.append(_start_draining)
    app.on_response_prepare.extend([add_request_id, add_browser_headers])
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz)
    add_metrics_routes(app)
    return app


def make_app(settings: Settings, *, judging: bool = True, workers: bool = True) -> web.Application:
    """The service. ``workers=False`` (``serve --no-workers``) judges nothing: no Docker,
    no job workers; it accepts and screens jobs for ``codeexec worker`` processes on the
    same database, and ``/exec`` answers 503. ``judging=False`` leaves out the screener
    too: the HTTP edge and the store only (tests and benchmarks of request handling; a
    request that gets as far as judging then fails)."""
    app = _application(settings)
    if not judging:
        app.cleanup_ctx.append(_store)
    elif workers:
        app.cleanup_ctx.extend([_store, _screener, _sandboxes, _webhooks, _jobs])
    else:
        app.cleanup_ctx.extend([_store, _screener, _webhooks])
        app[JOBS] = NoWorkers()
    app.router.add_post("/exec", exec_code)
    app.router.add_get("/api/v1/languages", list_languages)
    add_problem_routes(app.router)
    add_submission_routes(app.router)
    add_run_routes(app.router)
    add_judge0_routes(app.router, settings.http.judge0_prefix)
    add_key_routes(app.router)
    add_piston_routes(app, settings.http.piston_prefix)
    add_openapi_routes(app)
    add_docs_routes(app.router)
    add_web_routes(app.router)
    return app


def make_worker_app(settings: Settings) -> web.Application:
    """``codeexec worker``: job workers with their own Docker engine and images, on the
    shared database; only ``/healthz``, ``/readyz`` and ``/metrics`` are served (on
    ``--health-port``, if given)."""
    app = _application(settings)
    app.cleanup_ctx.extend([_store, _screener, _sandboxes, _webhooks, _jobs])
    return app
