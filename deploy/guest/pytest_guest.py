"""A pytest plugin for runs in the cgroup v2 guest (deploy/guest/guest-init loads it
with ``-p pytest_guest``).

1. Time limits are scaled by ``CODEEXEC_GUEST_TIME_SCALE`` (default 10). Everything in
   the guest runs under software emulation, 10-30x slower than on the host (a Python
   start costs 0.2-0.7 s of CPU there, starting a container 10-25 s), while a hostile
   case gives its program 1 s of CPU and 2 s of wall time. Unscaled, a memory bomb is
   stopped by the wall clock before it reaches its memory limit (TLE instead of MLE), so
   the run would test the emulator's speed, not the accounting. 10 rather than 5: next
   to the host suite (``make test``) the emulator runs at the lowest priority, and the
   guest cannot tell time it was not scheduled from time its program ran (no steal time
   under TCG); at 5 a Python memory bomb was TLE at 53 of its 64 MB (4.3 s of "CPU",
   10.3 s of wall). The scale applies where the service
   turns a problem's limits into run limits (``LimitSettings.clamp_time_ms``
   and ``LimitSettings.wall_ms``), and to compile limits (``Judge.compile_limits``: a gcc run
   costs ~20 s of emulated CPU, and under load on the host the 30 s wall limit of C's
   compile step was reached: CE); what is measured (cgroup CPU time, memory, OOM kills)
   and how verdicts are decided are untouched.
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

SCALE = float(os.environ.get("CODEEXEC_GUEST_TIME_SCALE", "10"))
LIMIT = 4000  # characters of each failure report


def pytest_configure(config: pytest.Config) -> None:
    import _pytest.runner

    _pytest.runner._update_current_test_var = lambda item, when: None  # type: ignore[assignment]
    if SCALE == 1:
        return
    import dataclasses

    from codeexec.config import LimitSettings
    from codeexec.judge.judge import Judge
    from codeexec.sandbox.languages import Language
    from codeexec.sandbox.sandbox import RunLimits

    clamp_time_ms = LimitSettings.clamp_time_ms
    wall_ms = LimitSettings.wall_ms
    compile_limits = Judge.compile_limits

    def scaled_clamp_time_ms(self: Any, value: int | None) -> int:
        return round(clamp_time_ms(self, value) * SCALE)

    def scaled_wall_ms(self: Any, value: int | None, time_ms: int) -> int:
        return wall_ms(self, None if value is None else round(value * SCALE), time_ms)

    def scaled_compile_limits(self: Judge, language: Language) -> RunLimits:
        limits = compile_limits(self, language)
        return dataclasses.replace(
            limits, cpu_ms=round(limits.cpu_ms * SCALE), wall_ms=round(limits.wall_ms * SCALE)
        )

    LimitSettings.clamp_time_ms = scaled_clamp_time_ms  # type: ignore[method-assign]
    LimitSettings.wall_ms = scaled_wall_ms  # type: ignore[method-assign]
    Judge.compile_limits = scaled_compile_limits  # type: ignore[method-assign]


def pytest_report_header(config: pytest.Config) -> str:
    return f"cgroup v2 guest: problems' and compile time limits x{SCALE:g} (software emulation)"


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
