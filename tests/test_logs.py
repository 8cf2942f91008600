"""Structured logs and request ids (issue 18): every answer carries ``X-Request-Id``
(the caller's when it is safe, else a fresh one), each request is one access event,
each submission's stages are events with its ids, and nothing a caller sends can split
or forge a log line.

The edge tests run the app in-process without judging (``make_app(judging=False)``);
the last one starts ``codeexec serve`` as a process with ``CODEEXEC_LOG_FORMAT=json``
and reads what it wrote."""

from __future__ import annotations

import asyncio
import io
import json
import logging
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import aiohttp
import docker
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

from codeexec.config import Settings
from codeexec.http.app import make_app
from codeexec.logs import ConsoleFormatter, JsonFormatter, configure
from tests.conftest import free_port_for_tests, sandboxes_of
from tests.test_service_process import ServiceProcess

Client = TestClient[Any, Any]
ADMIN = "s3cret-admin-token"
FRESH_ID = re.compile(r"[0-9a-f]{32}")


@pytest.fixture
async def edge(aiohttp_client: Any, make_settings: Callable[..., Settings]) -> Client:
    settings = make_settings(admin_token=ADMIN, max_body_bytes=4096)
    client: Client = await aiohttp_client(make_app(settings, judging=False))
    return client


def access_events(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == "codeexec.access"]


async def test_the_callers_id_comes_back_on_answers_and_errors(edge: Client) -> None:
    asks: list[tuple[str, str, dict[str, Any]]] = [
        ("GET", "/healthz", {}),
        ("GET", "/no/such/route", {}),  # 404 from the router
        ("DELETE", "/exec", {}),  # 405
        ("POST", "/exec", {"data": b"{not json", "headers": {"Content-Type": "application/json"}}),
        ("POST", "/api/v1/problems", {}),  # 401: an admin route, no token
        ("POST", "/exec", {"json": {"code": "x" * 8192, "id": "p"}}),  # 413
        ("GET", "/api/v1/submissions/nope", {}),  # 404 from a handler (ApiError)
    ]
    statuses = []
    for i, (method, path, extra) in enumerate(asks):
        headers = {"X-Request-Id": f"abc-{i}", **extra.pop("headers", {})}
        async with edge.request(method, path, headers=headers, **extra) as response:
            statuses.append(response.status)
            assert response.headers["X-Request-Id"] == f"abc-{i}", (method, path)
            if response.status >= 400:
                assert "error" in await response.json()  # still the API's error shape
    assert statuses == [200, 404, 405, 400, 401, 413, 404]


