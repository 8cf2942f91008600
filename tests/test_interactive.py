"""Interactive problems between real sandboxes: the Kattis packages written here
(tests/data/kattis/guess: a Python interactor, 2023-07 layout; guess-legacy: a C++ one,
legacy layout) imported over HTTP, their own submissions judged through /exec and the
jobs API, and interactors that misbehave. The verdict rules are
tests/unit/test_interaction.py's."""

from __future__ import annotations

import asyncio
import io
import json
import subprocess
import sys
import time
import zipfile
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from aiohttp import FormData
from aiohttp.test_utils import TestClient

from tests.conftest import started_service

pytestmark = [pytest.mark.docker, pytest.mark.asyncio(loop_scope="module")]

Client = TestClient[Any, Any]
PACKAGES = Path(__file__).parent / "data" / "kattis"
TOKEN = "interactive-admin"
ADMIN = {"Authorization": f"Bearer {TOKEN}"}
LANGUAGE_OF = {".py": "python", ".c": "c", ".cpp": "cpp"}


def zipped(folder: Path, extra: dict[str, str] | None = None) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                archive.write(path, f"{folder.name}/{path.relative_to(folder).as_posix()}")
        for name, text in (extra or {}).items():
            archive.writestr(f"{folder.name}/{name}", text)
    return buffer.getvalue()


async def upload(client: Client, data: bytes, problem_id: str) -> tuple[int, Any]:
    form = FormData()
    form.add_field("id", problem_id)
    form.add_field("package", data, filename=f"{problem_id}.zip", content_type="application/zip")
    response = await client.post("/api/v1/problems/import", data=form, headers=ADMIN)
    return response.status, await response.json()


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def client(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Client]:
    service = await started_service(
        tmp_path_factory.mktemp("interactive"), "interactive", admin_token=TOKEN,
        seed_demo_problems=False, languages=("python", "c", "cpp"), concurrency=2,
    )  # fmt: skip
    for name in ("guess", "guess-legacy"):
        status, body = await upload(service, zipped(PACKAGES / name), name)
        assert status == 201, body
    yield service
    await service.close()


async def job(client: Client, problem: str, source: str, language: str) -> Any:
    response = await client.post(
        "/api/v1/submissions?wait=true",
        json={"problem_id": problem, "language": language, "source": source},
        headers=ADMIN,
    )
    assert response.status == 200, await response.text()
    return await response.json()


def final_verdict(verdicts: list[str]) -> str:
    """Kattis' submission verdict: the first test that is not accepted, else AC."""
    return next((v for v in verdicts if v != "AC"), "AC")


EXPECTED = {"accepted": "AC", "wrong_answer": "WA", "time_limit_exceeded": "TLE",
            "run_time_error": "RE"}  # fmt: skip
SUBMISSIONS = sorted(
    (package, path)
    for package in ("guess", "guess-legacy")
    for path in (PACKAGES / package / "submissions").rglob("*.*")
)


@pytest.mark.parametrize(
    ("package", "path"), SUBMISSIONS, ids=[f"{p}/{s.parent.name}/{s.name}" for p, s in SUBMISSIONS]
)
async def test_each_submission_gets_what_its_folder_says(
    client: Client, package: str, path: Path
) -> None:
    source = path.read_text()  # noqa: ASYNC240 (a small file)
    body = await job(client, package, source, LANGUAGE_OF[path.suffix])
    verdicts = [t["verdict"] for t in body["results"]]
    assert len(verdicts) == 5
    assert final_verdict(verdicts) == EXPECTED[path.parent.name], body


async def test_exec_shows_the_conversation_and_the_interactors_feedback(client: Client) -> None:
    source = (PACKAGES / "guess/submissions/accepted/bisect.py").read_text()
    response = await client.post("/exec", json={"id": "guess", "code": source})
    body = await response.json()
    assert response.status == 200 and body["passed"], body
    assert body["hiddenTests"] == {"passed": 4, "failed": 0}
    (sample,) = body["shownTests"]
    assert sample["got"] == "5\n8\n6\n7"  # what the submission said (secret 7 of 10)
    assert sample["feedback"] == "found in 4 guesses"  # teammessage.txt

    wrong = (PACKAGES / "guess/submissions/wrong_answer/words.py").read_text()
    body = await (await client.post("/exec", json={"id": "guess", "code": wrong})).json()
    assert not body["passed"] and body["shownTests"][0]["verdict"] == "WA"
    assert "is not a number: 'five" in body["shownTests"][0]["feedback"]


