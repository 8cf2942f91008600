"""``codeexec grade`` as a CI job runs it: the real command in a subprocess, real Docker,
real Kattis packages (../shared/testdata/kattis), and ``--server`` against a real
service. The report formats' details are tests/unit/test_grade_formats.py's."""

from __future__ import annotations

import asyncio
import base64
import json
import os
import pty
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import xmlschema
from aiohttp import web
from aiohttp.test_utils import TestServer
from junitparser import JUnitXml

from tests.conftest import SHARED

pytestmark = pytest.mark.docker

KATTIS = SHARED / "testdata" / "kattis"
JUNIT_XSD = str(Path(__file__).parent / "data" / "junit" / "junit-10.xsd")
CODEEXEC = [sys.executable, "-m", "codeexec"]
SOURCES = {
    "hello.py": 'print("Hello World!")\n',
    "wrong.py": 'print("Hello")\n',
    "broken.c": "int main(void) { return x; }\n",
    "slow.py": "while True:\n    pass\n",
}


def grade(*args: str | Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*CODEEXEC, "grade", *map(str, args)],
        capture_output=True,
        text=True,
        timeout=600,
        env=os.environ | (env or {}),
    )


@pytest.fixture
def sources(tmp_path: Path) -> dict[str, Path]:
    made = {}
    for name, text in SOURCES.items():
        (tmp_path / name).write_text(text)
        made[name] = tmp_path / name
    return made


def test_a_correct_source_exits_0(sources: dict[str, Path], tmp_path: Path) -> None:
    out = tmp_path / "github_output"
    done = grade(
        KATTIS / "hello", sources["hello.py"], "--junit", tmp_path / "r.xml",
        "--json", tmp_path / "r.json", "--classroom", env={"GITHUB_OUTPUT": str(out)},
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "hello.py: AC, 1/1 tests passed" in done.stdout
    assert "1/1 sources passed every test" in done.stdout
    report = json.loads((tmp_path / "r.json").read_text())
    assert report["passed"] is True and report["graded"][0]["job"]["verdict"] == "AC"
    assert b"<testsuite" in (tmp_path / "r.xml").read_bytes()
    line = out.read_text().strip()
    classroom = json.loads(base64.b64decode(line.removeprefix("result=")))
    assert classroom["version"] == 1 and classroom["status"] == "pass"
    assert classroom["max_score"] == 1 and classroom["tests"][0]["status"] == "pass"


def test_failures_are_graded_and_exit_1(sources: dict[str, Path], tmp_path: Path) -> None:
    done = grade(
        KATTIS / "hello", sources["hello.py"], sources["wrong.py"], sources["broken.c"],
        sources["slow.py"], "--json", tmp_path / "r.json", "--jobs", "4",
        "--junit", tmp_path / "r.xml",
    )  # fmt: skip
    assert done.returncode == 1, done.stderr
    # The JUnit report validates against Jenkins' schema and reads back with a reader.
    xmlschema.XMLSchema(JUNIT_XSD).validate(str(tmp_path / "r.xml"))
    suites = {suite.name: suite for suite in JUnitXml.fromfile(str(tmp_path / "r.xml"))}
    kinds = {
        name.rsplit("/", 1)[-1]: [type(r).__name__ for case in suite for r in case.result]
        for name, suite in suites.items()
    }
    assert kinds == {"hello.py": [], "wrong.py": ["Failure"], "broken.c": ["Error"],
                     "slow.py": ["Failure"]}, kinds  # fmt: skip
    verdicts = {
        Path(g["source"]).name: g["job"]["verdict"]
        for g in json.loads((tmp_path / "r.json").read_text())["graded"]
    }
    assert verdicts == {"hello.py": "AC", "wrong.py": "WA", "broken.c": "CE", "slow.py": "TLE"}
    assert "undeclared" in done.stdout  # the compiler's message, shown
    assert "secret/hello" in done.stdout  # a row per test
    assert "1/4 sources passed every test" in done.stdout


def test_a_folder_of_sources_is_graded_whole(sources: dict[str, Path], tmp_path: Path) -> None:
    folder = tmp_path / "submissions"
    folder.mkdir()
    for name in ("hello.py", "wrong.py"):
        (folder / name).write_text(SOURCES[name])
    done = grade(KATTIS / "hello", folder, "--quiet")
    assert done.returncode == 1 and done.stdout.strip() == "1/2 sources passed every test"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["hello.py", "--server", "notaurl"], "--server 'notaurl': an http(s) URL"),
        (["hello.py", "--junit", "/nonexistent/dir/r.xml"], "cannot write a report"),
        (["nope.py"], "nope.py: no such file or folder"),
        (["notes.txt"], "no language has this extension; give --language"),
        (["hello.py", "--language", "cobol"], "unknown language 'cobol'"),
    ],
)
def test_usage_errors_exit_2(
    sources: dict[str, Path], tmp_path: Path, args: list[str], message: str
) -> None:
    (tmp_path / "notes.txt").write_text("hello\n")
    done = grade(
        KATTIS / "hello", *[str(tmp_path / a) if a.endswith((".py", ".txt")) else a for a in args]
    )
    assert done.returncode == 2 and message in done.stderr, (done.stdout, done.stderr)


