"""The Piston v2 door (``{CODEEXEC_PISTON_PREFIX}/api/v2``) against the real service:
real Docker sandboxes and the job machinery, driven as Piston's clients drive Piston,
and by a real one (piston-rspy) with only its base URL changed."""

from __future__ import annotations

import asyncio
import base64
import json
import re
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from aiohttp.test_utils import TestClient, TestServer

from codeexec.http.app import make_app
from tests.conftest import base_settings, started_service

pytestmark = [pytest.mark.docker, pytest.mark.asyncio(loop_scope="module")]

Client = TestClient[Any, Any]
API = "/piston/api/v2"
HELLO = "print('hello')"
ABORT = "#include <stdlib.h>\nint main(void) { abort(); }"


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def client(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Client]:
    service = await started_service(
        tmp_path_factory.mktemp("piston"), "piston", languages=("python", "c"),
        job_poll_s=0.05, max_time_limit_ms=5000,
    )  # fmt: skip
    yield service
    await service.close()


async def execute(
    client: Client, status: int = 200, path: str = "/execute", **body: Any
) -> dict[str, Any]:
    body.setdefault("language", "python")
    body.setdefault("version", "*")
    response = await client.post(API + path, json=body)
    answer: dict[str, Any] = await response.json()
    assert response.status == status, answer
    return answer


def source(code: str, name: str = "") -> list[dict[str, str]]:
    return [{"name": name, "content": code}]


async def python_version(client: Client) -> str:
    listed = await (await client.get(API + "/runtimes")).json()
    return str(next(rt["version"] for rt in listed if rt["language"] == "python"))


# -- runtimes ----------------------------------------------------------------------------


async def test_runtimes_list_the_usable_languages(client: Client) -> None:
    response = await client.get(API + "/runtimes")
    listed = await response.json()
    assert response.status == 200
    by_name = {rt["language"]: rt for rt in listed}
    assert set(by_name) == {"c", "python"}
    assert by_name["python"]["aliases"] == ["python3", "py", "py3"]
    assert by_name["c"]["aliases"] == ["gcc"]
    for rt in listed:
        assert re.fullmatch(r"\d+\.\d+\.\d+", rt["version"]), rt
        assert set(rt) == {"language", "version", "aliases"}  # no "runtime": one per language
    assert by_name["python"]["version"].startswith("3.")
    slash = await client.get(API + "/runtimes/")  # Express matches it too; clients use it
    assert await slash.json() == listed


# -- execute -----------------------------------------------------------------------------


async def test_a_run_answers_in_pistons_shape(client: Client) -> None:
    answer = await execute(client, files=source(HELLO, "main.py"))
    assert set(answer) == {"run", "language", "version"}  # no compile stage for Python
    assert answer["language"] == "python"
    assert answer["version"] == await python_version(client)
    run = answer["run"]
    assert (run["stdout"], run["stderr"], run["output"]) == ("hello\n", "", "hello\n")
    assert (run["code"], run["signal"], run["status"], run["message"]) == (0, None, None, None)
    assert run["cpu_time"] >= 0 and run["wall_time"] >= 0 and run["memory"] > 0
    slash = await execute(client, path="/execute/", files=source(HELLO))
    assert slash["run"]["stdout"] == "hello\n"


async def test_output_is_stdout_then_stderr(client: Client) -> None:
    code = "import sys\nprint('out')\nprint('err', file=sys.stderr)\nprint('out2')"
    run = (await execute(client, files=source(code)))["run"]
    assert (run["stdout"], run["stderr"]) == ("out\nout2\n", "err\n")
    assert run["output"] == "out\nout2\nerr\n"


async def test_files_in_each_encoding(client: Client) -> None:
    main = (
        "import helper\nprint(helper.WORD, open('b64.txt').read(), open('hex.txt').read(), sep='|')"
    )
    answer = await execute(
        client,
        files=[
            {"name": "helper.py", "content": "V09SRCA9ICJtb2R1bGUi", "encoding": "base64"},
            {"name": "main.py", "content": main, "encoding": "utf8"},
            {"name": "b64.txt", "content": base64.b64encode("ünï".encode()).decode(),
             "encoding": "base64"},
            {"name": "hex.txt", "content": "héx".encode().hex(), "encoding": "hex"},
        ],
    )  # fmt: skip
    assert answer["run"]["stdout"] == "module|ünï|héx\n", answer


