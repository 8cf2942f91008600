"""Issue 12, class 4: requests are bounded before they are parsed into objects.

Every attack here is answered by the HTTP edge alone: the service runs without
sandboxes, screener or job workers (``make_app(judging=False)``), and each request is
refused before anything would be judged. Status codes: 400 malformed, 408 a body that
stops arriving, 413 too large (bytes, JSON values, form parts), 415 wrong type or
coding, 422 invalid fields. ``/exec`` keeps seed 004's 400 message.
"""

from __future__ import annotations

import asyncio
import gzip
import io
import json
import tracemalloc
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
from aiohttp import FormData
from aiohttp.test_utils import TestClient

from codeexec.config import Settings
from codeexec.http.app import make_app
from codeexec.http.keys import SUBMISSIONS

Client = TestClient[Any, Any]
Start = Callable[..., Awaitable[Client]]
TOKEN = "bounds-admin"
ADMIN = {"Authorization": f"Bearer {TOKEN}"}
JSON = {"Content-Type": "application/json"}
EXEC_400 = "Error reading request body"
PROBLEM = "HQ000000000000000002"
MB = 1 << 20


@pytest.fixture
async def edge(aiohttp_client: Any, make_settings: Callable[..., Settings]) -> Start:
    async def start(**overrides: Any) -> Client:
        values: dict[str, Any] = {
            "admin_token": TOKEN,
            "body_idle_timeout_s": 0.5,
        }
        values.update(overrides)
        client: Client = await aiohttp_client(make_app(make_settings(**values), judging=False))
        return client

    return start


async def post(
    client: Client, path: str, body: Any, headers: dict[str, str] | None = None,
    method: str = "POST",
) -> tuple[int, Any]:  # fmt: skip
    """``body``: raw bytes, or anything else to send as JSON."""
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    response = await client.request(method, path, data=data, headers=JSON | (headers or {}))
    text = await response.text()
    try:
        return response.status, json.loads(text)
    except ValueError:
        return response.status, text


def deep(depth: int) -> bytes:
    return b"[" * depth + b"]" * depth


def exec_body(**extra: Any) -> bytes:
    return json.dumps({"code": "print(1)", "id": PROBLEM, **extra}).encode()


def with_raw(payload: dict[str, Any], name: str, raw: bytes) -> bytes:
    """``payload`` as JSON with one more member whose value is ``raw`` JSON text."""
    text = json.dumps(payload).encode()
    return text[:-1] + b', "' + name.encode() + b'": ' + raw + b"}"


async def peak_memory(request: Awaitable[tuple[int, Any]]) -> tuple[int, Any, int]:
    """The answer and the peak of Python allocations while it was made (client included)."""
    tracemalloc.start()
    try:
        status, body = await request
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return status, body, peak


# -- JSON shape: nesting, values, numbers, keys, text ------------------------------------

JSON_ROUTES = [
    ("/exec", {}),
    ("/api/v1/submissions", {}),
    ("/api/v1/submissions/batch", {}),
    ("/api/v1/keys", ADMIN),
    ("/api/v1/problems", ADMIN),
]


@pytest.mark.parametrize(("path", "headers"), JSON_ROUTES)
@pytest.mark.parametrize("depth", [17, 900, 30_000])
async def test_deep_nesting_is_400_on_every_route(
    edge: Start, path: str, headers: dict[str, str], depth: int
) -> None:
    client = await edge()
    status, body = await post(client, path, deep(depth), headers)
    assert status == 400, body
    assert body["error"] == (EXEC_400 if path == "/exec" else "Body is not valid JSON")
    assert "nested deeper than 16" in body["detail"]


async def test_nesting_within_the_limit_is_parsed(edge: Start) -> None:
    client = await edge()
    status, body = await post(client, "/exec", with_raw({"id": "x"}, "extra", deep(14)))
    assert status == 400 and "code" in body["detail"]  # parsed; then 'either code or files'