def test_a_missing_or_broken_package_exits_2(sources: dict[str, Path], tmp_path: Path) -> None:
    done = grade(tmp_path / "no-package", sources["hello.py"])
    assert done.returncode == 2 and "no such package" in done.stderr
    (tmp_path / "broken").mkdir()
    done = grade(tmp_path / "broken", sources["hello.py"])
    assert done.returncode == 2 and "problem.yaml" in done.stderr, done.stderr


def test_no_docker_engine_exits_3(sources: dict[str, Path], tmp_path: Path) -> None:
    done = grade(
        KATTIS / "hello", sources["hello.py"], env={"DOCKER_HOST": f"unix://{tmp_path}/none.sock"}
    )
    assert done.returncode == 3 and "codeexec grade:" in done.stderr, (done.stdout, done.stderr)


def test_an_unreachable_server_exits_3(sources: dict[str, Path]) -> None:
    done = grade("HQ000000000000000001", sources["hello.py"], "--server", "http://127.0.0.1:9")
    assert done.returncode == 3 and "127.0.0.1:9" in done.stderr, done.stderr


async def test_grading_on_a_server_keeps_hidden_tests_hidden(
    service: Callable[..., Any], tmp_path: Path
) -> None:
    client = await service(admin_token="grade-admin", host="127.0.0.1")
    made = await client.post(
        "/api/v1/keys", json={"name": "ci", "role": "submitter"},
        headers={"Authorization": "Bearer grade-admin"},
    )  # fmt: skip
    token = (await made.json())["token"]
    source = tmp_path / "sum.py"
    source.write_text("a, b = map(int, input().split())\nprint(a + b)\n")
    url = f"http://127.0.0.1:{client.server.port}"
    # The service runs on this test's event loop: the command runs in a thread beside it.
    done = await asyncio.to_thread(
        grade, "HQ000000000000000001", source, "--server", url, "--token", token,
        "--json", tmp_path / "r.json",
    )  # fmt: skip
    assert done.returncode == 0, (done.stdout, done.stderr)
    results = json.loads((tmp_path / "r.json").read_text())["graded"][0]["job"]["results"]
    hidden = [r for r in results if r["hidden"]]
    assert len(hidden) == 2 and all(set(r) <= {"position", "hidden", "verdict"} for r in hidden)
    unknown = await asyncio.to_thread(
        grade, "no-such-problem", source, "--server", url, "--token", token
    )
    assert unknown.returncode == 2 and "no problem 'no-such-problem'" in unknown.stderr


