"""``python -m benchmarks.interaction``: what a conversation costs (interactive problems).

A Python interactor and a Python submission play ping-pong: the interactor says a
number, the submission answers it plus one, N times. codeexec runs each in a sandbox of
its own and passes every line through the service (two runners and the Docker engine's
attach streams on the way), so a round trip costs far more than between two processes
on one pipe. Printed per N: the job's wall time end to end, and the submission's CPU and
wall time as the judge measured them (waits for the interactor are credited, so its
wall time is its own work); also the bare floor: the same two programs joined by pipes
in one container.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from pathlib import Path

import docker
from aiohttp.test_utils import TestClient, TestServer

from codeexec.config import Settings
from codeexec.http.app import make_app

INTERACTOR = """\
import sys
n = int(open(sys.argv[1]).read())
for i in range(n):
    sys.stdout.write(f"{i}\\n"); sys.stdout.flush()
    if int(sys.stdin.readline()) != i + 1:
        sys.exit(43)
sys.stdout.write("-1\\n"); sys.stdout.flush()
sys.exit(42)
"""
SUBMISSION = """\
import sys
for line in sys.stdin:
    if int(line) < 0:
        break
    sys.stdout.write(f"{int(line) + 1}\\n"); sys.stdout.flush()
"""
TOKEN = "bench-admin"


async def through_codeexec(rounds: list[int], repeat: int) -> None:
    headers = {"Authorization": f"Bearer {TOKEN}"}
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(
            database_url=f"sqlite:///{Path(tmp) / 'bench.sqlite3'}",
            instance_name="bench-interaction",
            admin_token=TOKEN,
            seed_demo_problems=False,
            languages=("python",),
        )
        client = TestClient(TestServer(make_app(settings)))
        await client.start_server()
        try:
            for n in rounds:
                made = await client.put(
                    f"/api/v1/problems/pingpong{n}",
                    json={
                        "title": "ping-pong",
                        "time_limit_ms": 60_000,
                        "checker": {"mode": "interactive", "language": "python",
                                    "source": INTERACTOR},
                        "tests": [{"input": str(n), "expected_output": ""}],
                    },
                    headers=headers,
                )  # fmt: skip
                assert made.status in (200, 201), await made.text()
                for _ in range(repeat):
                    started = time.monotonic()
                    answer = await client.post(
                        "/api/v1/submissions?wait=true",
                        json={"problem_id": f"pingpong{n}", "language": "python",
                              "source": SUBMISSION},
                        headers=headers,
                    )  # fmt: skip
                    job = await answer.json()
                    took = time.monotonic() - started
                    (test,) = job["results"]
                    print(
                        f"codeexec  rounds {n:>6}: {job['verdict']} in {took:6.2f} s"
                        f" ({took / max(n, 1) * 1000:.2f} ms a round),"
                        f" submission cpu {test['time_ms']} ms, wall {test['wall_ms']} ms"
                    )
        finally:
            await client.close()


def floor(rounds: list[int], image: str) -> None:
    """Both programs in one container, joined by pipes (what a judge without sandboxes
    between the parties costs)."""
    engine = docker.from_env()
    for n in rounds:
        script = (
            f"printf '%s' '{n}' > /tmp/n; cat > /tmp/i.py <<'EOF'\n{INTERACTOR}EOF\n"
            f"cat > /tmp/s.py <<'EOF'\n{SUBMISSION}EOF\n"
            "mkfifo /tmp/a /tmp/b; start=$(date +%s%N);"
            " python3 /tmp/s.py < /tmp/a > /tmp/b & python3 /tmp/i.py /tmp/n > /tmp/a < /tmp/b;"
            " code=$?; wait; echo $code $(( ($(date +%s%N) - start) / 1000000 ))"
        )
        out = engine.containers.run(image, ["sh", "-c", script], remove=True, network_disabled=True)
        code, ms = out.decode().split()
        print(f"floor     rounds {n:>6}: exit {code} in {int(ms) / 1000:6.2f} s")


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.interaction")
    parser.add_argument("--rounds", default="1,1000,10000", help="comma-separated")
    parser.add_argument("--repeat", type=int, default=2)
    args = parser.parse_args()
    rounds = [int(r) for r in args.rounds.split(",")]
    floor(rounds, f"{Settings().sandbox.image_prefix}/python:latest")
    asyncio.run(through_codeexec(rounds, args.repeat))


if __name__ == "__main__":
    main()
