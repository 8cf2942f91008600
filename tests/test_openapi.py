"""The OpenAPI document against the real service: served open, valid, and true. Real
answers of every door are checked against it (by status), the /docs page is served
with its own files and nothing from another host, and a client generated from the
document by openapi-python-client submits a job and reads its result."""

from __future__ import annotations

import asyncio
import importlib
import json
import re
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from aiohttp import ClientResponse
from aiohttp.test_utils import TestClient, TestServer
from jsonschema import Draft202012Validator
from openapi_spec_validator import validate

from codeexec.http import docs_view
from codeexec.http.app import make_app
from codeexec.http.exec_view import SEED_REQUEST
from tests.conftest import base_settings, started_service

pytestmark = [pytest.mark.docker, pytest.mark.asyncio(loop_scope="module")]

Client = TestClient[Any, Any]
ADMIN = {"Authorization": "Bearer openapi-admin-token"}
PROBLEM = "HQ000000000000000002"  # seed 004's demo problem
GENERATOR = Path(sys.executable).with_name("openapi-python-client")


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def client(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Client]:
    service = await started_service(
        tmp_path_factory.mktemp("openapi"), "openapi", languages=("python",),
        job_poll_s=0.05, admin_token="openapi-admin-token",
    )  # fmt: skip
    yield service
    await service.close()


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def document(client: Client) -> dict[str, Any]:
    response = await client.get("/api/v1/openapi.json")
    assert response.status == 200
    found: dict[str, Any] = await response.json()
    return found


def _template(document: dict[str, Any], path: str) -> str:
    """The document's path template ``path`` matches (literal segments first)."""
    templates = sorted(document["paths"], key=lambda t: (t.count("{"), -len(t)))
    for template in templates:
        if re.fullmatch(re.sub(r"\\\{\w+\\\}", "[^/]+", re.escape(template)), path):
            return template
    raise AssertionError(f"{path} is not in the document")


async def conforms(document: dict[str, Any], response: ClientResponse) -> Any:
    """The response's body, after checking that the document names its status for its
    route and that the body fits the schema given for it."""
    method = response.method.lower()
    template = _template(document, response.url.path)
    replies = document["paths"][template][method]["responses"]
    status = str(response.status)
    assert status in replies, f"{method} {template}: {status} is not documented"
    content = replies[status].get("content")
    if response.status in (204, 303) or content is None:
        assert content is None, f"{method} {template} {status}: a body is documented"
        return None
    media = response.content_type
    assert media in content, f"{method} {template} {status}: {media} is not documented"
    if media != "application/json":
        return await response.read()
    body = await response.json()
    schema = content[media]["schema"] | {"components": document["components"]}
    errors = sorted(Draft202012Validator(schema).iter_errors(body), key=str)
    assert not errors, f"{method} {template} {status}: {[e.message for e in errors[:3]]}"
    return body


async def test_the_document_is_served_valid_and_open(client: Client, tmp_path: Path) -> None:
    response = await client.get("/api/v1/openapi.json")
    validate(await response.json())
    # Open even where every other route needs a token.
    closed = make_app(
        base_settings(database_url=f"sqlite:///{tmp_path / 's.sqlite3'}", auth="on"),
        judging=False,
    )
    async with TestClient(TestServer(closed)) as other:
        assert (await other.get("/api/v1/languages")).status == 401
        served = await other.get("/api/v1/openapi.json")
        assert served.status == 200
        security = (await served.json())["paths"]["/api/v1/submissions"]["post"]["security"]
        assert {} not in security  # anonymous callers are not served there


async def test_the_docs_page_is_served_with_its_own_files(client: Client) -> None:
    if not (docs_view.ASSETS / docs_view.PAGE).is_file():
        pytest.fail("the /docs page is not built: run `make frontend` (scripts/frontend.sh)")
    page = await client.get("/docs")
    assert page.status == 200 and page.content_type == "text/html"
    html = await page.text()
    assert not re.search(r"(?i)(https?:)?//[a-z0-9]", html)  # no CDN, nothing external
    linked = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert "/docs/swagger-ui-bundle.js" in linked and "/docs/docs.js" in linked
    for url in linked:
        asset = await client.get(url)
        assert asset.status == 200, url
        assert len(await asset.read()) > 0
    script = await (await client.get("/docs/docs.js")).text()
    assert "/api/v1/openapi.json" in script and not re.search(r"https?://", script)
    assert (await client.get("/docs/../pyproject.toml")).status == 404
    assert (await client.get("/docs/.hidden")).status == 404


