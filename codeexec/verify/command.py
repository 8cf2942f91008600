"""``codeexec problems verify PACKAGE...``: run a Kattis package's own example submissions
(``submissions/``) and report each that does not get what its folder, or
``submissions/submissions.yaml``, expects (``verify/expectations.py`` says which rules).

Every submission is a job on the one judging path, over the HTTP API, exactly as
``codeexec grade`` submits one: to a service started here for the package
(``grade/local.py``: one per package, only the submissions' languages), or with
``--server`` to a running codeexec that already has the problem.

Exit status: 0 every submission run agrees; 1 one disagrees (or, with --strict, one was
skipped); 2 a usage error or a package that cannot be verified (missing, broken, no
submissions at all, a bad submissions.yaml); 3 the judge could not run (no Docker
engine, the server unreachable, a job the judge failed: IE).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import sys
from collections.abc import Sequence
from contextlib import AsyncExitStack, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from yarl import URL

from codeexec.config import Settings
from codeexec.grade.client import GradeClient, Refused, ServerLanguage, Unreachable
from codeexec.grade.command import (
    Display,
    InfrastructureError,
    UsageError,
    interruptible,
    local_languages,
    log_safe,
)
from codeexec.grade.graded import Graded
from codeexec.grade.local import local_server
from codeexec.packages.archive import PackageError, PackageFiles
from codeexec.packages.importer import open_path, package_limits, package_paths
from codeexec.packages.kattis import package_layout, package_yaml
from codeexec.sandbox.docker_gateway import DockerUnavailable
from codeexec.sandbox.images import ImageError
from codeexec.verify.expectations import Expectation, Rules, expectation, read_rules
from codeexec.verify.submissions import (
    RULES_FILE,
    PackageSubmission,
    find_submissions,
    language_of,
)
from codeexec.verify.verified import (
    INFRASTRUCTURE,
    MARKS,
    USAGE,
    PackageReport,
    Status,
    Verified,
    json_report,
    overall_status,
    verified,
)

INTERRUPTED = 130
SHOWN_TESTS = 12  # of a disagreeing submission's verdicts, on its report line
LABEL_WIDTH = 24  # a longer expectation pushes its own line's columns, not every line's


def add_parser(problem_commands: Any) -> None:
    verify = problem_commands.add_parser(
        "verify",
        help="run a Kattis package's example submissions and check their verdicts",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    verify.add_argument(
        "packages", nargs="+", type=Path, metavar="PACKAGE", help="Kattis package folder or zip"
    )
    verify.add_argument(
        "--json", metavar="FILE", help="write the results as JSON here ('-': stdout)"
    )
    verify.add_argument(
        "--strict", action="store_true",
        help="a skipped submission (unknown language, no expectation) fails too",
    )  # fmt: skip
    verify.add_argument(
        "--jobs", type=int, default=2, metavar="N", help="submissions judged at once (default 2)"
    )
    verify.add_argument(
        "--filter", type=_pattern, metavar="REGEX",
        help="only the submissions whose path (e.g. accepted/sum.py) this finds",
    )  # fmt: skip
    verify.add_argument("--quiet", action="store_true", help="only the summary lines")
    verify.add_argument(
        "--server", metavar="URL", help="judge on this codeexec server (it has the problem)"
    )
    verify.add_argument("--token", help="API key for --server (default: $CODEEXEC_TOKEN)")
    verify.add_argument(
        "--id", metavar="PROBLEM", help="with --server: the problem's id (default: package name)"
    )


def _pattern(text: str) -> re.Pattern[str]:
    try:
        return re.compile(text)
    except re.error as exc:
        raise argparse.ArgumentTypeError(f"not a regular expression: {exc}") from None


@dataclass(frozen=True)
class Planned:
    submission: PackageSubmission
    expected: Expectation
    language: str


@dataclass(frozen=True)
class Plan:
    problem: str  # the package's name (its problem id when imported)
    layout: str
    notes: list[str]
    runs: list[Planned]
    skipped: list[Verified]


def _read(files: PackageFiles) -> tuple[str, Rules | None, list[PackageSubmission], list[str]]:
    layout = package_layout(files)
    notes = []
    rules = None
    given = RULES_FILE in files.names()
    if layout == "legacy":
        if given:
            notes.append(f"{RULES_FILE} is not part of the legacy format: ignored")
    else:
        rules = read_rules(package_yaml(files, RULES_FILE) if given else None)
    return layout, rules, find_submissions(files), notes


def _plan(path: Path, known: dict[str, ServerLanguage], only: re.Pattern[str] | None) -> Plan:
    """What to run and what to expect (PackageError for a broken package); ``only``: the
    submissions whose path it finds, if given."""
    files = open_path(path, package_limits(Settings()))
    try:
        layout, rules, found, notes = _read(files)
    finally:
        close = getattr(files, "close", None)
        if close is not None:
            close()
    if not found:
        raise UsageError("no submissions: nothing to verify (submissions/ is missing or empty)")
    if not any(s.path.startswith("accepted/") for s in found):
        notes.append("no submission in submissions/accepted (the format requires one)")
    if only is not None:
        found = [s for s in found if only.search(s.path)]
        if not found:
            raise UsageError(f"no submission's path matches --filter {only.pattern!r}")
    runs, skipped = [], []
    for submission in found:
        expected = expectation(submission.path, layout, rules)
        if expected is None:
            why = "nothing is expected of it (a folder the format does not name"
            why += ")" if layout == "legacy" else ", and no submissions.yaml glob matches it)"
            skipped.append(Verified(submission.path, Status.SKIPPED, reasons=(why,)))
            continue
        language, why_not = None, submission.why_not
        if why_not is None:
            language, why_not = language_of(submission, expected.language, known)
        if language is None:
            skipped.append(
                Verified(submission.path, Status.SKIPPED, expected.label, reasons=(str(why_not),))
            )
            continue
        runs.append(Planned(submission, expected, language))
    return Plan(files.name, layout, notes, runs, skipped)


class Lines:
    """The report lines, aligned on the paths and expectations known before any runs."""

    def __init__(self, display: Display, paths: Sequence[str], labels: Sequence[str]) -> None:
        self.display = display
        self.width = max(map(len, paths), default=0)
        self.label_width = min(max(map(len, labels), default=0), LABEL_WIDTH)

    def show(self, v: Verified) -> None:
        mark, path = MARKS[v.status], v.path.ljust(self.width)
        if v.status == Status.SKIPPED:
            lines = [f"{mark} {path}  skipped: {v.reasons[0] if v.reasons else ''}"]
        else:
            seconds = f"{v.time_ms / 1000:.3f} s" if v.time_ms is not None else "-"
            expected = (v.expected or "").ljust(self.label_width)
            lines = [f"{mark} {path}  expected {expected}  got {v.got or '-':<10}  {seconds}"]
            lines += [f"    {reason}" for reason in v.reasons]
            if v.status == Status.DISAGREE and v.tests:
                shown = [f"{t['name']} {t['verdict']}" for t in v.tests[:SHOWN_TESTS]]
                more = ", ..." if len(v.tests) > SHOWN_TESTS else ""
                lines.append(f"    tests: {', '.join(shown)}{more}")
            lines += [f"    not checked: {note}" for note in v.unchecked]
        self.display.note(log_safe("\n".join(lines)))


async def _judge(
    client: GradeClient, problem: str, plan: Plan, jobs: int, display: Display, lines: Lines
) -> list[Verified]:
    slots = asyncio.Semaphore(max(1, jobs))

    async def one(run: Planned) -> Verified:
        async with slots:
            sub = run.submission
            entry = run.expected.entrypoint
            entry = entry if entry in sub.files else None  # a class name is not a file
            try:
                graded = await client.grade(
                    sub.path, sub.files, problem, run.language, display.tested, entry
                )
            except Refused as exc:  # the program's doing (screening, its files, size)
                graded = Graded(sub.path, problem, run.language, None, f"refused: {exc}")
            except Unreachable as exc:
                graded = Graded(sub.path, problem, run.language, None, f"unreachable: {exc}")
            result = verified(sub.path, run.expected, graded)
            lines.show(result)
            return result

    return list(await asyncio.gather(*(one(run) for run in plan.runs)))


async def _verify(path: Path, args: argparse.Namespace, display: Display) -> PackageReport:
    report = PackageReport(str(path))
    async with AsyncExitStack() as stack:
        client: GradeClient | None = None
        if args.server:
            client = GradeClient(args.server, args.token or os.environ.get("CODEEXEC_TOKEN"))
            stack.push_async_callback(client.close)
            known = await client.languages()
        else:
            known = local_languages()
        try:
            plan = await asyncio.to_thread(_plan, path, known, args.filter)
        except PackageError as exc:
            raise UsageError(str(exc)) from exc
        report.problem, report.layout, report.notes = plan.problem, plan.layout, plan.notes
        for note in plan.notes:
            display.note(log_safe(f"{path}: note: {note}"))
        lines = Lines(
            display,
            [r.submission.path for r in plan.runs] + [v.path for v in plan.skipped],
            [r.expected.label for r in plan.runs],
        )
        for skipped in plan.skipped:
            lines.show(skipped)
        report.submissions = list(plan.skipped)
        if not plan.runs:
            return report
        languages = tuple(sorted({run.language for run in plan.runs}))
        if client is not None:
            problem = await _on_server(client, args, known, languages, plan.problem)
        else:
            display.note(f"{path}: starting sandboxes for {', '.join(languages)} ...")
            client, problem = await _local(stack, path, languages)
        with display:
            judged = await _judge(client, problem, plan, args.jobs, display, lines)
        report.submissions = sorted([*plan.skipped, *judged], key=lambda v: v.path)
    return report


async def _on_server(
    client: GradeClient, args: argparse.Namespace, known: dict[str, ServerLanguage],
    languages: tuple[str, ...], name: str,
) -> str:  # fmt: skip
    """The problem's id on ``--server``, once it is known to be there and to judge the
    submissions' languages."""
    down = [lang for lang in languages if not known[lang].available]
    if down:
        raise InfrastructureError(f"{args.server} cannot judge {', '.join(down)} now")
    problem: str = args.id or name
    if not await client.problem_exists(problem):
        raise UsageError(f"no problem {problem!r} on {args.server} (import it, or --id)")
    return problem


