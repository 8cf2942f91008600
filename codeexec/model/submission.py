"""Submissions judged as jobs: their record, lifecycle status, outcome and event log."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any, Literal

from codeexec.model.problem import ProblemSnapshot
from codeexec.model.result import Result

# The tests a job judges: every test of its problem, or only the shown ones (the page's
# "Run samples"). Stored with the job, so whichever worker takes it judges the same tests.
Scope = Literal["all", "shown"]
SCOPES: tuple[Scope, ...] = ("all", "shown")


class Status(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    PAUSED = "paused"  # held back from workers, or its sandboxes frozen (claimed_by set)
    FINISHED = "finished"
    CANCELLED = "cancelled"
    FAILED = "failed"


TERMINAL = frozenset({Status.FINISHED, Status.CANCELLED, Status.FAILED})


@dataclass(frozen=True)
class Submission:
    id: str
    owner: str | None
    problem_id: str
    language: str
    files: tuple[tuple[str, str], ...]
    status: Status
    created_at: datetime
    problem_version: int | None = None
    result: Result | None = None  # when finished
    error: str | None = None  # when failed
    callback_url: str | None = None
    webhook_state: str | None = None
    rerun_of: str | None = None
    started_at: datetime | None = None
    finished_at: datetime | None = None
    attempts: int = 0
    cancel_requested: bool = False
    claimed_by: str | None = None
    worker: str | None = None  # the process that claimed it last (its worker name)
    # What intake accepted: the problem version screened against, and a syntax error the
    # screener found (judged CE), so a worker need not screen again.
    accepted_version: int | None = None
    screening_error: str | None = None
    inline: ProblemSnapshot | None = None  # an ad-hoc run's problem, carried by the job
    # The door it came in by, when that door answers in its own format (e.g. "judge0"),
    # and what it keeps of the request to do so.
    door: str | None = None
    door_data: dict[str, Any] | None = None
    scope: Scope = "all"
    paused_at: datetime | None = None  # while paused: since when

    @property
    def done(self) -> bool:
        return self.status in TERMINAL


@dataclass(frozen=True)
class Outcome:
    """What judging a job produced: a result, or why it could not be judged."""

    status: Status  # finished | failed
    result: Result | None = None  # when finished
    error: str | None = None  # when failed
    problem_version: int | None = None  # when failed by that version's policy


@dataclass(frozen=True)
class Event:
    seq: int
    kind: str
    data: dict[str, Any]
    created_at: datetime