async def test_stdin_gets_a_final_newline_as_in_piston(client: Client) -> None:
    code = "import sys\nprint(repr(sys.stdin.read()))"
    run = (await execute(client, files=source(code), stdin="a\nb"))["run"]
    assert run["stdout"] == "'a\\nb\\n'\n"
    empty = (await execute(client, files=source("print(repr(input()))")))["run"]
    assert empty["stdout"] == "''\n"  # Piston's stdin is never empty: input() reads ""


async def test_args_reach_the_program(client: Client) -> None:
    code = "import sys\nprint(sys.argv[1:])"
    run = (await execute(client, files=source(code), args=["1", "two words", "--x"]))["run"]
    assert run["stdout"] == "['1', 'two words', '--x']\n"


async def test_a_compiled_language_has_a_compile_stage(client: Client) -> None:
    code = '#include <stdio.h>\nint main(void) { int n; scanf("%d", &n); printf("%d\\n", n * 2); }'
    answer = await execute(client, language="c", files=source(code, "prog.c"), stdin="21")
    assert answer["language"] == "c" and re.fullmatch(r"\d+\.\d+\.\d+", answer["version"])
    assert answer["compile"]["code"] == 0 and answer["compile"]["output"] == ""
    assert answer["run"]["stdout"] == "42\n" and answer["run"]["code"] == 0


async def test_a_compile_error_is_reported_in_the_compile_stage(client: Client) -> None:
    answer = await execute(client, language="c", files=source("int main(void) { return x; }"))
    compiled = answer["compile"]
    assert compiled["code"] == 1 and compiled["signal"] is None and compiled["status"] == "RE"
    assert "error" in compiled["stderr"] and compiled["output"] == compiled["stderr"]
    assert answer["run"] == compiled  # Piston: the run stage never started


async def test_a_python_syntax_error_is_the_run_failing(client: Client) -> None:
    answer = await execute(client, files=source("print('unclosed"))
    assert "compile" not in answer
    assert answer["run"]["code"] == 1 and "SyntaxError" in answer["run"]["stderr"]


async def test_a_runtime_error_has_its_exit_code(client: Client) -> None:
    code = "import sys\nprint('before')\nsys.exit(3)"
    run = (await execute(client, files=source(code)))["run"]
    assert (run["code"], run["signal"], run["status"]) == (3, None, "RE")
    assert run["message"] == "Exited with error status 3" and run["stdout"] == "before\n"


async def test_a_kill_by_signal_is_named(client: Client) -> None:
    run = (await execute(client, language="c", files=source(ABORT)))["run"]
    assert (run["code"], run["signal"], run["status"]) == (None, "SIGABRT", "SG")


async def test_run_timeout_kills_the_program(client: Client) -> None:
    busy = (await execute(client, files=source("while True: pass"), run_timeout=500))["run"]
    assert (busy["code"], busy["signal"], busy["status"]) == (None, "SIGKILL", "TO")
    sleeping = "import time\nprint('start', flush=True)\ntime.sleep(30)"
    idle = (await execute(client, files=source(sleeping), run_timeout=500))["run"]
    assert (idle["signal"], idle["status"], idle["stdout"]) == ("SIGKILL", "TO", "start\n")
    assert idle["wall_time"] < 5000


async def test_version_ranges(client: Client) -> None:
    exact = await python_version(client)
    major, minor, _ = exact.split(".")
    for wanted in ("*", "3.x", exact, f"{major}.{minor}", f"^{major}", f">={major} <{major}9"):
        answer = await execute(client, version=wanted, files=source(HELLO))
        assert answer["version"] == exact, wanted
    refused = await execute(client, 400, version="2.x", files=source(HELLO))
    assert refused == {"message": "python-2.x runtime is unknown"}


@pytest.mark.parametrize(
    ("alias", "language", "code"),
    [
        ("py", "python", HELLO),
        ("python3", "python", HELLO),
        ("c", "c", '#include <stdio.h>\nint main(void) { puts("hello"); }'),
        ("gcc", "c", '#include <stdio.h>\nint main(void) { puts("hello"); }'),
    ],
)
async def test_aliases_name_the_language(
    client: Client, alias: str, language: str, code: str
) -> None:
    answer = await execute(client, language=alias, files=source(code))
    assert answer["language"] == language and answer["run"]["stdout"] == "hello\n"


