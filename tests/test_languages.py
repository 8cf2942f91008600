"""Every language judges the Kattis packages correctly through POST /exec, compiled once.

Programs are in tests/languages/programs.toml; the data is ../shared/testdata/kattis.
"""

from __future__ import annotations

import asyncio
import tomllib
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import docker
import pytest
import pytest_asyncio
from aiohttp.test_utils import TestClient, TestServer

from codeexec.http.app import make_app
from codeexec.http.keys import STORE
from codeexec.model import Problem, TestCase
from tests.conftest import REPO, SHARED, base_settings, docker_client, sandboxes_of

pytestmark = pytest.mark.asyncio(loop_scope="module")

PROGRAMS: dict[str, dict[str, str]] = tomllib.loads(
    (Path(__file__).parent / "languages" / "programs.toml").read_text(encoding="utf-8")
)
LANGUAGES = sorted(PROGRAMS)
KATTIS = SHARED / "testdata" / "kattis"
# What each program must get on `different` (one shown sample, two hidden secret tests).
EXPECTED = {"ac": "AC", "wa": "WA", "re": "RE", "tle": "TLE", "ce": "CE", "mle": "MLE"}
# `plusone`: every line of a large input read, every line of a large output written.
PLUS_ONE_N = 200_000


def kattis_tests(problem: str) -> list[TestCase]:
    """data/sample -> shown, data/secret -> hidden, in lexicographic order."""
    tests = []
    for group, hidden in (("sample", False), ("secret", True)):
        folder = KATTIS / problem / "data" / group
        for given in sorted(folder.glob("*.in")) if folder.is_dir() else []:
            tests.append(
                TestCase(given.read_bytes(), given.with_suffix(".ans").read_bytes(), hidden)
            )
    assert tests, f"no Kattis data for {problem} under {KATTIS}"
    return tests


