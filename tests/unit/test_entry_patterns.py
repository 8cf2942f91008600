"""A language's ``main_pattern`` runs on untrusted text in the service (which file of a
multi-file submission is the entry): on any submission it must take time linear in
its size. A pattern such as ``^\\s*program`` in multi-line mode lets ``\\s*`` run across
every remaining line from every line start (200 KB of newlines took 283 s): the event
loop stops. Hostile shapes are searched in a subprocess with a deadline, so a pattern
that regresses fails here instead of hanging the suite."""

from __future__ import annotations

import contextlib
import json
import re
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

from codeexec.intake import program
from codeexec.intake.program import find_entry
from codeexec.sandbox.languages import LanguageError, load_language, shipped_languages
from tests.unit.test_program_files import write_language

PROBE = """
import json, sys, time
from codeexec.intake import program
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


class _CountingPattern:
    def __init__(self, pattern: re.Pattern[str]) -> None:
        self.pattern = pattern
        self.searches = 0

    def search(self, text: str) -> re.Match[str] | None:
        self.searches += 1
        return self.pattern.search(text)


@pytest.mark.parametrize(
    "language_id", [lang.id for lang in shipped_languages().values() if lang.main_pattern]
)
def test_entry_detection_is_one_search_per_file(
    monkeypatch: pytest.MonkeyPatch, language_id: str
) -> None:
    # Linear was not enough: matched line by line (a Python call per line), 1 MB of
    # short lines cost the event loop 0.1-0.3 s, a batch of 16 such submissions
    # seconds (docs/api.md: a 1 MB body costs at most ~12 ms). One search per file,
    # in C, now: 1 MB in 5-40 ms whatever its shape.
    made: list[_CountingPattern] = []

    def compile_counting(pattern: str, flags: int = 0) -> _CountingPattern:
        made.append(_CountingPattern(re.compile(pattern, flags)))
        return made[-1]

    monkeypatch.setattr(program, "re", SimpleNamespace(compile=compile_counting, MULTILINE=re.M))
    language = shipped_languages()[language_id]
    names = ["a" + language.extensions[0], "b" + language.extensions[0]]
    with contextlib.suppress(ValueError):
        find_entry(language, dict.fromkeys(names, "x\n" * 100_000), names, ("main",))
    assert [p.searches for p in made] == [2]


def toy(tmp_path: Path, pattern: str) -> Path:
    return write_language(tmp_path, f"main_pattern = '{pattern}'")


@pytest.mark.parametrize(
    "pattern",
    [r"^func\s+main", r"(?s)main.", r"[^x]main", r"\Dmain", r"main\W", r"(a|\n)", r"[\x00-\x7f]"],
)
def test_a_main_pattern_that_could_match_a_line_break_is_refused(
    tmp_path: Path, pattern: str
) -> None:
    with pytest.raises(LanguageError, match="main_pattern must not match a line break"):
        load_language(toy(tmp_path, pattern))


@pytest.mark.parametrize("pattern", [r"^[ \t]*program[ \t]+\w+", r"[^\s]main", r"\bmain\b", "a.b"])
def test_a_main_pattern_within_one_line_is_taken(tmp_path: Path, pattern: str) -> None:
    assert load_language(toy(tmp_path, pattern)).main_pattern == pattern
