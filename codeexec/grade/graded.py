"""What grading one source produced: the input of every report format."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Graded:
    source: str  # the source file's path as given on the command line
    problem: str  # the problem id
    language: str  # codeexec language id
    # The finished job exactly as GET /api/v1/submissions/{id} returns it (admin view),
    # None if it could not be graded.
    job: dict[str, Any] | None
    error: str | None = None  # why it could not be graded, when job is None or it failed
    duration_s: float = 0.0  # wall time of grading this source
