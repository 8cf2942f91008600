"""What a caller sees of a problem (issue 12, class 7): every route, as a submitter and
as an anonymous caller, answers without a hidden test's name, size or data and without
the checker's source or arguments — errors, Server-Sent Events and webhook bodies
included. Markers planted in the hidden tests, the checker's source, its arguments and
its feedback are searched for in the raw text of every answer. Then the admin sees them.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from codeexec.http.web_view import ASSETS as WEB_ASSETS

Client = TestClient[Any, Any]
TOKEN = "visibility-admin"
ADMIN = {"Authorization": f"Bearer {TOKEN}"}
PROBLEM = "secretive"
BASE = "/api/v1/submissions"

MARKS = (
    "HIDDEN-IN-MARK",
    "HIDDEN-OUT-MARK",
    "HIDDEN-NAME-MARK",
    "CHECKER-SOURCE-MARK",
    "CHECKER-ARG-MARK",
    "CHECKER-FEEDBACK-MARK",
    "CHECKER-CRASH-MARK",
)
# All a contestant may know of a hidden test: where it is and how it went.
HIDDEN_TEST_KEYS = {"position", "hidden", "verdict", "total"}

CHECKER = """\
# CHECKER-SOURCE-MARK
import sys
answer = open(sys.argv[2]).read().split()
got = sys.stdin.read().split()
if got == answer:
    sys.exit(42)
if answer[0].endswith("3"):  # the checker itself fails: IE, its message only logged
    print("CHECKER-CRASH-MARK", *answer, file=sys.stderr)
    sys.exit(1)
with open(sys.argv[3] + "judgemessage.txt", "w") as f:
    f.write("CHECKER-FEEDBACK-MARK " + " ".join(answer) + " / " + " ".join(got))
with open(sys.argv[3] + "teammessage.txt", "w") as f:
    f.write("CHECKER-FEEDBACK-MARK " + " ".join(sys.argv[4:]))
sys.exit(43)
"""
# Echoes its input (wrong on the first hidden test: the checker's feedback then quotes
# the answer and the input) and crashes on the second, printing the input to stderr.
# Its own source holds no marker: a submitter sees its own files.
PROGRAM = """\
import sys
line = input()
if line.startswith("H") and line.endswith("2"):
    print(line, file=sys.stderr)
    sys.exit(1)
