"""Shared fixtures. Docker and MySQL tests run against the real things.

In CI (``CI=true``) a missing Docker engine or database fails the test; on a developer
machine without them the test is skipped with the reason.
"""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import aiohttp
import docker
import pytest
import pytest_asyncio
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import text

from codeexec.config import Settings
from codeexec.http.app import make_app
from codeexec.sandbox.docker_gateway import INSTANCE_LABEL, DockerGateway
from codeexec.sandbox.images import ImageManager
from codeexec.sandbox.languages import discover_languages
from codeexec.store.engine import create_engine, migrate
from codeexec.store.problems import ProblemStore

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
MYSQL_URL = os.environ.get(
    "CODEEXEC_TEST_MYSQL_URL", "mysql://codeexec:codeexec@127.0.0.1:3306/codeexec"
)
REPO = Path(__file__).resolve().parent.parent
SHARED = REPO.parent / "shared"


def free_port_for_tests() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def unavailable(reason: str) -> None:
    if IN_CI:
        pytest.fail(f"{reason} (CI requires it)")
    pytest.skip(reason)


def docker_client() -> docker.DockerClient:
    try:
        client = docker.from_env()
        client.ping()
        return client
    except Exception as exc:
        unavailable(f"no Docker engine: {exc}")
        raise


@pytest.fixture(scope="session")
def docker_engine() -> docker.DockerClient:
    return docker_client()


@pytest.fixture
def instance_name() -> str:
    return f"test-{uuid.uuid4().hex[:10]}"


def base_settings(**overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "sandbox_base": os.environ.get("CODEEXEC_SANDBOX_BASE", "debian:bookworm-slim"),
        "concurrency": 2,
        # Short-lived test services start quicker with two languages; the language and
        # hostile suites enable them all.
        "languages": ("python", "c"),
        # A test service answers once every image it offers is built and self-tested
        # (make test builds them all first); the on-demand path has its own tests. The
        # cgroup v2 guest sets "off": it has only the images it loaded, and building
        # the others there, emulated, would take the whole stage.
        "build_images": os.environ.get("CODEEXEC_BUILD_IMAGES", "startup"),
        # A suite that calls routes back to back (the document audit, the visibility
        # audit, the fuzzer) outruns a burst of 40 now that judging is quick; the
        # limiter's own test sets it.
        "rate_limit_per_s": 0,
    }
    values.update(overrides)
    return Settings(**values)


def current_image(language_id: str) -> str:
    """The language's sandbox image on the machine's engine, built or brought up to
    date first: suites that copy it into another engine may run before any service has
    built it (a fresh machine), or after its folder changed."""
    settings = base_settings()
    language = discover_languages(settings.sandbox.languages_dir, (language_id,))[language_id]
    gateway = DockerGateway(threads=2)
    try:
        problems = asyncio.run(ImageManager(settings, gateway).ensure([language]))
    finally:
        gateway.close()
    if problems.get(language_id):
        pytest.fail(f"could not build the {language_id} sandbox image: {problems[language_id]}")
    return language.image_tag(settings.sandbox.image_prefix)


async def started_service(tmp: Path, name: str, **overrides: Any) -> TestClient[Any, Any]:
    """A real service for a module's tests (its own SQLite store in ``tmp``, an instance
    name of its own); the caller closes it."""
    settings = base_settings(
        database_url=f"sqlite:///{tmp / 'store.sqlite3'}",
        instance_name=f"{name}-{uuid.uuid4().hex[:8]}",
        **overrides,
    )
    client: TestClient[Any, Any] = TestClient(TestServer(make_app(settings)))
    await client.start_server()
    return client


@pytest.fixture
def make_settings(tmp_path: Path, instance_name: str) -> Callable[..., Settings]:
    def build(**overrides: Any) -> Settings:
        values: dict[str, Any] = {
            "database_url": f"sqlite:///{tmp_path / 'codeexec.sqlite3'}",
            "instance_name": instance_name,
        }
        values.update(overrides)
        return base_settings(**values)

    return build


def sandboxes_of(client: docker.DockerClient, instance: str) -> list[str]:
    """Ids of the instance's containers. The low-level listing does not inspect each
    container, so one being removed meanwhile cannot make this fail."""
    found = client.api.containers(
        all=True, quiet=True, filters={"label": f"{INSTANCE_LABEL}={instance}"}
    )
    return [str(c["Id"]) for c in found]


