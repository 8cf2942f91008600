"""The problem store: problems, their limits and policies, and versioned test cases.

Test data is read once per (problem, version) and kept in a size-bounded LRU cache; a
request costs one small metadata query, never a reload of the test data.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Sequence
from typing import Any

from cachetools import LRUCache
from sqlalchemy import Integer, cast, delete, func, insert, literal, select, text, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from codeexec.model import (
    CheckerProgram,
    CheckerSpec,
    FileSummary,
    Problem,
    ProblemFile,
    ProblemSnapshot,
    ProblemSummary,
    Scoring,
    TestCase,
    TestSummary,
)
from codeexec.model.files import FileKind
from codeexec.model.problem import SETTINGS_FIELDS
from codeexec.store.schema import problem_files, problems, test_cases


def _checker_of(row: Any) -> CheckerSpec:
    program = None
    if row.checker_language is not None:
        files = tuple((str(n), str(t)) for n, t in json.loads(row.checker_files or "[]"))
        program = CheckerProgram(row.checker_language, files)
    args = tuple(json.loads(row.checker_args)) if row.checker_args else ()
    return CheckerSpec(row.checker, args, program)


def _checker_columns(spec: CheckerSpec) -> dict[str, Any]:
    program = spec.program
    return {
        "checker": spec.mode,
        "checker_args": json.dumps(list(spec.args)) if spec.args else None,
        "checker_language": program.language if program else None,
        "checker_files": json.dumps([list(f) for f in program.files]) if program else None,
    }


def _settings_columns(values: dict[str, Any]) -> dict[str, Any]:
    """Problem settings as database columns."""
    columns = {k: v for k, v in values.items() if k not in ("checker", "screening")}
    if "checker" in values:
        columns.update(_checker_columns(values["checker"]))
    if "screening" in values:
        screening = values["screening"]
        columns["screening"] = json.dumps(screening) if screening is not None else None
    return columns


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
        checker=_checker_of(row),
        screening=json.loads(row.screening) if row.screening is not None else None,
        statement=row.statement,
        scoring=Scoring.from_json(json.loads(row.scoring)) if row.scoring else None,
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

    async def test_summaries(self, problem_id: str, version: int) -> list[TestSummary]:
        """The tests of one version without their data (sizes measured by the database)."""
        query = (
            select(
                test_cases.c.name,
                test_cases.c.hidden,
                func.length(test_cases.c.input).label("input_bytes"),
                func.length(test_cases.c.expected_output).label("output_bytes"),
            )
            .where(test_cases.c.problem_id == problem_id, test_cases.c.version == version)
            .order_by(test_cases.c.position)
        )
        async with self._engine.connect() as conn:
            rows = (await conn.execute(query)).all()
        return [
            TestSummary(r.name, bool(r.hidden), int(r.input_bytes), int(r.output_bytes))
            for r in rows
        ]

    async def _load_tests(self, problem_id: str, version: int) -> tuple[TestCase, ...]:
        query = (
            select(
                test_cases.c.input,
                test_cases.c.expected_output,
                test_cases.c.hidden,
                test_cases.c.name,
                test_cases.c.test_group,
            )
            .where(test_cases.c.problem_id == problem_id, test_cases.c.version == version)
            .order_by(test_cases.c.position)
        )
        async with self._engine.connect() as conn:
            rows = (await conn.execute(query)).all()
        return tuple(
            TestCase(
                bytes(r.input), bytes(r.expected_output), bool(r.hidden), r.name, group=r.test_group
            )
            for r in rows
        )

    async def save(
        self,
        problem: Problem,
        tests: Sequence[TestCase],
        files: Sequence[ProblemFile] | None = None,
    ) -> Problem:
        """Create a problem, or replace its settings and tests as a new version. Its
        statement files and attachments become ``files``; ``None`` keeps those it had."""
        values = _settings_columns({name: getattr(problem, name) for name in SETTINGS_FIELDS})
        # Set by an import with its tests' groups, never changed alone.
        scoring = problem.scoring
        values["scoring"] = json.dumps(scoring.as_json()) if scoring is not None else None
        async with self._engine.begin() as conn:
            current = await self._lock_version(conn, problem.id)
            version = 1 if current is None else current + 1
            if current is None:
                self._forget(problem.id)  # a problem deleted before had a version 1 too
                await conn.execute(
                    insert(problems).values(id=problem.id, version=version, **values)
                )
            else:
                await conn.execute(
                    update(problems)
                    .where(problems.c.id == problem.id)
                    .values(version=version, updated_at=text("CURRENT_TIMESTAMP"), **values)
                )
            await self._write_tests(conn, problem.id, version, list(tests))
            await self._write_files(conn, problem.id, version, files, copy_from=current)
        return Problem(**{**problem.__dict__, "version": version})

    async def update_settings(self, problem_id: str, changes: dict[str, Any]) -> Problem | None:
        """Change a problem's settings (not its tests: the version stays)."""
        unknown = set(changes) - SETTINGS_FIELDS
        if unknown:
            raise ValueError(f"not problem settings: {sorted(unknown)}")
        async with self._engine.begin() as conn:
            if await self._lock_version(conn, problem_id) is None:
                return None
            if changes:
                await conn.execute(
                    update(problems)
                    .where(problems.c.id == problem_id)
                    .values(updated_at=text("CURRENT_TIMESTAMP"), **_settings_columns(changes))
                )
        return await self.get_problem(problem_id)

    async def edit_tests(self, problem_id: str, plan: Sequence[int | TestCase]) -> Problem | None:
        """Make the problem's tests, as a new version, from ``plan``: an int keeps the
        current test at that position (copied inside the database), a TestCase is new.
        None if there is no such problem; IndexError for a position that does not exist."""
        async with self._engine.begin() as conn:
            current = await self._lock_version(conn, problem_id)
            if current is None:
                return None
            count = await self._count_tests(conn, problem_id, current)
            for item in plan:
                if isinstance(item, int) and not 0 <= item < count:
                    raise IndexError(f"no test at position {item + 1} (there are {count})")
            version = current + 1
            await conn.execute(
                update(problems)
                .where(problems.c.id == problem_id)
                .values(version=version, updated_at=text("CURRENT_TIMESTAMP"))
            )
            await self._write_tests(conn, problem_id, version, list(plan), copy_from=current)
            await self._write_files(conn, problem_id, version, None, copy_from=current)
        return await self.get_problem(problem_id)

    async def delete(self, problem_id: str) -> bool:
        async with self._engine.begin() as conn:
            await conn.execute(delete(test_cases).where(test_cases.c.problem_id == problem_id))
            await conn.execute(
                delete(problem_files).where(problem_files.c.problem_id == problem_id)
            )
            gone = await conn.execute(delete(problems).where(problems.c.id == problem_id))
        self._forget(problem_id)
        return bool(gone.rowcount)

    def _forget(self, problem_id: str) -> None:
        """Drop a problem's cached tests: re-created, its versions start again at 1."""
        for key in [key for key in self._cache if key[0] == problem_id]:
            del self._cache[key]

    async def list_problems(self, limit: int, offset: int) -> tuple[list[ProblemSummary], int]:
        """A page of problems ordered by id, and how many there are in all."""
        count_all = select(func.count()).select_from(problems)
        hidden = func.coalesce(func.sum(cast(test_cases.c.hidden, Integer)), 0)
        query = (
            select(
                problems.c.id,
                problems.c.title,
                problems.c.version,
                problems.c.updated_at,
                func.count(test_cases.c.id).label("tests"),
                hidden.label("hidden_tests"),
            )
            .select_from(
                problems.outerjoin(
                    test_cases,
                    (test_cases.c.problem_id == problems.c.id)
                    & (test_cases.c.version == problems.c.version),
                )
            )
            .group_by(problems.c.id, problems.c.title, problems.c.version, problems.c.updated_at)
            .order_by(problems.c.id)
            .limit(limit)
            .offset(offset)
        )
        async with self._engine.connect() as conn:
            total = (await conn.execute(count_all)).scalar_one()
            rows = (await conn.execute(query)).all()
        return [
            ProblemSummary(
                r.id, r.title, r.version, int(r.tests), int(r.hidden_tests), r.updated_at
            )
            for r in rows
        ], int(total)

    @staticmethod
    async def _lock_version(conn: AsyncConnection, problem_id: str) -> int | None:
        """The problem's current version, its row locked until the transaction ends."""
        query = select(problems.c.version).where(problems.c.id == problem_id).with_for_update()
        version: int | None = (await conn.execute(query)).scalar_one_or_none()
        return version

    @staticmethod
    async def _count_tests(conn: AsyncConnection, problem_id: str, version: int) -> int:
        query = select(func.count()).where(
            test_cases.c.problem_id == problem_id, test_cases.c.version == version
        )
        return int((await conn.execute(query)).scalar_one())

    @staticmethod
    async def _write_tests(
        conn: AsyncConnection,
        problem_id: str,
        version: int,
        plan: list[int | TestCase],
        copy_from: int | None = None,
    ) -> None:
        new_rows = [
            {
                "problem_id": problem_id,
                "version": version,
                "position": i,
                "input": t.input,
                "expected_output": t.expected_output,
                "hidden": t.hidden,
                "name": t.name,
                "test_group": t.group,
            }
            for i, t in enumerate(plan)
            if isinstance(t, TestCase)
        ]
        if new_rows:
            await conn.execute(insert(test_cases), new_rows)
        # Kept tests are copied row to row by the database: their data never travels.
        for i, old in enumerate(plan):
            if isinstance(old, int):
                assert copy_from is not None
                columns = ("input", "expected_output", "hidden", "name", "test_group")
                source = select(
                    literal(problem_id),
                    literal(version),
                    literal(i),
                    *(test_cases.c[c] for c in columns),
                ).where(
                    test_cases.c.problem_id == problem_id,
                    test_cases.c.version == copy_from,
                    test_cases.c.position == old,
                )
                await conn.execute(
                    insert(test_cases).from_select(
                        ["problem_id", "version", "position", *columns], source
                    )
                )
        # Older versions are no longer reachable by new submissions.
        await conn.execute(
            delete(test_cases).where(
                test_cases.c.problem_id == problem_id, test_cases.c.version < version
            )
        )

    @staticmethod
    async def _write_files(
        conn: AsyncConnection,
        problem_id: str,
        version: int,
        files: Sequence[ProblemFile] | None,
        copy_from: int | None,
    ) -> None:
        """The version's files: ``files``, or (``None``) those of ``copy_from``, copied
        inside the database; older versions' are dropped, as their tests are."""
        if files:
            await conn.execute(
                insert(problem_files),
                [
                    {
                        "problem_id": problem_id,
                        "version": version,
                        "kind": f.kind,
                        "name": f.name,
                        "content_type": f.content_type,
                        "data": f.data,
                    }
                    for f in files
                ],
            )
        elif files is None and copy_from is not None:
            columns = ("kind", "name", "content_type", "data")
            source = select(
                literal(problem_id), literal(version), *(problem_files.c[c] for c in columns)
            ).where(problem_files.c.problem_id == problem_id, problem_files.c.version == copy_from)
            await conn.execute(
                insert(problem_files).from_select(["problem_id", "version", *columns], source)
            )
        await conn.execute(
            delete(problem_files).where(
                problem_files.c.problem_id == problem_id, problem_files.c.version < version
            )
        )

    async def file_summaries(self, problem_id: str, version: int) -> list[FileSummary]:
        """The statement files and attachments of one version, without their data."""
        query = (
            select(
                problem_files.c.kind,
                problem_files.c.name,
                problem_files.c.content_type,
                func.length(problem_files.c.data).label("size"),
            )
            .where(problem_files.c.problem_id == problem_id, problem_files.c.version == version)
            .order_by(problem_files.c.kind, problem_files.c.name)
        )
        async with self._engine.connect() as conn:
            rows = (await conn.execute(query)).all()
        return [FileSummary(r.kind, r.name, r.content_type, int(r.size)) for r in rows]

    async def read_file(self, problem_id: str, kind: FileKind, name: str) -> ProblemFile | None:
        """One file of the problem's current version (None: no such problem or file)."""
        query = select(problem_files.c.content_type, problem_files.c.data).where(
            problem_files.c.problem_id == problem_id,
            problem_files.c.kind == kind,
            problem_files.c.name == name,
            problem_files.c.version
            == select(problems.c.version).where(problems.c.id == problem_id).scalar_subquery(),
        )
        async with self._engine.connect() as conn:
            row = (await conn.execute(query)).first()
        if row is None:
            return None
        return ProblemFile(kind, name, bytes(row.data), row.content_type)

    async def exists(self, problem_id: str) -> bool:
        async with self._engine.connect() as conn:
            found = await conn.execute(select(problems.c.id).where(problems.c.id == problem_id))
            return found.first() is not None