async def test_without_its_files_docs_says_how_to_build_them(
    client: Client, document: dict[str, Any], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(docs_view, "ASSETS", tmp_path / "missing")
    for url in ("/docs", "/docs/swagger-ui.css"):
        response = await client.get(url)
        assert response.status == 503
        body = await conforms(document, response)
        assert "make frontend" in body["detail"]


async def _finished(client: Client, sid: str) -> None:
    for _ in range(600):
        found = await (await client.get(f"/api/v1/submissions/{sid}")).json()
        if found["done"]:
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"{sid} did not finish")


async def test_real_answers_fit_the_document(client: Client, document: dict[str, Any]) -> None:
    async def check(response: ClientResponse, status: int) -> Any:
        assert response.status == status, await response.text()
        return await conforms(document, response)

    c = client
    await check(await c.post("/exec", json=SEED_REQUEST), 200)
    await check(await c.post("/exec", json={"code": 5}), 400)
    await check(await c.post("/exec", data=b"{", headers={"Content-Type": "text/plain"}), 415)
    await check(await c.post("/exec", json={"id": "nope", "code": "print(1)"}), 404)
    await check(await c.get("/healthz"), 200)
    await check(await c.get("/readyz"), 200)
    await check(await c.get("/api/v1/languages"), 200)

    # submissions
    job = {"problem_id": PROBLEM, "source": "print(input().lower())"}
    made = await check(await c.post("/api/v1/submissions?wait=true", json=job), 200)
    sid = made["id"]
    await check(await c.get(f"/api/v1/submissions/{sid}"), 200)
    await check(await c.get(f"/api/v1/submissions/{sid}/status", allow_redirects=False), 303)
    await check(await c.get(f"/api/v1/submissions/{sid}/result"), 200)
    await check(await c.get(f"/api/v1/submissions/{sid}", headers=ADMIN), 200)
    await check(await c.get(f"/api/v1/submissions/{sid}/events"), 200)
    stream = await c.get(f"/api/v1/submissions/{sid}/events?stream=true")
    assert "event: finished" in (await check(stream, 200)).decode()
    await check(await c.get("/api/v1/submissions?limit=5&sort=created_at"), 200)
    await check(await c.get("/api/v1/submissions?limit=0"), 400)
    await check(await c.post(f"/api/v1/submissions/{sid}/cancel"), 200)
    again = await check(await c.post(f"/api/v1/submissions/{sid}/rerun"), 202)
    await check(await c.get(f"/api/v1/submissions/{again['id']}/status"), 200)
    await _finished(c, again["id"])
    batch = await check(await c.post("/api/v1/submissions/batch", json={"submissions": [job]}), 202)
    await check(await c.get(f"/api/v1/submissions/batch?ids={batch['items'][0]['id']},x"), 200)
    await _finished(c, batch["items"][0]["id"])
    await check(await c.post("/api/v1/submissions", json={"problem_id": PROBLEM, "x": 1}), 422)
    await check(await c.get("/api/v1/submissions/nope"), 404)
    await check(await c.delete(f"/api/v1/submissions/{sid}"), 204)

    # runs
    run = {"source": "print(input()[::-1])", "stdin": "abc", "repeat": 2}
    ran = await check(await c.post("/api/v1/runs?wait=true", json=run), 200)
    await check(await c.get(f"/api/v1/runs/{ran['id']}"), 200)
    await check(await c.post("/api/v1/runs", json={"source": "x", "stdin_b64": "!"}), 422)

    # problems and tests
    problem = {"id": "oa-sum", "title": "Sum", "screening": {"python": ["sorted"]}, "tests": [
        {"input": "1 2\n", "expected_output": "3\n"},
        {"input_base64": "/w==", "expected_output": "x\n", "hidden": True},
    ]}  # fmt: skip
    await check(await c.post("/api/v1/problems", json=problem), 401)
    await check(await c.post("/api/v1/problems", json=problem, headers=ADMIN), 201)
    await check(await c.post("/api/v1/problems", json=problem, headers=ADMIN), 409)
    await check(await c.post("/exec", json={"id": "oa-sum", "code": "print(sorted([1]))"}), 403)
    await check(await c.get("/api/v1/problems"), 200)
    await check(await c.get("/api/v1/problems/oa-sum"), 200)
    await check(await c.get("/api/v1/problems/oa-sum", headers=ADMIN), 200)
    await check(await c.get("/api/v1/problems/oa-sum?tests=summary"), 200)
    await check(await c.get("/api/v1/problems/oa-sum/tests", headers=ADMIN), 200)
    await check(await c.get("/api/v1/problems/oa-sum/tests/2"), 200)
    await check(await c.get("/api/v1/problems/oa-sum/tests/9"), 404)
    patch = {"checker": {"mode": "tokens", "args": ["float_tolerance", "1e-6"]}}
    await check(await c.patch("/api/v1/problems/oa-sum", json=patch, headers=ADMIN), 200)
    await check(await c.get("/api/v1/problems/oa-sum", headers=ADMIN), 200)
    order = {"order": [2, 1]}
    await check(await c.put("/api/v1/problems/oa-sum/tests/order", json=order, headers=ADMIN), 200)
    await check(await c.delete("/api/v1/problems/oa-sum", headers=ADMIN), 204)

    # keys
    key = await check(await c.post("/api/v1/keys", json={"name": "oa"}, headers=ADMIN), 201)
    await check(await c.get("/api/v1/keys", headers=ADMIN), 200)
    await check(await c.get(f"/api/v1/keys/{key['id']}", headers=ADMIN), 200)
    await check(await c.delete(f"/api/v1/keys/{key['id']}", headers=ADMIN), 200)
    await check(await c.get("/api/v1/keys/nope", headers=ADMIN), 404)
    await check(await c.get("/api/v1/languages", headers={"Authorization": "Bearer bad"}), 401)

    # Judge0
    j0 = {"source_code": "print(input())", "language_id": 71, "stdin": "hi"}
    done = await check(await c.post("/judge0/submissions?wait=true&fields=*", json=j0), 201)
    token = await check(await c.post("/judge0/submissions", json=j0), 201)
    await check(await c.get(f"/judge0/submissions/{done['token']}?fields=*"), 200)
    await check(await c.get(f"/judge0/submissions/{done['token']}?fields=nope"), 400)
    await check(await c.get("/judge0/submissions/00000000-0000-0000-0000-000000000000"), 404)
    await check(await c.get("/judge0/submissions?per_page=2"), 200)
    await check(await c.post("/judge0/submissions", json={"language_id": 71}), 422)
    batch0 = await check(await c.post("/judge0/submissions/batch", json={"submissions": [j0]}), 201)
    tokens = ",".join([batch0[0]["token"], token["token"]])
    await check(await c.get(f"/judge0/submissions/batch?tokens={tokens}"), 200)
    await check(await c.post("/judge0/submissions/batch", json={"submissions": []}), 400)
    for path in (
        "languages",
        "languages/all",
        "languages/71",
        "statuses",
        "about",
        "config_info",
        "system_info",
        "workers",
        "version",
        "isolate",
        "license",
    ):
        await check(await c.get(f"/judge0/{path}"), 200)  # fmt: skip
    await check(await c.get("/judge0/languages/99999"), 404)

    # Piston
    await check(await c.get("/piston/api/v2/runtimes"), 200)
    execute = {"language": "python", "version": "*", "files": [{"content": "print(2)"}]}
    await check(await c.post("/piston/api/v2/execute", json=execute), 200)
    await check(await c.post("/piston/api/v2/execute/", json=execute | {"version": "9"}), 400)

    # the document and the page
    await check(await c.get("/api/v1/openapi.json"), 200)
    await check(await c.get("/docs"), 200)