@pytest.fixture(scope="module")
def engine() -> docker.DockerClient:
    return docker_client()


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def client(
    engine: docker.DockerClient, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[TestClient[Any, Any]]:
    instance = f"languages-{uuid.uuid4().hex[:8]}"
    database = tmp_path_factory.mktemp("languages") / "store.sqlite3"
    settings = base_settings(
        database_url=f"sqlite:///{database}", instance_name=instance, languages=()
    )
    test_client: TestClient[Any, Any] = TestClient(TestServer(make_app(settings)))
    await test_client.start_server()
    store = test_client.app[STORE]
    anything = {lang: [] for lang in LANGUAGES}  # this suite judges, it does not screen
    await store.save(
        Problem(id="hello", memory_limit_mb=512, screening=anything), kattis_tests("hello")
    )
    await store.save(
        Problem(id="different", time_limit_ms=2000, screening=anything), kattis_tests("different")
    )
    await store.save(Problem(id="screened"), kattis_tests("hello"))  # server default policies
    numbers = [
        (i * 7_919_423_117) % 2_000_000_000_001 - 1_000_000_000_000 for i in range(PLUS_ONE_N)
    ]
    given = f"{PLUS_ONE_N}\n" + "".join(f"{x}\n" for x in numbers)
    wanted = "".join(f"{x + 1}\n" for x in numbers)
    await store.save(
        Problem(id="plusone", time_limit_ms=10_000, screening=anything),
        [TestCase(given.encode(), wanted.encode(), True)],
    )
    yield test_client
    await test_client.close()
    assert sandboxes_of(engine, instance) == []


async def test_every_language_is_listed_available_with_its_version(
    client: TestClient[Any, Any],
) -> None:
    response = await client.get("/api/v1/languages")
    assert response.status == 200
    listed = {item["id"]: item for item in (await response.json())["languages"]}
    assert sorted(listed) == LANGUAGES
    for lang_id, item in listed.items():
        assert item["available"] is True, (lang_id, item.get("reason"))
        assert item["version"], lang_id
        assert item["name"]


# What each program is sent to: `hello` prints "Hello World!"; the kinds of `different`
# get their verdicts; `echo` reads all of a large input and writes a large output.
KINDS = {"hello": "hello", **dict.fromkeys(EXPECTED, "different"), "echo": "plusone"}


def misjudged(kind: str, status: int, body: dict[str, Any]) -> str | None:
    """What is wrong with the answer to a language's ``kind`` program, or None."""
    if status != 200:
        return f"status {status}: {body}"
    if kind in ("hello", "echo"):
        hidden = {"failed": 0, "passed": 1}
        return None if body["passed"] is True and body["hiddenTests"] == hidden else str(body)
    verdict = body["shownTests"][0]["verdict"]
    if verdict != EXPECTED[kind]:
        return f"verdict {verdict}, not {EXPECTED[kind]}: {body}"
    if kind == "ac":
        return None if body["hiddenTests"] == {"failed": 0, "passed": 2} else str(body)
    if body["passed"] is not False or body["hiddenTests"]["failed"] != 2:
        return str(body)
    # A CE shows the compiler's message, never the host's paths.
    if kind == "ce" and (
        not body["error"] or str(REPO) in body["error"] or "/work/" in body["error"]
    ):
        return f"compiler message: {body['error']!r}"
    return None


@pytest.mark.parametrize("language", LANGUAGES)
async def test_every_kind_of_program_gets_its_verdict(
    client: TestClient[Any, Any], language: str
) -> None:
    # Sent at once, as a contest's submissions arrive: judged CODEEXEC_CONCURRENCY at a
    # time, each compiled once for its tests.
    async def judged(kind: str) -> str | None:
        payload = {"code": PROGRAMS[language][kind], "id": KINDS[kind], "language": language}
        response = await client.post("/exec", json=payload)
        return misjudged(kind, response.status, await response.json())

    problems = await asyncio.gather(*(judged(kind) for kind in KINDS))
    wrong = {kind: problem for kind, problem in zip(KINDS, problems, strict=True) if problem}
    assert wrong == {}


# A call each screened language's default policy refuses (the others are listed as
# not screened: test_every_language_says_whether_it_is_screened).
DISALLOWED = {
    "python": ("import os\nos.system('ls')", "os.system"),
    "c": ('#include <stdlib.h>\nint main(void) { return system("ls"); }', "system"),
    "cpp": ('#include <cstdlib>\nint main() { return std::system("ls"); }', "std.system"),
    "java": (
        "class Main { public static void main(String[] a) throws Exception "
        '{ Runtime.getRuntime().exec("ls"); } }',
        "Runtime.getRuntime.exec",
    ),
    "javascript": ('require("child_process").execSync("ls");', "child_process"),
    "go": ('package main\nimport "os/exec"\nfunc main() { exec.Command("ls").Run() }', "os/exec"),
    "rust": ('fn main() { std::process::Command::new("ls").status().unwrap(); }', "std.process"),
    "bash": ("curl example.com", "curl"),
    "ruby": ("puts `ls`", "`ls`"),
    "php": ('<?php system("ls");', "system"),
    "lua": ('os.execute("ls")', "os.execute"),
    "kotlin": ('fun main() { ProcessBuilder("ls").start() }', "ProcessBuilder"),
    "csharp": (
        'class P { static void Main() { System.Diagnostics.Process.Start("ls"); } }',
        "System.Diagnostics.Process",
    ),
    "typescript": ('import { execSync } from "child_process";\nexecSync("ls");', "child_process"),
    "haskell": ('import System.Process\nmain = callCommand "ls"', "System.Process"),
    "scala": ('import sys.process._\nobject Main extends App { "ls".! }', "sys.process"),
    "ocaml": ('let () = exit (Sys.command "ls")', "Sys.command"),
    "fortran": ("program main\n  call SYSTEM('ls')\nend program main", "system"),
    "perl": ("print `ls`;", "qx"),
    "pascal": ("program Main;\nuses Unix;\nbegin fpSystem('ls') end.", "fpsystem"),
    "ada": (
        "with GNAT.OS_Lib;\nprocedure Main is\nbegin\n   null;\nend Main;",
        "gnat.os_lib",
    ),
}


async def test_every_language_says_whether_it_is_screened(client: TestClient[Any, Any]) -> None:
    response = await client.get("/api/v1/languages")
    listed = {item["id"]: item for item in (await response.json())["languages"]}
    assert {lang for lang, item in listed.items() if item["screened"]} == set(DISALLOWED)


@pytest.mark.parametrize("language", sorted(DISALLOWED))
async def test_default_screening_refuses_disallowed_calls(
    client: TestClient[Any, Any], language: str
) -> None:
    code, name = DISALLOWED[language]
    response = await client.post(
        "/exec", json={"code": code, "id": "screened", "language": language}
    )
    body = await response.json()
    assert response.status == 403, body
    assert body["error"].startswith("Found disallowed functions in code (")
    assert name in body["error"]


MULTI_FILE = {
    "python": (
        [
            {
                "name": "solution.py",
                "content": "from helpers.text import GREETING\nprint(GREETING)",
            },
            {"name": "helpers/__init__.py", "content": ""},
            {"name": "helpers/text.py", "content": "GREETING = 'Hello World!'"},
        ],
        "solution.py",
    ),
    "c": (
        [
            {
                "name": "main.c",
                "content": '#include "greet.h"\nint main(void) { greet(); return 0; }',
            },
            {
                "name": "greet.c",
                "content": '#include <stdio.h>\nvoid greet(void) { puts("Hello World!"); }',
            },
            {"name": "greet.h", "content": "void greet(void);"},
        ],
        None,
    ),
    "java": (
        [
            {
                "name": "App.java",
                "content": "public class App { public static void main(String[] a) "
                "{ System.out.println(Greeting.TEXT); } }",
            },
            {
                "name": "Greeting.java",
                "content": 'class Greeting { static final String TEXT = "Hello World!"; }',
            },
        ],
        "App.java",
    ),
    "go": (
        [
            {
                "name": "main.go",
                "content": 'package main\nimport "fmt"\nfunc main() { fmt.Println(greeting()) }',
            },
            {
                "name": "greet.go",
                "content": 'package main\n\nfunc greeting() string { return "Hello World!" }',
            },
        ],
        None,
    ),
}


AS_SENT = {
    case["name"]: case
    for case in tomllib.loads(
        (Path(__file__).parent / "languages" / "multi_file.toml").read_text(encoding="utf-8")
    )["case"]
}


@pytest.mark.parametrize("case", sorted(AS_SENT))
async def test_multi_file_submissions_as_sent(client: TestClient[Any, Any], case: str) -> None:
    files = [{"name": name, "content": text} for name, text in AS_SENT[case]["files"].items()]
    payload = {"files": files, "id": "hello", "language": AS_SENT[case]["language"]}
    if "entry_point" in AS_SENT[case]:
        payload["entry_point"] = AS_SENT[case]["entry_point"]
    response = await client.post("/exec", json=payload)
    body = await response.json()
    assert response.status == 200, body
    assert body["passed"] is True, body


async def test_object_files_are_a_compile_error(client: TestClient[Any, Any]) -> None:
    files = [
        {"name": "main.c", "content": "int helper(void);\nint main(void) { return helper(); }"},
        {"name": "helper.o", "content": "\x7fELF\x02\x01\x01"},
    ]
    payload = {"files": files, "id": "different", "language": "c"}
    response = await client.post("/exec", json=payload)
    body = await response.json()
    assert response.status == 200, body
    assert body["passed"] is False and body["shownTests"][0]["verdict"] == "CE", body
    assert "helper.o: object files and executables cannot be judged" in body["error"], body


async def test_two_entry_points_are_refused_with_both_named(client: TestClient[Any, Any]) -> None:
    main = "public static void main(String[] a) {}"
    files = [
        {"name": "A.java", "content": f"public class A {{ {main} }}"},
        {"name": "B.java", "content": f"public class B {{ {main} }}"},
    ]
    response = await client.post("/exec", json={"files": files, "id": "hello", "language": "java"})
    body = await response.json()
    assert response.status == 400, body
    assert "several files hold an entry point: ['A.java', 'B.java']" in body["detail"], body


@pytest.mark.parametrize("language", sorted(MULTI_FILE))
async def test_multi_file_submissions(client: TestClient[Any, Any], language: str) -> None:
    files, entry = MULTI_FILE[language]
    payload: dict[str, Any] = {"files": files, "id": "hello", "language": language}
    if entry:
        payload["entry_point"] = entry
    response = await client.post("/exec", json=payload)
    body = await response.json()
    assert response.status == 200, body
    assert body["passed"] is True, body


# Where a language starts its program through a shell (the JVM ones read their main
# class from a file), an ad-hoc run's arguments must still reach the program.
ARGS_PROGRAMS = {
    "java": "public class Main { public static void main(String[] a) {"
    ' System.out.println(String.join("|", a)); } }',
    "python": "import sys\nprint('|'.join(sys.argv[1:]))",
}


@pytest.mark.parametrize("language", sorted(ARGS_PROGRAMS))
async def test_a_runs_arguments_reach_the_program(
    client: TestClient[Any, Any], language: str
) -> None:
    body = {"language": language, "source": ARGS_PROGRAMS[language], "args": ["a b", "$HOME", ""]}
    response = await client.post("/api/v1/runs?wait=true", json=body)
    answer = await response.json()
    assert response.status == 200 and answer["stdout"] == "a b|$HOME|\n", answer
