"""The problems API against the real service, on SQLite and on MariaDB: CRUD, tests
editing as versions, the admin token, validation, and judging with every checker mode."""

from __future__ import annotations

import asyncio
import base64
from collections.abc import Callable
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

Client = TestClient[Any, Any]
TOKEN = "s3cret-admin-token"
ADMIN = {"Authorization": f"Bearer {TOKEN}"}


async def start(service: Callable[..., Any], **overrides: Any) -> Client:
    values: dict[str, Any] = {"admin_token": TOKEN, "seed_demo_problems": False}
    values.update(overrides)
    client: Client = await service(**values)
    return client


async def call(
    client: Client, method: str, path: str, body: Any = None, admin: bool = True
) -> tuple[int, Any]:
    headers = ADMIN if admin else {}
    response = await client.request(method, path, json=body, headers=headers)
    if response.status == 204:
        return 204, None
    return response.status, await response.json()


def case(given: str, expected: str, hidden: bool = False) -> dict[str, Any]:
    return {"input": given, "expected_output": expected, "hidden": hidden}


async def exec_code(client: Client, problem_id: str, code: str, **extra: Any) -> dict[str, Any]:
    response = await client.post("/exec", json={"id": problem_id, "code": code, **extra})
    assert response.status == 200, await response.text()
    body: dict[str, Any] = await response.json()
    return body


async def test_problem_lifecycle(service: Callable[..., Any], database_url: str) -> None:
    client = await start(service, database_url=database_url)
    problem = {
        "id": "sum",
        "title": "Sum — сумма",
        "statement": "Add two numbers.",
        "time_limit_ms": 1000,
        "checker": {"mode": "tokens"},
        "tests": [case("1 2\n", "3\n"), case("2 2\n", "4\n", hidden=True)],
    }
    status, created = await call(client, "POST", "/api/v1/problems", problem)
    assert status == 201, created
    assert created["version"] == 1 and created["title"] == "Sum — сумма"
    assert [t["hidden"] for t in created["tests"]] == [False, True]
    status, _ = await call(client, "POST", "/api/v1/problems", problem)
    assert status == 409

    # Generated ids; pagination with a total.
    for i in range(3):
        status, made = await call(client, "POST", "/api/v1/problems", {"title": f"p{i}"})
        assert status == 201 and made["id"].startswith("p")
    status, page = await call(client, "GET", "/api/v1/problems?limit=2&offset=0", admin=False)
    assert status == 200 and page["total"] == 4 and len(page["items"]) == 2
    status, rest = await call(client, "GET", "/api/v1/problems?limit=2&offset=2", admin=False)
    ids = [p["id"] for p in page["items"] + rest["items"]]
    assert len(set(ids)) == 4 and "sum" in ids
    summary = next(p for p in page["items"] + rest["items"] if p["id"] == "sum")
    assert summary["tests"] == 2 and summary["hidden_tests"] == 1

    # Hidden data only for the admin.
    status, public = await call(client, "GET", "/api/v1/problems/sum", admin=False)
    assert status == 200
    assert public["tests"][0]["input"] == "1 2\n"
    assert "input" not in public["tests"][1] and "expected_output" not in public["tests"][1]
    status, full = await call(client, "GET", "/api/v1/problems/sum")
    assert full["tests"][1]["expected_output"] == "4\n"
    status, hidden_one = await call(client, "GET", "/api/v1/problems/sum/tests/2", admin=False)
    assert status == 200 and "input" not in hidden_one

    # Settings change keeps the version; test edits make new ones.
    status, patched = await call(
        client, "PATCH", "/api/v1/problems/sum", {"memory_limit_mb": 128, "title": "Sum"}
    )
    assert status == 200 and patched["memory_limit_mb"] == 128 and patched["version"] == 1
    status, added = await call(
        client,
        "POST",
        "/api/v1/problems/sum/tests",
        {"tests": [case("0 0\n", "0\n")], "position": 1},
    )
    assert status == 201 and added["version"] == 2
    assert [t["input_bytes"] for t in added["tests"]] == [4, 4, 4]
    status, reordered = await call(
        client, "PUT", "/api/v1/problems/sum/tests/order", {"order": [3, 1, 2]}
    )
    assert status == 200 and reordered["version"] == 3
    status, tests = await call(client, "GET", "/api/v1/problems/sum/tests")
    assert [t["input"] for t in tests["tests"]] == ["2 2\n", "0 0\n", "1 2\n"]
    assert [t["hidden"] for t in tests["tests"]] == [True, False, False]
    status, replaced_one = await call(
        client, "PUT", "/api/v1/problems/sum/tests/2", {"tests": [case("5 5\n", "10\n")]}
    )
    assert status == 200 and replaced_one["version"] == 4
    status, after_delete = await call(client, "DELETE", "/api/v1/problems/sum/tests/1")
    assert status == 200 and len(after_delete["tests"]) == 2
    status, tests = await call(client, "GET", "/api/v1/problems/sum/tests")
    assert [t["input"] for t in tests["tests"]] == ["5 5\n", "1 2\n"]

    # Binary test data travels as base64.
    blob = bytes(range(256))
    status, _ = await call(
        client,
        "PUT",
        "/api/v1/problems/sum/tests",
        {
            "tests": [
                {
                    "input_base64": base64.b64encode(blob).decode(),
                    "expected_output": "x",
                }
            ]
        },
    )
    assert status == 200
    status, only = await call(client, "GET", "/api/v1/problems/sum/tests/1")
    assert base64.b64decode(only["input_base64"]) == blob

    # Replace as a whole with PUT, then delete.
    status, put = await call(
        client, "PUT", "/api/v1/problems/sum", {"title": "New", "tests": [case("1 1\n", "2\n")]}
    )
    assert status == 200 and put["title"] == "New" and put["memory_limit_mb"] is None
    status, _ = await call(client, "DELETE", "/api/v1/problems/sum")
    assert status == 204
    status, _ = await call(client, "GET", "/api/v1/problems/sum")
    assert status == 404
    status, _ = await call(client, "DELETE", "/api/v1/problems/sum")
    assert status == 404