async def test_a_generated_client_submits_a_job(
    client: Client, document: dict[str, Any], tmp_path: Path
) -> None:
    spec = tmp_path / "openapi.json"
    spec.write_text(json.dumps(document))
    package = tmp_path / "codeexec_api"
    made = await asyncio.to_thread(
        subprocess.run,
        [str(GENERATOR), "generate", "--path", str(spec), "--meta", "none",
         "--output-path", str(package)],
        capture_output=True, text=True, timeout=240,
    )  # fmt: skip
    assert made.returncode == 0, made.stdout + made.stderr
    sys.path.insert(0, str(tmp_path))
    try:
        api = importlib.import_module("codeexec_api")
        models = importlib.import_module("codeexec_api.models")
        create = importlib.import_module("codeexec_api.api.submissions.create_submission")
        result = importlib.import_module("codeexec_api.api.submissions.get_submission_result")
        run_exec = importlib.import_module("codeexec_api.api.exec_.exec_")
    finally:
        sys.path.remove(str(tmp_path))
    base = str(client.make_url("")).rstrip("/")
    async with api.AuthenticatedClient(base_url=base, token="openapi-admin-token") as generated:
        body = models.SubmissionIn(problem_id=PROBLEM, source="print(input().lower())")
        answer = await create.asyncio_detailed(client=generated, body=body)
        assert answer.status_code == 202, answer.content
        queued = answer.parsed
        assert isinstance(queued, models.SubmissionOut) and queued.problem_id == PROBLEM
        await _finished(client, queued.id)
        judged = await result.asyncio(client=generated, sid=queued.id)
        assert isinstance(judged, models.SubmissionOut), judged
        assert judged.verdict == "AC" and judged.passed is True
        assert judged.tests.hidden.passed == 2
        seed = await run_exec.asyncio(
            client=generated, body=models.ExecRequest.from_dict(SEED_REQUEST)
        )
        assert isinstance(seed, models.ExecResponse) and seed.passed is True
        assert [t.got for t in seed.shown_tests] == ["dan", "perez"]