async def assert_only_warm_containers(app: Any, engine: docker.DockerClient, instance: str) -> None:
    """Every container of the instance is an idle warm one: none that served a
    submission is left (guarantee 1)."""
    from codeexec.http.keys import SANDBOXES

    pool = app[SANDBOXES].pool
    await app[SANDBOXES].removals_done()
    if pool is not None:
        await pool.settled()
    existing = set(sandboxes_of(engine, instance))
    assert existing == (pool.idle_ids() if pool is not None else set())


@pytest_asyncio.fixture
async def service(
    aiohttp_client: Any,
    make_settings: Callable[..., Settings],
    docker_engine: docker.DockerClient,
    instance_name: str,
) -> AsyncIterator[Callable[..., Any]]:
    """Start the real service (real Docker, a fresh SQLite store) with optional settings."""
    started: list[TestClient[Any, Any]] = []

    async def start(**overrides: Any) -> TestClient[Any, Any]:
        client: TestClient[Any, Any] = await aiohttp_client(make_app(make_settings(**overrides)))
        started.append(client)
        return client

    yield start
    for client in started:
        await client.close()
    # Guarantee 1: every container is gone once the service has stopped.
    assert sandboxes_of(docker_engine, instance_name) == []


def _connect(url: Any, database: str) -> Any:
    import pymysql

    return pymysql.connect(
        host=url.host or "127.0.0.1",
        port=url.port or 3306,
        user=url.username or "",
        password=url.password or "",
        database=database,
    )


@pytest.fixture(scope="session")
def mysql_session_url() -> Iterator[str]:
    """A database of this test session's own (``<name>_t<pid>``), dropped at its end:
    sessions running at once (CI, a developer, a helper) never share tables."""
    from codeexec.store.engine import async_url

    url = async_url(MYSQL_URL)
    base = url.database or "codeexec"
    own = f"{base}_t{os.getpid()}"
    try:
        conn = _connect(url, base)
    except Exception as exc:
        unavailable(f"no MySQL/MariaDB at {MYSQL_URL}: {exc}")
        raise
    with conn.cursor() as cur:
        cur.execute(f"CREATE DATABASE IF NOT EXISTS `{own}` CHARACTER SET utf8mb4")
    conn.close()
    yield MYSQL_URL.rsplit("/", 1)[0] + f"/{own}"
    conn = _connect(url, base)
    with conn.cursor() as cur:
        cur.execute(f"DROP DATABASE IF EXISTS `{own}`")
    conn.close()


@pytest.fixture
def mysql_url(mysql_session_url: str) -> str:
    """The session's database, emptied for each test."""
    from codeexec.store.engine import async_url

    url = async_url(mysql_session_url)
    conn = _connect(url, url.database or "")
    with conn.cursor() as cur:
        cur.execute("SET FOREIGN_KEY_CHECKS=0")
        cur.execute("SHOW TABLES")
        for (table,) in cur.fetchall():
            cur.execute(f"DROP TABLE `{table}`")
        cur.execute("SET FOREIGN_KEY_CHECKS=1")
    conn.commit()
    conn.close()
    return mysql_session_url


@pytest.fixture(params=["sqlite", "mysql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'store.sqlite3'}"
    return str(request.getfixturevalue("mysql_url"))


@pytest_asyncio.fixture
async def store(database_url: str) -> AsyncIterator[ProblemStore]:
    engine = create_engine(database_url)
    await migrate(engine)
    async with engine.connect() as conn:
        await conn.execute(text("SELECT 1"))
    yield ProblemStore(engine, cache_bytes=64 * 1024 * 1024)
    await engine.dispose()


class CodeexecProcess:
    """``python -m codeexec <args> --<port flag> P`` (a service or a worker with its health
    port); ready when ``/readyz`` says 200; stopped as an operator would (SIGTERM: drain,
    remove every container)."""

    def __init__(self, args: list[str], port_flag: str, env: dict[str, str], log: Path) -> None:
        self.port = free_port_for_tests()
        self.url = f"http://127.0.0.1:{self.port}"
        self._log = log.open("ab")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "codeexec", *args, port_flag, str(self.port)],
            cwd=REPO,
            env={**os.environ, **env},
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )

    async def wait_ready(self, within_s: float = 180) -> dict[str, Any]:
        deadline = time.monotonic() + within_s
        async with aiohttp.ClientSession() as session:
            while time.monotonic() < deadline:
                assert self.proc.poll() is None, "exited during start-up"
                try:
                    async with session.get(f"{self.url}/readyz") as response:
                        if response.status == 200:
                            return dict(await response.json())
                except aiohttp.ClientError:
                    pass
                await asyncio.sleep(0.2)
        raise AssertionError("not ready in time")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._log.close()
