"""Database engines for ``CODEEXEC_DATABASE_URL`` and migrations at start-up.

``sqlite:///path`` (the embedded default) runs on aiosqlite; ``mysql://user:pw@host:port/db``
runs on aiomysql. Both go through SQLAlchemy's async engine, so the store has one code path.
"""

from __future__ import annotations

import asyncio
import logging
import time
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
    url = async_url(database_url)
    if url.get_backend_name() == "sqlite":
        engine = create_async_engine(url)

        @event.listens_for(engine.sync_engine, "connect")
        def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA busy_timeout=5000")
            cursor.close()

        return engine
    return create_async_engine(url, pool_pre_ping=True, pool_recycle=3600, pool_size=10)


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


_MIGRATION_LOCK = "codeexec-migrations"


async def migrate(engine: AsyncEngine) -> None:
    """Upgrade the schema. Processes sharing a MySQL/MariaDB database (several service
    replicas starting together) take a named lock, so one migrates and the rest find it
    done."""
    shared = engine.dialect.name in ("mysql", "mariadb")
    async with engine.connect() as conn:
        if shared:
            await conn.execute(text("SELECT GET_LOCK(:name, 300)"), {"name": _MIGRATION_LOCK})
        try:
            await conn.run_sync(_upgrade)
            await conn.commit()
        finally:
            if shared:
                await conn.execute(text("SELECT RELEASE_LOCK(:name)"), {"name": _MIGRATION_LOCK})
