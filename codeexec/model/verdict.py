"""Verdicts: what one test (or a whole submission) earned."""

from __future__ import annotations

from enum import StrEnum


class Verdict(StrEnum):
    AC = "AC"  # accepted
    WA = "WA"  # wrong answer
    TLE = "TLE"  # time limit exceeded (CPU, or wall-clock backstop)
    MLE = "MLE"  # memory limit exceeded
    RE = "RE"  # runtime error: crash or non-zero exit
    OLE = "OLE"  # output limit exceeded
    CE = "CE"  # compile error
    IE = "IE"  # internal error: the service failed, never the submission's fault
    SK = "SK"  # skipped: not run (a scoring problem's group stopped at a rejection)