async def _local(
    stack: AsyncExitStack, path: Path, languages: tuple[str, ...]
) -> tuple[GradeClient, str]:
    """A client of a service started for the package (stopped with ``stack``), and the
    package's problem id there."""
    try:
        server = await stack.enter_async_context(local_server(path, languages))
    except PackageError as exc:
        raise UsageError(str(exc)) from exc
    broken = {lang: why for lang, why in server.unavailable.items() if lang in languages}
    if broken:
        lang, why = next(iter(broken.items()))
        raise InfrastructureError(f"language {lang} cannot be judged here: {why}")
    client = GradeClient(server.base_url, server.token)
    stack.push_async_callback(client.close)
    return client, server.problem_id


async def _verify_all(args: argparse.Namespace, human: TextIO) -> list[PackageReport]:
    reports = []
    # A folder of packages (a contest's archive, unpacked) verifies each package in it.
    paths = [p for given in args.packages for p in package_paths(given)]
    for path in paths:
        try:
            if not path.exists():
                raise UsageError("no such package (a folder or zip)")
            # A display per package: its progress bars are keyed by submission path.
            reports.append(await _verify(path, args, Display(human, args.quiet)))
        except UsageError as exc:
            reports.append(PackageReport(str(path), error=str(exc), error_status=USAGE))
        except (InfrastructureError, Unreachable, DockerUnavailable, ImageError) as exc:
            reports.append(PackageReport(str(path), error=str(exc), error_status=INFRASTRUCTURE))
    return reports


