"""Judge0 CE 1.13.1's API against the real service (real Docker sandboxes, the job
machinery, SQLite), driven by the official ``judge0`` SDK from PyPI, unmodified, and by
raw HTTP for what the SDK does not send. docs/compat.md has the table these test."""

from __future__ import annotations

import asyncio
import base64
import io
import uuid
import zipfile
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import judge0
import pytest
import pytest_asyncio
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from codeexec.http.app import make_app
from codeexec.http.compat.judge0 import FIELDS
from tests.conftest import base_settings, started_service

pytestmark = [pytest.mark.docker, pytest.mark.asyncio(loop_scope="module")]

Client = TestClient[Any, Any]
ADMIN_TOKEN = "judge0-admin"
ECHO = "print(input().upper())"
EMPTY_ZIP = "UEsFBgAAAAAAAAAAAAAAAAAAAAAAAA=="


async def _serve(tmp: Path, **overrides: Any) -> Client:
    return await started_service(tmp, "judge0", job_poll_s=0.05, **overrides)


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def open_service(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Client]:
    """No authentication (the embedded default on 127.0.0.1)."""
    service = await _serve(
        tmp_path_factory.mktemp("judge0"), languages=("python", "c"), webhook_allow_private=True
    )
    yield service
    await service.close()


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def locked_service(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Client]:
    """Authentication required; the admin token is Judge0's X-Auth-User."""
    service = await _serve(
        tmp_path_factory.mktemp("judge0-auth"),
        languages=("python",),
        auth="on",
        admin_token=ADMIN_TOKEN,
    )
    yield service
    await service.close()


def endpoint(service: Client) -> str:
    return f"http://127.0.0.1:{service.server.port}/judge0"


async def sdk_client(service: Client, headers: dict[str, str] | None = None) -> judge0.Client:
    # The SDK is synchronous (httpx): it runs in a thread while the service serves.
    return await asyncio.to_thread(judge0.Client, endpoint(service), headers)


# -- the real client --------------------------------------------------------------------


async def test_the_sdk_runs_a_program(open_service: Client) -> None:
    client = await sdk_client(open_service)
    assert any(lang.id == 71 for lang in client.languages)  # read at construction
    assert client.config.max_number_of_runs == 20
    result = await asyncio.to_thread(
        judge0.run, client=client, source_code=ECHO, stdin="hello", language=judge0.PYTHON
    )
    assert result.status == judge0.Status.ACCEPTED
    assert result.stdout == "HELLO\n" and result.stderr is None
    assert result.time is not None and result.memory is not None and result.memory > 0
    assert result.token is not None and result.created_at is not None


async def test_the_sdk_checks_expected_output_and_reports_failures(open_service: Client) -> None:
    client = await sdk_client(open_service)
    cases = [("a", "A"), ("b", "X")]
    results = await asyncio.to_thread(
        judge0.run, client=client, source_code=ECHO, test_cases=cases, language=judge0.PYTHON
    )
    assert [r.status for r in results] == [judge0.Status.ACCEPTED, judge0.Status.WRONG_ANSWER]
    broken = await asyncio.to_thread(
        judge0.run, client=client, source_code="int main(void){ return x; }", language=judge0.C
    )
    assert broken.status == judge0.Status.COMPILATION_ERROR and "x" in broken.compile_output
    crashed = await asyncio.to_thread(
        judge0.run, client=client, source_code="import sys\nsys.exit(3)", language=judge0.PYTHON
    )
    assert crashed.status == judge0.Status.RUNTIME_ERROR_NZEC and crashed.exit_code == 3
    # Judge0 sends message base64-encoded too when asked for base64, and this SDK does
    # not decode that field: so does codeexec, as a Judge0 client sees it.
    assert base64.b64decode(crashed.message) == b"Exited with error status 3"


