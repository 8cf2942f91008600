"""Typed keys for what the application holds (aiohttp ``web.AppKey``)."""

from __future__ import annotations

from dataclasses import dataclass, field

from aiohttp import web

from codeexec.config import Settings
from codeexec.http.limiter import RateLimiter
from codeexec.intake import Intake
from codeexec.jobs.notifier import Notifier
from codeexec.jobs.runner import JobRunner
from codeexec.jobs.webhooks import Webhooks
from codeexec.judge.admission import Admission
from codeexec.judge.judge import Judge
from codeexec.model import Language
from codeexec.sandbox.docker_gateway import DockerGateway
from codeexec.sandbox.engine import EngineInfo
from codeexec.sandbox.sandbox import SandboxFactory
from codeexec.screening.service import Screener
from codeexec.store.events import EventLog
from codeexec.store.keys import KeyStore
from codeexec.store.outbox import WebhookOutbox
from codeexec.store.problems import ProblemStore
from codeexec.store.queue import JobQueue
from codeexec.store.submissions import SubmissionStore


@dataclass
class Lifecycle:
    """Mutable service state: whether it is draining, which languages are usable."""

    draining: bool = False
    unavailable: dict[str, str] = field(default_factory=dict)
    versions: dict[str, str] = field(default_factory=dict)
    engine: EngineInfo | None = None

    def usable(self, languages: dict[str, Language]) -> dict[str, Language]:
        """The languages that passed their image build and self-test."""
        return {k: v for k, v in languages.items() if k not in self.unavailable}


SETTINGS = web.AppKey("settings", Settings)
LIFECYCLE = web.AppKey("lifecycle", Lifecycle)
LANGUAGES = web.AppKey("languages", dict[str, Language])
STORE = web.AppKey("store", ProblemStore)
DOCKER = web.AppKey("docker", DockerGateway)
SANDBOXES = web.AppKey("sandboxes", SandboxFactory)
JUDGE = web.AppKey("judge", Judge)
SCREENER = web.AppKey("screener", Screener)
INTAKE = web.AppKey("intake", Intake)
ADMISSION = web.AppKey("admission", Admission)
KEYS = web.AppKey("keys", KeyStore)
SUBMISSIONS = web.AppKey("submissions", SubmissionStore)
JOB_QUEUE = web.AppKey("job_queue", JobQueue)
EVENTS = web.AppKey("events", EventLog)
OUTBOX = web.AppKey("outbox", WebhookOutbox)
JOBS = web.AppKey("jobs", JobRunner)
WEBHOOKS = web.AppKey("webhooks", Webhooks)
NOTIFIER = web.AppKey("notifier", Notifier)
RATE_LIMITER = web.AppKey("rate_limiter", RateLimiter)
