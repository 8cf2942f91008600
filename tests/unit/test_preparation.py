"""Languages prepared while the service runs (codeexec.judge.preparation): the order
(asked-for first), the states the API shows, failures, and start-up mode, with a fake
``prepare`` that the test releases step by step."""

from __future__ import annotations

import asyncio
import contextvars
import dataclasses
import io
import json
import logging

import pytest

from codeexec.config import Settings
from codeexec.judge.preparation import NOT_STARTED, QUEUED, Preparation, Progress
from codeexec.logs import REQUEST_ID, SUBMISSION_ID, JsonFormatter
from codeexec.model import Language
from codeexec.sandbox.languages import shipped_languages

PYTHON = shipped_languages()["python"]


def lang(lang_id: str) -> Language:
    return dataclasses.replace(PYTHON, id=lang_id, name=lang_id)


class Steps:
    """A ``prepare`` that records the order languages start in and waits to be released;
    a language named ``bad*`` fails, ``boom*`` raises."""

    def __init__(self) -> None:
        self.started: list[str] = []
        self.release: dict[str, asyncio.Event] = {}
        self.ready: list[str] = []
        self.failed: dict[str, str] = {}

    async def prepare(self, language: Language, progress: Progress) -> str | None:
        self.started.append(language.id)
        progress(f"building {language.id}: step 1/2")
        await self.release.setdefault(language.id, asyncio.Event()).wait()
        if language.id.startswith("boom"):
            raise RuntimeError("the engine went away")
        return "self-test failed with WA" if language.id.startswith("bad") else None

    def let(self, *ids: str) -> None:
        for lang_id in ids:
            self.release.setdefault(lang_id, asyncio.Event()).set()

    def preparation(self, workers: int = 1) -> Preparation:
        return Preparation(
            self.prepare,
            workers,
            lambda language: self.ready.append(language.id),
            self.failed.__setitem__,
        )


async def settle() -> None:
    for _ in range(5):
        await asyncio.sleep(0)


async def test_nothing_is_built_until_a_request_asks_and_then_only_that() -> None:
    steps = Steps()
    prep = steps.preparation()
    for lang_id in ("go", "java", "rust"):
        prep.add(lang(lang_id))
    await settle()
    assert steps.started == []
    assert prep.states() == dict.fromkeys(("go", "java", "rust"), NOT_STARTED)
    assert prep.demand("java") is not None
    await settle()
    assert steps.started == ["java"]
    assert prep.states()["java"] == "building java: step 1/2"  # its progress, live
    assert prep.demand("java") == "building java: step 1/2"
    steps.let("java")
    await prep.finished("java")
    assert steps.ready == ["java"]
    assert "java" not in prep.states() and prep.demand("java") is None
    assert steps.started == ["java"]  # the others still wait for a request
    await prep.close()


async def test_in_the_background_a_requested_language_goes_first() -> None:
    steps = Steps()
    prep = steps.preparation(workers=1)
    for lang_id in ("a", "b", "c", "d"):
        prep.add(lang(lang_id))
    prep.start_all()
    await settle()
    assert steps.started == ["a"]
    assert prep.states()["c"] == QUEUED
    prep.demand("d")  # a request for d: ahead of b and c
    steps.let("a", "b", "c", "d")
    for lang_id in ("a", "b", "c", "d"):
        await prep.finished(lang_id)
    assert steps.started == ["a", "d", "b", "c"]
    assert steps.ready == ["a", "d", "b", "c"]
    assert prep.states() == {}
    await prep.close()


async def test_builds_run_as_many_at_a_time_as_workers() -> None:
    steps = Steps()
    prep = steps.preparation(workers=2)
    for lang_id in ("a", "b", "c"):
        prep.add(lang(lang_id))
    prep.start_all()
    await settle()
    assert steps.started == ["a", "b"]
    steps.let("b")
    await prep.finished("b")
    await settle()
    assert steps.started == ["a", "b", "c"]
    steps.let("a", "c")
    await prep.prepare_all()
    await prep.close()


async def test_a_failure_makes_only_that_language_unavailable() -> None:
    steps = Steps()
    prep = steps.preparation(workers=1)
    for lang_id in ("bad", "boom", "ok"):
        prep.add(lang(lang_id))
    steps.let("bad", "boom", "ok")
    await prep.prepare_all()  # start-up mode: returns when each has ended
    assert steps.ready == ["ok"]
    assert steps.failed == {
        "bad": "self-test failed with WA",
        "boom": "could not be prepared: the engine went away",
    }
    assert prep.states() == {}
    assert prep.demand("bad") is None  # unavailable now, not preparing
    await prep.close()


