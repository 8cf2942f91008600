"""A Kattis scoring problem (tests/data/kattis/scoring-triangle: two groups, a Python
validator writing score.txt) imported over HTTP and judged for real (Docker; SQLite
and MariaDB): full, partial and zero scores through /exec and the jobs API."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from aiohttp import FormData
from aiohttp.test_utils import TestClient

Client = TestClient[Any, Any]
PACKAGE = Path(__file__).resolve().parent / "data/kattis/scoring-triangle"
TOKEN = "scoring-admin"
ADMIN = {"Authorization": f"Bearer {TOKEN}"}


def source(path: str) -> str:
    return (PACKAGE / "submissions" / path).read_text()


def zipped(folder: Path) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                archive.write(path, f"triangle/{path.relative_to(folder).as_posix()}")
    return buffer.getvalue()


async def exec_(client: Client, code: str) -> Any:
    response = await client.post("/exec", json={"id": "triangle", "code": code})
    assert response.status == 200, await response.text()
    return await response.json()


async def job(client: Client, code: str, headers: dict[str, str]) -> Any:
    response = await client.post(
        "/api/v1/submissions?wait=true",
        json={"problem_id": "triangle", "language": "python", "source": code},
        headers=headers,
    )
    assert response.status == 200, await response.text()
    return await response.json()


async def test_a_scoring_package_judged_for_points(
    service: Callable[..., Any], database_url: str
) -> None:
    client: Client = await service(
        admin_token=TOKEN, database_url=database_url, seed_demo_problems=False
    )
    form = FormData()
    form.add_field("package", zipped(PACKAGE), filename="triangle.zip")
    response = await client.post("/api/v1/problems/import", data=form, headers=ADMIN)
    assert response.status == 201, await response.text()

    full = await exec_(client, source("accepted/exact.py"))
    assert full["passed"] and (full["score"], full["max_score"]) == (100, 100)
    assert set(full) >= {"error", "shownTests", "shownPassed", "shownFailed", "hiddenTests"}
    half = await exec_(client, source("partially_accepted/off_by_one.py"))
    # every test accepted at half its points: min(20, 20) + 3 * 10
    assert half["passed"] and half["score"] == 50
    small = await exec_(client, source("partially_accepted/small_only.py"))
    assert not small["passed"] and small["score"] == 40
    assert small["hiddenTests"] == {"passed": 2, "failed": 3}
    zero = await exec_(client, source("wrong_answer/zero.py"))
    assert zero["score"] == 0 and not zero["passed"]

    # The jobs API: the score and each group's, for admins and contestants alike.
    for headers in (ADMIN, {}):
        body = await job(client, source("partially_accepted/small_only.py"), headers)
        assert (body["score"], body["max_score"]) == (40, 100)
        assert [(g["name"], g["score"], g["max_score"], g["verdict"]) for g in body["groups"]] == [
            ("secret/group1", 40, 40, "AC"),
            ("secret/group2", 0, 60, "WA"),
        ]
        assert body["groups"][1]["tests"] == [4, 5, 6]
        scores = [r.get("score") for r in body["results"]]
        # per test: admins see each one's; a contestant only the shown test's (none:
        # samples are not scored)
        assert scores == ([None, 40, 40, 0, 0, 0] if headers else [None] * 6)
    stored = await client.get(f"/api/v1/submissions/{body['id']}", headers=ADMIN)
    assert (await stored.json())["score"] == 40  # read back from the store

    # A pass-fail problem's answers have no score fields.
    response = await client.post(
        "/api/v1/problems",
        json={"id": "plain", "tests": [{"input": "1\n", "expected_output": "1\n"}]},
        headers=ADMIN,
    )
    assert response.status == 201, await response.text()
    plain = await client.post("/exec", json={"id": "plain", "code": "print(input())"})
    assert "score" not in await plain.json()
