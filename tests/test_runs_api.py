"""Ad-hoc runs (``/api/v1/runs``) against the real service: real Docker sandboxes, the
job machinery, SQLite (and MariaDB for the stored inline problem)."""

from __future__ import annotations

import asyncio
import base64
from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_asyncio
from aiohttp.test_utils import TestClient

from tests.conftest import started_service

pytestmark = [pytest.mark.docker, pytest.mark.asyncio(loop_scope="module")]

Client = TestClient[Any, Any]
ECHO = "print(input().upper())"


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def client(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Client]:
    service = await started_service(
        tmp_path_factory.mktemp("runs"), "runs", languages=("python", "c"), job_poll_s=0.05,
        max_time_limit_ms=5000,
    )  # fmt: skip
    yield service
    await service.close()


async def run(client: Client, status: int = 200, **body: Any) -> dict[str, Any]:
    body.setdefault("language", "python")
    response = await client.post("/api/v1/runs?wait=true", json=body)
    answer: dict[str, Any] = await response.json()
    assert response.status == status, answer
    return answer


async def test_a_run_answers_with_its_exact_output(client: Client) -> None:
    answer = await run(client, source=ECHO, stdin="hello\n")
    assert answer["status"] == "finished" and answer["done"] is True
    assert answer["verdict"] == "AC"  # no expected output: a run that ends well
    assert answer["stdout"] == "HELLO\n"  # the final newline is the program's
    assert answer["stderr"] == "" and answer["exit_code"] == 0 and answer["signal"] is None
    assert answer["time_ms"] >= 0 and answer["memory_kb"] > 0
    found = await client.get(f"/api/v1/runs/{answer['id']}")
    assert (await found.json())["stdout"] == "HELLO\n"


async def test_expected_output_is_checked_like_a_problems(client: Client) -> None:
    ok = await run(client, source=ECHO, stdin="a", expected_output="A  \n\n")
    assert ok["verdict"] == "AC"  # lines: trailing whitespace and blank lines ignored
    wrong = await run(client, source=ECHO, stdin="a", expected_output="B")
    assert wrong["verdict"] == "WA" and wrong["stdout"] == "A\n"
    exact = await run(client, source=ECHO, stdin="a", expected_output="A", checker="exact")
    assert exact["verdict"] == "WA"


async def test_arguments_and_merged_stderr(client: Client) -> None:
    source = "import sys\nprint(sys.argv[1:])"
    answer = await run(client, source=source, args=["one", "two words", "--x"])
    assert answer["stdout"] == "['one', 'two words', '--x']\n"
    interleaved = (
        "import sys\nfor i in range(3):\n"
        "    print(i, flush=True)\n    print('e', i, file=sys.stderr, flush=True)"
    )
    merged = await run(client, source=interleaved, merge_stderr=True)
    assert merged["stdout"] == "0\ne 0\n1\ne 1\n2\ne 2\n" and merged["stderr"] == ""
    apart = await run(client, source=interleaved)
    assert apart["stdout"] == "0\n1\n2\n" and apart["stderr"] == "e 0\ne 1\ne 2\n"


async def test_failures_are_verdicts_with_their_details(client: Client) -> None:
    exited = await run(client, source="import sys\nprint('x')\nsys.exit(3)")
    assert (exited["verdict"], exited["exit_code"], exited["stdout"]) == ("RE", 3, "x\n")
    slow = await run(client, source="while True: pass", limits={"time_ms": 300})
    assert slow["verdict"] == "TLE"
    aborted = await run(
        client, language="c", source="#include <stdlib.h>\nint main(void){abort();}"
    )
    assert aborted["verdict"] == "RE" and aborted["signal"] == 6
    broken = await run(client, language="c", source="int main(void){ return x; }")
    assert broken["verdict"] == "CE" and "x" in broken["compile_output"]
    assert broken["stdout"] == "" and broken["exit_code"] is None


async def test_bytes_that_are_not_text_travel_as_base64(client: Client) -> None:
    source = "import sys\nsys.stdout.buffer.write(sys.stdin.buffer.read()[::-1])"
    data = bytes([0, 255, 1, 254])
    answer = await run(client, source=source, stdin_b64=base64.b64encode(data).decode())
    assert base64.b64decode(answer["stdout_b64"]) == data[::-1]
    assert answer["stdout"] == "\ufffd\x01\ufffd\x00"


async def test_repeated_runs_stop_at_the_first_failure(client: Client) -> None:
    answer = await run(client, source=ECHO, stdin="a", repeat=3)
    assert [r["verdict"] for r in answer["runs"]] == ["AC", "AC", "AC"]
    assert answer["stdout"] == "A\n"


async def test_a_run_as_a_job(client: Client) -> None:
    response = await client.post("/api/v1/runs", json={"source": ECHO, "stdin": "job"})
    created = await response.json()
    assert response.status == 202
    assert response.headers["Location"] == f"/api/v1/runs/{created['id']}"
    for _ in range(400):
        found = await (await client.get(f"/api/v1/runs/{created['id']}")).json()
        if found["done"]:
            break
        await asyncio.sleep(0.05)
    assert found["stdout"] == "JOB\n"
    # A run is a job: the submissions routes see it, and run it again on its own stdin.
    again = await client.post(f"/api/v1/submissions/{created['id']}/rerun?wait=true")
    rerun = await again.json()
    assert again.status == 200 and rerun["verdict"] == "AC", rerun
    assert (await (await client.get(f"/api/v1/runs/{rerun['id']}")).json())["stdout"] == "JOB\n"


async def test_a_submission_is_not_a_run(client: Client) -> None:
    response = await client.post(
        "/api/v1/submissions", json={"problem_id": "HQ000000000000000002", "source": ECHO}
    )
    sid = (await response.json())["id"]
    assert (await client.get(f"/api/v1/runs/{sid}")).status == 404
    assert (await client.get("/api/v1/runs/nosuchrun")).status == 404


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"source": ECHO, "limits": {"time_ms": 5001}}, "limits.time_ms: at most 5000"),
        ({"source": ECHO, "limits": {"memory_mb": 4}}, "limits.memory_mb"),
        ({"source": ECHO, "stdin_b64": "not base64!"}, "stdin_b64"),
        ({"source": ECHO, "stdin": "a", "stdin_b64": "YQ=="}, "stdin"),
        ({"source": ECHO, "args": ["a\0b"]}, "args"),
        ({"source": ECHO, "repeat": 21}, "repeat"),
        ({"source": ECHO, "checker": "custom"}, "checker"),
        ({"source": ECHO, "surprise": 1}, "surprise"),
    ],
)
async def test_bad_runs_are_refused_with_the_field(
    client: Client, body: dict[str, Any], field: str
) -> None:
    answer = await run(client, 422, **body)
    assert answer["error"] == "Invalid run" and field in answer["detail"], answer


async def test_an_unknown_language_is_refused(client: Client) -> None:
    answer = await run(client, 400, language="cobol", source="x")
    assert "cobol" in answer["detail"]
