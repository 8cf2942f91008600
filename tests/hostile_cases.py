"""The hostile-code cases (tests/hostile/*.toml) and the problems they are judged on,
shared by the suites that send them (tests/test_hostile.py, tests/test_daemon_defaults.py)."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

from codeexec.model import CheckerSpec, Problem, TestCase

CASES: list[dict[str, Any]] = [
    case
    for path in sorted((Path(__file__).parent / "hostile").glob("*.toml"))
    for case in tomllib.loads(path.read_text(encoding="utf-8"))["case"]
]
BY_NAME = {case["name"]: case for case in CASES}
OUTPUT_CAP_MB = 16


def source_of(case: dict[str, Any]) -> str:
    if "source_expr" in case:  # generated inputs too big to write out (our own data)
        return str(eval(case["source_expr"], {"__builtins__": {}}))
    return str(case["source"])


def generated_input(megabytes: int) -> bytes:
    line = b"the quick brown fox jumps over the lazy dog 0123456789\n"
    return line * (megabytes * 1024 * 1024 // len(line))


def problem_of(case: dict[str, Any]) -> tuple[Problem, list[TestCase]]:
    tests = [
        TestCase(t[0].encode(), t[1].encode(), bool(t[2]) if len(t) > 2 else False)
        for t in case.get("tests", [["", ""]])
    ]
    if "input_mb" in case:  # the same generated input for every test (echoed if asked)
        data = generated_input(case["input_mb"])
        tests = [
            TestCase(data, data if case.get("echo") else t.expected_output, t.hidden) for t in tests
        ]
    language = case.get("language", "python")
    problem = Problem(
        id=f"hostile-{case['name']}",
        time_limit_ms=case.get("time_limit_ms", 1000),
        memory_limit_mb=case.get("memory_limit_mb"),
        output_limit_kb=case.get("output_limit_kb", OUTPUT_CAP_MB * 1024),
        process_limit=case.get("process_limit"),
        isolation=case.get("isolation"),
        checker=CheckerSpec(mode=case["checker"][0], args=tuple(case["checker"][1:]))
        if "checker" in case
        else CheckerSpec(),
        # The suite probes the sandbox, not the screener: no disallowed names.
        screening={language: case.get("screening", [])},
    )
    return problem, tests


async def assert_judged_as_case(client: Any, case: dict[str, Any]) -> None:
    """Judge ``case`` through ``/exec`` of a running service and check each shown
    test's verdict is one the case allows (and that its secret never shows)."""
    problem, tests = problem_of(case)
    language = case.get("language", "python")
    payload = {"code": source_of(case), "id": problem.id, "language": language}
    response = await client.post("/exec", json=payload)
    text = await response.text()
    assert response.status == 200, text[:500]
    body = await response.json()
    expected = [v for t, v in zip(tests, case["verdicts"], strict=True) if not t.hidden]
    got = [t["verdict"] for t in body["shownTests"]]
    assert len(got) == len(expected)
    for verdict, allowed in zip(got, expected, strict=True):
        assert verdict in allowed, f"{verdict} not in {allowed}: {text[:400]}"
    if "response_lacks" in case:
        assert case["response_lacks"] not in text
