"""What a program's source is (a submission's or a custom checker's): one ``code``
string, or several named files with an optional entry point. Names are checked before
anything touches a sandbox."""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import PurePosixPath

from codeexec.model import Language, SourceFile

MAX_FILES = 64
MAX_DEPTH = 4
MAX_NAME_CHARS = 512  # longer than any name check_name accepts (4 parts of 100)
_SEGMENT = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.+-]{0,99}$")


class SubmissionError(ValueError):
    """The files of a submission are not acceptable (the message says why)."""


def check_name(name: str) -> str:
    """A relative path of plain segments: no absolute paths, no '..', no odd characters."""
    path = PurePosixPath(name)
    parts = path.parts
    if not parts or path.is_absolute() or len(parts) > MAX_DEPTH:
        raise SubmissionError(
            f"file name {name!r} must be a relative path of at most {MAX_DEPTH} parts"
        )
    for part in parts:
        if part in (".", "..") or not _SEGMENT.match(part):
            raise SubmissionError(
                f"file name {name!r}: each part must be letters, digits, '_', '.', '+' or '-'"
                " and must not start with '.' or '-'"
            )
    return str(path)


def program_files(
    language: Language,
    code: str | None,
    files: Sequence[SourceFile] | None,
    entry_point: str | None,
) -> dict[str, str]:
    """{name in the sandbox: content}. The entry file is stored under the language's
    source file name, so compile and run commands never change."""
    if (code is None) == (files is None):
        raise SubmissionError("give either 'code' or 'files'")
    if code is not None:
        if entry_point is not None:
            raise SubmissionError("'entry_point' goes with 'files'")
        return {language.source_file: code}
    assert files is not None
    if not files or len(files) > MAX_FILES:
        raise SubmissionError(f"'files' must hold 1 to {MAX_FILES} files")
    named = {}
    for item in files:
        name = check_name(item.name)
        if name in named:
            raise SubmissionError(f"file {name!r} appears twice")
        named[name] = item.content
    entry = check_name(entry_point) if entry_point is not None else language.source_file
    if entry not in named:
        raise SubmissionError(f"entry point {entry!r} is not among the files")
    if entry != language.source_file and language.source_file in named:
        raise SubmissionError(
            f"{language.source_file!r} is where the entry point goes; rename that file"
        )
    program = {name: content for name, content in named.items() if name != entry}
    program[language.source_file] = named[entry]
    return program


def source_bytes(texts: dict[str, str]) -> int:
    """A program's size as it enters the sandbox (UTF-8, lone surrogates kept)."""
    return sum(len(t.encode("utf-8", errors="surrogatepass")) for t in texts.values())