async def test_writes_need_the_admin_token(service: Callable[..., Any]) -> None:
    client = await start(service)
    body = {"id": "x", "tests": []}
    response = await client.post("/api/v1/problems", json=body)
    assert response.status == 401 and "WWW-Authenticate" in response.headers
    response = await client.post(
        "/api/v1/problems", json=body, headers={"Authorization": "Bearer wrong"}
    )
    assert response.status == 401
    assert (await response.json())["error"] == "Invalid or revoked API key"
    for method, path in [
        ("PATCH", "/api/v1/problems/x"),
        ("DELETE", "/api/v1/problems/x"),
        ("POST", "/api/v1/problems/x/tests"),
        ("PUT", "/api/v1/problems/x/tests/order"),
        ("DELETE", "/api/v1/problems/x/tests/1"),
    ]:
        status, _ = await call(client, method, path, {}, admin=False)
        assert status == 401, (method, path)
    status, _ = await call(client, "POST", "/api/v1/problems", body)
    assert status == 201


async def test_without_a_configured_token_writes_are_disabled(
    service: Callable[..., Any],
) -> None:
    client = await start(service, admin_token=None)
    status, body = await call(client, "POST", "/api/v1/problems", {"id": "x"}, admin=False)
    assert status == 403 and body["error"] == "Problem management is disabled"
    status, _ = await call(client, "GET", "/api/v1/problems", admin=False)
    assert status == 200


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"id": "../etc"}, "id"),
        ({"id": "ok", "time_limit_ms": 0}, "time_limit_ms"),
        ({"id": "ok", "memory_limit_mb": "lots"}, "memory_limit_mb"),
        ({"id": "ok", "isolation": "none"}, "isolation"),
        ({"id": "ok", "tests": [{"input": "1"}]}, "tests.0"),
        ({"id": "ok", "tests": [{"input": "1", "input_base64": "MQ==", "expected_output": ""}]},
         "tests.0"),
        ({"id": "ok", "tests": [{"input_base64": "!!", "expected_output": ""}]}, "tests.0"),
        ({"id": "ok", "checker": {"mode": "fuzzy"}}, "checker"),
        ({"id": "ok", "surprise": 1}, "surprise"),
    ],
)  # fmt: skip
async def test_invalid_problems_get_422_naming_the_field(
    service: Callable[..., Any], body: dict[str, Any], field: str
) -> None:
    client = await start(service)
    status, error = await call(client, "POST", "/api/v1/problems", body)
    assert status == 422, error
    assert any(e["field"].startswith(field) for e in error["errors"]), error


@pytest.mark.parametrize(
    ("checker", "detail"),
    [
        ({"mode": "tokens", "args": ["float_tolerance"]}, "float_tolerance"),
        ({"mode": "lines", "args": ["x"]}, "no arguments"),
        ({"mode": "custom", "language": "cobol", "source": "x"}, "checker.language"),
        ({"mode": "custom", "language": "python"}, "either"),
        ({"mode": "tokens", "language": "python"}, "custom"),
        ({"mode": "custom", "language": "c", "source": "int main( {"}, "compile"),
    ],
)
async def test_invalid_checkers_are_refused_with_the_reason(
    service: Callable[..., Any], checker: dict[str, Any], detail: str
) -> None:
    client = await start(service)
    status, error = await call(client, "POST", "/api/v1/problems", {"id": "x", "checker": checker})
    assert status == 422 and detail in error["detail"], error


