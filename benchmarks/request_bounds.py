"""``python -m benchmarks.request_bounds``: what the worst request body costs, per route.

Each case runs in a fresh process: the service's HTTP edge (``make_app(judging=False)``:
the store, no sandboxes) on a local port, one warm-up request, then the case's body,
sent by a client thread over a plain socket, so that the event loop measured is the
server's alone. Measured in the server's process, per request:

- the answer's status, and the wall time from sending to the last byte of the answer;
- loop CPU: CPU time of the event loop's thread meanwhile (reading, parsing, validating,
  answering; the client's sending is another thread's);
- longest stall: the worst lateness of a 1 ms ticker on the loop, i.e. the longest any
  other request on this process had to wait;
- memory: peak RSS growth (``VmHWM``, reset before the request) and, in a separate run,
  the peak of Python allocations (``tracemalloc``; the body the client holds excluded).

Times are medians of ``--repeat`` runs. It prints a Markdown table (docs/api.md,
"Limits on requests") and saves JSON to ``benchmarks/results/request_bounds.json``.
The same script measures an older checkout: ``PYTHONPATH=/path/to/old/tree``.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import http.client
import json
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiohttp import web

from codeexec.config import Settings
from codeexec.http.app import make_app

TOKEN = "bench-admin"
MB = 1 << 20
RESULTS = Path(__file__).resolve().parent / "results" / "request_bounds.json"
_UNKNOWN = "no-such-problem"  # valid bodies stop at 404, after all of the edge's work
_OTHER = "other"  # a problem body for another id: 422 once parsed and validated, unsaved


def _json(value: Any) -> bytes:
    return json.dumps(value).encode()


def _tiny_values(size: int, wrap: Callable[[bytes], bytes]) -> bytes:
    return wrap(b"[" + b",".join([b"{}"] * (size // 3)) + b"]")


def _member(payload: dict[str, Any], name: str, raw: bytes) -> bytes:
    return _json(payload)[:-1] + b', "' + name.encode() + b'": ' + raw + b"}"


def _deep(size: int) -> bytes:
    return b"[" * (size // 2) + b"]" * (size // 2)


def _gzip_bomb(inflated: int) -> bytes:
    packer = zlib.compressobj(9, zlib.DEFLATED, 31)  # gzip
    block = b"\0" * MB
    return b"".join(packer.compress(block) for _ in range(inflated // MB)) + packer.flush()


def _program(size: int) -> str:
    line = "print('x')  # " + "y" * 50 + "\n"  # newlines travel as \n: 2 bytes each
    return line * (size // (len(line) + 1))


def _tests(count: int, size: int) -> list[dict[str, Any]]:
    data = "1 2\n" * (size // count // 10)  # 5 bytes as JSON, twice per test
    return [{"input": data, "expected_output": data} for _ in range(count)]


def _form(fields: int, size: int) -> tuple[bytes, str]:
    boundary = "b0undary"
    value = b"x" * (size // fields)
    parts = [
        f'--{boundary}\r\nContent-Disposition: form-data; name="f{i}"\r\n\r\n'.encode()
        + value
        + b"\r\n"
        for i in range(fields)
    ]
    return b"".join(parts) + f"--{boundary}--\r\n".encode(), boundary


@dataclass(frozen=True)
class Case:
    route: str
    name: str
    body: Callable[[], bytes]
    method: str = "POST"
    path: str = ""
    headers: dict[str, str] = field(default_factory=dict)
    settings: dict[str, Any] = field(default_factory=dict)

    @property
    def target(self) -> str:
        return self.path or self.route.split(" ", 1)[1]


JSON = {"Content-Type": "application/json"}
ADMIN = {"Authorization": f"Bearer {TOKEN}"}


def _cases() -> list[Case]:
    exec_ = "POST /exec"
    sub = "POST /api/v1/submissions"
    batch = "POST /api/v1/submissions/batch"
    keys = "POST /api/v1/keys"
    problems = "PUT /api/v1/problems/{id}"
    imp = "POST /api/v1/problems/import"
    put = "/api/v1/problems/bench"
    form, boundary = _form(2000, MB)
    multipart = {"Content-Type": f"multipart/form-data; boundary={boundary}"}
    gz = {"Content-Encoding": "gzip"}
    return [
        Case("GET /healthz", "none (the floor: any request costs this)", lambda: b"",
             method="GET"),
        Case(exec_, "1 MB program (escaped newlines)",
             lambda: _json({"id": _UNKNOWN, "code": _program(MB)})),
        Case(exec_, "2 MB (the route's limit): 1 MB program, 1 MB extra field",
             lambda: _json({"id": _UNKNOWN, "code": _program(MB), "x": _program(MB)[:-2000]})),
        Case(exec_, "1 MB of empty objects", lambda: _tiny_values(
            MB, lambda v: _member({"id": _UNKNOWN, "code": ""}, "x", v))),
        Case(exec_, "1 MB of nested arrays", lambda: _deep(MB)),
        Case(exec_, "one number of 10^6 digits",
             lambda: _member({"id": _UNKNOWN, "code": ""}, "n", b"7" * 1_000_000)),
        Case(exec_, "gzip bomb: 1 MB inflating to 1 GB", lambda: _gzip_bomb(1 << 30),
             headers=gz),
        Case(sub, "64 files of 16 KB",
             lambda: _json({"problem_id": _UNKNOWN, "entry_point": "f0.py", "files": [
                 {"name": f"f{i}.py", "content": _program(16 * 1024)} for i in range(64)]})),
        Case(sub, "1 MB of empty objects", lambda: _tiny_values(
            MB, lambda v: _member({"problem_id": _UNKNOWN}, "files", v))),
        Case(sub, "1000 unknown fields",
             lambda: _json({f"field{i}": i for i in range(1000)})),
        Case(batch, "50 submissions of 20 KB",
             lambda: _json({"submissions": [
                 {"problem_id": _UNKNOWN, "source": _program(20 * 1024)}] * 50})),
        Case(batch, "50 submissions of 320 KB (16 MB, the route's limit)",
             lambda: _json({"submissions": [
                 {"problem_id": _UNKNOWN, "source": _program(320 * 1024)}] * 50})),
        Case(batch, "1 MB of empty objects",
             lambda: _tiny_values(MB, lambda v: b'{"submissions": ' + v + b"}")),
        Case(keys, "64 KB of empty objects", lambda: _tiny_values(
            64 * 1024 - 32, lambda v: _member({"name": "k"}, "x", v)), headers=ADMIN),
        Case(keys, "64 KB of nested arrays", lambda: _deep(64 * 1024), headers=ADMIN),
        Case(problems, "1000 tests in 1 MB",
             lambda: _json({"id": _OTHER, "tests": _tests(1000, MB)}),
             method="PUT", path=put, headers=ADMIN),
        Case(problems, "1 MB of empty objects",
             lambda: _tiny_values(MB, lambda v: b'{"tests": ' + v + b"}"),
             method="PUT", path=put, headers=ADMIN),
        Case(problems, "1000 tests with 8 unknown fields each",
             lambda: _json({"tests": [{f"k{j}": j for j in range(8)}] * 1000}),
             method="PUT", path=put, headers=ADMIN),
        Case(problems, "one test of 250 MB (the route's limit: 256 MB)",
             lambda: _json({"id": _OTHER, "tests": _tests(1, 250 * MB)}),
             method="PUT", path=put, headers=ADMIN),
        Case(imp, "1 MB form of 2000 fields", lambda: form, headers=ADMIN | multipart),
        Case(imp, "gzip bomb: 1 MB inflating to 1 GB", lambda: _gzip_bomb(1 << 30),
             path="/api/v1/problems/import?name=p.zip",
             headers=ADMIN | gz | {"Content-Type": "application/zip"}),
        Case("GET /api/v1/submissions", "800 query parameters (8 KB URL)", lambda: b"",
             method="GET",
             path="/api/v1/submissions?" + "&".join(f"p{i}=1" for i in range(800))),
    ]  # fmt: skip


def _edge_app(settings: Settings) -> web.Application:
    try:
        return make_app(settings, judging=False)
    except TypeError:  # an older checkout: keep only the store
        app = make_app(settings)
        kept = [c for c in app.cleanup_ctx if getattr(c, "__name__", "") == "_store"]
        app.cleanup_ctx.clear()
        app.cleanup_ctx.extend(kept)
        return app


def _status_kb(name: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(name + ":"):
            return int(line.split()[1])
    return 0


def _reset_peak_rss() -> int:
    """VmRSS now (KB), after setting VmHWM to it."""
    Path("/proc/self/clear_refs").write_text("5")
    return _status_kb("VmRSS")


def _send(port: int, case: Case, body: bytes) -> int:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    headers = {"Connection": "close"} | JSON | case.headers
    try:
        connection.request(case.method, case.target, body=body or None, headers=headers)
        response = connection.getresponse()
        response.read()
        return response.status
    finally:
        connection.close()


class _Ticker:
    """The loop's worst lateness, from a task that wants to wake every millisecond."""

    def __init__(self) -> None:
        self.worst = 0.0

    async def run(self) -> None:
        while True:
            start = time.perf_counter()
            await asyncio.sleep(0.001)
            self.worst = max(self.worst, time.perf_counter() - start - 0.001)


