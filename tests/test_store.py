"""The problem store behaves the same on SQLite and on real MariaDB/MySQL, and the
migrations upgrade a database holding jobs on both."""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Any

import pytest
from alembic import command
from alembic.config import Config
from sqlalchemy import event, inspect, text
from sqlalchemy.engine import Connection

from codeexec.model import (
    ATTACHMENT,
    STATEMENT,
    FileSummary,
    Problem,
    ProblemFile,
    TestCase,
    TestSummary,
)
from codeexec.store.demo import DEMO_PROBLEMS, seed_demo_problems
from codeexec.store.engine import _MIGRATIONS, DatabaseUrlError, async_url, create_engine, migrate
from codeexec.store.problems import ProblemStore
from codeexec.store.submissions import SubmissionStore


def count_queries(store: ProblemStore) -> list[str]:
    seen: list[str] = []
    engine = store._engine.sync_engine

    @event.listens_for(engine, "before_cursor_execute")
    def _record(_c: Any, _cur: Any, statement: str, *_args: Any) -> None:
        seen.append(statement)

    return seen


async def test_save_and_snapshot_round_trip(store: ProblemStore) -> None:
    problem = Problem(
        id="P1",
        title="Задача ✓",
        time_limit_ms=1500,
        memory_limit_mb=128,
        screening={"python": ["eval"]},
    )
    tests = [
        TestCase("Привет 👋\n".encode(), b"ok\n"),
        TestCase(b"\xff\xfe raw bytes\n", b"\x00\x01", hidden=True),
    ]
    saved = await store.save(problem, tests)
    assert saved.version == 1
    snapshot = await store.snapshot("P1")
    assert snapshot is not None
    assert snapshot.problem.title == "Задача ✓"
    assert snapshot.problem.time_limit_ms == 1500
    assert snapshot.problem.screening == {"python": ["eval"]}
    assert snapshot.tests == tuple(tests)  # order, bytes and hidden flags intact


async def test_statement_files_and_attachments_follow_the_versions(store: ProblemStore) -> None:
    files = [
        ProblemFile(STATEMENT, "problem.en.md", "# Sum ✓\n".encode(), "text/markdown"),
        ProblemFile(STATEMENT, "Fig.png", b"\x89PNG big", "image/png"),
        ProblemFile(STATEMENT, "fig.png", b"\x89PNG small", "image/png"),  # names keep case
        ProblemFile(ATTACHMENT, "tool.py", b"\x00\xff", "text/x-python"),
    ]
    await store.save(Problem(id="F"), [TestCase(b"1", b"1")], files)
    assert await store.file_summaries("F", 1) == [
        FileSummary(ATTACHMENT, "tool.py", "text/x-python", 2),
        FileSummary(STATEMENT, "Fig.png", "image/png", 8),
        FileSummary(STATEMENT, "fig.png", "image/png", 10),
        FileSummary(STATEMENT, "problem.en.md", "text/markdown", 10),
    ]
    assert await store.read_file("F", STATEMENT, "fig.png") == files[2]
    assert await store.read_file("F", ATTACHMENT, "problem.en.md") is None  # kinds apart
    edited = await store.edit_tests("F", [TestCase(b"2", b"2")])  # carried over
    assert edited is not None and edited.version == 2
    assert len(await store.file_summaries("F", 2)) == 4
    assert await store.file_summaries("F", 1) == []  # older versions go, as tests do
    await store.save(Problem(id="F"), [TestCase(b"3", b"3")])  # None: kept
    assert await store.read_file("F", ATTACHMENT, "tool.py") == files[3]
    await store.save(Problem(id="F"), [TestCase(b"3", b"3")], files[:1])  # replaced
    assert [f.name for f in await store.file_summaries("F", 4)] == ["problem.en.md"]
    assert await store.delete("F")
    assert await store.read_file("F", STATEMENT, "problem.en.md") is None
    await store.save(Problem(id="F"), [TestCase(b"1", b"1")])
    assert await store.file_summaries("F", 1) == []


async def test_unknown_problem_is_none(store: ProblemStore) -> None:
    assert await store.snapshot("nope") is None


async def test_replacing_tests_makes_a_new_version(store: ProblemStore) -> None:
    await store.save(Problem(id="P2"), [TestCase(b"1", b"1")])
    saved = await store.save(Problem(id="P2"), [TestCase(b"2", b"2"), TestCase(b"3", b"3")])
    assert saved.version == 2
    snapshot = await store.snapshot("P2")
    assert snapshot is not None
    assert [t.input for t in snapshot.tests] == [b"2", b"3"]


async def test_a_deleted_then_recreated_problem_serves_its_new_tests(store: ProblemStore) -> None:
    """Re-created, a problem starts again at version 1: the old version 1's cached tests
    must not be served (they were, found by a red-team read)."""
    await store.save(Problem(id="again"), [TestCase(b"", b"OLD\n")])
    assert (await store.snapshot("again")).tests[0].expected_output == b"OLD\n"  # type: ignore[union-attr]
    assert await store.delete("again")
    await store.save(Problem(id="again"), [TestCase(b"", b"NEW\n")])
    snapshot = await store.snapshot("again")
    assert snapshot is not None and snapshot.problem.version == 1
    assert snapshot.tests[0].expected_output == b"NEW\n"