@pytest.mark.parametrize(
    ("path", "headers"),
    [("/exec", {}), ("/api/v1/submissions", {}), ("/api/v1/problems", ADMIN)],
)
async def test_a_megabyte_of_tiny_values_is_413_and_cheap(
    edge: Start, path: str, headers: dict[str, str]
) -> None:
    client = await edge()
    payload = b"[" + b",".join([b"{}"] * (MB // 3)) + b"]"
    body = with_raw({"problem_id": PROBLEM}, "tests", payload)
    status, answer, peak = await peak_memory(post(client, path, body, headers))
    assert status == 413, answer
    assert answer["error"] == "Request body too large" and "JSON values" in answer["detail"]
    # json.loads of this body alone allocates ~25 MB.
    assert peak < 8 * MB, peak


@pytest.mark.parametrize(
    "number", [b"1" * 41, b"9" * 5000, b"1" * 1_000_000, b"1." + b"0" * 1000, b"-" + b"2" * 60]
)
async def test_huge_numbers_are_400_without_converting_them(edge: Start, number: bytes) -> None:
    client = await edge()
    status, body = await post(client, "/exec", with_raw({"id": PROBLEM, "code": ""}, "n", number))
    assert status == 400 and body["error"] == EXEC_400
    assert "at most 40 characters" in body["detail"]
    status, body = await post(
        client, "/api/v1/problems", with_raw({}, "time_limit_ms", number), ADMIN
    )
    assert status == 400 and body["error"] == "Body is not valid JSON"


@pytest.mark.parametrize("constant", [b"NaN", b"Infinity", b"-Infinity", b"1e999"])
async def test_non_finite_numbers_are_400(edge: Start, constant: bytes) -> None:
    client = await edge()
    status, body = await post(client, "/api/v1/submissions", with_raw({}, "x", constant))
    assert status == 400 and body["error"] == "Body is not valid JSON"


async def test_duplicate_keys_are_400(edge: Start) -> None:
    client = await edge()
    body = b'{"id": "' + PROBLEM.encode() + b'", "code": "print(1)", "code": "import os"}'
    status, answer = await post(client, "/exec", body)
    assert status == 400 and answer["error"] == EXEC_400
    assert "duplicate key 'code'" in answer["detail"]
    body = b'{"tests": [{"input": "", "expected_output": "", "hidden": false, "hidden": true}]}'
    status, answer = await post(client, "/api/v1/problems", body, ADMIN)
    assert status == 400 and "duplicate key 'hidden'" in answer["detail"]


@pytest.mark.parametrize(
    "raw",
    [
        b'{"code": "\\ud800", "id": "x"}',  # lone high surrogate
        b'{"code": "a\\udc00b", "id": "x"}',  # lone low surrogate
        b'{"code": "\\ude00\\ud83d", "id": "x"}',  # a pair in the wrong order
        b'{"code": "print(1)", "id": "x", "\\ud800": 1}',  # in a key
        b'{"code": "x", "id": "x", "files": [["\\udbff"]]}',  # nested in a list
    ],
)
async def test_lone_surrogates_are_400(edge: Start, raw: bytes) -> None:
    client = await edge()
    status, body = await post(client, "/exec", raw)
    assert status == 400 and body["error"] == EXEC_400
    assert "surrogate" in body["detail"]


async def test_surrogate_pairs_and_escaped_backslashes_are_fine(edge: Start) -> None:
    client = await edge()
    # An emoji as a pair, and the text \ud800 (an escaped backslash, then 'ud800').
    raw = b'{"name": "\\ud83d\\ude00 \\\\ud800"}'
    status, body = await post(client, "/api/v1/keys", raw, ADMIN)
    assert status == 201, body
    assert body["name"] == "\U0001f600 \\ud800"


@pytest.mark.parametrize(
    "raw",
    [b'{"code": "\xff", "id": "x"}', b'{"code": "\xed\xa0\x80", "id": "x"}', b"\xef\xbb\xbf{}"],
)
async def test_invalid_utf8_is_400(edge: Start, raw: bytes) -> None:
    client = await edge()
    status, body = await post(client, "/exec", raw)
    assert status == 400 and body["error"] == EXEC_400


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"code": 5, "id": PROBLEM}, "code"),
        ({"code": "print(1)", "id": 2.5}, "id"),
        ({"code": "print(1)", "id": PROBLEM, "language": ["python"]}, "language"),
        ({"code": "print(1)", "id": "x" * 65}, "id"),
        ({"code": "print(1)", "id": PROBLEM, "language": "p" * 33}, "language"),
    ],
)
async def test_exec_fields_have_types_and_maxima(
    edge: Start, payload: dict[str, Any], field: str
) -> None:
    client = await edge()
    status, body = await post(client, "/exec", payload)
    assert status == 400 and body["error"] == EXEC_400
    assert body["detail"].startswith(field), body


