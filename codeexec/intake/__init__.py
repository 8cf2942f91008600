"""Intake: the one way into judging. Every door (``/exec``, jobs, batch, and later the
Judge0 and Piston APIs, the grade CLI, the web page) turns its request into an
``intake.Request`` and gets ``Accepted`` work or a ``Rejected`` reason with its status."""

from codeexec.intake.ad_hoc import MAX_REPEAT, AdHocRun, args_problem
from codeexec.intake.program import (
    MAX_FILES,
    MAX_NAME_CHARS,
    SubmissionError,
    binary_files,
    program_files,
)
from codeexec.intake.service import Accepted, Intake, NotReady, Rejected, Request

__all__ = [
    "MAX_FILES",
    "MAX_NAME_CHARS",
    "MAX_REPEAT",
    "Accepted",
    "AdHocRun",
    "Intake",
    "NotReady",
    "Rejected",
    "Request",
    "SubmissionError",
    "args_problem",
    "binary_files",
    "program_files",
]
