"""The benchmark workload: one Python and one C problem, 10 tests each, trivial solutions.

As a real problem stores them: the first tests are samples (shown), the rest hidden.
Where a test is hidden changes only what codeexec answers, not what it runs; the floor
runs the same 10 tests either way.
"""

from __future__ import annotations

from dataclasses import dataclass

# One client waits this long between its submissions (codeexec and the floor alike): it
# once gave the engine time to replace the container a submission used.
ONE_CLIENT_PAUSE_S = 0.5


@dataclass(frozen=True)
class Workload:
    language: str
    problem_id: str
    source: str
    source_file: str
    compile: tuple[str, ...] | None
    run: tuple[str, ...]
    tests: tuple[tuple[str, str], ...]  # (input, expected output)
    hidden: int = 8  # the last ``hidden`` tests are hidden, the ones before them shown

    @property
    def shown(self) -> int:
        return len(self.tests) - self.hidden

    def is_hidden(self, index: int) -> bool:
        return index >= self.shown


PYTHON = Workload(
    language="python",
    problem_id="bench-python",
    source="print(input().lower())\n",
    source_file="main.py",
    compile=None,
    run=("python3", "main.py"),
    tests=tuple((f"Line {i} MiXeD CaSe\n", f"line {i} mixed case\n") for i in range(10)),
)

C = Workload(
    language="c",
    problem_id="bench-c",
    source=(
        "#include <stdio.h>\n"
        'int main(void) { long long a, b; scanf("%lld %lld", &a, &b);'
        ' printf("%lld\\n", a + b); return 0; }\n'
    ),
    source_file="main.c",
    compile=("gcc", "-O2", "-o", "main", "main.c"),
    run=("./main",),
    tests=tuple((f"{i} {i * 1000}\n", f"{i + i * 1000}\n") for i in range(10)),
)

WORKLOADS = (PYTHON, C)
