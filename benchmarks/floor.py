"""The floor: each submission as bare processes inside one already running container.

A timing script runs inside the container (via one ``docker exec`` per client) so no
Docker round trip is counted. Per submission it times what any judge must do: the
compile step when the workload has one (a judge compiles every submission), then the
10 test runs. ``runs_only`` is the figure earlier tables used: the binary compiled once
beforehand, not counted, only the 10 runs timed (the same as the floor for a workload
without a compile step, so it is not measured twice).

Under load, ``clients`` execs run at once and the window is taken from the clocks
inside the container (first start to last end), so starting the execs is not counted.
"""

from __future__ import annotations

import json
import math
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import docker

from benchmarks.workload import ONE_CLIENT_PAUSE_S, Workload

TIMER = r"""
import json, os, subprocess, sys, tempfile, time
spec = json.loads(sys.argv[1])
os.chdir(tempfile.mkdtemp(dir="/tmp"))  # concurrent clients do not share files
open(spec["source_file"], "w").write(spec["source"])
for i, (given, _) in enumerate(spec["tests"]):
    open(f"in{i}", "w").write(given)
compile = spec["compile"]
if compile and not spec["compile_each"]:
    subprocess.run(compile, stdout=subprocess.DEVNULL, check=True)
out = []
window_start = time.time()
for _ in range(spec["repetitions"]):
    started = time.perf_counter()
    if compile and spec["compile_each"]:
        subprocess.run(compile, stdout=subprocess.DEVNULL, check=True)
    for i in range(len(spec["tests"])):
        with open(f"in{i}", "rb") as stdin:
            subprocess.run(spec["run"], stdin=stdin, stdout=subprocess.DEVNULL, check=True)
    out.append(time.perf_counter() - started)
    time.sleep(spec["pause_s"])  # paced as codeexec's one client is (not timed)
print(json.dumps({"latencies": out, "start": window_start, "end": time.time()}))
"""


def load_repetitions(load_submissions: int, clients: int) -> int:
    """Submissions per client so that the floor's load matches codeexec's in size."""
    return max(1, math.ceil(load_submissions / clients))


def measure(
    client: docker.DockerClient,
    image: str,
    work: Workload,
    repetitions: int,
    clients: int,
    per_client: int,
) -> dict[str, Any]:
    """``repetitions`` submissions one after another (latencies), then ``clients``
    concurrent clients of ``per_client`` submissions each (load)."""
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

        def one(reps: int, compile_each: bool, pause_s: float = 0.0) -> dict[str, Any]:
            command = json.dumps(
                {**spec, "repetitions": reps, "compile_each": compile_each, "pause_s": pause_s}
            )
            result = container.exec_run(["python3", "-c", TIMER, command])
            output = result.output
            assert isinstance(output, bytes)  # not streamed
            assert result.exit_code == 0, output[-500:]
            # stderr is in the output too (a compiler's warning): the report is the last line
            return dict(json.loads(output.decode().strip().splitlines()[-1]))

        def way(compile_each: bool) -> dict[str, Any]:
            # One client pauses between submissions as codeexec's does: an idle machine
            # answers the next one slower (caches, clock), and both sides pay it alike.
            latencies = one(repetitions, compile_each, ONE_CLIENT_PAUSE_S)["latencies"]
            with ThreadPoolExecutor(clients) as pool:
                loads = list(pool.map(lambda _: one(per_client, compile_each), range(clients)))
            seconds = max(c["end"] for c in loads) - min(c["start"] for c in loads)
            tests = sum(len(c["latencies"]) for c in loads) * len(work.tests)
            return {"latencies": latencies, "load": {"tests": tests, "seconds": seconds}}

        floor = way(compile_each=True)
        floor["runs_only"] = way(compile_each=False) if work.compile else dict(floor)
        return floor
    finally:
        container.remove(force=True)
