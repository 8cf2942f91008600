"""Demo problems seeded into an empty store (the embedded default and the compose stack)."""

from __future__ import annotations

import logging

from codeexec.model import Problem, TestCase
from codeexec.store.problems import ProblemStore

log = logging.getLogger(__name__)


def _t(given: str, expected: str, hidden: bool = False) -> TestCase:
    return TestCase(given.encode(), expected.encode(), hidden)


DEMO_PROBLEMS: tuple[tuple[Problem, tuple[TestCase, ...]], ...] = (
    (
        Problem(id="HQ000000000000000001", title="Sum of two integers"),
        (
            _t("1 2\n", "3\n"),
            _t("-5 5\n", "0\n"),
            _t("1000000000 1000000000\n", "2000000000\n", hidden=True),
            _t("-7 -8\n", "-15\n", hidden=True),
        ),
    ),
    (
        # Seed 004's example problem: read a line, print it in lower case.
        Problem(id="HQ000000000000000002", title="Lower case"),
        (
            _t("DaN\n", "dan\n"),
            _t("perEz\n", "perez\n"),
            _t("HELLO World\n", "hello world\n", hidden=True),
            _t("ПРИВЕТ Мир\n", "привет мир\n", hidden=True),
        ),
    ),
    (
        Problem(id="HQ000000000000000003", title="Reverse a line"),
        (
            _t("abc\n", "cba\n"),
            _t("racecar\n", "racecar\n"),
            _t("Привет\n", "тевирП\n", hidden=True),
        ),
    ),
)


async def seed_demo_problems(store: ProblemStore) -> int:
    """Insert the demo problems that are missing; never overwrite an existing one."""
    added = 0
    for problem, tests in DEMO_PROBLEMS:
        if not await store.exists(problem.id):
            await store.save(problem, tests)
            added += 1
    if added:
        log.info("seeded %d demo problem(s)", added)
    return added