async def test_the_sdk_executes_and_waits_on_batches(open_service: Client) -> None:
    client = await sdk_client(open_service)
    submissions = [
        judge0.Submission(source_code=ECHO, stdin=word, language=judge0.PYTHON)
        for word in ("one", "two", "three")
    ]
    created = await asyncio.to_thread(judge0.execute, client=client, submissions=submissions)
    assert all(s.token is not None for s in created)  # queued (async), not yet judged
    done = await asyncio.to_thread(judge0.wait, client=client, submissions=created)
    assert [s.stdout for s in done] == ["ONE\n", "TWO\n", "THREE\n"]
    # Not a word that is also base64: the SDK decodes any field that is (its quirk).
    single = judge0.Submission(source_code=ECHO, stdin="solo run", language=judge0.PYTHON)
    queued = await asyncio.to_thread(judge0.async_execute, client=client, submissions=single)
    finished = await asyncio.to_thread(judge0.wait, client=client, submissions=queued)
    assert finished.stdout == "SOLO RUN\n" and finished.status == judge0.Status.ACCEPTED


async def test_the_sdk_with_auth_headers(locked_service: Client) -> None:
    with pytest.raises(RuntimeError, match="Authentication failed"):
        await sdk_client(locked_service)  # no headers: 401 on /languages
    made = await locked_service.post(
        "/api/v1/keys",
        json={"name": "judge0-user", "role": "submitter"},
        headers={"Authorization": f"Bearer {ADMIN_TOKEN}"},
    )
    token = (await made.json())["token"]
    client = await sdk_client(locked_service, {"X-Auth-Token": token})
    result = await asyncio.to_thread(
        judge0.run, client=client, source_code=ECHO, stdin="key", language=judge0.PYTHON
    )
    assert result.stdout == "KEY\n"
    # Listing is Judge0's admin route: X-Auth-User.
    listed = await locked_service.get("/judge0/submissions", headers={"X-Auth-Token": token})
    assert listed.status == 403
    listed = await locked_service.get(
        "/judge0/submissions?fields=stdout", headers={"X-Auth-User": ADMIN_TOKEN}
    )
    body = await listed.json()
    assert listed.status == 200 and {"stdout": "KEY\n"} in body["submissions"]
    assert body["meta"]["total_count"] >= 1 and body["meta"]["current_page"] == 1
    # Deleting is Judge0's admin route too; the answer is the submission, base64-encoded.
    mine = f"/judge0/submissions/{result.token}?fields=stdout"
    assert (await locked_service.delete(mine, headers={"X-Auth-Token": token})).status == 403
    deleted = await locked_service.delete(mine, headers={"X-Auth-User": ADMIN_TOKEN})
    assert deleted.status == 200 and (await deleted.json()) == {"stdout": "S0VZCg==\n"}
    assert (await locked_service.get(mine, headers={"X-Auth-Token": token})).status == 404


# -- raw HTTP: formats, options, errors ---------------------------------------------------


async def post(service: Client, body: dict[str, Any], query: str = "?wait=true") -> Any:
    response = await service.post(f"/judge0/submissions{query}", json=body)
    return response.status, await response.json()


async def ok(service: Client, body: dict[str, Any], query: str = "?wait=true") -> Any:
    status, answer = await post(service, body, query)
    assert status == 201, answer
    return answer


async def test_fields_star_is_exactly_judge0s_set(open_service: Client) -> None:
    status, body = await post(
        open_service, {"source_code": ECHO, "language_id": 71, "stdin": "x"}, "?wait=true&fields=*"
    )
    assert status == 201 and list(body) == list(FIELDS) and len(FIELDS) == 35
    assert body["status"] == {"id": 3, "description": "Accepted"} and body["status_id"] == 3
    assert body["language"]["id"] == 71 and "Python" in body["language"]["name"]
    assert isinstance(body["time"], str) and float(body["time"]) >= 0
    assert body["created_at"].endswith("Z") and len(body["created_at"]) == 24
    assert body["cpu_time_limit"] == "2.0" and body["memory_limit"] == 256 * 1024
    assert body["exit_code"] == 0 and body["exit_signal"] is None and body["message"] is None
    status, default = await post(open_service, {"source_code": ECHO, "language_id": 71})
    assert set(default) == {
        "token", "time", "memory", "stdout", "stderr", "compile_output", "message", "status"
    }  # fmt: skip
    status, bad = await post(open_service, {"source_code": ECHO, "language_id": 71},
                             "?wait=true&fields=stdout,nope")  # fmt: skip
    assert status == 400 and bad == {"error": "invalid fields: [nope]"}


