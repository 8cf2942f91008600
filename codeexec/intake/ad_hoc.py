"""Ad-hoc runs: a program run on the caller's stdin with no stored problem behind it
(``/api/v1/runs``, and the Judge0 and Piston doors, which map onto the same thing).

A run becomes an ordinary intake ``Request`` whose problem is inline: its stdin is the
one test (``repeat`` times, Judge0's ``number_of_runs``), its expected output, when
given, is checked like a problem's (else any output of a run that ends well is
accepted), and its limits are the caller's, within what the door allows.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from codeexec.intake.service import Request
from codeexec.model import (
    AD_HOC_ID,
    UNCHECKED,
    AdHoc,
    CheckerSpec,
    Problem,
    ProblemSnapshot,
    SourceFile,
    TestCase,
)

MAX_REPEAT = 20  # Judge0's max_number_of_runs
MAX_ARGS = 128
MAX_ARG_CHARS = 4096  # all arguments together


@dataclass(frozen=True)
class AdHocRun:
    language: str
    code: str | None = None
    files: Sequence[SourceFile] | None = None
    entry_point: str | None = None
    stdin: bytes = b""
    expected_output: bytes | None = None  # None: not checked
    checker: str = "lines"  # how an expected output is compared
    args: tuple[str, ...] = ()
    merge_stderr: bool = False
    repeat: int = 1
    # None: the server's default for problems
    time_limit_ms: int | None = None
    wall_time_limit_ms: int | None = None
    memory_limit_mb: int | None = None
    output_limit_kb: int | None = None
    process_limit: int | None = None

    def request(self) -> Request:
        if not 1 <= self.repeat <= MAX_REPEAT:
            raise ValueError(f"repeat must be 1..{MAX_REPEAT}, not {self.repeat}")
        checked = self.expected_output is not None
        problem = Problem(
            id=AD_HOC_ID,
            time_limit_ms=self.time_limit_ms,
            wall_time_limit_ms=self.wall_time_limit_ms,
            memory_limit_mb=self.memory_limit_mb,
            output_limit_kb=self.output_limit_kb,
            process_limit=self.process_limit,
            checker=CheckerSpec(mode=self.checker if checked else UNCHECKED),
            ad_hoc=AdHoc(self.args, self.merge_stderr),
        )
        test = TestCase(self.stdin, self.expected_output or b"")
        snapshot = ProblemSnapshot(problem, (test,) * self.repeat)
        return Request(AD_HOC_ID, self.language, self.code, self.files, self.entry_point, snapshot)


def args_problem(args: Sequence[str]) -> str | None:
    """Why these command-line arguments cannot be passed, or None."""
    if len(args) > MAX_ARGS:
        return f"at most {MAX_ARGS} arguments"
    if sum(len(a) for a in args) > MAX_ARG_CHARS:
        return f"at most {MAX_ARG_CHARS} characters in all"
    if any("\0" in a for a in args):
        return "an argument cannot contain a NUL character"
    return None
