"""The service's Prometheus metrics: one ``Metrics`` per service, in a registry of its own.

Several services may live in one process (tests, ``codeexec grade`` with a local
service), so prometheus-client's global registry is never used: the app makes one
``Metrics`` and hands it to the components that record (intake, judge pipeline, job
runner, webhooks, Docker gateway, HTTP middleware); a component built without one (unit
tests) makes a fresh one, so recording never needs a check.

Every label value comes from a bounded set: language ids (the discovered languages),
verdicts (``model.Verdict``), route templates (never raw paths), HTTP methods (the
standard ones, else ``other``) and status codes, and a few fixed words. No problem id,
submission id, token or path is ever a label. Recording is a few dictionary look-ups and
additions: it never blocks the event loop.
"""

from __future__ import annotations

from collections.abc import Mapping
from importlib.metadata import PackageNotFoundError, version

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, Info
from prometheus_client.exposition import generate_latest

from codeexec.model import Judgement, Verdict

# The route label of a request that matched no route (404, 405): one value, never its path.
UNMATCHED = "unmatched"
HTTP_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
# Final outcomes of a callback: delivered (2xx), failed (every attempt failed), refused
# (its URL was refused when the delivery was attempted: not retried).
WEBHOOK_OUTCOMES = ("delivered", "failed", "refused")
# Queues a submission waits in: an execution slot (/exec), the jobs table (jobs).
QUEUES = ("exec", "jobs")

_SHORT = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
_HTTP_BUCKETS = (*_SHORT, 30.0, 60.0)
_RUN_BUCKETS = (*_SHORT, 20.0, 40.0)
_COMPILE_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 5.0, 10.0, 20.0, 40.0, 80.0)
_LONG_BUCKETS = (0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 600.0)


def codeexec_version() -> str:
    try:
        return version("codeexec")
    except PackageNotFoundError:  # run from a source tree that was never installed
        return "unknown"


