"""The answers of the jobs API: submissions (``submissions_view``) and ad-hoc runs
(``runs_view``). A contestant's view of a hidden test's result has only ``position``,
``hidden`` and ``verdict`` (``codeexec.http.visibility``): every other field of a test
result is optional."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from codeexec.http.answers import Answer
from codeexec.http.exec_view import Counts, VerdictOut
from codeexec.model import Scope

StatusOut = Literal["queued", "running", "paused", "finished", "cancelled", "failed"]
Time = str  # UTC, ISO 8601 with Z: 2026-11-30T10:00:00.120000Z


class FileOut(Answer):
    name: str
    content: str


class OutputOut(Answer):
    """An ad-hoc run's output as stored: base64 bytes."""

    stdout_b64: str
    stderr_b64: str
    stdout_truncated: bool
    stderr_truncated: bool


class TestResultOut(Answer):
    position: int
    hidden: bool
    verdict: VerdictOut
    name: str | None = None
    time_ms: int | None = None
    wall_ms: int | None = None
    memory_kb: int | None = None
    exit_code: int | None = None
    signal: int | None = None
    input: str | None = None
    expected: str | None = None
    got: str | None = None
    got_truncated: bool | None = None
    stderr: str | None = None
    feedback: str | None = None
    output: OutputOut | None = None
    score: float | None = Field(None, description="a scoring problem's test: what it scored")

    __test__ = False  # not a pytest test class


class TestCounts(Answer):
    shown: Counts
    hidden: Counts

    __test__ = False


class GroupOut(Answer):
    """What a scoring problem's submission scored in one test group."""

    name: str = Field(description='the group\'s path under data/, e.g. "secret/group1"')
    score: float
    max_score: float | None = Field(description="the most it can score (null: unbounded)")
    verdict: VerdictOut = Field(description="the group's verdict (SK: none of it ran)")
    tests: list[int] = Field(description="the positions of its tests (its subgroups' too)")


class SubmissionOut(Answer):
    """A job. ``verdict``, ``passed``, ``tests``, ``compile_output`` and ``results`` once
    it has a result; ``error`` when it failed."""

    id: str
    problem_id: str
    problem_version: int | None
    language: str
    owner: str | None = Field(description="the API key that submitted it (null: anonymous)")
    status: StatusOut
    state: Literal["NOT_STARTED", "STARTED", "NOT_EXECUTED", "FINISHED_OK", "FINISHED_ERROR"]
    done: bool
    created_at: Time
    started_at: Time | None
    finished_at: Time | None
    rerun_of: str | None
    callback_url: str | None
    webhook: str | None = Field(description="the callback's delivery state")
    attempts: int
    worker: str | None = Field(
        description="the process that claimed it last (CODEEXEC_WORKER_NAME, else host name"
        " and process id); null until a worker claimed it"
    )
    scope: Scope = Field(
        description='the tests judged: every test ("all") or the shown ones ("shown"); '
        "tests and results count only those"
    )
    files: list[FileOut]
    verdict: VerdictOut | None = None
    passed: bool | None = None
    tests: TestCounts | None = None
    compile_output: str | None = None
    results: list[TestResultOut] | None = None
    score: float | None = Field(None, description="a scoring problem's: the submission's score")
    max_score: float | None = Field(
        None, description="a scoring problem's: the most it can score (null: unbounded)"
    )
    groups: list[GroupOut] | None = Field(None, description="a scoring problem's test groups")
    score_error: str | None = Field(
        None, description="admins only: the judge error that made the score 0"
    )
    error: str | None = None
    cancel_requested: bool | None = None
    paused_at: Time | None = Field(None, description="while paused: since when")


class SubmissionStatusOut(Answer):
    id: str
    status: StatusOut
    done: bool


class SubmissionList(Answer):
    items: list[SubmissionOut]
    total: int
    limit: int
    offset: int


class BatchOut(Answer):
    items: list[SubmissionOut]


class BatchRead(Answer):
    items: list[SubmissionOut]
    missing: list[str] = Field(description="ids not found (or not the caller's)")


class EventOut(Answer):
    seq: int
    kind: str = Field(description="a status (queued, running, finished, ...), or test, ...")
    data: dict[str, Any]
    at: Time | None


class EventsOut(Answer):
    id: str
    events: list[EventOut]


class RunOnce(Answer):
    verdict: VerdictOut
    exit_code: int | None
    signal: int | None
    time_ms: int
    wall_ms: int
    memory_kb: int


class RunOut(Answer):
    """An ad-hoc run: the run's fields once it is done; ``*_b64`` beside output that is
    not UTF-8; ``runs`` when repeated."""

    id: str
    language: str
    status: StatusOut
    done: bool
    created_at: Time
    started_at: Time | None
    finished_at: Time | None
    worker: str | None = Field(description="the process that claimed it last (null: none yet)")
    verdict: VerdictOut | None = None
    compile_output: str | None = None
    stdout: str | None = None
    stdout_b64: str | None = None
    stderr: str | None = None
    stderr_b64: str | None = None
    stdout_truncated: bool | None = None
    stderr_truncated: bool | None = None
    exit_code: int | None = None
    signal: int | None = None
    time_ms: int | None = None
    wall_ms: int | None = None
    memory_kb: int | None = None
    runs: list[RunOnce] | None = None
    error: str | None = None