async def test_null_and_empty_screening_policies_differ(store: ProblemStore) -> None:
    await store.save(Problem(id="default"), [])
    await store.save(Problem(id="open", screening={"python": []}), [])
    default, open_ = await store.get_problem("default"), await store.get_problem("open")
    assert default is not None and default.screening is None
    assert open_ is not None and open_.screening == {"python": []}


async def test_test_data_is_read_once_per_version(store: ProblemStore) -> None:
    await store.save(Problem(id="P3"), [TestCase(b"in", b"out")])
    await store.snapshot("P3")
    queries = count_queries(store)
    for _ in range(5):
        await store.snapshot("P3")
    assert not [q for q in queries if "test_cases" in q]  # only the problem row is read
    await store.save(Problem(id="P3"), [TestCase(b"in2", b"out2")])
    snapshot = await store.snapshot("P3")
    assert snapshot is not None and snapshot.tests[0].input == b"in2"


async def test_concurrent_reads_share_one_load(store: ProblemStore) -> None:
    await store.save(Problem(id="P4"), [TestCase(b"a", b"b")])
    queries = count_queries(store)
    snapshots = await asyncio.gather(*(store.snapshot("P4") for _ in range(10)))
    assert all(s is not None and s.tests[0].input == b"a" for s in snapshots)
    assert len([q for q in queries if "test_cases" in q]) == 1


async def test_test_summaries_measure_bytes_without_loading_data(store: ProblemStore) -> None:
    tests = [
        TestCase("привет\n".encode(), bytes(range(256)), hidden=False, name="sample/1"),
        TestCase(b"", b"\0" * 1000, hidden=True),
    ]
    saved = await store.save(Problem(id="sizes"), tests)
    summaries = await store.test_summaries("sizes", saved.version)
    assert summaries == [TestSummary.of(t) for t in tests]
    assert [(s.input_bytes, s.expected_output_bytes) for s in summaries] == [(13, 256), (0, 1000)]


async def test_large_test_data(store: ProblemStore) -> None:
    big = bytes(range(256)) * (40 * 1024 * 4)  # 40 MiB
    await store.save(Problem(id="big"), [TestCase(big, big[:1024])])
    snapshot = await store.snapshot("big")
    assert snapshot is not None and snapshot.tests[0].input == big


async def test_demo_problems_are_seeded_once(store: ProblemStore) -> None:
    assert await seed_demo_problems(store) == len(DEMO_PROBLEMS)
    assert await seed_demo_problems(store) == 0
    snapshot = await store.snapshot("HQ000000000000000002")
    assert snapshot is not None
    shown = [(t.input, t.expected_output) for t in snapshot.tests if not t.hidden]
    assert shown == [(b"DaN\n", b"dan\n"), (b"perEz\n", b"perez\n")]
    assert sum(t.hidden for t in snapshot.tests) == 2


def test_database_urls() -> None:
    assert async_url("sqlite:///x.db").drivername == "sqlite+aiosqlite"
    mysql = async_url("mysql://u:p@db:3306/codeexec")
    assert mysql.drivername == "mysql+aiomysql"
    assert mysql.query["charset"] == "utf8mb4"
    with pytest.raises(DatabaseUrlError):
        async_url("postgresql://u@h/db")
    with pytest.raises(DatabaseUrlError):
        async_url("not a url")


def _alembic(connection: Connection, verb: str, revision: str) -> None:
    config = Config()
    config.set_main_option("script_location", str(_MIGRATIONS))
    config.attributes["connection"] = connection
    getattr(command, verb)(config, revision)


async def test_jobs_stored_before_scopes_judge_every_test(database_url: str) -> None:
    # Migration 0007 on a database holding a job from before it: the job reads back
    # with scope "all" (what it was accepted for); and it goes back down cleanly.
    engine = create_engine(database_url)
    try:
        async with engine.begin() as conn:
            await conn.run_sync(_alembic, "upgrade", "0006")
            await conn.execute(
                text(
                    "INSERT INTO submissions (id, problem_id, language, files, status,"
                    " created_at) VALUES ('old', 'p', 'python', '[]', 'queued', :now)"
                ),
                {"now": datetime(2026, 1, 1)},
            )
        await migrate(engine)
        jobs = SubmissionStore(engine)
        old = await jobs.get("old")
        assert old is not None and old.scope == "all"
        new = await jobs.create(None, "p", "python", (("main.py", ""),), scope="shown")
        assert new.scope == "shown" and (await jobs.get(new.id)) == new
        async with engine.begin() as conn:
            await conn.run_sync(_alembic, "downgrade", "0006")
            columns = await conn.run_sync(
                lambda sync: [c["name"] for c in inspect(sync).get_columns("submissions")]
            )
        assert "scope" not in columns and "door_data" in columns
    finally:
        await engine.dispose()