async def test_a_language_not_being_prepared_is_not_waited_for() -> None:
    prep = Steps().preparation()
    assert prep.demand("python") is None
    await asyncio.wait_for(prep.finished("python"), 1)


async def test_closing_stops_a_build_in_progress() -> None:
    steps = Steps()
    prep = steps.preparation()
    prep.add(lang("slow"))
    prep.demand("slow")
    await settle()
    await asyncio.wait_for(prep.close(), 1)
    assert steps.ready == [] and steps.failed == {}


async def test_a_failing_ready_step_neither_stops_the_worker_nor_leaves_waiters() -> None:
    # A language made ready whose `ready` step raised (the warm pool, say) ended its
    # worker: the languages queued behind it stayed "queued" forever and anything
    # waiting for it never woke.
    steps = Steps()

    def ready(language: Language) -> None:
        if language.id == "a":
            raise RuntimeError("the pool could not start")
        steps.ready.append(language.id)

    prep = Preparation(steps.prepare, 1, ready, steps.failed.__setitem__)
    for lang_id in ("a", "b"):
        prep.add(lang(lang_id))
    steps.let("a", "b")
    await asyncio.wait_for(prep.prepare_all(), 1)
    assert steps.ready == ["b"]
    assert steps.failed == {"a": "could not be made ready: the pool could not start"}
    await prep.close()


async def test_a_preparation_that_never_ends_fails_in_time() -> None:
    # A build that hung (a mirror that never answers) kept its language "preparing"
    # forever: 503 to every request, its jobs queued for good, and the languages queued
    # behind it on that worker never built.
    steps = Steps()
    prep = Preparation(
        steps.prepare, 1, lambda language: steps.ready.append(language.id),
        steps.failed.__setitem__, timeout_s=0.05,
    )  # fmt: skip
    for lang_id in ("hung", "next"):
        prep.add(lang(lang_id))
    steps.let("next")
    await asyncio.wait_for(prep.prepare_all(), 2)
    assert steps.failed == {"hung": "not ready after 0.05 s: its preparation was stopped"}
    assert steps.ready == ["next"]
    await prep.close()


async def test_nothing_starts_once_closed() -> None:
    # Shutting down: a request (or a job) asking for a language after close() started
    # new workers, and a build, that nobody would stop.
    steps = Steps()
    prep = steps.preparation()
    prep.add(lang("late"))
    await prep.close()
    assert prep.demand("late") is not None  # still not ready: 503, not 400
    await settle()
    assert steps.started == []


@pytest.mark.parametrize(
    ("value", "mode"),
    [
        ("true", "startup"),  # the switch it was: build at start-up
        ("false", "off"),
        ("on-demand", "on-demand"),
        ("background", "background"),
    ],
)
def test_build_mode_setting(monkeypatch: pytest.MonkeyPatch, value: str, mode: str) -> None:
    monkeypatch.setenv("CODEEXEC_BUILD_IMAGES", value)
    assert Settings().sandbox.build_images == mode


def test_the_default_is_to_build_behind_the_running_service(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("CODEEXEC_BUILD_IMAGES", raising=False)
    assert Settings().sandbox.build_images == "background"
    with pytest.raises(ValueError, match="build_images"):
        Settings(build_images="sometimes")


async def test_build_lines_never_carry_the_ids_of_the_request_that_first_asked() -> None:
    """On demand, the first request (or job) to ask starts the build workers: they
    live on, and every later build line (of any language) must not claim to belong
    to that request or submission."""
    lines = io.StringIO()
    handler = logging.StreamHandler(lines)
    handler.setFormatter(JsonFormatter())
    logger = logging.getLogger("codeexec.judge.preparation")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    try:
        steps = Steps()
        prep = steps.preparation()
        for lang_id in ("go", "java"):
            prep.add(lang(lang_id))

        def first_request() -> None:
            REQUEST_ID.set("req-of-client-a")
            SUBMISSION_ID.set("sub-of-client-a")
            prep.demand("go")

        contextvars.copy_context().run(first_request)
        steps.let("go", "java")
        await prep.finished("go")
        await prep.finished("java")  # asked for later, by nobody in particular
        await prep.close()
    finally:
        logger.removeHandler(handler)
    events = [json.loads(line) for line in lines.getvalue().splitlines()]
    assert [e["message"] for e in events] == ["language go is ready", "language java is ready"]
    assert not any("request_id" in e or "submission_id" in e for e in events), events