async def test_base64_in_and_out(open_service: Client) -> None:
    source = "import sys\nsys.stdout.buffer.write(sys.stdin.buffer.read()[::-1])"
    body = {
        "source_code": base64.b64encode(source.encode()).decode(),
        "stdin": base64.b64encode(b"\x00\xff" + b"x" * 100).decode(),
        "language_id": 71,
    }
    status, answer = await post(open_service, body, "?wait=true&base64_encoded=true")
    assert status == 201 and base64.b64decode(answer["stdout"]) == b"x" * 100 + b"\xff\x00"
    assert "\n" in answer["stdout"]  # Ruby's encode64: lines of 60 characters
    token = answer["token"]
    plain = await open_service.get(f"/judge0/submissions/{token}")
    assert plain.status == 400 and "base64_encoded=true" in (await plain.json())["error"]
    bad = {"source_code": "not base64!", "language_id": 71}
    status, errors = await post(open_service, bad, "?base64_encoded=true")
    assert status == 422 and errors == {"source_code": ["is not valid base64"]}


async def test_options_map_onto_the_run(open_service: Client) -> None:
    args_source = "import sys\nprint(sys.argv[1:])"
    answer = await ok(
        open_service,
        {"source_code": args_source, "language_id": 71,
         "command_line_arguments": "a 'b c' $HOME;rm"},
    )  # fmt: skip
    assert answer["stdout"] == "['a', 'b c', 'HOMErm']\n"  # Judge0 strips $&;<>|`
    merged = "import sys\nprint('out', flush=True)\nprint('err', file=sys.stderr)"
    answer = await ok(
        open_service,
        {"source_code": merged, "language_id": 71, "redirect_stderr_to_stdout": True},
    )
    assert answer["stdout"] == "out\nerr\n" and answer["stderr"] is None
    answer = await ok(
        open_service,
        {"source_code": "while True: pass", "language_id": 71, "cpu_time_limit": 0.3},
    )
    assert answer["status"]["id"] == 5 and answer["message"] == "Time limit exceeded"
    answer = await ok(
        open_service,
        {"source_code": "#include <stdlib.h>\nint main(void){abort();}", "language_id": 50},
        "?wait=true&fields=status,exit_signal,exit_code,language",
    )
    assert answer["status"]["id"] == 10 and answer["exit_signal"] == 6
    assert answer["language"]["id"] == 50  # the id asked for, not another of C's
    answer = await ok(
        open_service,
        {"source_code": ECHO, "language_id": 71, "stdin": "r", "number_of_runs": 3},
        "?wait=true&fields=stdout,number_of_runs",
    )
    assert answer == {"stdout": "R\n", "number_of_runs": 3}


