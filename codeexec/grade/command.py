"""``codeexec grade PROBLEM SOURCE...``: judge source files against a problem, for CI.

``PROBLEM`` is a Kattis package (folder or zip), graded by a service started here
(``grade/local.py``), or with ``--server`` a problem id on a running codeexec. Either
way every source is a job on the one judging path, over the HTTP API
(``grade/client.py``); this module only chooses, shows and reports.

Exit status: 0 every source passed every test; 1 some did not; 2 a usage error (a
missing file, an unknown language, a broken package); 3 the infrastructure failed (no
Docker engine, the server unreachable, a job that could not be judged).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import sys
from collections.abc import Coroutine, Iterator, Sequence
from contextlib import AsyncExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO, TypeVar

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from yarl import URL

from codeexec.config import Settings
from codeexec.grade.classroom import classroom_output, classroom_result
from codeexec.grade.client import (
    GradeClient,
    Refused,
    ServerLanguage,
    Unreachable,
    language_of_file,
)
from codeexec.grade.graded import Graded, clean
from codeexec.grade.json_report import json_report
from codeexec.grade.junit import junit_xml
from codeexec.grade.local import local_server
from codeexec.packages.archive import PackageError
from codeexec.sandbox.docker_gateway import DockerUnavailable
from codeexec.sandbox.images import ImageError
from codeexec.sandbox.languages import discover_languages

PASSED, FAILED, USAGE, INFRASTRUCTURE = 0, 1, 2, 3
INTERRUPTED = 130  # as a shell reports a command ended by Ctrl-C
MAX_SOURCE_BYTES = 1 << 20  # the server's default CODEEXEC_MAX_SOURCE_BYTES
MAX_SOURCES = 1000  # files graded in one go
T = TypeVar("T")


class UsageError(Exception):
    """The command line asks for something that cannot be (exit 2)."""


class InfrastructureError(Exception):
    """The means of grading failed (exit 3)."""


def add_parser(commands: Any) -> None:
    grade = commands.add_parser(
        "grade",
        help="grade source files against a problem (a Kattis package, or --server's id)",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    grade.add_argument(
        "problem",
        metavar="PROBLEM",
        help="Kattis package folder or zip; with --server a problem id",
    )
    grade.add_argument(
        "sources", nargs="+", type=Path, metavar="SOURCE", help="source files, or folders of them"
    )
    grade.add_argument("--language", help="the sources' language (default: by file extension)")
    grade.add_argument("--junit", type=Path, metavar="FILE", help="write JUnit XML here")
    grade.add_argument(
        "--classroom", action="store_true", help="GitHub Classroom result into $GITHUB_OUTPUT"
    )
    grade.add_argument("--json", type=Path, metavar="FILE", help="write the results as JSON here")
    grade.add_argument("--server", metavar="URL", help="grade on this codeexec server")
    grade.add_argument("--token", help="API key for --server (default: $CODEEXEC_TOKEN)")
    grade.add_argument(
        "--jobs", type=int, default=2, metavar="N", help="sources graded at once (default 2)"
    )
    grade.add_argument("--quiet", action="store_true", help="only the summary line")
    grade.add_argument(
        "--expect", choices=["pass", "fail"], default="pass",
        help="fail: exit 0 only if every source fails a test (a package's wrong answers)",
    )  # fmt: skip


@dataclass(frozen=True)
class Source:
    path: str  # as given (or found in a folder given)
    name: str  # the file name the program is submitted under
    text: str


def _sources(paths: Sequence[Path]) -> list[Source]:
    found: list[Source] = []
    for path in paths:
        if path.is_dir():
            files = sorted(
                p for p in path.rglob("*")
                if p.is_file() and not any(
                    part.startswith(".") or part == "__pycache__"
                    for part in p.relative_to(path).parts
                )
            )  # fmt: skip
            if len(files) > MAX_SOURCES:
                raise UsageError(f"{path}: more than {MAX_SOURCES} files")
            if not files:
                raise UsageError(f"{path}: a folder without source files")
        elif path.is_file():
            files = [path]
        else:
            raise UsageError(f"{path}: no such file or folder")
        for file in files:
            if file.stat().st_size > MAX_SOURCE_BYTES:
                raise UsageError(f"{file}: larger than {MAX_SOURCE_BYTES} bytes")
            try:
                text = file.read_text(encoding="utf-8")
            except UnicodeDecodeError:
                raise UsageError(f"{file}: not UTF-8 text (is it a source file?)") from None
            found.append(Source(str(file), file.name, text))
    return found


def _languages_of(
    sources: Sequence[Source], chosen: str | None, known: dict[str, ServerLanguage]
) -> list[str]:
    if chosen is not None:
        if chosen not in known:
            raise UsageError(f"unknown language {chosen!r}; known: {', '.join(sorted(known))}")
        return [chosen] * len(sources)
    languages = []
    for source in sources:
        language = language_of_file(source.name, known)
        if language is None:
            raise UsageError(f"{source.path}: no language has this extension; give --language")
        languages.append(language)
    return languages


class Display:
    """A live progress bar and per-test tables on a terminal; plain lines otherwise."""

    def __init__(self, out: TextIO, quiet: bool) -> None:
        self.quiet = quiet
        self.live = out.isatty() and not quiet
        self.console = Console(file=out, highlight=False, soft_wrap=not out.isatty())
        self.progress: Progress | None = None
        self.tasks: dict[str, Any] = {}

    def __enter__(self) -> Display:
        if self.live:
            self.progress = Progress(
                TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                TimeElapsedColumn(), console=self.console, transient=True,
            )  # fmt: skip
            self.progress.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self.progress is not None:
            self.progress.stop()

    def note(self, message: str) -> None:
        if not self.quiet:
            self.console.print(message, markup=False)

    def tested(self, source: str, done: int, total: int) -> None:
        if self.progress is None:
            return
        if source not in self.tasks:
            self.tasks[source] = self.progress.add_task(source, total=total or None)
        self.progress.update(self.tasks[source], completed=done, total=total or None)

    def graded(self, graded: Graded) -> None:
        if self.quiet:
            return
        verdict = _verdict(graded)
        line = f"{graded.source}: {verdict} ({graded.duration_s:.1f} s)"
        self.console.print(log_safe(line), markup=False)
        job = graded.job or {}
        if job.get("verdict") == "CE" and job.get("compile_output"):
            self.console.print(_indent(log_safe(job["compile_output"])), markup=False)
            return
        rows = list(_rows(job))
        if not rows:
            return
        if self.live:
            table = Table("test", "verdict", "time", "memory", box=None, pad_edge=False)
            for row in rows:
                table.add_row(*row)
            self.console.print(table)
        else:
            for row in rows:
                self.console.print("  " + "  ".join(row), markup=False)


def _rows(job: dict[str, Any]) -> Iterator[tuple[str, str, str, str]]:
    for test in job.get("results") or ():
        name = test.get("name") or f"test {test.get('position')}"
        time_ms, memory_kb = test.get("time_ms"), test.get("memory_kb")
        yield (
            log_safe(name),
            log_safe(test.get("verdict")),
            f"{time_ms} ms" if time_ms is not None else "-",
            f"{memory_kb} kB" if memory_kb is not None else "-",
        )


def log_safe(text: object) -> str:
    """What a program (or a server) wrote, fit for a CI log: control characters and
    terminal escapes removed, and no line a CI runner would take for a command of its
    own (GitHub's ``::error::``, ``::add-mask::``, ``::stop-commands::``)."""
    lines = clean(str(text)).split("\n")
    return "\n".join(
        line.replace("::", ":\u200b:", 1) if line.lstrip().startswith("::") else line
        for line in lines
    )


def _indent(text: str, lines: int = 20) -> str:
    kept = text.splitlines()[:lines]
    return "\n".join("  " + line for line in kept)


def _verdict(graded: Graded) -> str:
    job = graded.job
    if job is None or job.get("status") != "finished":
        return f"not graded: {graded.error or 'unknown error'}"
    results = job.get("results") or []
    passed = sum(1 for r in results if isinstance(r, dict) and r.get("verdict") == "AC")
    return f"{job.get('verdict')}, {passed}/{len(results)} tests passed"


def _passed(graded: Graded) -> bool:
    return graded.job is not None and graded.job.get("passed") is True


def _infrastructure(graded: Graded) -> bool:
    """Not graded for a reason that is not the program's: the server was unreachable,
    the job could not be judged, or the judge had an internal error."""
    job = graded.job
    if job is None:
        return (graded.error or "").startswith("unreachable")
    return job.get("status") != "finished" or job.get("verdict") == "IE"


async def _grade_all(
    client: GradeClient, problem: str, sources: Sequence[Source], languages: Sequence[str],
    jobs: int, display: Display,
) -> list[Graded]:  # fmt: skip
    slots = asyncio.Semaphore(max(1, jobs))

    async def one(source: Source, language: str) -> Graded:
        async with slots:
            try:
                graded = await client.grade(
                    source.path, {source.name: source.text}, problem, language, display.tested
                )
            except Refused as exc:  # the program's doing (screening, size): it failed
                graded = Graded(source.path, problem, language, None, f"refused: {exc}")
            except Unreachable as exc:
                graded = Graded(source.path, problem, language, None, f"unreachable: {exc}")
            display.graded(graded)
            return graded

    return list(
        await asyncio.gather(*(one(s, lang) for s, lang in zip(sources, languages, strict=True)))
    )


async def _grade(args: argparse.Namespace, sources: list[Source], display: Display) -> list[Graded]:
    async with AsyncExitStack() as stack:
        if args.server:
            token = args.token or os.environ.get("CODEEXEC_TOKEN")
            client = GradeClient(args.server, token)
            stack.push_async_callback(client.close)
            known = await client.languages()
            languages = _languages_of(sources, args.language, known)
            down = sorted({lang for lang in languages if not known[lang].available})
            if down:
                raise InfrastructureError(f"{args.server} cannot judge {', '.join(down)} now")
            if not await client.problem_exists(args.problem):
                raise UsageError(f"no problem {args.problem!r} on {args.server}")
            problem = args.problem
        else:
            languages = _languages_of(sources, args.language, local_languages())
            display.note(f"starting sandboxes for {', '.join(sorted(set(languages)))} ...")
            package = Path(args.problem)
            try:
                server = await stack.enter_async_context(local_server(package, tuple(languages)))
            except PackageError as exc:
                raise UsageError(f"{package}: {exc}") from exc
            broken = {lang: why for lang, why in server.unavailable.items() if lang in languages}
            if broken:
                lang, why = next(iter(broken.items()))
                raise InfrastructureError(f"language {lang} cannot be judged here: {why}")
            client = GradeClient(server.base_url, server.token)
            stack.push_async_callback(client.close)
            problem = server.problem_id
        with display:
            return await _grade_all(client, problem, sources, languages, args.jobs, display)
    raise AssertionError("unreachable")


def local_languages() -> dict[str, ServerLanguage]:
    """The languages this installation knows, as a server lists them."""
    found = discover_languages(Settings().sandbox.languages_dir)
    return {lang.id: ServerLanguage(lang.id, lang.extensions, True) for lang in found.values()}


async def interruptible(work: Coroutine[Any, Any, T]) -> T:
    """``work``, cancelled by SIGTERM or SIGHUP (a CI job cancelled) as by Ctrl-C, so
    that the local service removes its sandboxes and store on the way out."""
    task = asyncio.ensure_future(work)
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGHUP):
        loop.add_signal_handler(sig, task.cancel)
    return await task