async def test_the_submission_cannot_see_the_interactors_files(client: Client) -> None:
    """The interactor reads the test's input and answer in its own sandbox; the
    submission's holds neither, nor the feedback folder."""
    snoop = (
        "import os\n"
        "n = int(input())\n"
        "seen = [p for p in ('input', 'answer', '/tmp/feedback', '/sandbox/input')"
        " if os.path.exists(p)]\n"
        "print('seen', *seen, flush=True)\n"
    )
    body = await job(client, "guess", snoop, "python")
    sample = body["results"][0]
    assert sample["verdict"] == "WA"
    assert sample["got"] == "seen"  # nothing of the interactor's exists here


async def interactive_problem(client: Client, problem_id: str, interactor: str) -> None:
    """A problem whose interactor is ``interactor`` (Python), made through the API."""
    response = await client.put(
        f"/api/v1/problems/{problem_id}",
        json={
            "title": problem_id,
            "time_limit_ms": 1000,
            "checker": {"mode": "interactive", "language": "python", "source": interactor},
            "tests": [{"input": "1\n", "expected_output": ""}],
        },
        headers=ADMIN,
    )
    assert response.status in (200, 201), await response.text()


@pytest.mark.parametrize(
    ("interactor", "submission", "verdict", "within_s"),
    [
        # hangs without reading: the submission waits for it and times out (its own
        # wall limit comes first); the interactor is stopped with it
        ("import time\ntime.sleep(600)\n", "input()\n", "TLE", 30),
        # floods a submission that does not read: bounded by back-pressure and limits
        ("import sys\nwhile True:\n    sys.stdout.write('x' * 65536)\n",
         "import time\ntime.sleep(600)\n", "TLE", 30),
        # floods a submission that reads it all: the interactor's output bound (64 MiB)
        # ends it, or on a busy machine the submission's extended wall limit first
        ("import sys\nwhile True:\n    sys.stdout.write('x' * 65536)\n",
         "import sys\nwhile sys.stdin.buffer.read(65536):\n    pass\n", "IE|TLE", 60),
        # accepts at once, before the submission even starts talking: it must still end
        ("raise SystemExit(42)\n", "print(1, flush=True)\n", "AC", 30),
        ("raise SystemExit(42)\n", "import time\ntime.sleep(600)\n", "TLE", 30),
        # crashes: not the submission's fault
        ("raise RuntimeError('bug')\n", "print(1, flush=True)\ninput()\n", "IE", 30),
        # a huge feedback file is cut, not carried whole
        ("import sys\nopen(sys.argv[3] + '/judgemessage.txt', 'w').write('y' * 50_000_000)\n"
         "raise SystemExit(43)\n", "print(1)\n", "WA", 60),
        # answers every query while the submission floods queries and never reads the
        # answers: both block on the other; the submission's wall limit ends it (waiting
        # on the interactor is not credited) and its runner still gets its answer out
        # (what it wrote is passed on at the interactor's pace, ended by its wall limit)
        ("import sys\nfor query in sys.stdin:\n    print('answer', query, end='', flush=True)\n",
         "import sys\nwhile True:\n    sys.stdout.write('?\\n' * 65536)\n", "TLE", 45),
    ],
    ids=["hangs", "floods-idle", "floods-reader", "early-ac", "early-ac-hang", "crashes",
         "huge-feedback", "both-flood"],
)  # fmt: skip
async def test_misbehaving_interactors_get_a_clear_verdict_in_bounded_time(
    client: Client, interactor: str, submission: str, verdict: str, within_s: float
) -> None:
    problem_id = f"bad-{abs(hash(interactor)) % 10**8}"
    await interactive_problem(client, problem_id, interactor)
    started = time.monotonic()
    body = await job(client, problem_id, submission, "python")
    assert time.monotonic() - started < within_s
    (test,) = body["results"]
    assert test["verdict"] in verdict.split("|"), str(test)[:600]
    assert len(test.get("feedback") or "") <= 70_000
    health = await client.get("/healthz")
    assert health.status == 200


async def test_grade_cli_grades_against_an_interactive_package(tmp_path: Path) -> None:
    """The grade command's local package path: the interactor (C++) is built from the
    package and every source judged by talking to it."""
    guess = PACKAGES / "guess-legacy" / "submissions"
    done = await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-m", "codeexec", "grade", str(PACKAGES / "guess-legacy"),
         str(guess / "accepted" / "bisect.py"), str(guess / "wrong_answer" / "count_up.py"),
         "--json", str(tmp_path / "r.json")],
        capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert done.returncode == 1, done.stderr  # one source fails, as expected
    report = json.loads((tmp_path / "r.json").read_text())
    verdicts = {Path(g["source"]).name: g["job"]["verdict"] for g in report["graded"]}
    assert verdicts == {"bisect.py": "AC", "count_up.py": "WA"}
