"""Database engines for ``CODEEXEC_DATABASE_URL`` and migrations at start-up.

``sqlite:///path`` (the embedded default) runs on aiosqlite; ``mysql://user:pw@host:port/db``
runs on aiomysql. Both go through SQLAlchemy's async engine, so the store has one code path.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import event, text
from sqlalchemy.engine import URL, Connection, make_url
from sqlalchemy.exc import ArgumentError, OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

log = logging.getLogger(__name__)
_MIGRATIONS = Path(__file__).with_name("migrations")


class DatabaseUrlError(ValueError):
    """CODEEXEC_DATABASE_URL is not a supported URL."""


def async_url(database_url: str) -> URL:
    try:
        url = make_url(database_url)
    except ArgumentError as exc:
        raise DatabaseUrlError(f"not a database URL: {database_url!r}") from exc
    backend = url.get_backend_name()
    if backend == "sqlite":
        return url.set(drivername="sqlite+aiosqlite")
    if backend in ("mysql", "mariadb"):
        return url.set(drivername="mysql+aiomysql").update_query_dict({"charset": "utf8mb4"})
    raise DatabaseUrlError(f"unsupported database {backend!r}: use sqlite:/// or mysql://")


def create_engine(database_url: str) -> AsyncEngine:
    """The engine. A failed statement's parameters (source code, test data, secrets)
    are left out of its exception, whose message a traceback logs."""
    url = async_url(database_url)
    if url.get_backend_name() == "sqlite":
        engine = create_async_engine(url, hide_parameters=True)

        @event.listens_for(engine.sync_engine, "connect")
        def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA busy_timeout=5000")
            cursor.close()

        return engine
    return create_async_engine(
        url, hide_parameters=True, pool_pre_ping=True, pool_recycle=3600, pool_size=10
    )


def _upgrade(connection: Connection) -> None:
    config = Config()
    config.set_main_option("script_location", str(_MIGRATIONS))
    config.attributes["connection"] = connection
    command.upgrade(config, "head")


async def wait_until_reachable(engine: AsyncEngine, timeout_s: float) -> None:
    """Retry the first connection, e.g. while a compose stack's database starts."""
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            async with engine.connect() as conn:
                await conn.execute(text("SELECT 1"))
            return
        except (OperationalError, OSError) as exc:
            if time.monotonic() >= deadline:
                raise
            log.info("database not reachable yet (%s); retrying", str(exc).splitlines()[0])
            await asyncio.sleep(1.0)


@asynccontextmanager
async def exclusive(engine: AsyncEngine, name: str) -> AsyncIterator[None]:
    """Held by one process at a time among those sharing a MySQL/MariaDB database (a named
    lock); SQLite serves one process, so there it is a no-op."""
    if engine.dialect.name not in ("mysql", "mariadb"):
        yield
        return
    async with engine.connect() as conn:
        await conn.execute(text("SELECT GET_LOCK(:name, 300)"), {"name": name})
        try:
            yield
        finally:
            await conn.execute(text("SELECT RELEASE_LOCK(:name)"), {"name": name})


async def migrate(engine: AsyncEngine) -> None:
    """Upgrade the schema. Replicas starting together take turns: one migrates, the rest
    find it done."""
    async with exclusive(engine, "codeexec-migrations"), engine.begin() as conn:
        await conn.run_sync(_upgrade)
