"""Judge0's statuses and formats as codeexec's results map onto them (the real-service
suite, tests/test_judge0_api.py, drives the same mapping through the SDK)."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

import pytest

from codeexec.http.compat.judge0.render import decimal, encode64, status_of, when
from codeexec.model import Output, Result, Status, Submission, TestReport, Verdict


def job(verdict: Verdict, exit_code: int | None = 0, signal: int | None = None) -> Submission:
    test = TestReport(
        1, False, verdict, None, 5, 9, 1000, exit_code, signal, None, Output(b"", b"")
    )
    result = Result(1, verdict, verdict == Verdict.AC, "", (test,))
    return Submission("0" * 32, None, ":run", "c", (), Status.FINISHED, datetime(2026, 1, 1),
                      result=result)  # fmt: skip


@pytest.mark.parametrize(
    ("verdict", "exit_code", "signal", "status"),
    [
        (Verdict.AC, 0, None, 3),
        (Verdict.WA, 0, None, 4),
        (Verdict.TLE, None, 9, 5),
        (Verdict.CE, None, None, 6),
        (Verdict.RE, None, 11, 7),
        (Verdict.OLE, None, 25, 8),
        (Verdict.RE, None, 8, 9),
        (Verdict.RE, None, 6, 10),
        (Verdict.RE, 1, None, 11),
        (Verdict.RE, None, 13, 12),
        (Verdict.MLE, None, 9, 12),
        (Verdict.IE, None, None, 13),
    ],
)
def test_verdicts_map_to_judge0_statuses(
    verdict: Verdict, exit_code: int | None, signal: int | None, status: int
) -> None:
    assert status_of(job(verdict, exit_code, signal))[0] == status


def test_jobs_not_finished_are_queued_processing_or_internal_errors() -> None:
    queued = Submission("0" * 32, None, ":run", "c", (), Status.QUEUED, datetime(2026, 1, 1))
    assert status_of(queued) == (1, None)
    assert status_of(replace(queued, status=Status.RUNNING))[0] == 2
    assert status_of(replace(queued, status=Status.FAILED, error="boom")) == (13, "boom")


def test_rails_formats() -> None:
    assert [decimal(x) for x in (0.0, 0.012, 5, 2.5)] == ["0.0", "0.012", "5.0", "2.5"]
    assert when(datetime(2024, 1, 1, 12, 0, 0, 123456)) == "2024-01-01T12:00:00.123Z"
    wrapped = encode64(b"x" * 100)
    assert wrapped.count("\n") == 3 and all(len(line) <= 60 for line in wrapped.splitlines())
