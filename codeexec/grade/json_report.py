"""The JSON report: every graded source with its job as the API returned it, untouched
(the API's own result model, ``submission_out``), and whether all of them passed."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from codeexec.grade.graded import Graded


def json_report(graded: Sequence[Graded]) -> dict[str, Any]:
    """``passed``: at least one source was graded and every one passed every test."""
    return {
        "graded": [
            {
                "source": g.source,
                "problem": g.problem,
                "language": g.language,
                "job": g.job,
                "error": g.error,
                "duration_s": g.duration_s,
            }
            for g in graded
        ],
        "passed": bool(graded) and all(g.passed for g in graded),
    }
