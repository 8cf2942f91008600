"""The ``codeexec`` command: ``serve`` and ``images build``."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys

from aiohttp import web
from pydantic import ValidationError

from codeexec.config import Settings
from codeexec.http.app import make_app
from codeexec.sandbox.docker_gateway import DockerGateway, DockerUnavailable
from codeexec.sandbox.images import ImageError, ImageManager
from codeexec.sandbox.languages import discover_languages


def _setup_logging(level: str) -> None:
    logging.basicConfig(
        level=level.upper(),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )


def _serve(settings: Settings) -> int:
    logging.getLogger(__name__).info(
        "codeexec on http://%s:%d (database %s)",
        settings.host,
        settings.port,
        settings.database_url.split("@")[-1],
    )
    web.run_app(
        make_app(settings),
        host=settings.host,
        port=settings.port,
        shutdown_timeout=settings.drain_timeout_s,
        print=None,
        access_log=None,
    )
    return 0


async def _build_images(settings: Settings, names: list[str], offline_base: bool) -> int:
    languages = discover_languages(settings.languages_dir)
    unknown = sorted(set(names) - set(languages))
    if unknown:
        print(f"unknown language(s): {', '.join(unknown)}; known: {', '.join(languages)}")
        return 2
    gateway = DockerGateway(settings.docker_threads)
    try:
        images = ImageManager(settings, gateway, progress=lambda line: print(line, flush=True))
        if offline_base and not await gateway.image_exists(settings.offline_base_tag):
            await images.build_offline_base()
        for name in names or list(languages):
            await images.build(languages[name], offline_base=offline_base)
    finally:
        gateway.close()
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="codeexec", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="run the HTTP service")
    serve.add_argument("--host", help="address to listen on (default 127.0.0.1)")
    serve.add_argument("--port", type=int, help="port to listen on (default 8080)")
    images = commands.add_parser("images", help="manage sandbox images")
    image_commands = images.add_subparsers(dest="images_command", required=True)
    build = image_commands.add_parser("build", help="build sandbox images")
    build.add_argument("languages", nargs="*", metavar="LANG", help="default: every language")
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
    _setup_logging(settings.log_level)
    try:
        if args.command == "serve":
            return _serve(settings)
        return asyncio.run(_build_images(settings, args.languages, args.offline_base))
    except (DockerUnavailable, ImageError) as exc:
        print(f"codeexec: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
