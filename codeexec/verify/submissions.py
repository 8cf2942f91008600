"""A package's example submissions: every file or folder directly inside a folder of
``submissions/`` is one program (a folder's files, subfolders included, are one program
in one language). Read through the package's bounded reader (``packages.archive``), so a
zip and a folder are read alike and within the same limits as an import."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import PurePosixPath

from codeexec.grade.client import ServerLanguage, language_of_file
from codeexec.packages.archive import PackageFiles

ROOT = "submissions/"
RULES_FILE = "submissions/submissions.yaml"


@dataclass(frozen=True)
class PackageSubmission:
    path: str  # relative to submissions/: "accepted/hello.py", or a folder "accepted/multi"
    files: dict[str, str] = field(default_factory=dict)  # name in the program -> its text
    why_not: str | None = None  # why it cannot be submitted as it is


def _ignored(parts: tuple[str, ...]) -> bool:
    return any(part.startswith(".") or part == "__pycache__" for part in parts)


def find_submissions(files: PackageFiles) -> list[PackageSubmission]:
    """Every submission of the package, by path. A file directly in ``submissions/``
    (``submissions.yaml``, a README) is none; hidden files and ``__pycache__`` are
    left out."""
    grouped: dict[str, list[tuple[str, str]]] = {}
    for name in sorted(files.names()):
        if not name.startswith(ROOT):
            continue
        parts = PurePosixPath(name).parts
        if len(parts) < 3 or _ignored(parts):
            continue
        path = "/".join(parts[1:3])
        inner = "/".join(parts[3:]) or parts[2]  # a file program keeps its own name
        grouped.setdefault(path, []).append((inner, name))
    found = []
    for path, members in grouped.items():
        texts: dict[str, str] = {}
        why_not = None
        for inner, name in members:
            try:
                texts[inner] = files.read(name).decode("utf-8")
            except UnicodeDecodeError:
                why_not = f"{inner} is not UTF-8 text"
                break
        found.append(PackageSubmission(path, texts if why_not is None else {}, why_not))
    return found


def language_of(
    submission: PackageSubmission, named: str | None, known: Mapping[str, ServerLanguage]
) -> tuple[str | None, str | None]:
    """(language id, None), or (None, why not): ``named`` (submissions.yaml's
    ``language``, in the spec's codes) if given, else the one language whose extensions
    the files have (files of no language's extension, e.g. headers, travel along)."""
    if named is not None:
        # the spec's code, where a language's language.toml says it is not its id
        ours = next((lang.id for lang in known.values() if named in lang.kattis_names), named)
        if ours not in known:
            return None, f"language {named!r} (submissions.yaml) is not one codeexec has"
        return ours, None
    found = {language_of_file(PurePosixPath(name).name, known) for name in submission.files}
    found.discard(None)
    if not found:
        kinds = sorted({PurePosixPath(n).suffix or PurePosixPath(n).name for n in submission.files})
        return None, f"no language has the extension {', '.join(kinds)}"
    if len(found) > 1:
        return None, f"its files are in several languages: {', '.join(sorted(map(str, found)))}"
    return str(found.pop()), None
