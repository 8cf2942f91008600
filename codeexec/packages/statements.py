"""A Kattis package's statement and attachments → the problem's files.

- ``statement/`` (2023-07 and 2025-09) or ``problem_statement/`` (legacy; either is
  read when the layout's own is empty): the statements ``problem.<language>.md``,
  ``.tex`` and ``.pdf`` (``problem.tex``: English), and the images and PDFs they show
  (``.png``, ``.jpg``, ``.jpeg``, ``.gif``, ``.svg``, ``.pdf``), in subfolders too;
  anything else there (style files, scripts) is left out, with a note;
- ``attachments/``: every file, whatever its kind.

The package is already counted and sized (``codeexec.packages.archive``); on top,
a Markdown or LaTeX statement is at most ``MAX_STATEMENT_BYTES`` (converting it to HTML
is then bounded) and names longer than the store keeps, or ending in a space, are left
out. A file whose bytes are test data (a folder's symlink or hard link into ``data/``)
is never kept: what is served from these folders cannot reveal a hidden test.
"""

from __future__ import annotations

import mimetypes
from pathlib import PurePosixPath

from codeexec.model import ATTACHMENT, STATEMENT, ProblemFile
from codeexec.model.files import MAX_FILE_NAME, MAX_STATEMENT_BYTES, statement_source
from codeexec.packages.archive import PackageFiles, PackageTooLarge

STATEMENT_FOLDERS = {"legacy": "problem_statement/", "modern": "statement/"}
ATTACHMENT_FOLDER = "attachments/"
# What a statement may show: by extension, as served (never guessed from the content).
STATEMENT_MEDIA = {
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".gif": "image/gif",
    ".svg": "image/svg+xml",
    ".pdf": "application/pdf",
}
_SOURCE_MEDIA = {
    "md": "text/markdown; charset=utf-8",
    "tex": "application/x-tex",
    "pdf": "application/pdf",
}
_NAMES_IN_A_NOTE = 5


def _folders(files: PackageFiles, layout: str) -> list[str]:
    own = STATEMENT_FOLDERS["legacy" if layout == "legacy" else "modern"]
    other = STATEMENT_FOLDERS["modern" if layout == "legacy" else "legacy"]
    names = files.names()
    for folder in (own, other):
        if any(n.startswith(folder) for n in names):
            return [folder]
    return []


def _media(name: str, kind: str) -> str | None:
    """The content type a file is served with; None: not kept."""
    if kind == STATEMENT:
        source = statement_source(name)
        if source is not None:
            return _SOURCE_MEDIA[source[1]]
        return STATEMENT_MEDIA.get(PurePosixPath(name).suffix.lower())
    guessed, encoding = mimetypes.guess_type(name, strict=False)
    return guessed if guessed and not encoding else "application/octet-stream"


def _note(notes: list[str], names: list[str], why: str) -> None:
    if names:
        shown = ", ".join(names[:_NAMES_IN_A_NOTE]) + (" ..." * (len(names) > _NAMES_IN_A_NOTE))
        notes.append(f"{len(names)} file(s) not kept ({why}): {shown}")


def read_problem_files(files: PackageFiles, layout: str, notes: list[str]) -> list[ProblemFile]:
    """The statement files and attachments of the package, in name order; what is left
    out is said in ``notes``."""
    wanted = [(folder, STATEMENT) for folder in _folders(files, layout)]
    wanted.append((ATTACHMENT_FOLDER, ATTACHMENT))
    kept: list[ProblemFile] = []
    other, test_data, long_names, padded = [], [], [], []
    for folder, kind in wanted:
        for path in sorted(n for n in files.names() if n.startswith(folder)):
            name = path[len(folder) :]
            media = _media(name, kind)
            if name.endswith(" "):  # MySQL compares names padded: "a " would be "a"
                padded.append(path)
            elif media is None:
                other.append(path)
            elif any(origin.startswith("data/") for origin in files.origins(path)):
                test_data.append(path)
            elif len(name.encode("utf-8", errors="surrogateescape")) > MAX_FILE_NAME:
                long_names.append(path[:80])
            else:
                source = statement_source(name) if kind == STATEMENT else None
                size = files.size(path)
                if source is not None and source[1] != "pdf" and size > MAX_STATEMENT_BYTES:
                    raise PackageTooLarge(
                        f"{path} is {size} bytes; a statement may be at most {MAX_STATEMENT_BYTES}"
                    )
                kept.append(ProblemFile(kind, name, files.read(path), media))
    _note(notes, other, "a statement keeps its texts, images and PDFs")
    _note(notes, test_data, "links to test data")
    _note(notes, long_names, f"names over {MAX_FILE_NAME} bytes")
    _note(notes, padded, "names ending in a space")
    return kept


def statement_text(kept: list[ProblemFile]) -> str | None:
    """The problem's ``statement`` field: the English Markdown (else LaTeX) statement,
    else the first language's."""
    texts: dict[tuple[str, str], ProblemFile] = {}
    for f in kept:
        source = statement_source(f.name) if f.kind == STATEMENT else None
        if source is not None and source[1] != "pdf":
            texts.setdefault(source, f)
    for language in ("en", *sorted({lang for lang, _ in texts})):
        for form in ("md", "tex"):
            if (language, form) in texts:
                return texts[language, form].data.decode("utf-8", errors="replace")
    return None
