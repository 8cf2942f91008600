"""The metrics module and where each thing is recorded: once per submission whichever
door it came by, label values from bounded sets, one registry per service, auth on
``/metrics``, and the Grafana dashboard naming only metrics that exist."""

from __future__ import annotations

import json
import math
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import prometheus_client
import pytest
from aiohttp.test_utils import TestClient, TestServer

from codeexec.config import Settings
from codeexec.http.app import make_app
from codeexec.http.keys import METRICS
from codeexec.intake import Intake, Rejected, Request
from codeexec.judge.admission import Admission
from codeexec.judge.judge import Judge
from codeexec.judge.pipeline import judge_program
from codeexec.model import Judgement, Problem, ProblemSnapshot, TestCase, TestResult, Verdict
from codeexec.observe.metrics import Metrics
from codeexec.sandbox.api import SandboxError
from codeexec.sandbox.fake import FakeRun, FakeSandboxes, outcome
from codeexec.sandbox.languages import discover_languages
from codeexec.screening.service import ScreeningResult
from tests.scrape import delta, scrape, total

ROOT = Path(__file__).resolve().parents[2]
LANGUAGES = discover_languages(ROOT / "codeexec/languages", ("python", "c"))
DASHBOARD = ROOT / "deploy" / "grafana" / "dashboards" / "codeexec.json"
SNAPSHOT = ProblemSnapshot(
    Problem("p", screening={"python": ["eval"]}),
    (TestCase(b"1\n", b"1\n"), TestCase(b"2\n", b"3\n", hidden=True)),
)


def echo(run: FakeRun) -> Any:
    if run.argv[0].endswith("gcc") or "main.c" in run.argv:  # the C compile step
        run.files["main"] = b"\x7fELF"
        return outcome(wall_ms=300)
    return outcome(run.stdin, wall_ms=40)


class Problems:
    async def snapshot(self, problem_id: str) -> ProblemSnapshot | None:
        return SNAPSHOT if problem_id == "p" else None


class Screener:
    """Screening without worker processes: ``eval`` is disallowed, ``(`` alone a
    syntax error."""

    def policy_for(self, language: str, screening: Any) -> tuple[str, ...]:
        return ("eval",)

    async def screen(self, language: str, text: str, *args: Any) -> ScreeningResult:
        if "eval" in text:
            return ScreeningResult(("eval",))
        return ScreeningResult((), "SyntaxError" if text == "(" else None)


def intake(metrics: Metrics) -> Intake:
    screener: Any = Screener()
    return Intake(lambda: LANGUAGES, Problems(), lambda: screener, 10_000, metrics=metrics)


async def judged(metrics: Metrics, code: str, language: str = "python") -> Judgement:
    work = await intake(metrics).accept(Request("p", language, code))
    judge = Judge(Settings(), FakeSandboxes(echo), LANGUAGES, metrics)
    return await judge_program(judge, work)


# -- recording ------------------------------------------------------------------------


async def test_a_submission_is_recorded_once_with_its_verdict_and_tests() -> None:
    metrics = Metrics()
    judgement = await judged(metrics, "print(input())")
    assert judgement.verdict == Verdict.WA  # the hidden test expects 3
    s = scrape(metrics)
    assert total(s, "codeexec_submissions_total") == 1
    assert total(s, "codeexec_submissions_total", language="python", verdict="WA") == 1
    assert total(s, "codeexec_tests_total", language="python", verdict="AC") == 1
    assert total(s, "codeexec_tests_total", language="python", verdict="WA") == 1
    assert total(s, "codeexec_test_run_seconds_count", language="python") == 2
    assert total(s, "codeexec_test_run_seconds_sum", language="python") == pytest.approx(0.08)
    assert total(s, "codeexec_submission_seconds_count", language="python") == 1
    assert total(s, "codeexec_compile_seconds_count") == 0  # Python compiles nothing


async def test_a_compiled_submission_records_its_compile_time() -> None:
    metrics = Metrics()
    judgement = await judged(metrics, "int main(){}", "c")
    assert judgement.compile_ms == 300
    s = scrape(metrics)
    assert total(s, "codeexec_compile_seconds_count", language="c") == 1
    assert total(s, "codeexec_compile_seconds_sum", language="c") == pytest.approx(0.3)


