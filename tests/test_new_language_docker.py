"""A language added as a folder judges for real: ``cish`` (tests/unit/test_new_language.py),
in a temporary languages folder, its image built from the C image's Dockerfile (every
layer already cached, so only its label is new), self-tested at start-up, listed with
its version, and judged through POST /exec — compiled by its own command, screened by
its own rules. No Python file names it."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import docker
import pytest
from aiohttp.test_utils import TestClient

from codeexec.http.keys import STORE
from codeexec.judge.preparation import NOT_STARTED
from codeexec.model import Problem, TestCase
from tests.unit.test_new_language import CISH, add_language

pytestmark = pytest.mark.docker

SUM = (
    '#include "sum.hish"\n'
    'int main(void) { long long a, b; scanf("%lld %lld", &a, &b); return show(a + b); }\n'
)
HEADER = '#include <stdio.h>\nstatic int show(long long x) { printf("%lld\\n", x); return 0; }\n'


@pytest.fixture
def prefix(docker_engine: docker.DockerClient) -> Iterator[str]:
    """Image names of the test's own (never retagging the shared images); its image is
    removed once the service has stopped."""
    prefix = f"codeexec-test-{uuid.uuid4().hex[:8]}"
    yield prefix
    with contextlib.suppress(docker.errors.ImageNotFound):
        docker_engine.images.remove(f"{prefix}/cish:latest")


async def listed_when_available(client: TestClient[Any, Any]) -> dict[str, Any]:
    """The language as listed once it is available; meanwhile it must say where its
    preparation stands. Its image comes from Docker's layer cache: seconds."""
    async with asyncio.timeout(180):
        while True:
            (item,) = (await (await client.get("/api/v1/languages")).json())["languages"]
            if item["available"]:
                return dict(item)
            assert item["preparing"], item  # never unavailable without a reason
            await asyncio.sleep(0.2)


@pytest.fixture
def root(tmp_path: Path) -> Path:
    """A languages folder holding only ``cish``."""
    folder = tmp_path / "languages"
    folder.mkdir()
    add_language(folder, "cish", CISH, "c")
    return folder


async def test_a_language_without_its_image_is_built_on_first_use(
    prefix: str, service: Callable[..., Any], root: Path
) -> None:
    client = await service(
        languages_dir=root, languages=(), image_prefix=prefix, build_images="on-demand"
    )
    (cish,) = (await (await client.get("/api/v1/languages")).json())["languages"]
    assert cish["available"] is False
    assert cish["preparing"] == NOT_STARTED
    ready = await client.get("/readyz")
    assert ready.status == 503  # nothing can be judged yet
    assert (await ready.json())["languages"]["cish"] == {
        "available": False,
        "preparing": NOT_STARTED,
    }
    await client.app[STORE].save(Problem(id="sum"), (TestCase(b"2 3\n", b"5\n"),))
    asked = {"id": "sum", "language": "cish", "code": SUM.replace('#include "sum.hish"', HEADER)}
    first = await client.post("/exec", json=asked)
    body = await first.json()
    assert first.status == 503, body
    assert first.headers["Retry-After"].isdigit()
    assert body["error"] == "Language 'cish' is being prepared; retry shortly", body
    assert body["detail"], body  # where its build stands
    cish = await listed_when_available(client)
    assert "gcc" in cish["version"]  # self-tested and versioned as at start-up
    again = await client.post("/exec", json=asked)
    assert again.status == 200 and (await again.json())["passed"] is True


async def test_a_new_language_folder_is_judged_for_real(
    prefix: str, service: Callable[..., Any], root: Path
) -> None:
    client = await service(languages_dir=root, languages=(), image_prefix=prefix)
    cish = await listed_when_available(client)
    assert (cish["id"], cish["source_file"]) == ("cish", "prog.cish")
    assert "gcc" in cish["version"]
    await client.app[STORE].save(
        Problem(id="sum"), (TestCase(b"2 3\n", b"5\n"), TestCase(b"-1 1\n", b"0\n", True))
    )
    files = [
        {"name": "solve.cish", "content": SUM},
        {"name": "sum.hish", "content": HEADER},
    ]
    answer = await client.post(
        "/exec",
        json={"id": "sum", "language": "cish", "files": files, "entry_point": "solve.cish"},
    )
    body = await answer.json()
    assert answer.status == 200 and body["passed"] is True, body
    refused = await client.post(
        "/exec",
        json={"id": "sum", "language": "cish", "code": 'int main(void) { system("ls"); }'},
    )
    assert refused.status == 403
    assert "system" in (await refused.json())["error"]
