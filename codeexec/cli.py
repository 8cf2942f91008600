"""The ``codeexec`` command: ``serve``, ``worker``, ``grade``, ``problems import``,
``problems verify``, ``keys`` and ``images build``."""

from __future__ import annotations

import argparse
import asyncio
import logging
import shlex
import sys
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path

from aiohttp import web
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncEngine

from codeexec.checker import CheckerArgsError, validate_spec
from codeexec.config import Settings
from codeexec.grade import command as grade_command
from codeexec.http.app import make_app
from codeexec.http.worker import run_worker
from codeexec.logs import configure as configure_logging
from codeexec.model import CheckerSpec
from codeexec.packages.archive import PackageError
from codeexec.packages.importer import import_package, open_path, package_limits, package_paths
from codeexec.sandbox.docker_gateway import DockerGateway, DockerUnavailable
from codeexec.sandbox.images import ImageError, ImageManager
from codeexec.sandbox.languages import discover_languages
from codeexec.store.engine import create_engine, migrate, wait_until_reachable
from codeexec.store.keys import KeyStore
from codeexec.store.problems import ProblemStore
from codeexec.verify import command as verify_command


def _serve(settings: Settings, workers: bool) -> int:
    logging.getLogger(__name__).info(
        "codeexec on http://%s:%d (database %s)%s",
        settings.http.host,
        settings.http.port,
        settings.store.database_url.split("@")[-1],
        "" if workers else "; no job workers: `codeexec worker` processes judge",
    )
    web.run_app(
        make_app(settings, workers=workers),
        host=settings.http.host,
        port=settings.http.port,
        shutdown_timeout=settings.http.drain_timeout_s,
        print=None,
        access_log=None,  # one structured event per request instead (http/request_log.py)
    )
    return 0


async def _build_images(
    settings: Settings, names: list[str], every: bool, offline_base: bool, force: bool
) -> int:
    """Build the named images that are missing or outdated (``--force``: all of them;
    ``--all``: every language's; ``--offline-base`` alone: only that base),
    ``CODEEXEC_IMAGE_BUILDS`` at a time, from Docker's layer cache where it can."""
    languages = discover_languages(settings.sandbox.languages_dir)
    unknown = sorted(set(names) - set(languages))
    if unknown:
        print(f"unknown language(s): {', '.join(unknown)}; known: {', '.join(languages)}")
        return 2
    if names and every:
        print("name the languages to build, or give --all, not both")
        return 2
    if not names and not every and not offline_base:
        print("name the languages to build, or give --all")
        return 2
    gateway = DockerGateway(settings.sandbox.docker_threads)
    try:
        images = ImageManager(settings, gateway, progress=lambda line: print(line, flush=True))
        if offline_base and not await gateway.image_exists(settings.sandbox.offline_base_tag):
            await images.build_offline_base()
        chosen = list(languages) if every else names  # --offline-base alone: the base only
        outcomes = await images.ensure((languages[n] for n in chosen), force, offline_base)
    finally:
        gateway.close()
    failed = sorted(name for name, reason in outcomes.items() if reason)
    for name in failed:
        print(f"building the {name} image failed: {outcomes[name]}")
    return 1 if failed else 0


