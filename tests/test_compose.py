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
from contextlib import contextmanager

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


@contextmanager
def compose_stack(docker_engine: object, profile: str | None = None) -> Iterator[str]:
    """The stack up, the default one or with ``profile`` instead of the codeexec
    service; the URL of its published API."""
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
        "CODEEXEC_API_PORT": str(port),  # the workers profile's API
        "CODEEXEC_INSTANCE_NAME": project,
        "CODEEXEC_LANGUAGES": "python",  # the smoke test needs one image, not eight
        "CODEEXEC_ADMIN_TOKEN": ADMIN_TOKEN,
    }
    base = [*compose, "-p", project, "-f", str(REPO / "docker-compose.yml")]
    logs = ["codeexec"]
    up = [*base, "up", "-d", "--no-build"]
    if profile is not None:
        base += ["--profile", profile]
        logs = ["api", "worker-1", "worker-2"]
        up = [*base, "up", "-d", "--no-build", "--scale", "codeexec=0"]
    subprocess.run(up, env=env, check=True, cwd=REPO)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        for service in logs:
            printed = subprocess.run(
                [*base, "logs", "--no-color", service],
                env=env,
                cwd=REPO,
                capture_output=True,
                text=True,
            )
            print(printed.stdout[-4000:])
        subprocess.run([*base, "down", "-v", "--timeout", "30"], env=env, cwd=REPO, check=False)
        for suffix in ("", "-worker-1", "-worker-2"):
            assert sandboxes_of(docker_engine, project + suffix) == []  # type: ignore[arg-type]


@pytest.fixture
def stack(docker_engine: object) -> Iterator[str]:
    with compose_stack(docker_engine) as url:
        yield url


def wait_ready(url: str) -> None:
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        try:
            if requests.get(f"{url}/readyz", timeout=5).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(1)
    raise AssertionError("the compose stack never became ready")


def test_the_workers_profile_judges_on_its_workers(docker_engine: object) -> None:
    with compose_stack(docker_engine, "workers") as api:
        wait_ready(api)  # the API: ready without Docker
        ids = []
        for _ in range(6):
            body = {"problem_id": "HQ000000000000000002", "source": SEED_REQUEST["code"]}
            created = requests.post(f"{api}/api/v1/submissions", json=body, timeout=30)
            assert created.status_code == 202, created.text
            ids.append(created.json()["id"])
        deadline, jobs = time.monotonic() + 300, []
        while time.monotonic() < deadline:  # the workers build their image first
            jobs = [requests.get(f"{api}/api/v1/submissions/{i}", timeout=10).json() for i in ids]
            if all(job["done"] for job in jobs):
                break
            time.sleep(1)
        assert [job["verdict"] for job in jobs] == ["AC"] * 6, jobs
        assert {job["worker"] for job in jobs} <= {"worker-1", "worker-2"}
        seed = requests.post(f"{api}/exec", json=SEED_REQUEST, timeout=120)
        assert seed.status_code == 200 and seed.json()["passed"] is True, seed.text


def test_compose_stack_answers_the_seed_request(stack: str) -> None:
    wait_ready(stack)
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