async def test_limits_map_onto_codeexecs_verdicts(open_service: Client) -> None:
    hog = "x = bytearray(200 * 1024 * 1024)\nprint(len(x))"
    answer = await ok(open_service, {"source_code": hog, "language_id": 71, "memory_limit": 65536})
    assert answer["status"] == {"id": 12, "description": "Runtime Error (Other)"}
    assert answer["message"] == "Memory limit exceeded"
    chatty = "print('x' * 100000)"
    answer = await ok(open_service, {"source_code": chatty, "language_id": 71, "max_file_size": 8})
    assert answer["status"]["id"] == 8 and answer["message"] == "Output limit exceeded"
    threads = (
        "import threading, time\n"
        "ts = [threading.Thread(target=time.sleep, args=(0.5,)) for _ in range(8)]\n"
        "for t in ts:\n    t.start()\nprint('done')"
    )
    answer = await ok(
        open_service,
        {"source_code": threads, "language_id": 71, "max_processes_and_or_threads": 2},
        "?wait=true&fields=status,max_processes_and_or_threads",
    )
    assert answer == {
        "status": {"id": 11, "description": "Runtime Error (NZEC)"},
        "max_processes_and_or_threads": 2,
    }
    # Screening applies (the server's default policy): refused before it runs.
    forks = "import os\nos.fork()"
    status, errors = await post(open_service, {"source_code": forks, "language_id": 71})
    assert (status, errors) == (
        422,
        {"source_code": ["Found disallowed functions in code (os.fork)"]},
    )
    sleeper = "import time\ntime.sleep(5)"
    answer = await ok(
        open_service,
        {"source_code": sleeper, "language_id": 71, "wall_time_limit": 1, "cpu_extra_time": 0.5,
         "stack_limit": 1000},
        "?wait=true&fields=status,wall_time_limit,cpu_extra_time,stack_limit",
    )  # fmt: skip
    assert answer == {
        "status": {"id": 5, "description": "Time Limit Exceeded"},
        "wall_time_limit": "1.0", "cpu_extra_time": "0.5", "stack_limit": 1000,
    }  # fmt: skip


async def test_additional_files_travel_with_the_source(open_service: Client) -> None:
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr("helper.py", "def shout(s):\n    return s.upper() + '!'\n")
        z.writestr("data.txt", "from a file\n")
    source = "from helper import shout\nprint(shout(open('data.txt').read().strip()))"
    status, answer = await post(
        open_service,
        {
            "source_code": source,
            "language_id": 71,
            "additional_files": base64.b64encode(archive.getvalue()).decode(),
        },
    )
    assert status == 201 and answer["stdout"] == "FROM A FILE!\n", answer


@pytest.mark.parametrize(
    ("body", "errors"),
    [
        ({"language_id": 71}, {"source_code": ["can't be blank"]}),
        ({"source_code": "x"}, {"language_id": ["can't be blank"]}),
        ({"source_code": "x", "language_id": 9999},
         {"language_id": ["language with id 9999 doesn't exist"]}),
        ({"source_code": "x", "language_id": 71, "cpu_time_limit": 21},
         {"cpu_time_limit": ["must be less than or equal to 20.0"]}),
        ({"source_code": "x", "language_id": 71, "memory_limit": 100},
         {"memory_limit": ["must be greater than or equal to 2048"]}),
        ({"source_code": "x", "language_id": 71, "number_of_runs": 0},
         {"number_of_runs": ["must be greater than 0"]}),
        # An integer column: 0.5 is cast to 0 first, as Rails does (was a 500).
        ({"source_code": "x", "language_id": 71, "number_of_runs": 0.5},
         {"number_of_runs": ["must be greater than 0"]}),
        ({"source_code": "x", "language_id": 71.0}, None),  # (was a 500)
        ({"source_code": "x", "language_id": 71, "wall_time_limit": "soon"},
         {"wall_time_limit": ["is not a number"]}),
        ({"source_code": "x", "language_id": 71, "enable_network": True},
         {"enable_network": ["enabling network is not allowed"]}),
        ({"source_code": "x", "language_id": 71,
          "enable_per_process_and_thread_time_limit": True},
         {"enable_per_process_and_thread_time_limit": ["this option cannot be enabled"]}),
        ({"source_code": "x", "language_id": 71,
          "enable_per_process_and_thread_memory_limit": "true"},
         {"enable_per_process_and_thread_memory_limit": ["this option cannot be enabled"]}),
        ({"source_code": "x", "language_id": 71, "enable_network": "false"}, None),
        ({"source_code": "x", "language_id": 71, "compiler_options": "-O2"},
         {"compiler_options": ["setting compiler options is not allowed"]}),
        ({"source_code": "x", "language_id": 71, "command_line_arguments": "'open"},
         {"command_line_arguments": ["cannot be split into arguments: No closing quotation"]}),
        ({"source_code": "x", "language_id": 71, "additional_files": EMPTY_ZIP},
         None),  # an empty zip: nothing to add, not an error
    ],
)  # fmt: skip
async def test_bad_submissions_get_judge0s_422(
    open_service: Client, body: dict[str, Any], errors: dict[str, list[str]] | None
) -> None:
    status, answer = await post(open_service, body, "")
    if errors is None:
        assert status == 201 and "token" in answer
    else:
        assert (status, answer) == (422, errors)


