"""Importing the shared Kattis packages (folder and zip; CLI and HTTP) into SQLite and
MariaDB, then judging our own solutions against them through the real service."""

from __future__ import annotations

import io
import os
import shutil
import subprocess
import sys
import tracemalloc
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from aiohttp import FormData
from aiohttp.test_utils import TestClient

Client = TestClient[Any, Any]
KATTIS = Path(__file__).resolve().parents[2] / "shared/testdata/kattis"
TOKEN = "import-admin"
ADMIN = {"Authorization": f"Bearer {TOKEN}"}

HELLO = 'print("Hello World!")'
DIFFERENT_PY = """\
import sys
for line in sys.stdin:
    a, b = map(int, line.split())
    print(abs(a - b))
"""
DIFFERENT_PY_WRONG = DIFFERENT_PY.replace("abs(a - b)", "a - b")
DIFFERENT_C = """\
#include <stdio.h>
#include <stdlib.h>
int main(void) {
    long long a, b;
    while (scanf("%lld %lld", &a, &b) == 2) printf("%lld\\n", llabs(a - b));
    return 0;
}
"""


def zipped(folder: Path, top: str | None = None) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                rel = path.relative_to(folder).as_posix()
                archive.write(path, f"{top}/{rel}" if top else rel)
    return buffer.getvalue()


