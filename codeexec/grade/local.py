"""A codeexec service for grading against a local Kattis package: started in this
process on a free loopback port, with a throwaway SQLite store in a temporary folder,
the package imported as ``codeexec problems import`` imports it, and only the languages
the sources need (their images built first if missing). ``grade`` then talks to it over
HTTP exactly as it talks to a remote server."""

from __future__ import annotations

import asyncio
import secrets
import tempfile
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aiohttp import web

from codeexec.config import Settings
from codeexec.http.app import make_app
from codeexec.http.keys import LIFECYCLE, STORE
from codeexec.packages.importer import open_path, package_limits
from codeexec.packages.kattis import read_kattis_package
from codeexec.sandbox.languages import discover_languages


@dataclass(frozen=True)
class LocalServer:
    base_url: str
    token: str  # the admin token: the grader sees every test's result
    problem_id: str
    unavailable: dict[str, str]  # language -> why it cannot be judged here


@asynccontextmanager
async def local_server(
    package: Path, languages: tuple[str, ...], **overrides: Any
) -> AsyncIterator[LocalServer]:
    """Serve ``package`` (raises PackageError for a broken one; DockerUnavailable and
    ImageError when sandboxes cannot be had)."""
    token = secrets.token_urlsafe(24)
    defaults = Settings()
    every = discover_languages(defaults.sandbox.languages_dir)
    files = await asyncio.to_thread(open_path, package, package_limits(defaults))
    imported = await asyncio.to_thread(read_kattis_package, files, every)
    checker = imported.problem.checker.program
    # Only what this grading needs is built and self-tested: the sources' languages and
    # the package's checker's.
    needed = tuple(sorted({*languages, *((checker.language,) if checker else ())}))
    with tempfile.TemporaryDirectory(prefix="codeexec-grade-") as tmp:
        settings = Settings(
            **{
                "database_url": f"sqlite:///{Path(tmp) / 'grade.sqlite3'}",
                "instance_name": f"grade-{uuid.uuid4().hex[:12]}",
                "host": "127.0.0.1",
                "admin_token": token,
                "seed_demo_problems": False,
                "languages": needed,
                "build_images": "startup",
                "rate_limit_per_s": 0,
                **overrides,
            }
        )
        app = make_app(settings)
        runner = web.AppRunner(app, handle_signals=False, access_log=None)
        await runner.setup()  # starts the store, the sandboxes and the job workers
        try:
            site = web.TCPSite(runner, "127.0.0.1", 0)
            await site.start()
            port = runner.addresses[0][1]
            saved = await app[STORE].save(imported.problem, imported.tests)
            unavailable = dict(app[LIFECYCLE].unavailable)
            yield LocalServer(f"http://127.0.0.1:{port}", token, saved.id, unavailable)
        finally:
            await runner.cleanup()
