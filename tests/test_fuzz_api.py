"""The API fuzzed against its own OpenAPI document by Schemathesis, on the real service
(real Docker sandboxes, a SQLite store, authentication on): every phase (the document's
examples, coverage of each schema's edges, random fuzzing, stateful sequences that follow
the document's links: create a problem, add tests, submit, read the result and events;
make a key, read it, revoke it) and every check. A 5xx, an answer whose status, media
type, headers or body the document does not give, and a request the document calls
invalid that is served (or a valid one refused outside the rules no schema can state:
tests/fuzz/schemathesis.toml) all fail it. docs/api.md, "How the contract is fuzzed".

Bounded to a few minutes on two CPUs: a fixed seed, few examples per operation (fewer
where each one runs a sandbox), no example database."""

from __future__ import annotations

import asyncio
import os
import sys
import xml.etree.ElementTree as ET
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from aiohttp.test_utils import TestClient

from tests.conftest import started_service

pytestmark = [pytest.mark.docker, pytest.mark.asyncio(loop_scope="module")]

Client = TestClient[Any, Any]
TOKEN = "fuzz-admin-token"
CONFIG = Path(__file__).with_name("fuzz") / "schemathesis.toml"
SCHEMATHESIS = Path(sys.executable).with_name("schemathesis")
EXAMPLES = int(os.environ.get("CODEEXEC_FUZZ_EXAMPLES", "8"))  # per operation and phase
RUN_TIMEOUT_S = 420


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def client(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Client]:
    service = await started_service(
        tmp_path_factory.mktemp("fuzz"), "fuzz", languages=("python",),
        auth="on", admin_token=TOKEN, job_poll_s=0.05,
        # Batches of a few jobs, so that the sandboxes keep up with what the fuzzer asks
        # and a synchronous run (Piston's) is not cancelled as "busy" (503) behind them.
        batch_max=4, max_wait_s=40,
    )  # fmt: skip
    yield service
    await service.close()


async def schemathesis(client: Client, reports: Path, *args: str) -> tuple[int, str]:
    """Run Schemathesis' CLI on the service (a subprocess: the service's loop is this
    one, and must keep serving); its exit status and output."""
    base = str(client.make_url(""))
    process = await asyncio.create_subprocess_exec(
        str(SCHEMATHESIS), "--config-file", str(CONFIG), "run",
        f"{base}/api/v1/openapi.json", "--url", base,
        "--phases", "examples,coverage,fuzzing,stateful",  # every check: CONFIG
        "--max-examples", str(EXAMPLES), "--seed", "18",
        # One worker: CPython 3.11 keeps the AST converter's recursion count in state
        # shared by threads, and Hypothesis parses sources (to describe filters) in each
        # worker: two at once fail with "AST constructor recursion depth mismatch".
        "--workers", "1",
        "--request-timeout", "60", "--no-color", "--report", "junit",
        "--report-junit-path", str(reports / "junit.xml"), *args,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
        cwd=reports,  # its cache (.schemathesis/) goes there, not into the checkout
    )  # fmt: skip
    try:
        out, _ = await asyncio.wait_for(process.communicate(), RUN_TIMEOUT_S)
    except TimeoutError:
        process.kill()
        await process.wait()
        raise
    assert process.returncode is not None
    return process.returncode, out.decode(errors="replace")


def covered(junit: Path) -> set[str]:
    """What the run tested: "METHOD /path" for each operation, and "Stateful tests"."""
    return {case.attrib["name"] for case in ET.parse(junit).getroot().iter("testcase")}


async def test_fuzzing_finds_nothing_outside_the_document(client: Client, tmp_path: Path) -> None:
    status, out = await schemathesis(client, tmp_path, "-H", f"Authorization: Bearer {TOKEN}")
    summary = out[out.rfind("SUMMARY") :] if "SUMMARY" in out else out[-4000:]
    assert status == 0, out[-20_000:]
    assert "Tested:" in summary, summary
    # Every operation was tested, and sequences of them (the document's links).
    document = await (await client.get("/api/v1/openapi.json")).json()
    operations = {f"{m.upper()} {p}" for p, methods in document["paths"].items() for m in methods}
    operations.discard("GET /api/v1/openapi.json")  # the document it reads is not in its report
    assert operations | {"Stateful tests"} <= covered(tmp_path / "junit.xml"), summary