def _write_reports(args: argparse.Namespace, graded: list[Graded], display: Display) -> None:
    if args.junit:
        args.junit.write_bytes(junit_xml(graded))
    if args.json:
        args.json.write_text(json.dumps(json_report(graded), indent=2, ensure_ascii=True))
    if args.classroom:
        line = classroom_output(classroom_result(graded))
        target = os.environ.get("GITHUB_OUTPUT")
        if target:
            with open(target, "a", encoding="utf-8") as out:
                out.write(line if line.endswith("\n") else line + "\n")
        else:
            display.note(line.rstrip("\n"))


def run(args: argparse.Namespace, out: TextIO = sys.stdout) -> int:
    display = Display(out, args.quiet)
    try:
        if args.jobs < 1:
            raise UsageError(f"--jobs must be at least 1, not {args.jobs}")
        if args.server is not None:
            url = URL(args.server)
            if url.scheme not in ("http", "https") or not url.host:
                raise UsageError(f"--server {args.server!r}: an http(s) URL, e.g. http://host:8080")
        sources = _sources(args.sources)
        if not args.server and not Path(args.problem).exists():
            raise UsageError(f"{args.problem}: no such package (a folder or zip; or give --server)")
        graded = asyncio.run(interruptible(_grade(args, sources, display)))
    except (KeyboardInterrupt, asyncio.CancelledError):
        print(
            "codeexec grade: interrupted (sandboxes and the local store removed)", file=sys.stderr
        )
        return INTERRUPTED
    except UsageError as exc:
        print(f"codeexec grade: {exc}", file=sys.stderr)
        return USAGE
    except (InfrastructureError, Unreachable, DockerUnavailable, ImageError) as exc:
        print(f"codeexec grade: {exc}", file=sys.stderr)
        return INFRASTRUCTURE
    try:
        _write_reports(args, graded, display)
    except OSError as exc:
        print(f"codeexec grade: cannot write a report: {exc}", file=sys.stderr)
        return USAGE
    passed = sum(_passed(g) for g in graded)
    summary = f"{passed}/{len(graded)} sources passed every test"
    print(summary, file=out)
    if any(_infrastructure(g) for g in graded):
        return INFRASTRUCTURE
    if args.expect == "fail":  # every source must fail (a Kattis package's wrong_answer)
        return PASSED if passed == 0 else FAILED
    return PASSED if passed == len(graded) else FAILED
