"""Intake: a request becomes judgeable work once — its language and files checked, its
problem looked up, its program screened against the problem's policy — or it is refused
with the reason and the HTTP status every door answers with (in its own format).

A job is accepted here when submitted; when a worker takes it, ``resume`` rebuilds the
work from what was stored: the screening is not repeated unless the problem changed
in between (the policy of the version it is judged on applies), and the same tests are
judged (its scope: every test, or the shown ones).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

from codeexec.intake.program import SubmissionError, binary_files, program_files, source_bytes
from codeexec.judge.admission import QueueFull
from codeexec.model import Language, ProblemSnapshot, Scope, SourceFile, Submission
from codeexec.observe.metrics import Metrics
from codeexec.screening.service import MAX_REPORTED, Screener, ScreeningResult


@dataclass(frozen=True)
class Request:
    """What a door asks to judge."""

    problem_id: str
    language: str
    code: str | None = None
    files: Sequence[SourceFile] | None = None
    entry_point: str | None = None
    inline: ProblemSnapshot | None = None  # an ad-hoc run's problem (problem_id unused)
    scope: Scope = "all"  # "shown": only the problem's shown tests are judged


@dataclass(frozen=True)
class Accepted:
    """Work ready to judge: the program passed screening (a syntax error the screener
    found is kept, to be judged CE without running anything)."""

    language: Language
    files: dict[str, str]  # as they enter the sandbox
    snapshot: ProblemSnapshot  # only the tests to judge (narrowed to the request's scope)
    screening: ScreeningResult


class Rejected(Exception):
    """Why a request cannot be judged. ``title`` None: the door's own wording of a bad
    request (400); ``detail`` says what exactly."""

    def __init__(
        self,
        status: int,
        title: str | None,
        detail: str | None = None,
        busy: bool = False,
        problem_version: int | None = None,
    ) -> None:
        super().__init__(detail or title or "")
        self.status = status
        self.title = title
        self.detail = detail
        self.busy = busy  # worth retrying later (answer with Retry-After)
        self.problem_version = problem_version  # when refused by that version's policy

    @property
    def reason(self) -> str:
        """One line for a job's stored error."""
        return self.title or self.detail or ""


class NotReady(Exception):
    """A queued job's language is being prepared here (its image is being built): the
    job goes back to the queue, and no worker waits for the build."""

    def __init__(self, language_id: str, progress: str) -> None:
        super().__init__(f"language {language_id!r} is being prepared: {progress}")
        self.language_id = language_id


class Problems(Protocol):
    async def snapshot(self, problem_id: str) -> ProblemSnapshot | None: ...


BINARY_MESSAGE = "object files and executables cannot be judged; submit the source files"
NO_SHOWN_TESTS = "Problem has no shown tests"


def scoped(snapshot: ProblemSnapshot, scope: Scope) -> ProblemSnapshot:
    """The tests ``scope`` judges (Rejected 422 when it is "shown" and there are none)."""
    if scope == "all":
        return snapshot
    shown = snapshot.shown()
    if not shown.tests:
        problem = snapshot.problem
        raise Rejected(
            422,
            NO_SHOWN_TESTS,
            f"scope 'shown' judges the shown tests; problem {problem.id!r} (version"
            f" {problem.version}) has {len(snapshot.tests)} test(s), none shown",
            problem_version=problem.version,
        )
    return shown


def disallowed_message(names: Sequence[str]) -> str:
    """The first ``MAX_REPORTED`` names, sorted, then ``...`` when there are more."""
    shown = ", ".join(sorted(names)[:MAX_REPORTED])
    more = ", ..." if len(names) > MAX_REPORTED else ""
    return f"Found disallowed functions in code ({shown}{more})"


