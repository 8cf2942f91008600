"""Seed 004's design: a new container for every test, via the Docker SDK.

Each test: create (same image, same lock-down), start, wait, read logs, remove. A
compiled language is compiled in every test's container, as that design does.
"""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import docker

from benchmarks.workload import Workload

SCRIPT = 'printf %s "$SOURCE" > "$FILE" && {compile} printf %s "$INPUT" | {run}'


def _command(work: Workload) -> list[str]:
    compile_step = " ".join(work.compile) + " &&" if work.compile else ""
    return ["sh", "-c", SCRIPT.format(compile=compile_step, run=" ".join(work.run))]


def run_test(client: docker.DockerClient, image: str, work: Workload, given: str) -> str:
    container = client.containers.create(
        image,
        _command(work),
        environment={"SOURCE": work.source, "FILE": work.source_file, "INPUT": given},
        working_dir="/tmp",
        user="65534:65534",
        network_mode="none",
        read_only=True,
        tmpfs={"/tmp": "rw,exec,size=64m"},
        cap_drop=["ALL"],
        security_opt=["no-new-privileges"],
        mem_limit="256m",
        memswap_limit="256m",
        pids_limit=64,
        labels={"codeexec.benchmark": "container-per-test"},
    )
    try:
        container.start()
        container.wait()
        return str(container.logs(stdout=True, stderr=False).decode())
    finally:
        container.remove(force=True)


def submission(client: docker.DockerClient, image: str, work: Workload) -> float:
    started = time.perf_counter()
    for given, expected in work.tests:
        got = run_test(client, image, work, given)
        assert got.strip() == expected.strip(), (got, expected)
    return time.perf_counter() - started


def measure(
    client: docker.DockerClient, image: str, work: Workload, submissions: int, clients: int
) -> dict[str, Any]:
    latencies = [submission(client, image, work) for _ in range(submissions)]
    load_submissions = max(clients, submissions // 2)
    started = time.perf_counter()
    with ThreadPoolExecutor(clients) as pool:
        list(pool.map(lambda _: submission(client, image, work), range(load_submissions)))
    elapsed = time.perf_counter() - started
    return {
        "latencies": latencies,
        "load": {"tests": load_submissions * len(work.tests), "seconds": elapsed},
    }