def _progress_line(prefix: str) -> Callable[[int, int], None]:
    """Tests read so far, rewritten in place on a terminal (every 10% otherwise)."""
    tty = sys.stderr.isatty()

    def show(done: int, total: int) -> None:
        if tty:
            end = "\n" if done == total else ""
            print(f"\r{prefix}: reading tests {done}/{total}", end=end, file=sys.stderr)
        elif done == total or done % max(1, total // 10) == 0:
            print(f"{prefix}: reading tests {done}/{total}", file=sys.stderr)

    return show


@asynccontextmanager
async def _database(settings: Settings) -> AsyncIterator[AsyncEngine]:
    """The configured database, migrated, for a command that works on it directly."""
    engine = create_engine(settings.store.database_url)
    try:
        await wait_until_reachable(engine, settings.store.database_connect_timeout_s)
        await migrate(engine)
        yield engine
    finally:
        await engine.dispose()


async def _keys(settings: Settings, args: argparse.Namespace) -> int:
    async with _database(settings) as engine:
        keys = KeyStore(engine)
        if args.keys_command == "create":
            made = await keys.create(args.name, args.role)
            print(f"key {made.key.id} ({made.key.role}) created; shown once:")
            print(f"token:          {made.token}")
            print(f"webhook secret: {made.key.webhook_secret}")
            return 0
        if args.keys_command == "list":
            for key in await keys.all_keys():
                state = f"revoked {key.revoked_at:%Y-%m-%d %H:%M}" if key.revoked_at else "active"
                print(f"{key.id}  {key.role:<9}  {state:<24}  {key.name}")
            return 0
        revoked = await keys.revoke(args.key_id)
        if revoked is None:
            print(f"no key {args.key_id}", file=sys.stderr)
            return 1
        print(f"key {revoked.id} revoked")
        return 0


async def _import_problems(
    settings: Settings, paths: list[Path], problem_id: str | None, checker: CheckerSpec | None
) -> int:
    languages = discover_languages(settings.sandbox.languages_dir, settings.sandbox.languages)
    known = discover_languages(settings.sandbox.languages_dir)  # a checker's language told apart
    limits = package_limits(settings)
    paths = [p for given in paths for p in await asyncio.to_thread(package_paths, given)]
    if problem_id is not None and len(paths) > 1:
        print(f"--id needs exactly one package; found {len(paths)}", file=sys.stderr)
        return 2
    failed = 0
    async with _database(settings) as engine:
        store = ProblemStore(engine, 0)
        for i, path in enumerate(paths, 1):
            prefix = f"[{i}/{len(paths)}] {path.name}"
            try:
                files = await asyncio.to_thread(open_path, path, limits)
                result = await import_package(
                    store,
                    files,
                    languages,
                    problem_id,
                    checker,
                    _progress_line(prefix),
                    known=known,
                )
            except PackageError as exc:
                print(f"{prefix}: not imported: {exc}", file=sys.stderr)
                failed += 1
                continue
            problem, imported = result.problem, result.imported
            shown, hidden = imported.counts
            spec = problem.checker
            how = spec.mode + (f" ({spec.program.language})" if spec.program else "")
            how += f" {' '.join(spec.args)}" if spec.args else ""
            action = "replaced, now" if result.replaced else "created,"
            print(
                f"{prefix}: {action} problem {problem.id!r} version {problem.version}:"
                f" {shown} shown + {hidden} hidden tests, checker {how}"
                f" [{imported.layout} layout]",
                file=sys.stderr,
            )
            for note in imported.notes:
                print(f"{prefix}: note: {note}", file=sys.stderr)
    return 1 if failed else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="codeexec", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="run the HTTP service")
    serve.add_argument("--host", help="address to listen on (default 127.0.0.1)")
    serve.add_argument("--port", type=int, help="port to listen on (default 8080)")
    serve.add_argument(
        "--no-workers",
        action="store_true",
        help="judge nothing here (no Docker): accept jobs for `codeexec worker` processes"
        " on the same database; /exec answers 503",
    )
    worker = commands.add_parser(
        "worker", help="run job workers only (no API), on the same database as serve"
    )
    worker.add_argument(
        "--health-port", type=int, help="serve /healthz and /readyz on this port (default: none)"
    )
    grade_command.add_parser(commands)
    problems = commands.add_parser("problems", help="manage problems")
    problem_commands = problems.add_subparsers(dest="problems_command", required=True)
    importer = problem_commands.add_parser(
        "import", help="import Kattis problem packages (folders or zip files)"
    )
    importer.add_argument("paths", nargs="+", type=Path, metavar="PATH")
    importer.add_argument("--id", help="problem id (default: the package's short name)")
    importer.add_argument(
        "--checker",
        choices=["exact", "lines", "tokens"],
        help="judge with this checker instead of the package's own",
    )
    importer.add_argument(
        "--checker-args", default="", help="the checker's flags, e.g. 'float_tolerance 1e-6'"
    )
    verify_command.add_parser(problem_commands)
    keys = commands.add_parser("keys", help="manage API keys")
    key_commands = keys.add_subparsers(dest="keys_command", required=True)
    create = key_commands.add_parser("create", help="make a key (its token is shown once)")
    create.add_argument("--name", required=True, help="who or what uses it")
    create.add_argument("--role", choices=["admin", "submitter"], default="submitter")
    key_commands.add_parser("list", help="list keys")
    revoke = key_commands.add_parser("revoke", help="revoke a key")
    revoke.add_argument("key_id")
    images = commands.add_parser("images", help="manage sandbox images")
    image_commands = images.add_subparsers(dest="images_command", required=True)
    build = image_commands.add_parser("build", help="build sandbox images")
    build.add_argument("languages", nargs="*", metavar="LANG", help="the languages to build")
    build.add_argument("--all", action="store_true", help="every language's image")
    build.add_argument("--force", action="store_true", help="rebuild images that are current too")
    build.add_argument(
        "--offline-base",
        action="store_true",
        help="build on a base made from Debian packages (mmdebstrap): no registry needed",
    )
    args = parser.parse_args(argv)

    try:
        overrides = {
            k: v
            for k, v in (
                ("host", getattr(args, "host", None)),
                ("port", getattr(args, "port", None)),
            )
            if v is not None
        }
        settings = Settings(**overrides)
    except ValidationError as exc:
        print(f"invalid configuration:\n{exc}", file=sys.stderr)
        return 2
    verifying = args.command == "problems" and args.problems_command == "verify"
    if args.command == "grade" or verifying:
        # Their own output; the service they may start logs warnings, read by a person or
        # in a CI log beside their lines: JSON only if asked.
        configure_logging(
            "WARNING", "console" if settings.log_format == "auto" else settings.log_format
        )
        return verify_command.run(args) if verifying else grade_command.run(args)
    configure_logging(settings.log_level, settings.log_format)
    try:
        if args.command == "serve":
            return _serve(settings, workers=not args.no_workers)
        if args.command == "worker":
            asyncio.run(run_worker(settings, args.health_port))
            return 0
        if args.command == "problems":
            return _problems_import(settings, args)
        if args.command == "keys":
            return asyncio.run(_keys(settings, args))
        return asyncio.run(
            _build_images(settings, args.languages, args.all, args.offline_base, args.force)
        )
    except (DockerUnavailable, ImageError) as exc:
        print(f"codeexec: {exc}", file=sys.stderr)
        return 1


def _problems_import(settings: Settings, args: argparse.Namespace) -> int:
    if args.id is not None and len(args.paths) > 1:
        print("--id needs exactly one PATH", file=sys.stderr)
        return 2
    checker = None
    if args.checker:
        checker = CheckerSpec(args.checker, tuple(shlex.split(args.checker_args)))
        try:
            validate_spec(checker)
        except CheckerArgsError as exc:
            print(f"--checker-args: {exc}", file=sys.stderr)
            return 2
    return asyncio.run(_import_problems(settings, args.paths, args.id, checker))


if __name__ == "__main__":
    sys.exit(main())