async def test_the_body_is_read_as_json_whatever_its_content_type(client: Client) -> None:
    body = json.dumps({"language": "py", "version": "*", "files": source(HELLO)})
    for headers in ({"Content-Type": "text/plain;charset=UTF-8"}, {}):
        response = await client.post(
            API + "/execute", data=body, headers=headers, skip_auto_headers=["Content-Type"]
        )
        answer = await response.json()
        assert response.status == 200, answer
        assert answer["run"]["stdout"] == "hello\n"


BAD_INPUTS: list[tuple[Any, str]] = [
    ({"version": "*", "files": source(HELLO)}, "language is required as a string"),
    ({"language": "py", "files": source(HELLO)}, "version is required as a string"),
    ({"language": "py", "version": "*"}, "files is required as an array"),
    ({"language": "py", "version": "*", "files": [{"name": "a.py"}]},
     "files[0].content is required as a string"),
    ({"language": "cobol", "version": "*", "files": source(HELLO)}, "cobol-* runtime is unknown"),
    ({"language": "py", "version": "*", "files": []},
     "files must include at least one utf8 encoded file"),
    ({"language": "py", "version": "*",
      "files": [{"content": "x"}, {"content": "!", "encoding": "base64"}]},
     "files[1].content is not valid base64"),
    ({"language": "py", "version": "*",
      "files": [*source(HELLO), {"content": "abc", "encoding": "hex"}]},
     "files[1].content is not valid hex"),
    ({"language": "py", "version": "*", "files": [{"content": "x", "encoding": "latin1"}]},
     "files[0].encoding must be one of utf8, base64, hex"),
    ({"language": "py", "version": "*", "files": source(HELLO), "run_timeout": "1s"},
     "If specified, run_timeout must be a number"),
    ({"language": "py", "version": "*", "files": source(HELLO), "run_timeout": 10_001},
     "run_timeout cannot exceed the configured limit of 10000"),
    ({"language": "py", "version": "*", "files": source(HELLO), "compile_timeout": 10_001},
     "compile_timeout cannot exceed the configured limit of 10000"),
    ({"language": "c", "version": "*", "files": source(ABORT), "compile_memory_limit": 2**40},
     "compile_memory_limit cannot exceed the configured limit of 536870912"),
    ({"language": "py", "version": "*", "files": source(HELLO), "run_cpu_time": -5},
     "run_cpu_time must be non-negative"),
    ({"language": "py", "version": "*", "files": source(HELLO), "stdin": 5},
     "stdin must be a string"),
    ({"language": "py", "version": "*", "files": source(HELLO), "args": "-v"},
     "args must be an array of strings"),
    ({"language": "py", "version": "*", "files": source(HELLO, "../escape.py")},
     "Invalid submission: file name '../escape.py'"),
    ([], "language is required as a string"),
]  # fmt: skip


@pytest.mark.parametrize(("body", "message"), BAD_INPUTS)
async def test_bad_input_is_a_400_with_a_message(client: Client, body: Any, message: str) -> None:
    response = await client.post(API + "/execute", json=body)
    answer = await response.json()
    assert response.status == 400, answer
    assert set(answer) == {"message"} and answer["message"].startswith(message), answer


async def test_every_error_under_the_prefix_is_pistons_shape(client: Client) -> None:
    malformed = await client.post(API + "/execute", data=b'{"language": ')
    assert malformed.status == 400
    assert (await malformed.json())["message"].startswith("Body is not valid JSON")
    unknown = await client.get(API + "/packages")
    assert (unknown.status, await unknown.json()) == (404, {"message": "Not found"})
    wrong = await client.get(API + "/execute")
    assert (wrong.status, await wrong.json()) == (405, {"message": "Method not allowed"})
    ours = await client.get("/api/v1/nothing")  # codeexec's own routes keep their shape
    assert await ours.json() == {"error": "Not found"}