async def test_a_syntax_error_is_ce_and_no_test_is_timed() -> None:
    metrics = Metrics()
    assert (await judged(metrics, "(")).verdict == Verdict.CE
    s = scrape(metrics)
    assert total(s, "codeexec_submissions_total", language="python", verdict="CE") == 1
    assert total(s, "codeexec_tests_total", verdict="CE") == 2
    assert total(s, "codeexec_test_run_seconds_count") == 0


async def test_a_screening_refusal_is_counted_and_never_judged() -> None:
    metrics = Metrics()
    with pytest.raises(Rejected):
        await judged(metrics, "eval('1')")
    s = scrape(metrics)
    assert total(s, "codeexec_screening_rejections_total", language="python") == 1
    assert total(s, "codeexec_submissions_total") == 0


class NoSandboxes(FakeSandboxes):
    """An engine that starts nothing."""

    @asynccontextmanager
    async def open(self, *args: Any, **kwargs: Any) -> AsyncIterator[Any]:
        raise SandboxError("engine gone")
        yield


async def test_no_sandbox_is_an_internal_error_submission() -> None:
    metrics = Metrics()
    work = await intake(metrics).accept(Request("p", "python", "print(1)"))
    judge = Judge(Settings(), NoSandboxes(echo), LANGUAGES, metrics)
    with pytest.raises(SandboxError):
        await judge_program(judge, work)
    assert total(scrape(metrics), "codeexec_submissions_total", verdict="IE") == 1


class BrokenSandboxes(FakeSandboxes):
    """An engine whose failure is not a ``SandboxError`` (a bug, a library's own
    exception): the job still ends as an internal error, so it is still counted."""

    @asynccontextmanager
    async def open(self, *args: Any, **kwargs: Any) -> AsyncIterator[Any]:
        raise RuntimeError("unexpected")
        yield


async def test_an_unexpected_failure_mid_judge_is_counted_as_an_internal_error() -> None:
    metrics = Metrics()
    work = await intake(metrics).accept(Request("p", "python", "print(1)"))
    judge = Judge(Settings(), BrokenSandboxes(echo), LANGUAGES, metrics)
    with pytest.raises(RuntimeError):
        await judge_program(judge, work)
    s = scrape(metrics)
    assert total(s, "codeexec_submissions_total", language="python", verdict="IE") == 1
    assert total(s, "codeexec_submission_seconds_count") == 1


def test_a_judgement_counts_run_time_only_for_tests_that_ran() -> None:
    metrics = Metrics()
    results = (
        TestResult(Verdict.TLE, False, wall_ms=4000, signal=9),
        TestResult(Verdict.IE, True),  # the sandbox died: never ran
    )
    metrics.judged("python", Judgement(results), 4.5)
    s = scrape(metrics)
    assert total(s, "codeexec_test_run_seconds_count") == 1
    assert total(s, "codeexec_submissions_total", verdict="TLE") == 1


async def test_admission_records_the_wait_of_exec_only() -> None:
    metrics = Metrics()
    admission = Admission(1, 1, metrics)
    async with admission.slot():
        pass
    async with admission.slot(bounded=False):  # a job worker: its job waits in the db
        pass
    s = scrape(metrics)
    assert total(s, "codeexec_queue_wait_seconds_count", queue="exec") == 1
    assert total(s, "codeexec_queue_wait_seconds_count") == 1


def test_services_do_not_share_a_registry() -> None:
    one, two = Metrics(), Metrics()
    one.container_created()
    assert total(scrape(one), "codeexec_containers_created_total") == 1
    assert total(scrape(two), "codeexec_containers_created_total") == 0
    global_names = {f.name for f in prometheus_client.REGISTRY.collect()}
    assert not any(name.startswith("codeexec") for name in global_names)


def test_label_values_are_bounded() -> None:
    metrics = Metrics()
    metrics.http_request("BREW", "unmatched", 405, 0.001)  # any method a client invents
    metrics.live(queued=None, running=0, workers=0, idle={"python": 1})
    s = scrape(metrics)
    assert total(s, "codeexec_http_requests_total", method="other", route="unmatched") == 1
    assert math.isnan(total(s, "codeexec_jobs_queued"))  # the database did not answer
    assert total(s, "codeexec_pool_idle_containers", language="python") == 1
    build = [labels for (name, labels), _ in s.items() if name == "codeexec_build_info"]
    assert dict(build[0])["engine_version"] == "unknown"  # until the engine is known


