"""A pytest plugin for runs in the cgroup v2 guest (deploy/guest/guest-init loads it
with ``-p pytest_guest``).

1. Time limits are scaled by ``CODEEXEC_GUEST_TIME_SCALE`` (default 5). Everything in
   the guest runs under software emulation, ~10x slower than on the host (a Python start
   costs 0.2-0.7 s of CPU there, starting a container ~10 s), while a hostile case gives
   its program 1 s of CPU and 2 s of wall time. Unscaled, a memory bomb is stopped by the
   wall clock before it reaches its memory limit (TLE instead of MLE), so the run would
   test the emulator's speed, not the accounting. The scale applies where the service
   turns a problem's limits into run limits (``Settings.clamp_time_ms`` and
   ``Settings.wall_ms``); what is measured (cgroup CPU time, memory, OOM kills) and how
   verdicts are decided are untouched. Compile limits are not scaled.
2. ``PYTEST_CURRENT_TEST`` is not set. pytest rewrites that variable in ``os.environ``
   at every phase of every test, while the service under test, in the same process,
   iterates ``os.environ`` in its Docker SDK threads (requests looks for proxy
   variables on every call). Under emulation that race is lost regularly: the
   iteration raises ``KeyError: 'PYTEST_CURRENT_TEST'``, a container's removal fails
   and every later test of the module sees the leftover container. (The same race
   exists on the host, only rarer; a deployed service has no pytest rewriting its
   environment.)
3. A failing test's report is printed as soon as it fails, so a run that later hits
   the guest's timeout still shows why every earlier test failed.
"""

from __future__ import annotations

import os
from typing import Any

import pytest

SCALE = float(os.environ.get("CODEEXEC_GUEST_TIME_SCALE", "5"))
LIMIT = 4000  # characters of each failure report


def pytest_configure(config: pytest.Config) -> None:
    import _pytest.runner

    _pytest.runner._update_current_test_var = lambda item, when: None  # type: ignore[assignment]
    if SCALE == 1:
        return
    from codeexec.config import Settings

    clamp_time_ms = Settings.clamp_time_ms
    wall_ms = Settings.wall_ms

    def scaled_clamp_time_ms(self: Any, value: int | None) -> int:
        return round(clamp_time_ms(self, value) * SCALE)

    def scaled_wall_ms(self: Any, value: int | None, time_ms: int) -> int:
        return wall_ms(self, None if value is None else round(value * SCALE), time_ms)

    Settings.clamp_time_ms = scaled_clamp_time_ms  # type: ignore[method-assign]
    Settings.wall_ms = scaled_wall_ms  # type: ignore[method-assign]


def pytest_report_header(config: pytest.Config) -> str:
    return f"cgroup v2 guest: problems' time limits x{SCALE:g} (software emulation)"


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if report.failed:
        text = report.longreprtext
        if len(text) > LIMIT:
            text = "...\n" + text[-LIMIT:]
        print(f"\n----- {report.nodeid} failed ({report.when}, {report.duration:.1f} s) -----")
        print(text, flush=True)
        for name, content in report.sections:
            if "log" in name or "stderr" in name:
                if len(content) > LIMIT:
                    content = content[: LIMIT // 2] + "\n...\n" + content[-LIMIT // 2 :]
                print(f"--- {name} ---\n{content}", flush=True)
