"""Typed keys for what the application holds (aiohttp ``web.AppKey``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from codeexec.config import Settings
from codeexec.http.limiter import RateLimiter
from codeexec.intake import Intake
from codeexec.jobs.elsewhere import JobWorkers
from codeexec.jobs.notifier import Notifier
from codeexec.jobs.webhooks import Webhooks
from codeexec.judge.admission import Admission
from codeexec.judge.judge import Judge
from codeexec.judge.preparation import Preparation
from codeexec.model import Language
from codeexec.observe.metrics import Metrics
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
    # Languages whose image is built while the service runs (None: none are).
    preparation: Preparation | None = None

    def preparing(self) -> dict[str, str]:
        """{language: where its preparation stands} for those not ready yet."""
        return self.preparation.states() if self.preparation is not None else {}

    def usable(self, languages: dict[str, Language]) -> dict[str, Language]:
        """The languages that passed their image build and self-test."""
        preparing = self.preparing()
        return {
            k: v for k, v in languages.items() if k not in self.unavailable and k not in preparing
        }

    def availability(self, language_id: str) -> dict[str, Any]:
        """How the API shows a language's state: ``available``, and why not
        (``reason``) or where its preparation stands (``preparing``)."""
        if language_id in self.unavailable:
            return {"available": False, "reason": self.unavailable[language_id]}
        if (progress := self.preparing().get(language_id)) is not None:
            return {"available": False, "preparing": progress}
        return {"available": True}

    def demand(self, language_id: str) -> str | None:
        """Where a language a request asks for stands, if it is being prepared (asking
        puts it first); None otherwise."""
        return self.preparation.demand(language_id) if self.preparation is not None else None

    def building(self) -> set[str]:
        """The languages queued or being prepared now: their jobs stay queued."""
        return self.preparation.building() if self.preparation is not None else set()


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
JOBS = web.AppKey("jobs", JobWorkers)
WEBHOOKS = web.AppKey("webhooks", Webhooks)
NOTIFIER = web.AppKey("notifier", Notifier)
RATE_LIMITER = web.AppKey("rate_limiter", RateLimiter)
METRICS = web.AppKey("metrics", Metrics)