class Metrics:
    """Every metric of one service and the one way each is recorded."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.submissions = Counter(
            "codeexec_submissions",
            "Submissions judged (every door: /exec, jobs, runs, Judge0, Piston), by final verdict",
            ["language", "verdict"],
            registry=r,
        )
        self.tests = Counter(
            "codeexec_tests",
            "Test verdicts of judged submissions",
            ["language", "verdict"],
            registry=r,
        )
        self.screening_rejections = Counter(
            "codeexec_screening_rejections",
            "Programs refused by screening (disallowed names, 403)",
            ["language"],
            registry=r,
        )
        self.webhooks = Counter(
            "codeexec_webhook_deliveries",
            "Callback deliveries by final outcome (delivered, failed, refused)",
            ["outcome"],
            registry=r,
        )
        self.containers_created = Counter(
            "codeexec_containers_created", "Sandbox containers created", registry=r
        )
        self.containers_removed = Counter(
            "codeexec_containers_removed",
            "Sandbox containers removed after use (warm, judging, checkers)",
            registry=r,
        )
        self.containers_reused = Counter(
            "codeexec_containers_reused",
            "Sandbox containers handed to another submission after a checked reset",
            registry=r,
        )
        self.containers_reaped = Counter(
            "codeexec_containers_reaped",
            "Stray sandbox containers of this instance removed (left by an earlier run at"
            " start-up, or found at shutdown)",
            registry=r,
        )
        self.http_requests = Counter(
            "codeexec_http_requests",
            "HTTP requests by route template and final status",
            ["method", "route", "status"],
            registry=r,
        )
        self.http_latency = Histogram(
            "codeexec_http_request_duration_seconds",
            "Time until a response's headers were ready (a stream's: until it started)",
            ["method", "route"],
            buckets=_HTTP_BUCKETS,
            registry=r,
        )
        self.queue_wait = Histogram(
            "codeexec_queue_wait_seconds",
            "Time a submission waited before judging began: for an execution slot (exec),"
            " or from submission to a worker claiming it (jobs)",
            ["queue"],
            buckets=_LONG_BUCKETS,
            registry=r,
        )
        self.compile_time = Histogram(
            "codeexec_compile_seconds",
            "Wall time of a submission's compile step",
            ["language"],
            buckets=_COMPILE_BUCKETS,
            registry=r,
        )
        self.run_time = Histogram(
            "codeexec_test_run_seconds",
            "Wall time of one test's run of the program",
            ["language"],
            buckets=_RUN_BUCKETS,
            registry=r,
        )
        self.submission_time = Histogram(
            "codeexec_submission_seconds",
            "Time judging a whole submission took (compile and every test)",
            ["language"],
            buckets=_LONG_BUCKETS,
            registry=r,
        )
        self.jobs_queued = Gauge(
            "codeexec_jobs_queued", "Jobs waiting in the queue (all processes)", registry=r
        )
        self.jobs_running = Gauge(
            "codeexec_jobs_running", "Jobs this process is judging now", registry=r
        )
        self.workers_alive = Gauge(
            "codeexec_job_workers_alive",
            "Job workers of this process that are running",
            registry=r,
        )
        self.pool_idle = Gauge(
            "codeexec_pool_idle_containers",
            "Warm sandbox containers ready to serve, per language",
            ["language"],
            registry=r,
        )
        self.build = Info(
            "codeexec_build",
            "codeexec version and the container engine it drives",
            registry=r,
        )
        self.build.info(_build_labels(None, None, None))

    # -- judging -----------------------------------------------------------------------

    def judged(self, language: str, judgement: Judgement, seconds: float) -> None:
        """A submission's judgement, recorded once (``judge.pipeline.judge_program``):
        its verdict, each test's verdict and run time, its compile time, its duration."""
        self.submissions.labels(language, judgement.verdict.value).inc()
        for result in judgement.results:
            self.tests.labels(language, result.verdict.value).inc()
            # A test that ran has an exit code or a signal; CE and some IE never ran.
            if result.exit_code is not None or result.signal is not None:
                self.run_time.labels(language).observe(result.wall_ms / 1000)
        if judgement.compile_ms is not None:
            self.compile_time.labels(language).observe(judgement.compile_ms / 1000)
        self.submission_time.labels(language).observe(seconds)

    def not_judged(self, language: str, seconds: float) -> None:
        """A submission judging failed for (no sandbox, or a bug): the service's failure (IE)."""
        self.submissions.labels(language, Verdict.IE.value).inc()
        self.submission_time.labels(language).observe(seconds)

    def screening_rejected(self, language: str) -> None:
        self.screening_rejections.labels(language).inc()

    def waited(self, queue: str, seconds: float) -> None:
        self.queue_wait.labels(queue).observe(max(0.0, seconds))

    # -- containers and callbacks ------------------------------------------------------

    def container_created(self) -> None:
        self.containers_created.inc()

    def container_removed(self) -> None:
        self.containers_removed.inc()

    def container_reused(self) -> None:
        self.containers_reused.inc()

    def containers_reaped_now(self, count: int) -> None:
        self.containers_reaped.inc(count)

    def webhook(self, outcome: str) -> None:
        self.webhooks.labels(outcome).inc()

    # -- HTTP --------------------------------------------------------------------------

    def http_request(self, method: str, route: str, status: int, seconds: float) -> None:
        method = method if method in HTTP_METHODS else "other"
        self.http_requests.labels(method, route, str(status)).inc()
        self.http_latency.labels(method, route).observe(seconds)

    # -- state read when scraped -------------------------------------------------------

    def live(
        self,
        *,
        queued: int | None,
        running: int,
        workers: int,
        idle: Mapping[str, int],
    ) -> None:
        """What is true now (``queued`` None: the database did not answer: NaN)."""
        self.jobs_queued.set(float("nan") if queued is None else queued)
        self.jobs_running.set(running)
        self.workers_alive.set(workers)
        for language, count in idle.items():
            self.pool_idle.labels(language).set(count)

    def engine(self, product: str, engine_version: str, cgroup_version: int | None) -> None:
        self.build.info(_build_labels(product, engine_version, cgroup_version))

    def exposition(self) -> bytes:
        """The registry in Prometheus' text format."""
        return generate_latest(self.registry)


def _build_labels(product: str | None, engine: str | None, cgroup: int | None) -> dict[str, str]:
    return {
        "version": codeexec_version(),
        "engine": product or "unknown",
        "engine_version": engine or "unknown",
        "cgroup_version": str(cgroup) if cgroup else "unknown",
    }