async def _measure(case: Case, traced: bool, inline: bool) -> dict[str, Any]:
    if inline:  # every body parsed on the event loop (to compare)
        import codeexec.http.body

        codeexec.http.body.INLINE_BYTES = 1 << 62
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(
            database_url=f"sqlite:///{tmp}/bench.sqlite3",
            admin_token=TOKEN,
            rate_limit_per_s=0,
            languages=("python",),
            **case.settings,
        )
        runner = web.AppRunner(_edge_app(settings), access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = int(site._server.sockets[0].getsockname()[1])  # type: ignore[union-attr]
        try:
            warm = Case(case.route, "warm-up", lambda: b"{}", case.method, case.target,
                        case.headers | {"Content-Encoding": "identity"})  # fmt: skip
            await asyncio.to_thread(_send, port, warm, b"{}")
            body = case.body()
            gc.collect()
            rss = _reset_peak_rss()
            ticker = _Ticker()
            ticking = asyncio.create_task(ticker.run())
            await asyncio.sleep(0.05)
            ticker.worst = 0.0
            if traced:
                tracemalloc.start()
            cpu, start = time.thread_time(), time.perf_counter()
            status = await asyncio.to_thread(_send, port, case, body)
            wall, cpu = time.perf_counter() - start, time.thread_time() - cpu
            await asyncio.sleep(0.01)  # the ticker's last late wake-up is counted
            result: dict[str, Any] = {
                "status": status,
                "body_bytes": len(body),
                "wall_ms": wall * 1000,
                "loop_cpu_ms": cpu * 1000,
                "stall_ms": ticker.worst * 1000,
                "rss_growth_mb": (_status_kb("VmHWM") - rss) / 1024,
            }
            if traced:
                result["python_peak_mb"] = tracemalloc.get_traced_memory()[1] / MB
                tracemalloc.stop()
            ticking.cancel()
            return result
        finally:
            await runner.cleanup()


def _child(index: int, traced: bool, inline: bool) -> dict[str, Any]:
    command = [sys.executable, "-m", "benchmarks.request_bounds", "--case", str(index)]
    command += ["--traced"] if traced else []
    command += ["--inline"] if inline else []
    done = subprocess.run(command, capture_output=True, text=True, check=True)
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def _row(case: Case, runs: list[dict[str, Any]], traced: dict[str, Any]) -> dict[str, Any]:
    def median(key: str) -> float:
        return float(statistics.median(r[key] for r in runs))

    return {
        "route": case.route,
        "case": case.name,
        "status": runs[0]["status"],
        "body_bytes": runs[0]["body_bytes"],
        "wall_ms": median("wall_ms"),
        "loop_cpu_ms": median("loop_cpu_ms"),
        "stall_ms": median("stall_ms"),
        "rss_growth_mb": median("rss_growth_mb"),
        "python_peak_mb": traced["python_peak_mb"],
    }


def _size(n: int) -> str:
    return f"{n / MB:.0f} MB" if n >= MB else f"{n / 1024:.0f} KB" if n >= 1024 else f"{n} B"


def table(rows: list[dict[str, Any]]) -> str:
    lines = [
        "| route | worst body | bytes | answer | wall ms | loop CPU ms | longest stall ms "
        "| RSS growth MB | Python peak MB |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for r in rows:
        lines.append(
            f"| `{r['route']}` | {r['case']} | {_size(r['body_bytes'])} | {r['status']} "
            f"| {r['wall_ms']:.1f} | {r['loop_cpu_ms']:.1f} | {r['stall_ms']:.1f} "
            f"| {r['rss_growth_mb']:.1f} | {r['python_peak_mb']:.1f} |"
        )
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--repeat", type=int, default=3, help="timed runs per case")
    parser.add_argument("--only", help="run the cases whose route or name has this text")
    parser.add_argument("--case", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--traced", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument(
        "--inline", action="store_true", help="parse every body on the event loop (to compare)"
    )
    args = parser.parse_args()
    cases = _cases()
    if args.case is not None:
        print(json.dumps(asyncio.run(_measure(cases[args.case], args.traced, args.inline))))
        return 0
    rows = []
    for index, case in enumerate(cases):
        if args.only and args.only not in f"{case.route} {case.name}":
            continue
        runs = [_child(index, False, args.inline) for _ in range(args.repeat)]
        rows.append(_row(case, runs, _child(index, True, args.inline)))
        print(f"{case.route}: {case.name}: {rows[-1]}", file=sys.stderr)
    print(table(rows))
    results = RESULTS.with_stem(RESULTS.stem + "_inline") if args.inline else RESULTS
    results.parent.mkdir(exist_ok=True)
    results.write_text(json.dumps(rows, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
