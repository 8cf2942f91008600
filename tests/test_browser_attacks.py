"""What a hostile web site open in the user's browser can make a codeexec on the
loopback address do (authentication off: its default on 127.0.0.1), against the real
service: requests a browser sends cross-site without asking (a "simple" POST with
``mode: "no-cors"``), and DNS rebinding (the attacker's host name, now resolving to
127.0.0.1, in ``Host``: the site is then same-origin and reads every answer)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from aiohttp.test_utils import TestClient, TestServer

from codeexec.http.app import make_app
from codeexec.http.keys import SETTINGS
from tests.conftest import base_settings, started_service

pytestmark = [pytest.mark.docker, pytest.mark.asyncio(loop_scope="module")]

Client = TestClient[Any, Any]
EXECUTE = "/piston/api/v2/execute"
PROGRAM = json.dumps(
    {"language": "python", "version": "*", "files": [{"content": "print('pwned')"}]}
)
EVIL = "http://evil.example"


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def client(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Client]:
    service = await started_service(
        tmp_path_factory.mktemp("browser-attacks"), "browser-attacks", languages=("python",),
        job_poll_s=0.05,
    )  # fmt: skip
    assert not service.app[SETTINGS].auth_required  # the loopback default
    yield service
    await service.close()


async def jobs(client: Client) -> int:
    listed = await client.get("/api/v1/submissions?limit=100")
    assert listed.status == 200
    return len((await listed.json())["items"])


@pytest.mark.parametrize(
    "headers",
    [
        {"Origin": EVIL, "Sec-Fetch-Site": "cross-site", "Sec-Fetch-Mode": "no-cors"},
        {"Origin": EVIL},  # a browser without Fetch Metadata
        {"Origin": "null"},  # a sandboxed frame, a data: URL
        {"Sec-Fetch-Site": "same-site", "Origin": "http://other.localhost:8080"},
    ],
)
async def test_a_cross_site_simple_post_makes_the_service_run_nothing(
    client: Client, headers: dict[str, str]
) -> None:
    before = await jobs(client)
    answer = await client.post(
        EXECUTE, data=PROGRAM, headers={"Content-Type": "text/plain;charset=UTF-8"} | headers
    )
    assert answer.status == 403, await answer.text()
    assert "cross-origin" in (await answer.text()).lower()
    for path, content_type in (
        ("/api/v1/submissions", "application/x-www-form-urlencoded"),
        ("/api/v1/problems/import", "multipart/form-data; boundary=x"),
        ("/exec", "text/plain"),
    ):
        refused = await client.post(
            path, data=b"x", headers={"Content-Type": content_type} | headers
        )
        assert refused.status == 403, (path, await refused.text())
    assert await jobs(client) == before


async def test_same_origin_and_non_browser_posts_still_work(client: Client) -> None:
    host = f"127.0.0.1:{client.server.port}"
    for headers in (
        {},  # curl, a Piston client: no Origin
        {"Origin": f"http://{host}", "Sec-Fetch-Site": "same-origin"},  # the judge page
        {"Origin": f"http://{host}"},
        {"Sec-Fetch-Site": "none"},  # typed by the user
    ):
        answer = await client.post(
            EXECUTE, data=PROGRAM, headers={"Content-Type": "text/plain"} | headers
        )
        assert answer.status == 200, (headers, await answer.text())
        assert (await answer.json())["run"]["stdout"] == "pwned\n"


@pytest.mark.parametrize(
    "host", ["rebind.example", "rebind.example:8080", "localhost.evil.example"]
)
async def test_a_rebound_host_name_reads_nothing_and_runs_nothing(
    client: Client, host: str
) -> None:
    headers = {"Host": host}
    for method, path in (("GET", "/api/v1/submissions"), ("GET", "/api/v1/problems")):
        answer = await client.request(method, path, headers=headers)
        assert answer.status == 421, (path, await answer.text())
        assert "CODEEXEC_ALLOWED_HOSTS" in (await answer.json())["detail"]
    ran = await client.post(
        EXECUTE, data=PROGRAM, headers=headers | {"Content-Type": "application/json"}
    )
    assert ran.status == 421
    # The page and the API's description are public: served whatever the name.
    assert (await client.get("/api/v1/openapi.json", headers=headers)).status == 200


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "[::1]", "10.1.2.3", "LOCALHOST."])
async def test_loopback_names_and_addresses_are_served(client: Client, host: str) -> None:
    answer = await client.get("/api/v1/problems", headers={"Host": f"{host}:{client.server.port}"})
    assert answer.status == 200, await answer.text()


@pytest.mark.parametrize(
    ("prefix", "path"),
    [
        ({"piston_prefix": "/docs"}, "/docs/api/v2/runtimes"),
        ({"piston_prefix": "/web/assets"}, "/web/assets/api/v2/runtimes"),
        ({"judge0_prefix": "/docs"}, "/docs/about"),
        ({"judge0_prefix": "/web/assets"}, "/web/assets/workers"),
    ],
)
async def test_a_door_mounted_under_an_open_path_still_needs_a_key(
    tmp_path: Path, prefix: dict[str, str], path: str
) -> None:
    """What is open is the pages' own routes, not whatever lies under their paths."""
    settings = base_settings(
        database_url=f"sqlite:///{tmp_path / 'store.sqlite3'}", auth="on", **prefix
    )
    async with TestClient(TestServer(make_app(settings, judging=False))) as locked:
        answer = await locked.get(path)
        assert answer.status == 401, await answer.text()
        assert (await locked.get("/docs")).status in (200, 503)  # the page itself is open
        missing = await locked.get("/web/assets/nothing.js")
        assert missing.status in (401, 404)