# -- validation errors are few, whatever the body holds ----------------------------------


@pytest.mark.parametrize(
    ("path", "headers", "payload"),
    [
        # one unknown-field error, not thousands
        ("/api/v1/submissions", {}, {f"k{i}": 0 for i in range(900)}),
        ("/api/v1/problems", ADMIN, {f"k{i}": 0 for i in range(5000)}),
        # the first bad test stops the list
        ("/api/v1/problems", ADMIN, {"tests": [{"input": 1}] * 900}),
        ("/api/v1/problems", ADMIN, {"tests": [{f"k{i}": 0 for i in range(8)}] * 900}),
        ("/api/v1/submissions", {}, {"problem_id": PROBLEM, "files": [{"x": 1, "y": 2}] * 60}),
        ("/api/v1/submissions/batch", {}, {"submissions": [{"source": 1}] * 50}),
        ("/api/v1/problems", ADMIN, {"screening": {f"l{i}": [1] for i in range(5000)}}),
        ("/api/v1/problems", ADMIN, {"checker": {"mode": "tokens", "args": [1] * 64}}),
    ],
)
async def test_validation_errors_are_bounded(
    edge: Start, path: str, headers: dict[str, str], payload: Any
) -> None:
    client = await edge()
    status, body = await post(client, path, payload, headers)
    assert status == 422, body
    assert 1 <= len(body["errors"]) <= 20, len(body["errors"])
    assert len(json.dumps(body)) < 8192


async def test_unknown_fields_are_named_the_first_few(edge: Start) -> None:
    client = await edge()
    payload = {"problem_id": PROBLEM, "source": "x", "sauce": 1, **{f"k{i}": 0 for i in range(9)}}
    status, body = await post(client, "/api/v1/submissions", payload)
    assert status == 422
    assert [e["field"] for e in body["errors"]] == ["sauce", "k0", "k1", "k2", "k3"]


async def test_at_most_20_errors_are_listed_with_their_total(edge: Start) -> None:
    client = await edge()
    wrong = {name: 1 for name in ("title", "statement", "isolation", "screening", "id", "tests")}
    wrong |= {name: "x" for name in ("time_limit_ms", "memory_limit_mb", "process_limit")}
    checker = {"mode": 1, "args": 1, "language": 1, "source": 1, "files": 1, "entry_point": 1}
    payload = wrong | {"checker": checker | {f"u{i}": 1 for i in range(9)}}
    status, body = await post(client, "/api/v1/problems", payload | {f"k{i}": 1 for i in range(9)},
                              ADMIN)  # fmt: skip
    assert status == 422
    assert len(body["errors"]) == 20 and body["errors_total"] > 20


# -- list and string maxima --------------------------------------------------------------