def cli_import(database_url: str, *args: str | Path) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, CODEEXEC_DATABASE_URL=database_url, CODEEXEC_LOG_LEVEL="WARNING")
    return subprocess.run(
        [sys.executable, "-m", "codeexec", "problems", "import", *map(str, args)],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


async def judge(client: Client, problem_id: str, code: str, language: str = "python") -> Any:
    response = await client.post(
        "/exec", json={"id": problem_id, "code": code, "language": language}
    )
    assert response.status == 200, await response.text()
    return await response.json()


async def test_cli_imports_both_packages_then_they_judge(
    service: Callable[..., Any], database_url: str, tmp_path: Path
) -> None:
    archive = tmp_path / "different.zip"
    archive.write_bytes(zipped(KATTIS / "different", "different"))
    refused = cli_import(database_url, KATTIS / "hello", archive)
    assert refused.returncode == 1  # hello imported; different needs a checker
    assert "created, problem 'hello' version 1" in refused.stderr
    assert "custom output validator" in refused.stderr
    done = cli_import(database_url, archive, "--checker", "tokens")
    assert done.returncode == 0, done.stderr
    assert "1 shown + 2 hidden tests, checker tokens" in done.stderr
    again = cli_import(database_url, KATTIS / "hello")
    assert "replaced, now problem 'hello' version 2" in again.stderr

    client: Client = await service(database_url=database_url, seed_demo_problems=False)
    assert (await judge(client, "hello", HELLO))["passed"]
    assert (await judge(client, "hello", 'print("hello world!")'))["passed"]  # no case
    assert not (await judge(client, "hello", 'print("Hello World")'))["passed"]
    result = await judge(client, "different", DIFFERENT_PY)
    assert result["passed"] and result["hiddenTests"] == {"passed": 2, "failed": 0}
    wrong = await judge(client, "different", DIFFERENT_PY_WRONG)
    assert not wrong["passed"] and wrong["hiddenTests"]["failed"] >= 1
    assert (await judge(client, "different", DIFFERENT_C, "c"))["passed"]


async def upload(client: Client, data: bytes, filename: str, **fields: str) -> tuple[int, Any]:
    form = FormData()
    for name, value in fields.items():
        form.add_field(name, value)
    form.add_field("package", data, filename=filename, content_type="application/zip")
    response = await client.post("/api/v1/problems/import", data=form, headers=ADMIN)
    return response.status, await response.json()


async def test_http_import_of_zips(service: Callable[..., Any]) -> None:
    client: Client = await service(admin_token=TOKEN, seed_demo_problems=False)
    package = zipped(KATTIS / "different", "different")
    status, body = await upload(client, package, "different.zip")
    assert status == 422 and "custom output validator" in body["detail"]
    status, body = await upload(client, package, "different.zip", checker="tokens")
    assert status == 201, body
    assert body["id"] == "different" and body["tests"] == {"shown": 1, "hidden": 2}
    status, body = await upload(client, package, "different.zip", checker="tokens", id="diff2")
    assert status == 201 and body["id"] == "diff2"
    status, body = await upload(client, package, "different.zip", checker="tokens")
    assert status == 200 and body["version"] == 2  # imported again: a new version
    assert (await judge(client, "different", DIFFERENT_PY))["passed"]

    # The zip as the body, named by a query parameter.
    response = await client.post(
        "/api/v1/problems/import?name=hello.zip",
        data=zipped(KATTIS / "hello"),
        headers=ADMIN | {"Content-Type": "application/zip"},
    )
    assert response.status == 201, await response.text()
    assert (await judge(client, "hello", HELLO))["passed"]

    response = await client.post("/api/v1/problems/import", data=package)
    assert response.status == 401


def package_zip(files: dict[str, str], top: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, content in files.items():
            archive.writestr(f"{top}/{name}", content)
    return buffer.getvalue()


PERMUTATION_VALIDATOR = """\
import sys
answer = sorted(open(sys.argv[2]).read().split())
if sorted(sys.stdin.read().split()) == answer:
    sys.exit(42)
open(sys.argv[3] + "judgemessage.txt", "w").write("not a permutation")
sys.exit(43)
"""


async def test_package_with_a_custom_output_validator(service: Callable[..., Any]) -> None:
    client: Client = await service(admin_token=TOKEN, seed_demo_problems=False)
    files = {
        "problem.yaml": "problem_format_version: 2023-07-draft\nname: Any order\n",
        "data/sample/1.in": "3\n",
        "data/sample/1.ans": "1 2 3\n",
        "data/secret/g1/1.in": "5\n",
        "data/secret/g1/1.ans": "1 2 3 4 5\n",
        "output_validator/validate.py": PERMUTATION_VALIDATOR,
    }
    status, body = await upload(client, package_zip(files, "anyorder"), "anyorder.zip")
    assert status == 201, body
    assert body["checker"]["mode"] == "custom" and body["layout"] == "2023-07"
    assert (await judge(client, "anyorder", "print(*range(int(input()), 0, -1))"))["passed"]
    wrong = await judge(client, "anyorder", "print(*range(int(input())))")
    assert not wrong["passed"]
    assert wrong["shownTests"][0]["feedback"] == "not a permutation"

    broken = dict(files, **{"output_validator/validate.py": "", "output_validator/v.c": "x("})
    del broken["output_validator/validate.py"]
    status, body = await upload(client, package_zip(broken, "broken"), "broken.zip")
    assert status == 422 and body["error"] == "Checker does not compile"
    response = await client.get("/api/v1/problems/broken")
    assert response.status == 404  # nothing saved


async def test_hostile_uploads_are_refused(service: Callable[..., Any]) -> None:
    client: Client = await service(admin_token=TOKEN, seed_demo_problems=False, max_package_mb=1)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("evil/problem.yaml", "")
        archive.writestr("evil/../../escape.in", "x")
    status, body = await upload(client, buffer.getvalue(), "evil.zip")
    assert status == 422 and "escapes the package" in body["detail"]
    status, body = await upload(client, os.urandom(2 << 20), "big.zip")
    assert status == 413
    status, body = await upload(client, b"not a zip", "junk.zip")
    assert status == 422 and "not a zip" in body["detail"]
    response = await client.get("/api/v1/problems")
    assert (await response.json())["total"] == 0


async def test_package_attacks_over_http_are_refused_in_bounded_memory(
    service: Callable[..., Any],
) -> None:
    """The worst of tests/unit/test_kattis_packages.py through the endpoint: each is
    refused with 413 (over a limit) or 422 (not a package), and the service's memory
    while it answers stays far below what the package claims or holds."""
    from tests.unit.test_kattis_packages import (
        BZIP2_BOMB,
        YAML,
        Raw,
        billion_laughs,
        deflated_zeros,
        raw_zip,
    )

    client: Client = await service(
        admin_token=TOKEN, seed_demo_problems=False, max_package_mb=16, max_problem_body_mb=1
    )
    answer = Raw(b"data/secret/1.ans", b"1\n")

    def package(config: bytes, *entries: Raw) -> bytes:
        return raw_zip([Raw(b"problem.yaml", config), *entries, answer]).getvalue()

    one_in = Raw(b"data/secret/1.in", b"1\n")
    attacks = {
        "billion laughs": (package(billion_laughs().encode(), one_in), 422, "aliases"),
        "deep yaml": (package(b"name: " + b"[" * 50_000, one_in), 422, "nested"),
        "not a mapping": (package(b"- a\n- b\n", one_in), 422, "must be a mapping"),
        "many entries": (
            raw_zip([YAML] + [Raw(b"f%06d" % i) for i in range(30_000)]).getvalue(),
            413,
            "more than 20000 files",
        ),
        "ratio bomb": (
            package(
                b"name: x\n",
                Raw(b"data/secret/1.in", deflated_zeros(1 << 30), size=1 << 30, method=8),
            ),
            413,
            "data/secret/1.in holds 1073741824 bytes",
        ),
        "lying header": (
            package(
                b"name: x\n",
                Raw(b"data/secret/1.in", deflated_zeros(256 << 20), size=100, method=8),
            ),
            422,
            "CRC",
        ),
        "bzip2 bomb": (
            package(b"name: x\n", Raw(b"data/secret/1.in", BZIP2_BOMB, size=100, method=12)),
            422,
            "compression method 12",
        ),
        "test over the per-file limit": (
            package(b"name: x\n", Raw(b"data/secret/1.in", bytes(2 << 20))),
            413,
            "data/secret/1.in holds 2097152 bytes",
        ),
    }
    for attack, (data, status, message) in attacks.items():
        tracemalloc.start()
        try:
            got, body = await upload(client, data, "evil.zip")
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
        assert (got, attack) == (status, attack), body
        assert message in body["detail"], (attack, body)
        # The upload is spooled (up to 8 MiB in memory); nothing of it is expanded.
        assert peak < len(data) + (24 << 20), (attack, peak)
    response = await client.get("/api/v1/problems")
    assert (await response.json())["total"] == 0


async def test_cli_imports_a_folder_of_packages_whole(
    service: Callable[..., Any], database_url: str, tmp_path: Path
) -> None:
    """A contest's archive, unpacked: a folder whose subfolders are packages (here an
    interactive one and a pass-fail one) imports every one of them."""
    contest = tmp_path / "contest"
    shutil.copytree(Path(__file__).parent / "data" / "kattis" / "guess", contest / "guess")
    shutil.copytree(KATTIS / "hello", contest / "hello")
    (contest / "README.txt").write_text("not a package")
    done = cli_import(database_url, contest)
    assert done.returncode == 0, done.stderr
    assert "[1/2] guess: created, problem 'guess'" in done.stderr
    assert "checker interactive (python)" in done.stderr
    assert "[2/2] hello: created, problem 'hello'" in done.stderr
    refused = cli_import(database_url, contest, "--id", "x")
    assert refused.returncode == 2 and "--id needs exactly one package" in refused.stderr
    client: Client = await service(database_url=database_url)
    bisect = Path(__file__).parent / "data/kattis/guess/submissions/accepted/bisect.py"
    assert (await judge(client, "guess", bisect.read_text()))["passed"]