# -- the HTTP edge --------------------------------------------------------------------


async def edge(tmp_path: Path, **settings: Any) -> TestClient[Any, Any]:
    values: dict[str, Any] = {"database_url": f"sqlite:///{tmp_path / 's.sqlite3'}"}
    client: TestClient[Any, Any] = TestClient(
        TestServer(make_app(Settings(**(values | settings)), judging=False))
    )
    await client.start_server()
    return client


async def test_requests_are_counted_by_route_template_and_final_status(tmp_path: Path) -> None:
    client = await edge(tmp_path, auth="off", admin_token="root")
    try:
        before = scrape(client.app[METRICS])
        assert (await client.get("/api/v1/submissions/abc123")).status == 404  # ApiError
        assert (await client.get("/no/such/path")).status == 404
        assert (await client.post("/healthz")).status == 405
        bad_json = {"Content-Type": "application/json"}
        assert (await client.post("/exec", data=b"{", headers=bad_json)).status == 400
        after = scrape(client.app[METRICS])
    finally:
        await client.close()
    requests = "codeexec_http_requests_total"
    route = "/api/v1/submissions/{sid}"
    assert delta(before, after, requests, method="GET", route=route, status="404") == 1
    assert delta(before, after, requests, route="unmatched", status="404") == 1
    assert delta(before, after, requests, route="unmatched", status="405") == 1
    assert delta(before, after, requests, route="/exec", status="400") == 1
    assert delta(before, after, "codeexec_http_request_duration_seconds_count") == 4
    assert not any("abc123" in str(labels) for _, labels in after)  # never a raw path


@pytest.mark.parametrize(
    ("settings", "token", "status"),
    [
        ({"auth": "on", "admin_token": "root"}, None, 401),
        ({"auth": "on", "admin_token": "root"}, "root", 200),
        ({"auth": "on", "admin_token": "root", "metrics_public": True}, None, 200),
        ({"auth": "off"}, None, 403),  # no admin can exist: says how to open it
        ({"auth": "off", "admin_token": "root"}, None, 401),
        ({"auth": "off", "metrics_public": True}, None, 200),
    ],
)
async def test_metrics_are_for_admins_unless_public(
    tmp_path: Path, settings: dict[str, Any], token: str | None, status: int
) -> None:
    client = await edge(tmp_path, **settings)
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    try:
        response = await client.get("/metrics", headers=headers)
        assert response.status == status
        if status == 200:
            assert response.headers["Content-Type"].startswith("text/plain; version=0.0.4")
            assert "codeexec_build_info" in await response.text()
    finally:
        await client.close()


# -- the dashboard --------------------------------------------------------------------


def exposed_names(metrics: Metrics) -> set[str]:
    """Every sample name the registry can expose, whether recorded yet or not."""
    suffixes = {
        "counter": ("_total", "_created"),
        "histogram": ("_bucket", "_count", "_sum", "_created"),
        "gauge": ("",),
        "info": ("_info",),
    }
    return {f.name + s for f in metrics.registry.collect() for s in suffixes[f.type]}


def panel_queries(dashboard: dict[str, Any]) -> list[str]:
    panels = list(dashboard["panels"])
    for panel in dashboard["panels"]:
        panels += panel.get("panels", [])  # collapsed rows hold their panels
    return [t["expr"] for p in panels for t in p.get("targets", [])]


def test_the_dashboard_queries_only_metrics_that_exist() -> None:
    dashboard = json.loads(DASHBOARD.read_text())
    queries = panel_queries(dashboard)
    named = {n for q in queries for n in re.findall(r"\bcodeexec_[a-z_]+\b", q)}
    exists = exposed_names(Metrics())
    assert named <= exists, named - exists
    # It shows the queue, verdicts, latencies, the pool and containers.
    for wanted in (
        "codeexec_jobs_queued",
        "codeexec_submissions_total",
        "codeexec_http_request_duration_seconds_bucket",
        "codeexec_pool_idle_containers",
        "codeexec_containers_created_total",
    ):
        assert wanted in named
    assert all(re.search(r"\bcodeexec_", q) for q in queries)
