"""The glob patterns of ``submissions.yaml`` (Kattis 2025-09, "Glob patterns"): ``*``
matches within one path part (never ``/``), ``{a,b}`` expands (nested too); ``**`` and
``[xyz]`` are not part of the format, so they match themselves. A path is matched when
it or any folder above it is (``accepted`` matches ``accepted/x.py``)."""

from __future__ import annotations

import re
from functools import lru_cache

MAX_EXPANSIONS = 1000  # of one pattern's braces: a pattern is a package's, not ours


class GlobError(ValueError):
    """A pattern the format does not allow (unbalanced braces, too many expansions)."""


def expand_braces(pattern: str) -> list[str]:
    """``a.{py,cpp}`` → ``[a.py, a.cpp]``; the innermost-first expansion of every group."""
    found = [pattern]
    while True:
        done, more = [], False
        for item in found:
            match = re.search(r"\{([^{}]*)\}", item)
            if match is None:
                done.append(item)
                continue
            more = True
            head, tail = item[: match.start()], item[match.end() :]
            done += [head + option + tail for option in match.group(1).split(",")]
            if len(done) > MAX_EXPANSIONS:
                raise GlobError(f"{pattern!r} expands to more than {MAX_EXPANSIONS} patterns")
        found = done
        if not more:
            break
    if any(c in item for item in found for c in "{}"):
        raise GlobError(f"{pattern!r}: unbalanced braces")
    return found


@lru_cache(maxsize=1024)
def _compiled(pattern: str) -> re.Pattern[str]:
    parts = [
        "[^/]*".join(re.escape(piece) for piece in alternative.split("*"))
        for alternative in expand_braces(pattern.strip("/"))
    ]
    return re.compile("|".join(f"(?:{part})" for part in parts))


def matches(pattern: str, path: str) -> bool:
    """Whether ``pattern`` matches ``path`` or one of the folders above it."""
    compiled = _compiled(pattern)
    parts = path.strip("/").split("/")
    return any(compiled.fullmatch("/".join(parts[:n])) for n in range(len(parts), 0, -1))