async def test_bad_bodies(service: Callable[..., Any]) -> None:
    client = await start(service, max_problem_body_mb=1)
    response = await client.post("/api/v1/problems", data=b"{not json", headers=ADMIN | {
        "Content-Type": "application/json"})  # fmt: skip
    assert response.status == 400
    response = await client.post("/api/v1/problems", data=b"x", headers=ADMIN)
    assert response.status == 415
    big = {"id": "big", "tests": [case("x" * (2 << 20), "")]}
    status, _ = await call(client, "POST", "/api/v1/problems", big)
    assert status == 413
    status, _ = await call(client, "GET", "/api/v1/problems?limit=0")
    assert status == 400
    status, _ = await call(client, "GET", "/api/v1/problems/nope/tests/1")
    assert status == 404


async def test_every_checker_mode_judges_through_exec(service: Callable[..., Any]) -> None:
    client = await start(service)
    echo = "import sys; sys.stdout.write(sys.stdin.read())"
    problems = {
        "exact": {"checker": "exact", "tests": [case("a \n", "a \n")]},
        "lines": {"checker": "lines", "tests": [case("a \n", "a\n")]},
        "floats": {
            "checker": {"mode": "tokens", "args": ["float_tolerance", "1e-3"]},
            "tests": [case("3.14159\n", "3.1416\n")],
        },
    }
    for problem_id, body in problems.items():
        status, _ = await call(client, "POST", "/api/v1/problems", {"id": problem_id, **body})
        assert status == 201
    assert (await exec_code(client, "exact", echo))["passed"]
    result = await exec_code(client, "exact", "print(input().strip())")
    assert not result["passed"] and result["shownTests"][0]["verdict"] == "WA"
    assert "byte" in result["shownTests"][0]["feedback"]
    assert (await exec_code(client, "lines", "print(input().strip())"))["passed"]
    assert (await exec_code(client, "floats", "print(3.14159)"))["passed"]
    result = await exec_code(client, "floats", "print(3.2)")
    assert not result["passed"]
    assert "Too large difference" in result["shownTests"][0]["feedback"]


PERMUTATION_CHECKER = """\
import sys
given, answer, feedback = sys.argv[1], sys.argv[2], sys.argv[3]
expected = sorted(open(answer).read().split())
got = sys.stdin.read().split()
if sorted(got) == expected:
    sys.exit(42)
with open(feedback + "judgemessage.txt", "w") as f:
    f.write(f"not a permutation: {len(got)} tokens")
sys.exit(43)
"""

CRASHING_CHECKER = "int main(void) { return *(volatile int *)0; }\n"


async def test_custom_checker_accepts_any_permutation(service: Callable[..., Any]) -> None:
    client = await start(service)
    body = {
        "id": "perm",
        "checker": {"mode": "custom", "language": "python", "source": PERMUTATION_CHECKER},
        "tests": [case("3\n", "1 2 3\n"), case("4\n", "1 2 3 4\n", hidden=True)],
    }
    status, created = await call(client, "POST", "/api/v1/problems", body)
    assert status == 201, created
    assert created["checker"]["language"] == "python"
    reverse = "n = int(input()); print(*range(n, 0, -1))"
    ordered = "n = int(input()); print(*range(1, n + 1))"
    wrong = "n = int(input()); print(*range(n))"
    for code in (reverse, ordered):
        result = await exec_code(client, "perm", code)
        assert result["passed"], result
        assert result["hiddenTests"] == {"passed": 1, "failed": 0}
    result = await exec_code(client, "perm", wrong)
    assert not result["passed"] and result["hiddenTests"]["failed"] == 1
    assert result["shownTests"][0]["verdict"] == "WA"
    assert result["shownTests"][0]["feedback"] == "not a permutation: 3 tokens"

    # A C checker (compiled once) that crashes: IE, not the submission's fault.
    status, _ = await call(
        client,
        "PATCH",
        "/api/v1/problems/perm",
        {"checker": {"mode": "custom", "language": "c", "source": CRASHING_CHECKER}},
    )
    assert status == 200
    result = await exec_code(client, "perm", ordered)
    assert [t["verdict"] for t in result["shownTests"]] == ["IE"]
    assert "Internal error" in result["error"]


async def test_a_running_submission_never_sees_a_new_version(
    service: Callable[..., Any],
) -> None:
    client = await start(service)
    slow = "import time; time.sleep(0.4); print(input())"
    body = {"id": "v", "tests": [case(f"{i}\n", f"{i}\n") for i in range(4)]}
    status, _ = await call(client, "POST", "/api/v1/problems", body)
    assert status == 201
    running = asyncio.create_task(exec_code(client, "v", slow))
    await asyncio.sleep(0.6)  # judging has started on version 1
    status, changed = await call(
        client, "PUT", "/api/v1/problems/v/tests", {"tests": [case("x\n", "y\n")]}
    )
    assert status == 200 and changed["version"] == 2
    old = await running
    assert old["passed"] and len(old["shownTests"]) == 4
    new = await exec_code(client, "v", slow)
    assert not new["passed"] and len(new["shownTests"]) == 1