print(line)
"""


def problem_body() -> dict[str, Any]:
    return {
        "id": PROBLEM,
        "title": "Secretive",
        "statement": "Echo the line.",
        "checker": {
            "mode": "custom",
            "language": "python",
            "source": CHECKER,
            "args": ["CHECKER-ARG-MARK"],
        },
        "tests": [
            {"input": "shown\n", "expected_output": "shown\n", "name": "sample-1"},
            {
                "input": "HIDDEN-IN-MARK-1\n",
                "expected_output": "HIDDEN-OUT-MARK-1\n",
                "hidden": True,
                "name": "HIDDEN-NAME-MARK-1",
            },
            {
                "input": "HIDDEN-IN-MARK-2\n",
                "expected_output": "HIDDEN-OUT-MARK-2\n",
                "hidden": True,
                "name": "HIDDEN-NAME-MARK-2",
            },
            {
                "input": "HIDDEN-IN-MARK-3\n",
                "expected_output": "HIDDEN-OUT-MARK-3\n",
                "hidden": True,
                "name": "HIDDEN-NAME-MARK-3",
            },
        ],
    }


# Answers that hold schemas and examples, not data: only the marks are looked for (an
# example hidden test or a checker's schema is not a leak).
CONTRACTS = frozenset({"/api/v1/openapi.json", "/docs", "/docs/{name}", "/", "/web/assets/{name}"})


def leaks(text: str, route: str = "") -> list[str]:
    """What a contestant must not have seen in this answer (empty: nothing)."""
    found = [m for m in MARKS if m in text]
    if route in CONTRACTS:
        return found
    for document in _json_documents(text):
        found += _hidden_shapes(document)
    return found


def _json_documents(text: str) -> list[Any]:
    if text.lstrip().startswith(("{", "[")):
        return [json.loads(text)]
    # A Server-Sent Events stream: one JSON document per data line.
    return [json.loads(line[5:]) for line in text.splitlines() if line.startswith("data:")]


def _hidden_shapes(value: Any, where: str = "") -> list[str]:
    found: list[str] = []
    if isinstance(value, dict):
        if value.get("hidden") is True and set(value) - HIDDEN_TEST_KEYS:
            found.append(f"{where}: hidden test with {sorted(set(value) - HIDDEN_TEST_KEYS)}")
        checker = value.get("checker")
        if isinstance(checker, dict) and set(checker) - {"mode"}:
            found.append(f"{where}.checker: {sorted(checker)}")
        for key, item in value.items():
            found += _hidden_shapes(item, f"{where}.{key}")
    elif isinstance(value, list):
        for i, item in enumerate(value):
            found += _hidden_shapes(item, f"{where}[{i}]")
    return found


class Receiver:
    """A local webhook receiver."""

    def __init__(self) -> None:
        self.bodies: dict[str, str] = {}
        app = web.Application()
        app.router.add_post("/hook", self._hook)
        self.server = TestServer(app, host="127.0.0.1")

    async def _hook(self, request: web.Request) -> web.Response:
        self.bodies[request.headers["X-Codeexec-Delivery"]] = await request.text()
        return web.Response(status=204)

    async def body_of(self, sid: str) -> str:
        for _ in range(400):
            if sid in self.bodies:
                return self.bodies[sid]
            await asyncio.sleep(0.05)
        raise AssertionError(f"no webhook for {sid}")


Seen = list[tuple[str, str, int, str]]  # method, route, status, body text


async def _call(
    client: Client,
    seen: Seen,
    method: str,
    route: str,
    path: str,
    headers: dict[str, str],
    **kwargs: Any,
) -> str:
    response = await client.request(method, path, headers=headers, **kwargs)
    text = await response.text()
    seen.append((method, route, response.status, text))
    return text


async def audit(client: Client, headers: dict[str, str], receiver: Receiver) -> Seen:
    """Call every route as this caller; answers and the webhook body it caused."""
    seen: Seen = []

    async def call(
        method: str, route: str, path: str | None = None, more: dict[str, str] | None = None,
        **kwargs: Any,
    ) -> str:  # fmt: skip
        sent = headers | (more or {})
        return await _call(client, seen, method, route, path or route, sent, **kwargs)

    one, tests = f"/api/v1/problems/{PROBLEM}", f"/api/v1/problems/{PROBLEM}/tests"
    await call("GET", "/api/v1/problems")
    await call("GET", "/api/v1/problems/{problem_id}", one)
    await call("GET", "/api/v1/problems/{problem_id}", one + "?tests=summary")
    await call("GET", "/api/v1/problems/{problem_id}", "/api/v1/problems/nope")
    await call("GET", "/api/v1/problems/{problem_id}/tests", tests)
    for n in (1, 2, 3, 4, 5, "x"):
        await call("GET", "/api/v1/problems/{problem_id}/tests/{position}", f"{tests}/{n}")
    # Statement files and attachments: only what an import stored, never test data.
    await call("GET", "/api/v1/problems/{problem_id}/statement", one + "/statement")
    for name in ("problem.en.md", "data/secret/1.in", "..%2Fdata%2Fsecret%2F1.in"):
        await call("GET", "/api/v1/problems/{problem_id}/statement/files/{name}",
                   f"{one}/statement/files/{name}")  # fmt: skip
        await call("GET", "/api/v1/problems/{problem_id}/attachments/{name}",
                   f"{one}/attachments/{name}")  # fmt: skip
    await call("GET", "/api/v1/problems/{problem_id}/attachments", one + "/attachments")
    # Writes are the admin's; their refusals must not echo anything either.
    body = problem_body()
    await call("POST", "/api/v1/problems", json=body)
    await call("PUT", "/api/v1/problems/{problem_id}", one, json=body)
    await call("PATCH", "/api/v1/problems/{problem_id}", one, json={"title": "x"})
    await call("DELETE", "/api/v1/problems/{problem_id}", one)
    await call("POST", "/api/v1/problems/{problem_id}/tests", tests, json=body)
    await call("PUT", "/api/v1/problems/{problem_id}/tests", tests, json=body)
    await call("PUT", "/api/v1/problems/{problem_id}/tests/order", tests + "/order", json={})
    await call("PUT", "/api/v1/problems/{problem_id}/tests/{position}", tests + "/2", json={})
    await call("DELETE", "/api/v1/problems/{problem_id}/tests/{position}", tests + "/2")
    await call(
        "POST", "/api/v1/problems/import", data=b"PK", more={"Content-Type": "application/zip"}
    )
    await call("POST", "/api/v1/keys", json={"name": "x"})
    await call("GET", "/api/v1/keys")
    await call("GET", "/api/v1/keys/{key_id}", "/api/v1/keys/x")
    await call("DELETE", "/api/v1/keys/{key_id}", "/api/v1/keys/x")
    await call("GET", "/api/v1/languages")
    await call("GET", "/healthz")
    await call("GET", "/readyz")
    await call("GET", "/metrics")  # counts by language and verdict, never a problem
    await call("GET", "/api/v1/openapi.json")  # the contract: no data of any problem
    await call("GET", "/docs")
    await call("GET", "/docs/{name}", "/docs/docs.js")
    await call("GET", "/")  # the judge page: static files, data only through the API
    bundle = next((WEB_ASSETS / "assets").glob("index-*.js"), WEB_ASSETS / "index.js")
    await call("GET", "/web/assets/{name}", f"/web/assets/{bundle.name}")
    # Ad-hoc runs carry no problem: nothing of one can show, but every route is audited.
    run = {"language": "python", "source": PROGRAM, "stdin": "x"}
    text = await call("POST", "/api/v1/runs", "/api/v1/runs?wait=true", json=run)
    await call("GET", "/api/v1/runs/{rid}", f"/api/v1/runs/{json.loads(text)['id']}")
    piston, program = "/piston/api/v2", [{"name": "main.py", "content": PROGRAM}]
    await call("GET", piston + "/runtimes")
    await call("GET", piston + "/runtimes/")
    execute = {"language": "python", "version": "*", "files": program, "stdin": "x"}
    await call("POST", piston + "/execute", json=execute)
    await call("POST", piston + "/execute/", json={"language": PROBLEM, "version": "*"})

    j0, source = "/judge0", {"source_code": PROGRAM, "language_id": 71, "stdin": "x"}
    everything = "?wait=true&fields=*"
    text = await call("POST", j0 + "/submissions", j0 + "/submissions" + everything, json=source)
    token = json.loads(text)["token"]
    await call("GET", j0 + "/submissions/{token}", f"{j0}/submissions/{token}?fields=*")
    await call("POST", j0 + "/submissions/batch", json={"submissions": [source]})
    await call("GET", j0 + "/submissions/batch", f"{j0}/submissions/batch?tokens={token}&fields=*")
    await call("GET", j0 + "/submissions", j0 + "/submissions?fields=*")
    await call("DELETE", j0 + "/submissions/{token}", f"{j0}/submissions/{token}")
    await call("GET", j0 + "/languages/{id}", j0 + "/languages/71")
    for route in ("/languages", "/languages/all", "/statuses", "/about", "/version",
                  "/config_info", "/isolate", "/license", "/system_info", "/workers"):  # fmt: skip
        await call("GET", j0 + route)

    await call("POST", "/exec", json={"id": PROBLEM, "code": PROGRAM})
    job = {"problem_id": PROBLEM, "language": "python", "source": PROGRAM}
    hook = str(receiver.server.make_url("/hook"))
    text = await call("POST", BASE, BASE + "?wait=true", json=job | {"callback_url": hook})
    sid = json.loads(text)["id"]
    await call("POST", BASE, json={"problem_id": "nope", "source": PROGRAM})
    await call("GET", BASE + "/{sid}", f"{BASE}/{sid}")
    await call("GET", BASE + "/{sid}/status", f"{BASE}/{sid}/status", allow_redirects=False)
    await call("GET", BASE + "/{sid}/result", f"{BASE}/{sid}/result")
    await call("GET", BASE + "/{sid}/events", f"{BASE}/{sid}/events")
    sse = {"Accept": "text/event-stream"}
    await call("GET", BASE + "/{sid}/events", f"{BASE}/{sid}/events", more=sse)
    await call("GET", BASE)
    await call("GET", BASE + "/batch", f"{BASE}/batch?ids={sid},nope")
    await call("POST", BASE + "/{sid}/cancel", f"{BASE}/{sid}/cancel")
    # Pause and resume: a job submitted paused, resumed, paused again (queued or running
    # by then: frozen), then cancelled.
    text = await call("POST", BASE, BASE + "?paused=true", json=job)
    held = json.loads(text)["id"]
    await call("POST", BASE + "/{sid}/pause", f"{BASE}/{held}/pause")
    await call("POST", BASE + "/{sid}/resume", f"{BASE}/{held}/resume")
    await call("POST", BASE + "/{sid}/pause", f"{BASE}/{held}/pause")
    await call("POST", BASE + "/{sid}/cancel", f"{BASE}/{held}/cancel")
    text = await call("POST", BASE + "/{sid}/rerun", f"{BASE}/{sid}/rerun?wait=true")
    rerun = json.loads(text)["id"]
    text = await call("POST", BASE + "/batch", json={"submissions": [job]})
    batched = json.loads(text)["items"][0]["id"]
    await call("GET", BASE + "/{sid}/result", f"{BASE}/{batched}/result")  # 409 until done
    for _ in range(400):
        text = await call("GET", BASE + "/{sid}", f"{BASE}/{batched}")
        if json.loads(text)["done"]:
            break
        await asyncio.sleep(0.05)
    await call("DELETE", BASE + "/{sid}", f"{BASE}/{rerun}")
    seen.append(("POST", "webhook", 200, await receiver.body_of(sid)))
    return seen


def audited_routes(app: web.Application) -> set[tuple[str, str]]:
    return {
        (route.method, route.resource.canonical)
        for route in app.router.routes()
        if route.method != "HEAD" and route.resource is not None
    }


async def test_contestants_see_no_hidden_data_on_any_route(service: Callable[..., Any]) -> None:
    receiver = Receiver()
    await receiver.server.start_server()
    try:
        client: Client = await service(
            admin_token=TOKEN,
            auth="off",
            seed_demo_problems=False,
            webhook_allow_private=True,
            job_poll_s=0.1,
        )
        response = await client.post("/api/v1/problems", json=problem_body(), headers=ADMIN)
        assert response.status == 201, await response.text()
        response = await client.post(
            "/api/v1/keys", json={"name": "contestant", "role": "submitter"}, headers=ADMIN
        )
        submitter = {"Authorization": f"Bearer {(await response.json())['token']}"}

        for who, headers in (("submitter", submitter), ("anonymous", {})):
            seen = await audit(client, headers, receiver)
            covered = {(m, r) for m, r, _, _ in seen}
            assert audited_routes(client.app) <= covered, "a route escaped the audit"
            found = [f"{who} {m} {r} -> {s}: {leaks(t, r)}" for m, r, s, t in seen if leaks(t, r)]
            assert not found, "\n".join(found)
            # The audit judged for real: verdicts per hidden test, nothing more.
            job = next(json.loads(t) for m, r, _, t in seen if r == BASE + "/{sid}/result")
            assert [r["verdict"] for r in job["results"]] == ["AC", "WA", "RE", "IE"]
            assert job["tests"]["hidden"] == {"passed": 0, "failed": 3}

        # An anonymous caller (authentication off) reads the admin's job: still no more.
        _, created, _ = await _submit(client, ADMIN, receiver)
        response = await client.get(f"{BASE}/{created}")
        assert not leaks(await response.text())
        assert not leaks(await receiver.body_of(created))  # webhooks: contestant's view
    finally:
        await receiver.server.close()


async def _submit(client: Client, headers: dict[str, str], receiver: Receiver) -> Any:
    job = {
        "problem_id": PROBLEM,
        "language": "python",
        "source": PROGRAM,
        "callback_url": str(receiver.server.make_url("/hook")),
    }
    response = await client.post(BASE + "?wait=true", json=job, headers=headers)
    body = await response.json()
    assert response.status == 200, body
    return response.status, body["id"], body


async def test_admins_see_everything(service: Callable[..., Any]) -> None:
    client: Client = await service(
        admin_token=TOKEN, auth="off", seed_demo_problems=False, job_poll_s=0.1
    )
    response = await client.post("/api/v1/problems", json=problem_body(), headers=ADMIN)
    assert response.status == 201
    response = await client.post(
        "/api/v1/keys", json={"name": "boss", "role": "admin"}, headers=ADMIN
    )
    admin_key = {"Authorization": f"Bearer {(await response.json())['token']}"}
    for headers in (ADMIN, admin_key):
        problem = await (await client.get(f"/api/v1/problems/{PROBLEM}", headers=headers)).json()
        assert problem["checker"]["args"] == ["CHECKER-ARG-MARK"]
        assert "CHECKER-SOURCE-MARK" in problem["checker"]["files"][0]["content"]
        hidden = problem["tests"][1]
        assert hidden["name"] == "HIDDEN-NAME-MARK-1"
        assert hidden["input"] == "HIDDEN-IN-MARK-1\n"
        assert hidden["expected_output"] == "HIDDEN-OUT-MARK-1\n"
        assert hidden["input_bytes"] == len("HIDDEN-IN-MARK-1\n")
        one = await (
            await client.get(f"/api/v1/problems/{PROBLEM}/tests/3", headers=headers)
        ).json()
        assert one["name"] == "HIDDEN-NAME-MARK-2" and one["input"] == "HIDDEN-IN-MARK-2\n"

    response = await client.post(
        BASE + "?wait=true",
        json={"problem_id": PROBLEM, "language": "python", "source": PROGRAM},
        headers=admin_key,
    )
    job = await response.json()
    assert response.status == 200, job
    hidden = [r for r in job["results"] if r["hidden"]]
    assert [r["name"] for r in hidden] == [f"HIDDEN-NAME-MARK-{i}" for i in (1, 2, 3)]
    assert [r["verdict"] for r in hidden] == ["WA", "RE", "IE"]
    assert all(isinstance(r["time_ms"], int) for r in hidden)
    assert hidden[1]["exit_code"] == 1
    # What a hidden test printed is never kept, so not even an admin sees it.
    assert "HIDDEN-IN-MARK" not in json.dumps(job["results"])
    # The same job as a contestant sees it.
    response = await client.get(f"{BASE}/{job['id']}")
    assert not leaks(await response.text())