# A zip whose one entry is named "" (the red team's: zipfile's is_dir() failed on it).
UNNAMED_ENTRY = (
    "UEsDBBQAAAAIAAAAIQBDvrfoAwAAAAEAAAAAAAAASwQAUEsBAhQDFAAAAAgAAAAhAEO+t+gDAAAAAQAAAAAAAAAA"
    "AAAAAAAAAIABAAAAAFBLBQYAAAAAAQABAC4AAAAhAAAAAAA="
)


@pytest.mark.parametrize("archive", ["UEsDBA==", UNNAMED_ENTRY])
async def test_additional_files_that_are_not_a_usable_zip(
    open_service: Client, archive: str
) -> None:
    body = {"source_code": "x", "language_id": 71, "additional_files": archive}
    status, answer = await post(open_service, body, "")
    assert status == 422 and list(answer) == ["additional_files"], answer
    assert answer["additional_files"][0].startswith("is not a usable zip")


async def test_batches_tokens_and_lookups(open_service: Client) -> None:
    response = await open_service.post(
        "/judge0/submissions/batch",
        json={"submissions": [{"source_code": ECHO, "language_id": 71, "stdin": "b"},
                              {"language_id": 71}]},
    )  # fmt: skip
    created = await response.json()
    assert response.status == 201 and "token" in created[0]
    assert created[1] == {"source_code": ["can't be blank"]}
    token = created[0]["token"]
    assert str(uuid.UUID(token)) == token  # Judge0's tokens are UUIDs
    for _ in range(200):
        got = await open_service.get(f"/judge0/submissions/batch?tokens={token},{uuid.uuid4()}")
        found = (await got.json())["submissions"]
        if found[0]["status"]["id"] > 2:
            break
        await asyncio.sleep(0.05)
    assert found[0]["stdout"] == "B\n" and found[1] is None
    assert (await open_service.get(f"/judge0/submissions/{uuid.uuid4()}")).status == 404
    empty = await open_service.post("/judge0/submissions/batch", json={"submissions": []})
    assert empty.status == 400


async def test_callbacks_are_judge0s_put(open_service: Client) -> None:
    received: asyncio.Queue[tuple[str, Any]] = asyncio.Queue()

    async def hook(request: web.Request) -> web.Response:
        await received.put((request.method, await request.json()))
        return web.Response(status=204)

    receiver = web.Application()
    receiver.router.add_route("*", "/hook", hook)
    server = TestServer(receiver, host="127.0.0.1")
    await server.start_server()
    try:
        url = f"http://127.0.0.1:{server.port}/hook"
        body = {"source_code": ECHO, "language_id": 71, "stdin": "cb", "callback_url": url}
        answer = await ok(open_service, body, "")
        method, body = await asyncio.wait_for(received.get(), 30)
    finally:
        await server.close()
    assert method == "PUT" and body["token"] == answer["token"]
    assert base64.b64decode(body["stdout"]) == b"CB\n" and body["status"]["id"] == 3
    assert set(body) == {
        "token", "time", "memory", "stdout", "stderr", "compile_output", "message", "status"
    }  # fmt: skip
    refused = {"source_code": ECHO, "language_id": 71, "callback_url": "ftp://example.com/x"}
    status, errors = await post(open_service, refused, "")
    assert status == 422 and list(errors) == ["callback_url"]


