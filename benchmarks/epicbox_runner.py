"""Runs inside epicbox's own virtual environment (it needs docker<7, urllib3<2,
requests<2.32). Reads a JSON spec on stdin, prints timings as JSON. One epicbox.run per
test, as epicbox's README shows; C is compiled once in a working directory."""

import json
import sys
import time
from concurrent.futures import ThreadPoolExecutor

import epicbox

spec = json.load(sys.stdin)
LIMITS = {"cputime": 2, "memory": 256}


def submission(work):
    started = time.perf_counter()
    files = [{"name": work["source_file"], "content": work["source"].encode()}]
    if work["compile"]:
        with epicbox.working_directory() as workdir:
            result = epicbox.run(
                work["profile"],
                " ".join(work["compile"]),
                files=files,
                limits={"cputime": 10, "memory": 512},
                workdir=workdir,
            )
            assert result["exit_code"] == 0, result
            for given, expected in work["tests"]:
                result = epicbox.run(
                    work["profile"],
                    " ".join(work["run"]),
                    stdin=given.encode(),
                    limits=LIMITS,
                    workdir=workdir,
                )
                assert result["stdout"].decode().strip() == expected.strip(), result
    else:
        for given, expected in work["tests"]:
            result = epicbox.run(
                work["profile"],
                " ".join(work["run"]),
                files=files,
                stdin=given.encode(),
                limits=LIMITS,
            )
            assert result["stdout"].decode().strip() == expected.strip(), result
    return time.perf_counter() - started


epicbox.configure(
    profiles=[
        # read_only=False: epicbox copies files into the container's filesystem. Its
        # working-directory volume (used to compile C once) is root-owned, so the C
        # profile runs as root; Python runs as nobody.
        epicbox.Profile(name, image, user="root" if name == "c" else "65534", read_only=False)
        for name, image in spec["images"].items()
    ]
)
out = {}
for work in spec["workloads"]:
    latencies = [submission(work) for _ in range(spec["submissions"])]
    load_submissions = max(spec["clients"], spec["submissions"] // 2)
    started = time.perf_counter()
    with ThreadPoolExecutor(spec["clients"]) as pool:
        list(pool.map(submission, [work] * load_submissions))
    elapsed = time.perf_counter() - started
    out[work["language"]] = {
        "latencies": latencies,
        "load": {"tests": load_submissions * len(work["tests"]), "seconds": elapsed},
    }
print(json.dumps(out))
