"""Smoke test of the compose stack: MySQL-compatible database + the service, real engine.

This machine has no registry, so the base, database and service images are built locally
and the stack is pointed at them through the compose file's image variables.
"""

from __future__ import annotations

import io
import os
import shutil
import subprocess
import sys
import time
import uuid
import zipfile
from collections.abc import Iterator

import pytest
import requests

from tests.conftest import REPO, free_port_for_tests, sandboxes_of, unavailable

pytestmark = pytest.mark.compose

BASE = os.environ.get("CODEEXEC_SANDBOX_BASE", "local/debian:bookworm-slim")
SEED_REQUEST = {"code": "x = input()\nprint(x.lower())", "id": "HQ000000000000000002"}


def compose_command() -> list[str]:
    if shutil.which("docker-compose"):
        return ["docker-compose"]
    probe = subprocess.run(["docker", "compose", "version"], capture_output=True)
    if probe.returncode == 0:
        return ["docker", "compose"]
    unavailable("neither docker-compose nor docker compose is installed")
    raise AssertionError


def build(tag: str, context: str) -> None:
    subprocess.run(
        ["docker", "build", "-q", "--build-arg", f"BASE={BASE}", "-t", tag, context],
        cwd=REPO,
        check=True,
        stdout=subprocess.DEVNULL,
    )


def build_wheelhouse() -> None:
    """Wheels for an offline image build (containers here cannot reach PyPI)."""
    wheelhouse = REPO / "dist" / "wheelhouse"
    for old in wheelhouse.glob("*.whl"):
        old.unlink()
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--quiet",
            "--wheel-dir",
            str(wheelhouse),
            str(REPO),
        ],
        check=True,
    )


ADMIN_TOKEN = "compose-admin"


@pytest.fixture
def stack(docker_engine: object) -> Iterator[str]:
    compose = compose_command()
    build_wheelhouse()
    build("local/mariadb", "deploy/mariadb")
    build("codeexec:compose-test", ".")
    project = f"codeexec-smoke-{uuid.uuid4().hex[:8]}"
    port = free_port_for_tests()
    env = {
        **os.environ,
        "CODEEXEC_BASE_IMAGE": BASE,
        "CODEEXEC_MYSQL_IMAGE": "local/mariadb",
        "CODEEXEC_IMAGE": "codeexec:compose-test",
        "CODEEXEC_PORT": str(port),
        "CODEEXEC_INSTANCE_NAME": project,
        "CODEEXEC_LANGUAGES": "python",  # the smoke test needs one image, not eight
        "CODEEXEC_ADMIN_TOKEN": ADMIN_TOKEN,
    }
    base = [*compose, "-p", project, "-f", str(REPO / "docker-compose.yml")]
    subprocess.run([*base, "up", "-d", "--no-build"], env=env, check=True, cwd=REPO)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        logs = subprocess.run(
            [*base, "logs", "--no-color", "codeexec"],
            env=env,
            cwd=REPO,
            capture_output=True,
            text=True,
        )
        print(logs.stdout[-4000:])
        subprocess.run([*base, "down", "-v", "--timeout", "30"], env=env, cwd=REPO, check=False)
        assert sandboxes_of(docker_engine, project) == []  # type: ignore[arg-type]


def test_compose_stack_answers_the_seed_request(stack: str) -> None:
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        try:
            if requests.get(f"{stack}/readyz", timeout=5).status_code == 200:
                break
        except requests.RequestException:
            pass
        time.sleep(1)
    else:
        raise AssertionError("the compose stack never became ready")
    response = requests.post(f"{stack}/exec", json=SEED_REQUEST, timeout=60)
    assert response.status_code == 200
    body = response.json()
    assert body["passed"] is True
    assert [t["got"] for t in body["shownTests"]] == ["dan", "perez"]
    assert body["hiddenTests"] == {"failed": 0, "passed": 2}
    # The image has pandoc: a Kattis LaTeX statement is served as HTML.
    package = io.BytesIO()
    with zipfile.ZipFile(package, "w") as archive:
        archive.writestr("latex/problem.yaml", "name: LaTeX\n")
        archive.writestr("latex/data/sample/1.in", "1\n")
        archive.writestr("latex/data/sample/1.ans", "1\n")
        archive.writestr(
            "latex/problem_statement/problem.tex",
            "\\problemname{LaTeX}\nPrint \\emph{the number}.\n",
        )
    imported = requests.post(
        f"{stack}/api/v1/problems/import",
        files={"package": ("latex.zip", package.getvalue(), "application/zip")},
        data={"checker": "tokens"},
        headers={"Authorization": f"Bearer {ADMIN_TOKEN}"},
        timeout=60,
    )
    assert imported.status_code == 201, imported.text
    html = requests.get(f"{stack}/api/v1/problems/latex/statement?format=html", timeout=60)
    assert html.status_code == 200, html.text
    assert "<em>the number</em>" in html.json()["content"]