async def test_batch_maximum_is_the_setting(edge: Start) -> None:
    client = await edge(batch_max=3)
    item = {"problem_id": PROBLEM, "source": "print(1)"}
    status, body = await post(client, "/api/v1/submissions/batch", {"submissions": [item] * 4})
    assert status == 422 and body["errors"][0]["field"] == "submissions"
    assert "at most 3" in body["errors"][0]["message"]


async def test_files_per_submission(edge: Start) -> None:
    client = await edge()
    files = [{"name": f"f{i}.py", "content": ""} for i in range(65)]
    status, body = await post(client, "/exec", {"id": PROBLEM, "files": files})
    assert status == 400 and body["detail"].startswith("files")
    status, body = await post(
        client, "/api/v1/submissions", {"problem_id": PROBLEM, "files": files}
    )
    assert status == 422 and body["errors"][0]["field"] == "files"
    long_name = [{"name": "a" * 600, "content": ""}]
    status, body = await post(
        client, "/api/v1/submissions", {"problem_id": PROBLEM, "files": long_name}
    )
    assert status == 422 and body["errors"][0]["field"] == "files.0.name"


async def test_tests_per_problem_is_the_setting(edge: Start) -> None:
    client = await edge(max_tests=5)
    tests = [{"input": "", "expected_output": ""}] * 6
    for method, path in [("POST", "/api/v1/problems"), ("PUT", "/api/v1/problems/p1")]:
        status, body = await post(client, path, {"tests": tests}, ADMIN, method)
        assert status == 422 and body["errors"][0]["field"] == "tests", body
        assert "at most 5" in body["errors"][0]["message"]
    status, body = await post(client, "/api/v1/problems", {"id": "p1", "tests": tests[:5]}, ADMIN)
    assert status == 201, body
    status, body = await post(client, "/api/v1/problems/p1/tests", {"tests": tests[:1]}, ADMIN)
    assert status == 422 and "at most 5 tests" in body["detail"]
    status, body = await post(
        client, "/api/v1/problems/p1/tests/order", {"order": list(range(1, 7))}, ADMIN, "PUT"
    )
    assert status == 422 and body["errors"][0]["field"] == "order"


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"time_limit_ms": 10**20}, "time_limit_ms"),  # MySQL INT overflow: was a 500
        ({"time_limit_ms": True}, "time_limit_ms"),  # was taken as 1 ms
        ({"time_limit_ms": "1000"}, "time_limit_ms"),
        ({"memory_limit_mb": 256.0}, "memory_limit_mb"),
        ({"process_limit": -1}, "process_limit"),
        ({"title": "t" * 256}, "title"),
        ({"statement": "s" * (MB + 1)}, "statement"),
        ({"checker": {"mode": "tokens", "args": ["x" * 257]}}, "checker.CheckerIn.args.0"),
        ({"checker": {"mode": "tokens", "args": ["x"] * 65}}, "checker.CheckerIn.args"),
        ({"screening": {"python": ["n" * 201]}}, "screening.python.0"),
        ({"screening": {f"l{i}": [] for i in range(33)}}, "screening"),
        ({"screening": {"python": [f"name{i}" * 30 for i in range(100)]}}, "screening"),
        ({"tests": [{"input": "", "expected_output": "", "name": "n" * 256}]}, "tests.0.name"),
        ({"tests": [{"input": "", "expected_output": "", "hidden": 1}]}, "tests.0.hidden"),
    ],
)
async def test_problem_fields_have_types_and_maxima(
    edge: Start, payload: dict[str, Any], field: str
) -> None:
    client = await edge()
    status, body = await post(client, "/api/v1/problems", payload, ADMIN)
    assert status == 422, body
    assert body["errors"][0]["field"] == field, body


