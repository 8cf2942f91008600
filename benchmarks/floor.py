"""The floor: each test as a bare process inside one already running container.

A timing script runs inside the container (via one ``docker exec``) so no Docker round
trip is counted: per submission, the sum of the 10 process runs. For C the binary is
compiled once beforehand and not counted.
"""

from __future__ import annotations

import json
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import docker

from benchmarks.workload import Workload

TIMER = r"""
import json, os, subprocess, sys, tempfile, time
spec = json.loads(sys.argv[1])
os.chdir(tempfile.mkdtemp(dir="/tmp"))  # concurrent clients do not share files
open(spec["source_file"], "w").write(spec["source"])
for i, (given, _) in enumerate(spec["tests"]):
    open(f"in{i}", "w").write(given)
if spec["compile"]:
    subprocess.run(spec["compile"], check=True)
out = []
for _ in range(spec["repetitions"]):
    started = time.perf_counter()
    for i in range(len(spec["tests"])):
        with open(f"in{i}", "rb") as stdin:
            subprocess.run(spec["run"], stdin=stdin, stdout=subprocess.DEVNULL, check=True)
    out.append(time.perf_counter() - started)
print(json.dumps(out))
"""


def measure(
    client: docker.DockerClient, image: str, work: Workload, repetitions: int, clients: int
) -> dict[str, Any]:
    container = client.containers.run(
        image,
        ["sleep", "infinity"],
        detach=True,
        network_mode="none",
        user="65534:65534",
        tmpfs={"/tmp": "rw,exec,size=64m"},
        labels={"codeexec.benchmark": "floor"},
    )
    try:
        spec = {
            "source": work.source,
            "source_file": work.source_file,
            "tests": work.tests,
            "compile": work.compile,
            "run": work.run,
        }

        def one(reps: int) -> list[float]:
            result = container.exec_run(
                ["python3", "-c", TIMER, json.dumps({**spec, "repetitions": reps})]
            )
            output = result.output
            assert isinstance(output, bytes)  # not streamed
            assert result.exit_code == 0, output[-500:]
            return [float(x) for x in json.loads(output)]

        latencies = one(repetitions)
        per_client = max(1, repetitions // 2)
        started = time.perf_counter()
        with ThreadPoolExecutor(clients) as pool:
            loads = list(pool.map(one, [per_client] * clients))
        elapsed = time.perf_counter() - started
        tests = sum(len(runs) for runs in loads) * len(work.tests)
        return {"latencies": latencies, "load": {"tests": tests, "seconds": elapsed}}
    finally:
        container.remove(force=True)