async def raw_get(client: Client, request_id: bytes) -> tuple[int, str | None]:
    """Status and ``X-Request-Id`` answered to a GET sending ``request_id`` as that
    header byte for byte (a client library would refuse control characters)."""
    reader, writer = await asyncio.open_connection(client.host, client.port)
    try:
        writer.write(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n")
        writer.write(b"X-Request-Id: " + request_id + b"\r\n\r\n")
        await writer.drain()
        head = (await reader.read()).split(b"\r\n\r\n", 1)[0].decode("latin-1")
    finally:
        writer.close()
    found = re.search(r"^X-Request-Id: (.*)$", head, re.MULTILINE | re.IGNORECASE)
    return int(head.split(" ", 2)[1]), found.group(1).strip() if found else None


async def test_a_missing_or_unsafe_id_is_replaced_by_a_fresh_one(edge: Client) -> None:
    seen = []
    for header in (None, "x" * 129, "has space", "semi;colon", "a/b", "été"):
        headers = {} if header is None else {"X-Request-Id": header}
        async with edge.get("/healthz", headers=headers) as response:
            given = response.headers["X-Request-Id"]
            assert FRESH_ID.fullmatch(given), header
            seen.append(given)
    status, given = await raw_get(edge, "é".encode())  # UTF-8 bytes reach the app
    assert status == 200 and given is not None and FRESH_ID.fullmatch(given)
    seen.append(given)
    assert len(set(seen)) == len(seen)


async def test_control_characters_in_headers_never_reach_the_app(edge: Client) -> None:
    # aiohttp's parser answers 400 before any middleware: no id, nothing of ours logged.
    for raw in (b"esc\x1b[2Jx", b"a\x7fb", b"nul\x00"):
        assert await raw_get(edge, raw) == (400, None), raw


async def test_a_request_the_parser_refuses_is_one_short_line(edge: Client) -> None:
    """aiohttp logs each request its parser refuses as an error whose traceback quotes
    the offending bytes: an 8 KB header of control characters made a 40 KB ERROR line,
    any client, no token, one connection each. The service's logging makes it one
    short INFO line; what the caller sent is only in the quoted ``reason`` field, so
    on the console it cannot pass for the line's own fields either."""
    json_lines, console_lines = io.StringIO(), io.StringIO()
    handlers = [logging.StreamHandler(json_lines), logging.StreamHandler(console_lines)]
    handlers[0].setFormatter(JsonFormatter())
    handlers[1].setFormatter(ConsoleFormatter())
    server_log = logging.getLogger("aiohttp.server")
    level = server_log.level
    for handler in handlers:
        server_log.addHandler(handler)
    server_log.setLevel(logging.INFO)
    configure("INFO", "json", io.StringIO())  # what every command does first
    forged = b"x request_id=forged key_id=admin-token " * 250  # a header over 8190 bytes
    try:
        assert await raw_get(edge, b"\x01" * 8000) == (400, None)
        assert await raw_get(edge, forged) == (400, None)
        await asyncio.sleep(0.1)
        server_log.setLevel(logging.WARNING)  # CODEEXEC_LOG_LEVEL=WARNING: not even that
        assert await raw_get(edge, b"\x01" * 8000) == (400, None)
        await asyncio.sleep(0.1)
    finally:
        for handler in handlers:
            server_log.removeHandler(handler)
        server_log.setLevel(level)
        for installed in list(server_log.filters):
            server_log.removeFilter(installed)
    written = json_lines.getvalue().splitlines()
    assert len(written) == 2, written
    bad_char, too_long = (json.loads(line) for line in written)
    for line in (bad_char, too_long):
        assert line["level"] == "info" and "exc" not in line, line
        assert line["message"] == "bad HTTP request from 127.0.0.1" and line["status"] == 400
    assert bad_char["reason"] == "Invalid header value char"
    assert too_long["reason"].startswith("Got more than 8190 bytes")
    assert all(len(line) < 500 for line in written)
    console = console_lines.getvalue().splitlines()
    assert len(console) == 2
    unquoted = [re.sub(r'"(?:[^"\\]|\\.)*"', "", line) for line in console]
    assert not any("forged" in line for line in unquoted), console


async def test_a_crash_logs_the_callers_path_as_a_quoted_field(
    aiohttp_client: Any, make_settings: Callable[..., Settings]
) -> None:
    """A path is decoded (``%20`` is a space): written into the message of a crash's
    line it could add fields of its own on the console (``request_id=...``)."""
    app = make_app(make_settings(), judging=False)

    async def crash(request: web.Request) -> web.Response:
        raise RuntimeError("bug")

    app.router.add_get("/crash/{tail:.*}", crash)
    client: Client = await aiohttp_client(app)
    lines = io.StringIO()
    handler = logging.StreamHandler(lines)
    handler.setFormatter(ConsoleFormatter())
    errors_log = logging.getLogger("codeexec.http.errors")
    errors_log.addHandler(handler)
    try:
        path = "/crash/x%20request_id=forged%20key_id=admin-token"
        async with client.get(path, headers={"X-Request-Id": "real-id"}) as response:
            assert response.status == 500
    finally:
        errors_log.removeHandler(handler)
    head = lines.getvalue().splitlines()[0]
    assert "request_id=real-id" in head and "forged" in head
    assert "forged" not in re.sub(r'"(?:[^"\\]|\\.)*"', "", head), head


async def test_one_access_event_per_request(edge: Client, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="codeexec.access")
    async with edge.get("/api/v1/submissions/s-123", headers={"X-Request-Id": "r1"}):
        pass
    auth = {"Authorization": f"Bearer {ADMIN}", "X-Request-Id": "r2"}
    async with edge.get("/api/v1/problems", headers=auth) as response:
        assert response.status == 200
    async with edge.get("/missing", headers={"X-Request-Id": "r3"}):
        pass
    events = access_events(caplog)
    assert [e.__dict__["request_id"] for e in events] == ["r1", "r2", "r3"]
    first, second, third = (e.__dict__ for e in events)
    assert first["event"] == "request" and first["method"] == "GET"
    assert first["route"] == "/api/v1/submissions/{sid}"  # the template, not the id
    assert first["status"] == 404 and first["key_id"] is None
    assert isinstance(first["duration_ms"], float) and first["duration_ms"] >= 0
    assert second["status"] == 200 and second["key_id"] == "admin-token"
    assert third["route"] is None and third["status"] == 404
    assert ADMIN not in caplog.text and all(ADMIN not in str(r.__dict__) for r in caplog.records)


# -- the service as a process, JSON on its stderr -------------------------------------

C_SUM = (
    "#include <stdio.h>\n"
    'int main(void) { long a, b; scanf("%ld %ld", &a, &b); printf("%ld\\n", a + b); }\n'
)
SUM = "HQ000000000000000001"  # demo problems: the sum of two integers,
LOWER = "HQ000000000000000002"  # the input in lower case


@pytest.fixture
def json_service(
    tmp_path: Path, instance_name: str, docker_engine: docker.DockerClient
) -> Iterator[ServiceProcess]:
    service = ServiceProcess(
        {
            "CODEEXEC_LOG_FORMAT": "json",
            "CODEEXEC_DATABASE_URL": f"sqlite:///{tmp_path / 'logs.sqlite3'}",
            "CODEEXEC_INSTANCE_NAME": instance_name,
            "CODEEXEC_LANGUAGES": "python,c",
            "CODEEXEC_ADMIN_TOKEN": ADMIN,
            "CODEEXEC_JOB_POLL_S": "0.05",
            "CODEEXEC_WEBHOOK_ALLOW_PRIVATE": "true",
            "CODEEXEC_WEBHOOK_ATTEMPTS": "1",
            "CODEEXEC_WEBHOOK_TIMEOUT_S": "2",
        },
        tmp_path / "service.log",
    )
    yield service
    service.stop()
    assert sandboxes_of(docker_engine, instance_name) == []


def read_lines(path: Path) -> list[dict[str, Any]]:
    """Every line the service wrote, each of which must be one JSON object."""
    lines = path.read_text(encoding="utf-8").splitlines()
    parsed = [json.loads(line) for line in lines if line]
    assert all(
        isinstance(p, dict) and {"time", "level", "logger", "message"} <= set(p) for p in parsed
    )
    return parsed


def events_named(lines: list[dict[str, Any]], name: str, **match: Any) -> list[dict[str, Any]]:
    return [
        line
        for line in lines
        if line.get("event") == name and all(line.get(k) == v for k, v in match.items())
    ]


@pytest.mark.docker
async def test_the_service_logs_json_events_with_their_ids(
    json_service: ServiceProcess, tmp_path: Path
) -> None:
    await json_service.wait_ready()
    url = json_service.url
    closed = f"http://127.0.0.1:{free_port_for_tests()}"  # nothing listens: delivery fails
    forged = '\r\n{"level": "error", "event": "forged"}\x1b[2J'
    async with aiohttp.ClientSession() as session:
        submission = {"problem_id": SUM, "language": "c", "source": C_SUM}
        async with session.post(
            f"{url}/api/v1/submissions?wait=true",
            json=submission,
            headers={"X-Request-Id": "abc-123", "Authorization": f"Bearer {ADMIN}"},
        ) as response:
            assert response.status == 200 and response.headers["X-Request-Id"] == "abc-123"
            judged = await response.json()
        assert judged["status"] == "finished" and judged["verdict"] == "AC"
        exec_body = {"code": "print(input().lower())", "id": LOWER}
        async with session.post(f"{url}/exec", json=exec_body) as response:
            assert response.status == 200
            exec_id = response.headers["X-Request-Id"]
            assert FRESH_ID.fullmatch(exec_id)
        async with session.get(f"{url}/nowhere", headers={"X-Request-Id": "abc-404"}) as response:
            assert response.status == 404 and response.headers["X-Request-Id"] == "abc-404"
        bad_json = {"X-Request-Id": "abc-400", "Content-Type": "application/json"}
        async with session.post(f"{url}/exec", data=b"{", headers=bad_json) as response:
            assert response.status == 400 and response.headers["X-Request-Id"] == "abc-400"
        callback = {
            "problem_id": LOWER,
            "source": "print(input().lower())",
            "callback_url": f"{closed}/hook/T0K3N{forged}?token=hunter2",
        }
        async with session.post(f"{url}/api/v1/submissions?wait=true", json=callback) as response:
            assert response.status == 200, await response.text()
            hooked = (await response.json())["id"]
    lines: list[dict[str, Any]] = []
    for _ in range(100):  # the delivery fails in the background, just after the answer
        lines = read_lines(tmp_path / "service.log")
        if events_named(lines, "webhook.failed", submission_id=hooked):
            break
        await asyncio.sleep(0.1)
    sid = judged["id"]

    # One access event per request, with the route's template, the status and the id.
    [access] = events_named(lines, "request", request_id="abc-123")
    assert access["route"] == "/api/v1/submissions" and access["status"] == 200
    assert access["method"] == "POST" and access["key_id"] == "admin-token"
    assert access["logger"] == "codeexec.access" and access["duration_ms"] > 0
    assert events_named(lines, "request", request_id="abc-404", route=None, status=404)
    assert events_named(lines, "request", request_id="abc-400", route="/exec", status=400)
    assert events_named(lines, "request", request_id=exec_id, route="/exec", status=200)

    # The job's stages carry its submission id and, submitted here, the request's id.
    stages = [line for line in lines if line.get("submission_id") == sid and "event" in line]
    assert [s["event"] for s in stages] == [
        "submission.accepted",
        "submission.started",
        "submission.compiled",
        "submission.finished",
    ]
    assert all(s["request_id"] == "abc-123" for s in stages)
    assert stages[0]["problem_id"] == SUM and stages[0]["language"] == "c"
    assert stages[2]["ok"] is True
    finished = stages[3]
    assert finished["verdict"] == "AC" and finished["failed"] == 0
    assert finished["passed"] == finished["tests"] > 0 and finished["duration_ms"] > 0

    # /exec's stages have no submission id, only its request's.
    exec_stages = [s["event"] for s in lines if s.get("request_id") == exec_id and "event" in s]
    assert exec_stages == [
        "submission.accepted", "submission.started", "submission.finished", "request"
    ]  # fmt: skip

    # The callback's URL is logged as its origin: no token in its path or query.
    [failed] = events_named(lines, "webhook.failed", submission_id=hooked)
    assert failed["url"] == closed and failed["level"] == "warning"
    assert events_named(lines, "webhook.attempt_failed", submission_id=hooked, attempt=1)
    assert not events_named(lines, "forged")
    raw = (tmp_path / "service.log").read_text(encoding="utf-8")
    assert "\x1b" not in raw and "\r" not in raw
    # No secret and no source reaches the log.
    assert ADMIN not in raw and "scanf" not in raw
    assert "hunter2" not in raw and "T0K3N" not in raw
