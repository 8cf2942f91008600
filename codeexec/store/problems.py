"""The problem store: problems, their limits and policies, and versioned test cases.

Test data is read once per (problem, version) and kept in a size-bounded LRU cache; a
request costs one small metadata query, never a reload of the test data.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from cachetools import LRUCache
from sqlalchemy import delete, insert, select, text, update
from sqlalchemy.ext.asyncio import AsyncEngine

from codeexec.store.schema import problems, test_cases


@dataclass(frozen=True)
class TestCase:
    input: bytes
    expected_output: bytes
    hidden: bool = False

    __test__ = False  # not a pytest test class


@dataclass(frozen=True)
class Problem:
    id: str
    title: str = ""
    version: int = 1
    time_limit_ms: int | None = None
    memory_limit_mb: int | None = None
    output_limit_kb: int | None = None
    wall_time_limit_ms: int | None = None
    process_limit: int | None = None
    isolation: str | None = None  # "submission" | "test"; None: the server default
    checker: str = "lines"
    screening: dict[str, list[str]] | None = None
    statement: str | None = None


@dataclass(frozen=True)
class ProblemSnapshot:
    """A problem with the tests of exactly one version: what a submission is judged on."""

    problem: Problem
    tests: tuple[TestCase, ...] = field(default_factory=tuple)


def _row_to_problem(row: Any) -> Problem:
    return Problem(
        id=row.id,
        title=row.title,
        version=row.version,
        time_limit_ms=row.time_limit_ms,
        memory_limit_mb=row.memory_limit_mb,
        output_limit_kb=row.output_limit_kb,
        wall_time_limit_ms=row.wall_time_limit_ms,
        process_limit=row.process_limit,
        isolation=row.isolation,
        checker=row.checker,
        screening=json.loads(row.screening) if row.screening is not None else None,
        statement=row.statement,
    )


def _size_of(tests: tuple[TestCase, ...]) -> int:
    return sum(len(t.input) + len(t.expected_output) for t in tests) + 1


class ProblemStore:
    def __init__(self, engine: AsyncEngine, cache_bytes: int) -> None:
        self._engine = engine
        self._cache: LRUCache[tuple[str, int], tuple[TestCase, ...]] = LRUCache(
            maxsize=max(cache_bytes, 1), getsizeof=_size_of
        )
        self._loading: dict[tuple[str, int], asyncio.Future[tuple[TestCase, ...]]] = {}

    async def ping(self) -> bool:
        try:
            async with self._engine.connect() as conn:
                await conn.execute(text("SELECT 1"))
            return True
        except Exception:
            return False

    async def get_problem(self, problem_id: str) -> Problem | None:
        async with self._engine.connect() as conn:
            row = (await conn.execute(select(problems).where(problems.c.id == problem_id))).first()
        return _row_to_problem(row) if row is not None else None

    async def snapshot(self, problem_id: str) -> ProblemSnapshot | None:
        """The problem and the tests of its current version, consistent with each other."""
        while True:
            problem = await self.get_problem(problem_id)
            if problem is None:
                return None
            tests = await self.tests(problem.id, problem.version)
            if tests:
                return ProblemSnapshot(problem, tests)
            # No rows: either the problem has no tests, or a save replaced this version
            # between our two queries; only the second case changes the version.
            latest = await self.get_problem(problem_id)
            if latest is None or latest.version == problem.version:
                return ProblemSnapshot(problem, tests)

    async def tests(self, problem_id: str, version: int) -> tuple[TestCase, ...]:
        key = (problem_id, version)
        cached = self._cache.get(key)
        if cached is not None:
            return cached
        # Concurrent requests for the same version share one load.
        pending = self._loading.get(key)
        if pending is not None:
            return await asyncio.shield(pending)
        future: asyncio.Future[tuple[TestCase, ...]] = asyncio.get_running_loop().create_future()
        self._loading[key] = future
        try:
            loaded = await self._load_tests(problem_id, version)
            future.set_result(loaded)
            if _size_of(loaded) <= self._cache.maxsize:
                self._cache[key] = loaded
            return loaded
        except BaseException as exc:
            future.set_exception(exc)
            future.exception()  # retrieved: waiters re-raise it, nobody logs it twice
            raise
        finally:
            del self._loading[key]

    async def _load_tests(self, problem_id: str, version: int) -> tuple[TestCase, ...]:
        query = (
            select(test_cases.c.input, test_cases.c.expected_output, test_cases.c.hidden)
            .where(test_cases.c.problem_id == problem_id, test_cases.c.version == version)
            .order_by(test_cases.c.position)
        )
        async with self._engine.connect() as conn:
            rows = (await conn.execute(query)).all()
        return tuple(
            TestCase(bytes(r.input), bytes(r.expected_output), bool(r.hidden)) for r in rows
        )

    async def save(self, problem: Problem, tests: Sequence[TestCase]) -> Problem:
        """Create a problem, or replace its settings and tests as a new version."""
        values = {
            "title": problem.title,
            "statement": problem.statement,
            "time_limit_ms": problem.time_limit_ms,
            "memory_limit_mb": problem.memory_limit_mb,
            "output_limit_kb": problem.output_limit_kb,
            "wall_time_limit_ms": problem.wall_time_limit_ms,
            "process_limit": problem.process_limit,
            "isolation": problem.isolation,
            "checker": problem.checker,
            "screening": json.dumps(problem.screening) if problem.screening is not None else None,
        }
        async with self._engine.begin() as conn:
            current = (
                await conn.execute(
                    select(problems.c.version).where(problems.c.id == problem.id).with_for_update()
                )
            ).scalar_one_or_none()
            version = 1 if current is None else current + 1
            if current is None:
                await conn.execute(
                    insert(problems).values(id=problem.id, version=version, **values)
                )
            else:
                await conn.execute(
                    update(problems)
                    .where(problems.c.id == problem.id)
                    .values(version=version, updated_at=text("CURRENT_TIMESTAMP"), **values)
                )
            if tests:
                await conn.execute(
                    insert(test_cases),
                    [
                        {
                            "problem_id": problem.id,
                            "version": version,
                            "position": i,
                            "input": t.input,
                            "expected_output": t.expected_output,
                            "hidden": t.hidden,
                        }
                        for i, t in enumerate(tests)
                    ],
                )
            # Older versions are no longer reachable by new submissions.
            await conn.execute(
                delete(test_cases).where(
                    test_cases.c.problem_id == problem.id, test_cases.c.version < version
                )
            )
        return Problem(**{**problem.__dict__, "version": version})

    async def exists(self, problem_id: str) -> bool:
        async with self._engine.connect() as conn:
            found = await conn.execute(select(problems.c.id).where(problems.c.id == problem_id))
            return found.first() is not None