async def test_test_position_and_order_are_bounded_integers(edge: Start) -> None:
    client = await edge()
    tests = {"tests": [{"input": "", "expected_output": ""}]}
    status, _ = await post(client, "/api/v1/problems/p1", tests, ADMIN, "PUT")
    assert status == 201
    status, body = await post(
        client, "/api/v1/problems/p1/tests", tests | {"position": 10**30}, ADMIN
    )
    assert status == 422 and body["errors"][0]["field"] == "position"
    status, body = await post(
        client, "/api/v1/problems/p1/tests/order", {"order": [True]}, ADMIN, "PUT"
    )
    assert status == 422 and body["errors"][0]["field"] == "order.0"


async def test_a_problem_id_in_the_path_follows_the_id_pattern(edge: Start) -> None:
    client = await edge()
    tests = {"tests": []}
    status, body = await post(client, "/api/v1/problems/" + "p" * 200, tests, ADMIN, "PUT")
    assert status == 422 and "id" in body["detail"]
    status, _ = await post(client, "/api/v1/problems/%E2%80%AEevil", tests, ADMIN, "PUT")
    assert status == 422


async def test_key_name_maximum(edge: Start) -> None:
    client = await edge()
    status, body = await post(client, "/api/v1/keys", {"name": "n" * 256}, ADMIN)
    assert status == 422 and body["errors"][0]["field"] == "name"


# -- sizes per route, content types, codings, bodies that lie ----------------------------


@pytest.mark.parametrize(
    ("path", "headers", "limit"),
    [
        ("/exec", {}, 64 * 1024),
        ("/api/v1/submissions", {}, 64 * 1024),
        ("/api/v1/submissions/batch", {}, 8 * 64 * 1024),
        ("/api/v1/keys", ADMIN, 64 * 1024),
        ("/api/v1/problems", ADMIN, MB),
    ],
)
async def test_each_route_has_its_byte_limit(
    edge: Start, path: str, headers: dict[str, str], limit: int
) -> None:
    client = await edge(max_body_bytes=64 * 1024, max_problem_body_mb=1)
    status, body = await post(client, path, exec_body(pad="x" * limit), headers)
    assert status == 413 and body["error"] == "Request body too large", body
    assert str(limit) in body["detail"]


async def test_a_chunked_body_over_the_limit_is_413(edge: Start) -> None:
    client = await edge(max_body_bytes=64 * 1024)

    async def chunks() -> AsyncIterator[bytes]:
        yield b'{"code": "'
        for _ in range(1000):
            yield b"x" * 1024

    for path in ("/exec", "/api/v1/submissions"):
        response = await client.post(path, data=chunks(), headers=JSON)
        assert response.status == 413
        assert (await response.json())["error"] == "Request body too large"


@pytest.mark.parametrize("coding", ["gzip", "deflate", "br", "zstd", "gzip, identity"])
async def test_compressed_bodies_are_415_never_inflated(edge: Start, coding: str) -> None:
    client = await edge()
    bomb = gzip.compress(b" " * (64 * MB))  # 64 KB that inflate to 64 MB
    for path, headers in JSON_ROUTES:
        status, body, peak = await peak_memory(
            post(client, path, bomb, headers | {"Content-Encoding": coding})
        )
        assert status == 415, (path, body)
        assert body["error"] == "Content-Encoding is not supported"
        assert peak < 8 * MB


async def test_identity_coding_is_accepted(edge: Start) -> None:
    client = await edge()
    status, body = await post(
        client, "/api/v1/keys", b'{"name": "k"}', ADMIN | {"Content-Encoding": "identity"}
    )
    assert status == 201, body


@pytest.mark.parametrize(
    "content_type",
    ["text/plain", "application/json; charset=utf-16", "application/json; charset=latin-1",
     "multipart/form-data; boundary=x"],
)  # fmt: skip
async def test_other_types_and_charsets_are_415(edge: Start, content_type: str) -> None:
    client = await edge()
    for path, headers in JSON_ROUTES:
        status, body = await post(
            client, path, exec_body(), headers | {"Content-Type": content_type}
        )
        assert status == 415, (path, body)


