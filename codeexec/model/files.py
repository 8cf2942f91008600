"""A problem's files besides its tests: its statement (per language, in Markdown, LaTeX
or PDF, with the images it shows) and its attachments (files contestants may download).
They come from a Kattis package's ``statement/`` (``problem_statement/`` in legacy
packages) and ``attachments/`` folders, and never hold test data.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

FileKind = Literal["statement", "attachment"]
STATEMENT: FileKind = "statement"
ATTACHMENT: FileKind = "attachment"
# In the order a client is offered them: the editable sources first.
STATEMENT_FORMATS = ("md", "tex", "pdf")
DEFAULT_LANGUAGE = "en"  # a statement named problem.<format>, without a language code
MAX_STATEMENT_BYTES = 1 << 20  # a Markdown or LaTeX statement (what converting costs)
MAX_FILE_NAME = 255  # a stored name, its folders included
# problem.<language>.<format>: a language code is ISO 639 (two or three letters),
# possibly with a region or script (pt-BR, zh-Hant).
_STATEMENT_NAME = re.compile(r"problem(?:\.([a-z]{2,3}(?:-[A-Za-z0-9]{2,8})*))?\.(md|tex|pdf)")


@dataclass(frozen=True)
class ProblemFile:
    kind: FileKind
    name: str  # its path within statement/ or attachments/ (POSIX, no "..")
    data: bytes
    content_type: str


@dataclass(frozen=True)
class FileSummary:
    """A stored file without its data."""

    kind: FileKind
    name: str
    content_type: str
    size: int


def statement_source(name: str) -> tuple[str, str] | None:
    """(language, format) when ``name`` is a statement itself (``problem.en.md``,
    ``problem.tex``), not one of the files it shows."""
    found = _STATEMENT_NAME.fullmatch(name)
    if found is None:
        return None
    return found.group(1) or DEFAULT_LANGUAGE, found.group(2)


def statement_sources(names: Iterable[str]) -> dict[tuple[str, str], str]:
    """The statement file to serve for each (language, format): ``problem.en.md``
    rather than ``problem.md`` when a package has both."""
    chosen: dict[tuple[str, str], str] = {}
    for name in sorted(names, key=lambda n: n.count(".")):  # problem.md before problem.en.md
        source = statement_source(name)
        if source is not None:
            chosen[source] = name
    return chosen


def statement_languages(names: Iterable[str]) -> dict[str, list[str]]:
    """The formats each language's statement exists in, languages in alphabetical order
    and formats in ``STATEMENT_FORMATS`` order."""
    out: dict[str, list[str]] = {}
    for language, form in sorted(
        statement_sources(names), key=lambda s: (s[0], STATEMENT_FORMATS.index(s[1]))
    ):
        out.setdefault(language, []).append(form)
    return out