def _check_args(args: argparse.Namespace) -> None:
    if args.jobs < 1:
        raise UsageError(f"--jobs must be at least 1, not {args.jobs}")
    if args.server is not None:
        url = URL(args.server)
        if url.scheme not in ("http", "https") or not url.host:
            raise UsageError(f"--server {args.server!r}: an http(s) URL, e.g. http://host:8080")
    if args.id is not None and (args.server is None or len(args.packages) > 1):
        raise UsageError("--id goes with --server and one PACKAGE")
    if args.token is not None and args.server is None:
        raise UsageError("--token goes with --server")


def run(args: argparse.Namespace, out: TextIO = sys.stdout) -> int:
    to_stdout = args.json == "-"
    human = sys.stderr if to_stdout else out
    try:
        _check_args(args)
        reports = asyncio.run(interruptible(_verify_all(args, human)))
    except (KeyboardInterrupt, asyncio.CancelledError):
        print("codeexec problems verify: interrupted (sandboxes removed)", file=sys.stderr)
        return INTERRUPTED
    except UsageError as exc:
        print(f"codeexec problems verify: {exc}", file=sys.stderr)
        return USAGE
    for report in reports:
        print(log_safe(report.summary()), file=human)
    status = overall_status(reports, args.strict)
    if args.json:
        text = json.dumps(json_report(reports, args.strict), indent=2, ensure_ascii=False)
        if to_stdout:
            print(text, file=out)
        else:
            try:
                Path(args.json).write_text(text + "\n", encoding="utf-8")
            except OSError as exc:
                print(f"codeexec problems verify: cannot write {args.json}: {exc}", file=sys.stderr)
                return USAGE
    with suppress(OSError):
        human.flush()
    return status
