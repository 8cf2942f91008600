"""``python -m benchmarks ab``: one client's latency under two settings, interleaved.

Two codeexec processes from this checkout run side by side, each with its own settings
(``--a`` / ``--b``, ``NAME=VALUE``); one client sends the workload's submission to A,
then B, then B, then A, ... with the benchmark's one-client pause between them. A
machine whose speed drifts by ~30 % within minutes (docs/benchmarks.md) moves both sides
alike, so the difference between their p50s is the settings', which back-to-back runs
cannot tell apart from the drift.
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import json
from collections.abc import Awaitable, Callable, Mapping, Sequence
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import aiohttp

from benchmarks.service import REPO, codeexec_process, codeexec_submission, wait_ready
from benchmarks.stats import percentile
from benchmarks.throughput import parse_env
from benchmarks.workload import ONE_CLIENT_PAUSE_S, WORKLOADS, Workload

RESULTS = REPO / "benchmarks" / "results" / "latency_ab.json"


def parse(argv: Sequence[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m benchmarks ab", description=__doc__)
    parser.add_argument("--a", action="append", default=[], metavar="NAME=VALUE")
    parser.add_argument("--b", action="append", default=[], metavar="NAME=VALUE")
    parser.add_argument("--out", type=Path, default=RESULTS)
    parser.add_argument("--submissions", type=int, default=30, help="per side (default 30)")
    parser.add_argument(
        "--language", choices=[w.language for w in WORKLOADS], action="append", default=[]
    )
    args = parser.parse_args(argv)
    if args.submissions < 1:
        parser.error("--submissions must be at least 1")
    try:
        args.a, args.b = parse_env(args.a, "--a"), parse_env(args.b, "--b")
    except ValueError as exc:
        parser.error(str(exc))
    return args


def summary(latencies: Sequence[float]) -> dict[str, float]:
    values = list(latencies)
    return {
        q: percentile(values, n) * 1000 for q, n in (("p25_ms", 25), ("p50_ms", 50), ("p75_ms", 75))
    }


Submit = Callable[[str], Awaitable[float]]  # one submission to a URL: seconds it took


async def interleaved(
    urls: Mapping[str, str], submit: Submit, n: int, pause_s: float = ONE_CLIENT_PAUSE_S
) -> dict[str, list[float]]:
    """``n`` submissions to each side after one warm-up each, one at a time, the side
    that goes first alternating from round to round (A B, B A, A B, ...)."""
    latencies: dict[str, list[float]] = {side: [] for side in urls}
    for url in urls.values():  # warm-up: images cached, pool full
        await submit(url)
    for round_ in range(n):
        order = list(urls.items())
        for side, url in reversed(order) if round_ % 2 else order:
            await asyncio.sleep(pause_s)
            latencies[side].append(await submit(url))
    return latencies


async def measure(urls: Mapping[str, str], works: Sequence[Workload], n: int) -> dict[str, Any]:
    for url in urls.values():
        await wait_ready(url)
    await asyncio.sleep(2)  # let the warm pools fill
    report: dict[str, Any] = {}
    for work in works:
        print(f"{work.language} ...", flush=True)
        async with aiohttp.ClientSession() as session:
            latencies = await interleaved(
                urls, functools.partial(codeexec_submission, session, work=work), n
            )
        report[work.language] = {side: summary(v) for side, v in latencies.items()}
    # What each side's pool did (e.g. whether it reused containers): the settings' effect.
    async with aiohttp.ClientSession() as session:
        for side, url in urls.items():
            async with session.get(f"{url}/readyz") as response:
                report.setdefault("pools", {})[side] = (await response.json())["pool"]
    return report


def table(report: Mapping[str, Mapping[str, Mapping[str, float]]]) -> str:
    rows = ["| language | side | p25 ms | p50 ms | p75 ms |", "| --- | --- | ---: | ---: | ---: |"]
    for language, sides in report.items():
        for side, s in sides.items():
            figures = " | ".join(f"{s[q]:.0f}" for q in ("p25_ms", "p50_ms", "p75_ms"))
            rows.append(f"| {language} | {side} | {figures} |")
    return "\n".join(rows)


def main(argv: Sequence[str]) -> int:
    args = parse(argv)
    works = [w for w in WORKLOADS if not args.language or w.language in args.language]
    with ExitStack() as stack:
        urls = {
            side: stack.enter_context(codeexec_process(f"benchmark-{side}", env))[0]
            for side, env in (("a", args.a), ("b", args.b))
        }
        report = asyncio.run(measure(urls, works, args.submissions))
    report["settings"] = {"a": args.a, "b": args.b, "submissions": args.submissions}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2))
    print(table({w.language: report[w.language] for w in works}))
    print(f"results: {args.out}")
    return 0