async def test_an_execute_is_a_job_like_any_run(client: Client) -> None:
    await execute(client, files=source("print('kept')"))
    found = await client.get("/api/v1/submissions", params={"problem_id": ":run", "limit": 200})
    jobs = (await found.json())["items"]
    assert any(j["status"] == "finished" and j["files"] == [
        {"name": "main.py", "content": "print('kept')"}
    ] for j in jobs), jobs  # fmt: skip


# -- a real client -----------------------------------------------------------------------


async def test_the_piston_rspy_client_works_with_only_its_url_changed(client: Client) -> None:
    piston_rspy = pytest.importorskip("piston_rspy")
    piston = piston_rspy.Client.with_url(str(client.make_url(API)))
    runtimes = await piston.fetch_runtimes()
    assert {(rt.language, tuple(rt.aliases)) for rt in runtimes} == {
        ("python", ("python3", "py", "py3")),
        ("c", ("gcc",)),
    }
    code = "import sys\nprint(input()[::-1], sys.argv[1:])"
    executor = piston_rspy.Executor(
        language="python3",
        version="3.x",
        files=[piston_rspy.File(name="main.py", content=code)],
        stdin="olleh",
        args=["--flag"],
    )
    response = await piston.execute(executor)
    assert response.is_ok() and response.status == 200 and response.language == "python"
    assert response.run.stdout == "hello ['--flag']\n" and response.run.code == 0
    assert response.compile is None
    compiled = await piston.execute(
        piston_rspy.Executor(language="c", version="*", files=[piston_rspy.File(content=ABORT)])
    )
    assert compiled.compile is not None and compiled.compile.code == 0
    assert compiled.run.signal == "SIGABRT" and compiled.run.code is None
    unknown = await piston.execute(
        piston_rspy.Executor(language="python", version="2.7", files=[piston_rspy.File(content="")])
    )
    assert unknown.status == 400 and "python-2.7 runtime is unknown" in unknown.run.stderr


# -- when the service cannot take it -----------------------------------------------------


async def test_a_full_queue_is_a_piston_503_with_retry_after(tmp_path: Path) -> None:
    settings = base_settings(
        database_url=f"sqlite:///{tmp_path / 'store.sqlite3'}",
        instance_name=f"piston-full-{uuid.uuid4().hex[:8]}",
        job_queue_size=0,
        retry_after_s=7,
    )
    async with TestClient(TestServer(make_app(settings, judging=False))) as full:
        response = await full.post(
            API + "/execute", json={"language": "py", "version": "*", "files": source(HELLO)}
        )
        answer = await response.json()
        assert response.status == 503 and response.headers["Retry-After"] == "7"
        assert set(answer) == {"message"} and "too many submissions queued" in answer["message"]


async def test_a_run_not_done_in_time_is_cancelled_and_a_503(tmp_path: Path) -> None:
    settings = base_settings(
        database_url=f"sqlite:///{tmp_path / 'store.sqlite3'}",
        instance_name=f"piston-late-{uuid.uuid4().hex[:8]}",
        languages=("python",),
        max_wait_s=0,
        retry_after_s=3,
    )
    async with TestClient(TestServer(make_app(settings))) as late:
        response = await late.post(
            API + "/execute", json={"language": "py", "version": "*", "files": source(HELLO)}
        )
        answer = await response.json()
        assert response.status == 503 and response.headers["Retry-After"] == "3", answer
        assert "did not finish within 0 s" in answer["message"]
        for _ in range(100):  # nobody waits for it any more: it is cancelled
            jobs = (await (await late.get("/api/v1/submissions")).json())["items"]
            if all(j["done"] for j in jobs):
                break
            await asyncio.sleep(0.05)
        assert [j["status"] for j in jobs] in (["cancelled"], ["finished"]), jobs


async def test_middleware_errors_are_pistons_shape_too(tmp_path: Path) -> None:
    settings = base_settings(
        database_url=f"sqlite:///{tmp_path / 'store.sqlite3'}",
        instance_name=f"piston-auth-{uuid.uuid4().hex[:8]}",
        auth="on",
    )
    async with TestClient(TestServer(make_app(settings, judging=False))) as guarded:
        response = await guarded.get(API + "/runtimes")
        assert response.status == 401 and "WWW-Authenticate" in response.headers
        assert await response.json() == {
            "message": "Authentication required: send Authorization: Bearer <API key>"
        }