def test_wrong_answers_are_expected_to_fail(sources: dict[str, Path]) -> None:
    """A package's submissions/wrong_answer: every one must fail a test."""
    done = grade(KATTIS / "hello", sources["wrong.py"], sources["slow.py"], "--expect", "fail")
    assert done.returncode == 0, (done.stdout, done.stderr)
    done = grade(KATTIS / "hello", sources["wrong.py"], sources["hello.py"], "--expect", "fail")
    assert done.returncode == 1, (done.stdout, done.stderr)


def test_a_terminal_gets_a_table(sources: dict[str, Path]) -> None:
    """On a terminal (a pty here) the per-test results are a table with its header."""
    primary, secondary = pty.openpty()
    try:
        done = subprocess.run(
            [*CODEEXEC, "grade", str(KATTIS / "hello"), str(sources["wrong.py"])],
            stdout=secondary, stderr=subprocess.PIPE, text=True, timeout=600,
            env=os.environ | {"COLUMNS": "100", "TERM": "xterm"},
        )  # fmt: skip
        os.close(secondary)
        shown = b""
        while True:
            try:
                chunk = os.read(primary, 65536)
            except OSError:  # the pty's other end is closed: all read
                break
            if not chunk:
                break
            shown += chunk
    finally:
        os.close(primary)
    text = shown.decode(errors="replace")
    assert done.returncode == 1, done.stderr
    assert "verdict" in text and "memory" in text and "secret/hello" in text, text


@pytest.mark.parametrize(
    ("status", "body"),
    [
        (200, "<html>a proxy's page</html>"),
        (500, '{"error": "Internal server error"}'),
        (200, '{"languages": 5}'),
        (200, '{"languages": [{"name": "no id"}]}'),
        (401, '{"error": "Invalid or revoked API key"}'),  # a bad token: not the program's
        (429, '{"error": "Too many requests"}'),
    ],
)
async def test_a_server_that_is_not_codeexec_exits_3(
    sources: dict[str, Path], status: int, body: str
) -> None:
    async def answer(request: web.Request) -> web.Response:
        return web.Response(status=status, text=body, content_type="application/json")

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", answer)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    try:
        url = f"http://127.0.0.1:{server.port}"
        done = await asyncio.to_thread(grade, "p", sources["hello.py"], "--server", url)
    finally:
        await server.close()
    assert done.returncode == 3, (done.stdout, done.stderr)
    assert done.stderr.startswith("codeexec grade: ") and "Traceback" not in done.stderr


def test_a_program_cannot_speak_to_the_ci_runner(tmp_path: Path) -> None:
    """A compile error quotes the source: a line GitHub's runner would take for a
    workflow command (``::error::``, ``::add-mask::``) must not reach the log as one."""
    source = tmp_path / "ce.py"
    source.write_text("::error title=PWNED::injected\n")
    done = grade(KATTIS / "hello", source)
    assert done.returncode == 1, done.stderr
    assert "PWNED" in done.stdout  # shown, but inert
    assert not any(line.lstrip().startswith("::") for line in done.stdout.splitlines())


def test_sigterm_removes_the_local_sandboxes(tmp_path: Path) -> None:
    """A cancelled CI job (SIGTERM) must not leave containers or the store behind."""
    import signal
    import time

    import docker

    source = tmp_path / "spin.py"
    source.write_text("while True:\n    pass\n")
    engine = docker.from_env()

    def graders() -> list[str]:
        found = engine.api.containers(all=True, filters={"label": "codeexec.sandbox=1"})
        return [
            c["Id"] for c in found if c["Labels"].get("codeexec.instance", "").startswith("grade-")
        ]

    before = set(graders())
    running = subprocess.Popen(
        [*CODEEXEC, "grade", str(KATTIS / "hello"), str(source)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    deadline = time.monotonic() + 60
    while not set(graders()) - before and time.monotonic() < deadline:
        time.sleep(0.2)
    assert set(graders()) - before, "the grader never started a sandbox"
    running.send_signal(signal.SIGTERM)
    _, stderr = running.communicate(timeout=60)
    assert running.returncode == 130 and "interrupted" in stderr, stderr
    assert set(graders()) - before == set()
