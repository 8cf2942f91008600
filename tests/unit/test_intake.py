"""Intake, the one way into judging: every refusal with its status, accepted work as the
judge gets it, and a queued job resumed without screening it twice."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from codeexec.config import Settings
from codeexec.intake import Accepted, Intake, NotReady, Rejected, Request
from codeexec.intake.service import NO_SHOWN_TESTS
from codeexec.model import (
    Language,
    Problem,
    ProblemSnapshot,
    SourceFile,
    Status,
    Submission,
    TestCase,
)
from codeexec.sandbox.languages import discover_languages, shipped_languages
from codeexec.screening.service import Screener

ROOT = Path(__file__).resolve().parents[2]
LANGUAGES = discover_languages(ROOT / "codeexec/languages", ("python", "c"))
SNAPSHOT = ProblemSnapshot(
    Problem("p", version=3, screening={"python": ["eval"]}), (TestCase(b"1\n", b"1\n"),)
)


class Problems:
    """The problem store, in memory; counts its look-ups."""

    def __init__(self, *snapshots: ProblemSnapshot) -> None:
        self.snapshots = {s.problem.id: s for s in snapshots}
        self.lookups = 0

    async def snapshot(self, problem_id: str) -> ProblemSnapshot | None:
        self.lookups += 1
        return self.snapshots.get(problem_id)


class CountingScreener(Screener):
    def __init__(self) -> None:
        super().__init__(Settings(screening_workers=1), LANGUAGES)
        self.screened = 0

    async def screen(self, *args: Any, **kwargs: Any) -> Any:
        self.screened += 1
        return await super().screen(*args, **kwargs)


@pytest.fixture
async def screener() -> AsyncIterator[CountingScreener]:
    s = CountingScreener()
    yield s
    s.close()


def intake(
    screener: Screener, problems: Problems, usable: dict[str, Language] | None = None
) -> Intake:
    return Intake(lambda: LANGUAGES if usable is None else usable, problems, lambda: screener, 1000)


async def refusal(intake: Intake, request: Request) -> Rejected:
    with pytest.raises(Rejected) as caught:
        await intake.accept(request)
    return caught.value


PY = "python"
BAD_LANGUAGE = "unknown or unavailable language 'cobol'; use one of ['c', 'python']"
EITHER = "give either 'code' or 'files'"
DISALLOWED = "Found disallowed functions in code (eval)"
CASES = [
    (Request("p", "cobol", "x"), 400, None, BAD_LANGUAGE),
    (Request("p", PY), 400, None, EITHER),
    (Request("p", PY, "x", [SourceFile("a.py", "")]), 400, None, EITHER),
    (Request("p", PY, None, [SourceFile("../a.py", "")]), 400, None, None),
    (Request("p", PY, None, [SourceFile("a.py", "")], "b.py"), 400, None, None),
    (Request("p", PY, "é" * 501), 413, "Code too large", "at most 1000 bytes"),
    (Request("nope", PY, "print(1)"), 404, "Problem not found", "no problem with id 'nope'"),
    (Request("p", PY, "eval('1')"), 403, DISALLOWED, None),
]


@pytest.mark.parametrize(("request_", "status", "title", "detail"), CASES)
async def test_every_refusal_has_its_status(
    screener: CountingScreener,
    request_: Request,
    status: int,
    title: str | None,
    detail: str | None,
) -> None:
    rejected = await refusal(intake(screener, Problems(SNAPSHOT)), request_)
    assert (rejected.status, rejected.title) == (status, title)
    if detail is not None:
        assert rejected.detail == detail
    assert rejected.reason  # a job's stored error is never empty


async def test_a_language_that_became_unavailable_is_refused(screener: CountingScreener) -> None:
    only_c = {"c": LANGUAGES["c"]}
    rejected = await refusal(
        intake(screener, Problems(SNAPSHOT), only_c), Request("p", "python", "1")
    )
    assert rejected.status == 400 and "use one of ['c']" in (rejected.detail or "")


async def test_accepted_work_is_what_the_judge_needs(screener: CountingScreener) -> None:
    problems = Problems(SNAPSHOT)
    files = [SourceFile("util.py", "X = 1\n"), SourceFile("solve.py", "import util\n")]
    work = await intake(screener, problems).accept(Request("p", "python", None, files, "solve.py"))
    assert work.language is LANGUAGES["python"]
    assert work.files == {"util.py": "X = 1\n", "main.py": "import util\n"}
    assert work.snapshot is SNAPSHOT
    assert work.screening.compile_error is None
    assert (problems.lookups, screener.screened) == (1, 2)  # once each, every .py file


async def test_a_syntax_error_is_accepted_to_be_judged_ce(screener: CountingScreener) -> None:
    work = await intake(screener, Problems(SNAPSHOT)).accept(Request("p", "python", "def (:"))
    assert work.screening.compile_error and "SyntaxError" in work.screening.compile_error


def job(work: Accepted, **changes: Any) -> Submission:
    stored = Submission(
        id="j",
        owner=None,
        problem_id=work.snapshot.problem.id,
        language=work.language.id,
        files=tuple(work.files.items()),
        status=Status.RUNNING,
        created_at=datetime.now(UTC),
        accepted_version=work.snapshot.problem.version,
        screening_error=work.screening.compile_error,
    )
    return dataclasses.replace(stored, **changes)


async def test_a_job_resumes_as_accepted_without_screening_again(
    screener: CountingScreener,
) -> None:
    problems = Problems(SNAPSHOT)
    door = intake(screener, problems)
    work = await door.accept(Request("p", "python", "def (:"))
    screened = screener.screened
    resumed = await door.resume(job(work))
    assert screener.screened == screened
    assert resumed == work


async def test_a_job_whose_problem_changed_is_screened_by_the_new_policy(
    screener: CountingScreener,
) -> None:
    problems = Problems(SNAPSHOT)
    door = intake(screener, problems)
    work = await door.accept(Request("p", "python", "print(len('x'))"))
    stricter = Problem("p", version=4, screening={"python": ["len"]})
    problems.snapshots["p"] = ProblemSnapshot(stricter, SNAPSHOT.tests)
    with pytest.raises(Rejected) as caught:
        await door.resume(job(work))
    assert caught.value.reason == "Found disallowed functions in code (len)"
    assert caught.value.problem_version == 4
    # Accepted before this column existed: screened again, and allowed by version 3.
    problems.snapshots["p"] = SNAPSHOT
    assert (await door.resume(job(work, accepted_version=None))).files == work.files


async def test_a_job_whose_language_or_problem_is_gone_fails_with_the_reason(
    screener: CountingScreener,
) -> None:
    problems = Problems(SNAPSHOT)
    work = await intake(screener, problems).accept(Request("p", "python", "print(1)"))
    with pytest.raises(Rejected) as caught:
        await intake(screener, problems, {}).resume(job(work))
    assert caught.value.reason == "language 'python' is not available"
    with pytest.raises(Rejected) as caught:
        await intake(screener, Problems()).resume(job(work))
    assert caught.value.reason == "problem 'p' no longer exists"


MIXED = ProblemSnapshot(
    Problem("m", version=2),
    (
        TestCase(b"1\n", b"1\n", hidden=True),
        TestCase(b"2\n", b"2\n", name="sample/2"),
        TestCase(b"3\n", b"3\n", hidden=True),
        TestCase(b"4\n", b"4\n"),
    ),
)
HIDDEN_ONLY = ProblemSnapshot(Problem("h"), (TestCase(b"1\n", b"1\n", hidden=True),))


async def test_scope_shown_judges_the_shown_tests_numbered_as_the_problem_does(
    screener: CountingScreener,
) -> None:
    door = intake(screener, Problems(MIXED))
    work = await door.accept(Request("m", PY, "print(input())", scope="shown"))
    assert work.snapshot.problem is MIXED.problem  # its checker and limits
    assert work.snapshot.tests == (
        TestCase(b"2\n", b"2\n", name="sample/2", position=2),
        TestCase(b"4\n", b"4\n", position=4),
    )
    assert [t.position_at(i) for i, t in enumerate(work.snapshot.tests)] == [2, 4]
    assert work.snapshot.shown() == work.snapshot  # narrowing twice changes nothing
    every = await door.accept(Request("m", PY, "print(input())"))
    assert every.snapshot is MIXED
    assert [t.position_at(i) for i, t in enumerate(every.snapshot.tests)] == [1, 2, 3, 4]


async def test_scope_shown_on_a_problem_without_shown_tests_is_refused(
    screener: CountingScreener,
) -> None:
    caught = await refusal(
        intake(screener, Problems(HIDDEN_ONLY)), Request("h", PY, "print(1)", scope="shown")
    )
    assert (caught.status, caught.title) == (422, NO_SHOWN_TESTS)
    assert caught.detail == (
        "scope 'shown' judges the shown tests; problem 'h' (version 1) has 1 test(s), none shown"
    )
    assert screener.screened == 0  # refused before any screening


async def test_a_job_resumes_on_the_tests_of_its_scope(screener: CountingScreener) -> None:
    problems = Problems(MIXED)
    door = intake(screener, problems)
    work = await door.accept(Request("m", PY, "print(input())", scope="shown"))
    assert await door.resume(job(work, scope="shown")) == work
    assert (await door.resume(job(work))).snapshot is MIXED  # stored before scopes: all
    # Its problem lost its shown tests while it waited: it fails, saying why.
    problems.snapshots["m"] = dataclasses.replace(HIDDEN_ONLY, problem=MIXED.problem)
    with pytest.raises(Rejected) as caught:
        await door.resume(job(work, scope="shown"))
    assert caught.value.reason == NO_SHOWN_TESTS


class Preparing:
    """A language whose image is being built, as the lifecycle reports it."""

    def __init__(self, language_id: str) -> None:
        self.language_id = language_id
        self.asked = 0
        self.done = asyncio.Event()

    def demand(self, language_id: str) -> str | None:
        if language_id != self.language_id or self.done.is_set():
            return None
        self.asked += 1
        return "Step 2/3 : RUN apt-get install gcc"


async def test_a_language_being_prepared_is_refused_busy_with_its_progress(
    screener: CountingScreener,
) -> None:
    preparing = Preparing("c")
    usable = {"python": LANGUAGES["python"]}
    door = Intake(lambda: usable, Problems(SNAPSHOT), lambda: screener, 1000, preparing.demand)
    caught = await refusal(door, Request("p", "c", "int main(void) { return 0; }"))
    assert (caught.status, caught.busy) == (503, True)  # worth retrying: Retry-After
    assert caught.title == "Language 'c' is being prepared; retry shortly"
    assert caught.detail == "Step 2/3 : RUN apt-get install gcc"
    assert preparing.asked == 1  # the request asked for it: it goes first
    # Neither ready nor being prepared: the plain 400.
    caught = await refusal(door, Request("p", "cobol", "x"))
    assert (caught.status, caught.busy) == (400, False)


async def test_a_queued_job_of_a_language_being_prepared_is_given_back(
    screener: CountingScreener,
) -> None:
    # A worker never waits for a build (it held its admission slot meanwhile): the job
    # asks for its language (which puts it first) and goes back to the queue.
    work = await intake(screener, Problems(SNAPSHOT)).accept(Request("p", "c", "int x;"))
    preparing = Preparing("c")
    usable = {"python": LANGUAGES["python"]}
    door = Intake(lambda: usable, Problems(SNAPSHOT), lambda: screener, 1000, preparing.demand)
    with pytest.raises(NotReady) as caught:
        await door.resume(job(work))
    assert caught.value.language_id == "c" and preparing.asked == 1
    usable["c"] = LANGUAGES["c"]
    preparing.done.set()
    assert (await door.resume(job(work))).files == work.files


async def test_headers_are_screened_as_the_code_they_are(screener: CountingScreener) -> None:
    snapshot = ProblemSnapshot(Problem("q", screening={"c": ["system"]}), SNAPSHOT.tests)
    given = [
        SourceFile("main.c", '#include "evil.h"\nint main(void) { return run(); }'),
        SourceFile("evil.h", '#include <stdlib.h>\nstatic int run(void) { return system("ls"); }'),
    ]
    caught = await refusal(intake(screener, Problems(snapshot)), Request("q", "c", None, given))
    assert (caught.status, caught.title) == (403, "Found disallowed functions in code (system)")


async def test_object_files_are_accepted_to_be_judged_ce_unscreened(
    screener: CountingScreener,
) -> None:
    given = [SourceFile("main.c", "int main(void) { return 0; }"), SourceFile("x.o", "\x7fELF")]
    work = await intake(screener, Problems(SNAPSHOT)).accept(Request("p", "c", None, given))
    assert work.screening.compile_error == (
        "x.o: object files and executables cannot be judged; submit the source files"
    )
    assert screener.screened == 0


async def test_object_files_stay_ce_when_a_job_is_screened_again(
    screener: CountingScreener,
) -> None:
    # Attack: submit a C program with an object file (accepted, to be judged CE), then
    # the problem changes before a worker takes the job: it was screened again, which
    # knew nothing of binaries, and the job was compiled and run with its object file.
    problems = Problems(SNAPSHOT)
    door = intake(screener, problems)
    given = [SourceFile("main.c", "int main(void) { return 0; }"), SourceFile("x.o", "\x7fELF")]
    work = await door.accept(Request("p", "c", None, given))
    problems.snapshots["p"] = dataclasses.replace(
        SNAPSHOT, problem=dataclasses.replace(SNAPSHOT.problem, version=4)
    )
    resumed = await door.resume(job(work))
    error = resumed.screening.compile_error
    assert error == work.screening.compile_error and error and error.startswith("x.o: object")


# Files the toolchain reads as code whatever their names: screened too.
ALL = shipped_languages()
READ_AS_CODE = [
    ("c", "system", ["main.c", '#include "run.inc"\nint main(void) { return run(); }'],
     ["run.inc", '#include <stdlib.h>\nint run(void) { return system("ls"); }']),
    ("cpp", "system", ["main.cpp", '#include "helper.c"\nint main() { return run(); }'],
     ["helper.c", '#include <cstdlib>\nint run() { return system("ls"); }']),
    ("cpp", "system", ["main.cpp", '#include "helper.Cpp"\nint main() { return run(); }'],
     ["helper.Cpp", '#include <cstdlib>\nint run() { return system("ls"); }']),
    ("rust", "std::process", ["main.rs", 'include!("run.txt");\nfn main() { run(); }'],
     ["run.txt", 'fn run() { std::process::Command::new("ls").status().unwrap(); }']),
    ("rust", "std::process", ["main.rs", '#[path = "run.txt"]\nmod run;\nfn main() { run::go(); }'],
     ["run.txt", 'pub fn go() { std::process::Command::new("ls").status().unwrap(); }']),
    ("javascript", "child_process", ["main.js", 'require("./run.txt");'],
     ["run.txt", 'require("child_process").execSync("ls");']),
    ("javascript", "child_process", ["main.js", 'require("./run");'],
     ["run", 'require("child_process").execSync("ls");']),
    ("bash", "curl", ["main.sh", "source ./run.txt\n"], ["run.txt", "curl http://example.com\n"]),
    # Perl `do FILE` / `require FILE`, Free Pascal `{$I FILE}`, Fortran `include 'FILE'`.
    ("perl", "system", ["main.pl", 'do "./run.txt";\n'], ["run.txt", 'system("ls");\n']),
    ("perl", "system", ["main.pl", 'require "./run";\n'], ["run", 'system("ls");\n1;\n']),
    ("pascal", "fpsystem", ["main.pas", "program M;\n{$I run.txt}\nbegin run end.\n"],
     ["run.txt", "procedure run; begin fpSystem('ls') end;\n"]),
    ("fortran", "system", ["main.f90", "program m\ninclude 'run.txt'\nend program\n"],
     ["run.txt", "call system('ls')\n"]),
]  # fmt: skip


@pytest.mark.parametrize(("language", "name", "main", "other"), READ_AS_CODE)
async def test_files_read_as_code_whatever_their_names_are_screened(
    language: str, name: str, main: list[str], other: list[str]
) -> None:
    # Attack: screening read only the language's extensions and headers, but `#include
    # "run.inc"` (C, C++: also a .c or .Cpp file beside C++), `include!`/`#[path]`
    # (Rust), `require("./run.txt")` (Node.js loads any file as JavaScript), `source`
    # (Bash), `do`/`require` (Perl), `{$I}` (Free Pascal) and `include` (Fortran) read
    # any file as code: the disallowed call passed in that file.
    snapshot = ProblemSnapshot(Problem("q", screening={language: [name]}), SNAPSHOT.tests)
    screener = Screener(Settings(screening_workers=1), ALL)
    try:
        door = Intake(lambda: dict(ALL), Problems(snapshot), lambda: screener, 10_000)
        given = [SourceFile(*main), SourceFile(*other)]
        caught = await refusal(door, Request("q", language, None, given))
    finally:
        screener.close()
    assert caught.status == 403
    assert (caught.title or "").startswith(
        f"Found disallowed functions in code ({name.replace('::', '.')}"
    )


async def test_a_refusal_names_a_bounded_number_of_names(screener: CountingScreener) -> None:
    # Attack: every distinct dotted name inside a disallowed one was listed, each up to
    # 200 characters: 97 KB of `os.system.a1.b.b...` answered a 4.8 MB 403 (50 times
    # the program; 1 MB of source: ~50 MB built in the service, sent, and stored as a
    # job's error when a changed problem refused it later).
    snapshot = ProblemSnapshot(Problem("q", screening={"python": ["os.system"]}), SNAPSHOT.tests)
    chain = ".".join(["b"] * 90)
    code = "import os\n" + "".join(f"os.system.a{i}.{chain}\n" for i in range(500))
    door = Intake(lambda: LANGUAGES, Problems(snapshot), lambda: screener, 1 << 20)
    caught = await refusal(door, Request("q", "python", code))
    assert caught.status == 403
    title = caught.title or ""
    assert title.startswith("Found disallowed functions in code (os.system, os.system.a0,")
    assert title.endswith(", ...)") and len(title) < 20 * 210


@pytest.mark.parametrize(
    "code",
    [
        # Python decodes its file by the coding cookie: in UTF-7, `+AAo-` is a line
        # break, so the second line runs `import os; os.system(...)`; as the text that
        # was screened it is a comment.
        '# -*- coding: utf-7 -*-\n# +AAo-import os+ADs- os.system("ls")\nprint(1)\n',
        '# coding=utf_7\n# +AAo-eval("1")\n',
    ],
)
async def test_python_is_screened_as_python_decodes_it(
    screener: CountingScreener, code: str
) -> None:
    snapshot = ProblemSnapshot(
        Problem("q", screening={"python": ["eval", "os.system"]}), SNAPSHOT.tests
    )
    caught = await refusal(intake(screener, Problems(snapshot)), Request("q", "python", code))
    assert caught.status == 403


async def test_python_that_python_cannot_decode_is_a_compile_error(
    screener: CountingScreener,
) -> None:
    code = "# coding: ascii\nprint('é')\n"  # python3 refuses it: SyntaxError
    work = await intake(screener, Problems(SNAPSHOT)).accept(Request("p", "python", code))
    assert work.screening.compile_error and "SyntaxError" in work.screening.compile_error


JAVA_ESCAPED = [
    # javac translates \uXXXX before it reads anything: a line break ends the comment.
    "class Main { public static void main(String[] a) throws Exception {\n"
    '  // \\u000a Runtime.getRuntime().exec("ls");\n} }',
    # ... and a name spelled with escapes is that name.
    "class Main { public static void main(String[] a) throws Exception {\n"
    '  new \\u0050rocessBuilder("ls").start(); } }',
    "class Main { public static void main(String[] a) throws Exception {\n"
    '  new \\uuu0050rocessBuilder("ls").start(); } }',  # any number of u
]


@pytest.mark.parametrize("code", JAVA_ESCAPED)
async def test_java_is_screened_as_javac_reads_unicode_escapes(code: str) -> None:
    policy = ["Runtime.getRuntime().exec", "ProcessBuilder"]
    snapshot = ProblemSnapshot(Problem("q", screening={"java": policy}), SNAPSHOT.tests)
    screener = Screener(Settings(screening_workers=1), ALL)
    try:
        door = Intake(lambda: dict(ALL), Problems(snapshot), lambda: screener, 10_000)
        caught = await refusal(door, Request("q", "java", code))
    finally:
        screener.close()
    assert caught.status == 403