async def test_utf8_charset_is_accepted(edge: Start) -> None:
    client = await edge()
    headers = ADMIN | {"Content-Type": "application/json; charset=UTF-8"}
    status, body = await post(client, "/api/v1/keys", b'{"name": "k"}', headers)
    assert status == 201, body


async def raw_request(client: Client, data: bytes, wait_s: float = 5.0) -> bytes:
    reader, writer = await asyncio.open_connection(client.host, client.port)
    try:
        writer.write(data)
        await writer.drain()
        return await asyncio.wait_for(reader.read(4096), wait_s)
    finally:
        writer.close()


async def test_a_body_shorter_than_its_content_length_is_408(edge: Start) -> None:
    client = await edge(body_idle_timeout_s=0.3)
    for path, kind in [
        ("/exec", "application/json"),
        ("/api/v1/submissions", "application/json"),
        ("/api/v1/problems/import", "application/zip"),
        ("/api/v1/problems/import", "multipart/form-data; boundary=b"),
    ]:
        answer = await raw_request(
            client,
            f"POST {path} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {TOKEN}\r\n"
            f"Content-Type: {kind}\r\nContent-Length: 1000\r\n\r\n--b\r\n".encode(),
        )
        head, _, body = answer.partition(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 408"), answer
        assert json.loads(body)["error"] == "Request body timed out"


async def test_a_declared_length_over_the_limit_is_413_before_reading(edge: Start) -> None:
    client = await edge(max_body_bytes=64 * 1024, max_package_mb=1)
    for path, kind in [
        ("/exec", "application/json"),
        ("/api/v1/keys", "application/json"),
        ("/api/v1/problems/import", "application/zip"),
        ("/api/v1/problems/import", "multipart/form-data; boundary=b"),
    ]:
        answer = await raw_request(
            client,
            f"POST {path} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {TOKEN}\r\n"
            f"Content-Type: {kind}\r\nContent-Length: 999999999\r\n\r\n".encode(),
        )
        assert answer.startswith(b"HTTP/1.1 413"), answer


@pytest.mark.parametrize(
    ("raw", "why"),
    [
        (b"GET /" + b"a" * 9000 + b" HTTP/1.1\r\nHost: x\r\n\r\n", "long URL"),
        (b"GET /healthz HTTP/1.1\r\nHost: x\r\nX: " + b"a" * 9000 + b"\r\n\r\n", "long header"),
        (b"GET /healthz HTTP/1.1\r\nHost: x\r\n"
         + b"".join(b"X-%d: 1\r\n" % i for i in range(200)) + b"\r\n", "200 headers"),
        (b"POST /exec HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n"
         b"Content-Length: 6\r\n\r\n", "two lengths"),
        (b"POST /exec HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n"
         b"Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n", "length and chunked"),
    ],
)  # fmt: skip
async def test_http_framing_abuse_is_400_from_the_parser(edge: Start, raw: bytes, why: str) -> None:
    client = await edge()
    answer = await raw_request(client, raw)
    assert answer.split(b"\r\n")[0].endswith(b"400 Bad Request"), (why, answer[:200])


async def test_many_query_parameters_are_harmless(edge: Start) -> None:
    client = await edge()
    response = await client.get("/api/v1/problems?" + "&".join(f"p{i}=1" for i in range(800)))
    assert response.status == 200


# -- integers in queries, paths and headers ----------------------------------------------


@pytest.mark.parametrize("raw", ["²", "١٢", "9" * 5000, "-1", "+1", " 1", "1e3", "0x10"])
async def test_integer_query_parameters_are_ascii_and_bounded(edge: Start, raw: str) -> None:
    client = await edge()
    for path in ("/api/v1/problems", "/api/v1/submissions"):
        response = await client.get(path, params={"limit": raw})
        assert response.status == 400, (path, raw, await response.text())
        assert (await response.json())["error"] == "Invalid query parameter"


@pytest.mark.parametrize("raw", ["²", "9" * 5000])
async def test_test_positions_in_the_path_are_ascii(edge: Start, raw: str) -> None:
    client = await edge()
    tests = {"tests": [{"input": "", "expected_output": ""}]}
    await post(client, "/api/v1/problems/p1", tests, ADMIN, "PUT")
    response = await client.get(f"/api/v1/problems/p1/tests/{raw}", headers=ADMIN)
    assert response.status == 404, await response.text()


@pytest.mark.parametrize("last_id", ["²", "9" * 5000, "99999999999999999999", "-1", "x"])
async def test_last_event_id_is_a_bounded_integer(edge: Start, last_id: str) -> None:
    client = await edge()
    made = await client.app[SUBMISSIONS].create(
        None, PROBLEM, "python", (("main.py", "print(1)"),), None, None
    )
    response = await client.get(
        f"/api/v1/submissions/{made.id}/events",
        headers={"Accept": "text/event-stream", "Last-Event-ID": last_id},
    )
    assert response.status == 400, await response.text()
    assert (await response.json())["error"] == "Invalid Last-Event-ID"


async def test_batch_lookup_ids_are_bounded(edge: Start) -> None:
    client = await edge()
    response = await client.get("/api/v1/submissions/batch", params={"ids": "x" * 5000})
    assert response.status == 400


# -- Kattis package uploads --------------------------------------------------------------


def form(fields: list[tuple[str, bytes]]) -> FormData:
    data = FormData(default_to_multipart=True)
    for name, value in fields:
        if name == "package":
            data.add_field(name, value, filename="p.zip")
        else:
            data.add_field(name, io.BytesIO(value))  # streamed: the client holds no copy
    return data


async def upload(client: Client, data: FormData, headers: dict[str, str] | None = None) -> Any:
    response = await client.post(
        "/api/v1/problems/import", data=data, headers=ADMIN | (headers or {})
    )
    return response.status, await response.json()


async def test_an_upload_with_many_parts_is_413(edge: Start) -> None:
    client = await edge()
    fields = [(f"f{i}", b"x" * 1000) for i in range(2000)]
    status, body, peak = await peak_memory(upload(client, form(fields)))
    assert status == 413 and "form parts" in body["detail"], body
    assert peak < 16 * MB


async def test_a_long_form_field_is_refused_without_reading_it_all(edge: Start) -> None:
    client = await edge(max_package_mb=64)
    status, body, peak = await peak_memory(upload(client, form([("id", b"x" * (8 * MB))])))
    assert status == 413 and body["error"] == "Form field too long", body
    assert peak < 4 * MB


async def test_a_compressed_form_field_is_415(edge: Start) -> None:
    client = await edge()
    # aiohttp's FormData has no per-part Content-Encoding; write the part by hand.
    boundary = "b0undary"
    raw = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="checker"\r\n'
        f"Content-Encoding: gzip\r\n\r\n".encode()
        + gzip.compress(b"t" * MB)
        + f"\r\n--{boundary}--\r\n".encode()
    )
    response = await client.post(
        "/api/v1/problems/import",
        data=raw,
        headers=ADMIN | {"Content-Type": f"multipart/form-data; boundary={boundary}"},
    )
    assert response.status == 415, await response.text()


async def test_a_field_given_twice_is_400(edge: Start) -> None:
    client = await edge()
    status, body = await upload(client, form([("package", b"PK"), ("package", b"PK")]))
    assert status == 400 and "twice" in body["detail"], body


async def test_a_compressed_zip_body_is_415(edge: Start) -> None:
    client = await edge()
    response = await client.post(
        "/api/v1/problems/import?name=p.zip",
        data=gzip.compress(b"\0" * (32 * MB)),
        headers=ADMIN | {"Content-Type": "application/zip", "Content-Encoding": "gzip"},
    )
    assert response.status == 415