class Intake:
    def __init__(
        self,
        languages: Callable[[], dict[str, Language]],  # the usable ones, now
        problems: Problems,
        screener: Callable[[], Screener],
        max_source_bytes: int,
        demand: Callable[[str], str | None] = lambda _: None,
        metrics: Metrics | None = None,
    ) -> None:
        self._languages = languages
        self._problems = problems
        self._screener = screener
        self._max_source_bytes = max_source_bytes
        # A language whose image is being built (codeexec.judge.preparation): where it
        # stands (asking puts it first); None when it is not being prepared.
        self._demand = demand
        self._metrics = metrics or Metrics()

    async def accept(self, request: Request) -> Accepted:
        """The work a request asks for (raises Rejected: 400 bad language or files,
        413 too large, 404 no such problem, 422 no shown tests for scope "shown", 403
        disallowed, 503 screening saturated)."""
        language = self._language(request.language)
        try:
            files = program_files(language, request.code, request.files, request.entry_point)
        except SubmissionError as exc:
            raise Rejected(400, None, str(exc)) from exc
        if source_bytes(files) > self._max_source_bytes:
            raise Rejected(413, "Code too large", f"at most {self._max_source_bytes} bytes")
        snapshot = request.inline or await self._snapshot(request.problem_id)
        judged = scoped(snapshot, request.scope)  # refused before any screening
        try:
            screening = await self._screen(language, files, snapshot, bounded=True)
        except QueueFull as exc:
            raise Rejected(503, "Server busy: too many programs being screened", busy=True) from exc
        return Accepted(language, files, judged, screening)

    async def resume(self, job: Submission) -> Accepted:
        """A queued job's work, as accepted, on the tests of its scope (Rejected when
        its language or problem has gone, a changed problem's policy now forbids it or
        it now has no shown test to judge; NotReady while its language is being
        prepared, which asking for it puts first)."""
        language = self._languages().get(job.language)
        if language is None and (progress := self._demand(job.language)) is not None:
            raise NotReady(job.language, progress)
        if language is None:
            raise Rejected(400, None, f"language {job.language!r} is not available")
        snapshot = job.inline or await self._problems.snapshot(job.problem_id)
        if snapshot is None:
            raise Rejected(404, None, f"problem {job.problem_id!r} no longer exists")
        judged = scoped(snapshot, job.scope)
        files = dict(job.files)
        if job.inline is not None or job.accepted_version == snapshot.problem.version:
            screening = ScreeningResult((), job.screening_error)
        else:  # the problem changed since: its policy now applies (the queue is the db)
            screening = await self._screen(language, files, snapshot, bounded=False)
        return Accepted(language, files, judged, screening)

    def _language(self, language_id: str) -> Language:
        usable = self._languages()
        language = usable.get(language_id)
        if language is None and (progress := self._demand(language_id)) is not None:
            raise Rejected(
                503,
                f"Language {language_id!r} is being prepared; retry shortly",
                progress,
                busy=True,
            )
        if language is None:
            raise Rejected(
                400,
                None,
                f"unknown or unavailable language {language_id!r}; use one of {sorted(usable)}",
            )
        return language

    async def _snapshot(self, problem_id: str) -> ProblemSnapshot:
        snapshot = await self._problems.snapshot(problem_id)
        if snapshot is None:
            raise Rejected(404, "Problem not found", f"no problem with id {problem_id!r}")
        return snapshot

    async def _screen(
        self, language: Language, files: dict[str, str], snapshot: ProblemSnapshot, bounded: bool
    ) -> ScreeningResult:
        """Every file the compiler or interpreter reads as code is screened — sources in
        any of the language's extensions and its headers (an inline function in a header
        is code) — and syntax-checked where its parser does that (``python-ast``); other
        files (data, text) are not programs. Object files and executables are a compile
        error at once, nothing screened (also when a job is screened again: its problem
        changed while it waited). Raises ``QueueFull`` when screening is saturated,
        unless ``bounded`` is False."""
        if binaries := binary_files(files):  # nothing to screen or build: judged CE
            return ScreeningResult((), f"{', '.join(binaries)}: {BINARY_MESSAGE}")
        screener = self._screener()
        policy = screener.policy_for(language.id, snapshot.problem.screening)
        results = [
            await screener.screen(language.id, text, name, policy, bounded)
            for name, text in files.items()
            if language.is_program_text(name)
        ]
        disallowed = tuple(sorted({n for r in results for n in r.disallowed}))
        if disallowed:
            self._metrics.screening_rejected(language.id)
            version = snapshot.problem.version
            raise Rejected(403, disallowed_message(disallowed), problem_version=version)
        return ScreeningResult(
            (), next((r.compile_error for r in results if r.compile_error), None)
        )