async def test_a_full_queue_is_judge0s_503(tmp_path: Path) -> None:
    """The HTTP edge alone (no sandboxes): the queue bound is checked before anything."""
    settings = base_settings(
        database_url=f"sqlite:///{tmp_path / 'store.sqlite3'}", job_queue_size=0,
        languages=("python",),
    )  # fmt: skip
    edge: Client = TestClient(TestServer(make_app(settings, judging=False)))
    await edge.start_server()
    try:
        status, answer = await post(edge, {"source_code": ECHO, "language_id": 71}, "")
    finally:
        await edge.close()
    assert (status, answer) == (503, {"error": "queue is full"})


async def test_batch_items_are_bounded_each(open_service: Client) -> None:
    huge = "x" * (2 * 2 * 1024 * 1024 + 1)  # more than a submission sent alone may carry
    response = await open_service.post(
        "/judge0/submissions/batch",
        json={"submissions": [{"source_code": ECHO, "language_id": 71, "stdin": huge}]},
    )
    answer = await response.json()
    assert response.status == 422 and "too large" in answer[0]["submission"][0]


async def test_anonymous_callers_may_list_where_auth_is_off(open_service: Client) -> None:
    """As on codeexec's own API, where authentication is off the caller sees all."""
    listed = await open_service.get("/judge0/submissions?per_page=1")
    assert listed.status == 200 and len((await listed.json())["submissions"]) == 1


async def test_judge0_headers_count_on_judge0_routes_only(tmp_path: Path) -> None:
    """Mounted at the root, Judge0's auth headers still mean nothing elsewhere."""
    settings = base_settings(
        database_url=f"sqlite:///{tmp_path / 'store.sqlite3'}", judge0_prefix="",
        auth="on", admin_token=ADMIN_TOKEN, languages=("python",),
    )  # fmt: skip
    edge: Client = TestClient(TestServer(make_app(settings, judging=False)))
    await edge.start_server()
    try:
        judge0_route = await edge.get("/languages", headers={"X-Auth-User": ADMIN_TOKEN})
        own_route = await edge.get("/api/v1/keys", headers={"X-Auth-User": ADMIN_TOKEN})
        bearer = await edge.get("/api/v1/keys", headers={"Authorization": f"Bearer {ADMIN_TOKEN}"})
    finally:
        await edge.close()
    assert (judge0_route.status, own_route.status, bearer.status) == (200, 401, 200)


async def test_info_routes(open_service: Client) -> None:
    about = await (await open_service.get("/judge0/about")).json()
    assert about["version"] == "1.13.1" and about["codeexec_version"]
    assert await (await open_service.get("/judge0/version")).text() == "1.13.1"
    statuses = await (await open_service.get("/judge0/statuses")).json()
    assert [s["id"] for s in statuses] == list(range(1, 15))
    languages = await (await open_service.get("/judge0/languages")).json()
    ids = {lang["id"] for lang in languages}
    assert {71, 50, 54} - ids == {54} and {48, 49, 50, 75} <= ids  # python and c only
    one = await (await open_service.get("/judge0/languages/50")).json()
    assert one["source_file"] == "main.c" and one["compile_cmd"] and one["run_cmd"]
    assert (await open_service.get("/judge0/languages/54")).status == 404
    assert (await open_service.get("/judge0/languages/" + "9" * 5000)).status == 404
    workers = await (await open_service.get("/judge0/workers")).json()
    assert workers[0]["available"] >= 1
    for route in ("/judge0/config_info", "/judge0/system_info", "/judge0/isolate",
                  "/judge0/license", "/judge0/languages/all"):  # fmt: skip
        assert (await open_service.get(route)).status == 200, route
