"""A language's ``main_pattern`` runs on untrusted text in the service (which file of a
multi-file submission is the entry): on any submission it must take time linear in
its size. A pattern such as ``^\\s*program`` in multi-line mode lets ``\\s*`` run across
every remaining line from every line start (200 KB of newlines took 283 s): the event
loop stops. Hostile shapes are searched in a subprocess with a deadline, so a pattern
that regresses fails here instead of hanging the suite."""

from __future__ import annotations

import json
import subprocess
import sys

from codeexec.sandbox.languages import shipped_languages

PROBE = """
import json, sys, time
from codeexec.intake.program import find_entry
from codeexec.sandbox.languages import shipped_languages
shapes = {
    "newlines": "\\n" * 400_000,
    "blank lines": " \\t\\n" * 130_000,
    "spaces": " " * 400_000,
    "keywords": "static public void fn pub def program procedure func fun main " * 6_000,
    "keyword, then space": "procedure program static fn x" + " \\n\\t" * 130_000,
}
slowest = {}
for language in shipped_languages().values():
    if language.main_pattern is None:
        continue
    for name, text in shapes.items():
        names = ["a" + language.extensions[0], "b" + language.extensions[0]]
        started = time.perf_counter()
        try:
            find_entry(language, dict.fromkeys(names, text), names, ("main",))
        except ValueError:
            pass
        slowest[f"{language.id}: {name}"] = time.perf_counter() - started
print(json.dumps(slowest))
"""


def test_entry_patterns_take_linear_time_on_hostile_text() -> None:
    assert any(lang.main_pattern for lang in shipped_languages().values())
    done = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    times = json.loads(done.stdout)
    # Linear: each 400 KB search is milliseconds; quadratic would be minutes.
    assert {case: t for case, t in times.items() if t > 2.0} == {}
