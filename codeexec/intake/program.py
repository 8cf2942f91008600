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
# Matched whole (``fullmatch``): ``$`` would also match before a final newline.
_SEGMENT = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.+-]{0,99}")


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
        if part in (".", "..") or not _SEGMENT.fullmatch(part):
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
    entry_names: tuple[str, ...] = ("main",),
) -> dict[str, str]:
    """{name in the sandbox: content}. Files of other formats (data, text) travel along.
    For a language built from one entry file, that file is stored under the language's
    source file name, so compile and run commands never change; without ``entry_point``
    it is found (``find_entry``; ``entry_names``: the file stems that name it)."""
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
    if entry_point is not None:
        entry = check_name(entry_point)
        if entry not in named:
            raise SubmissionError(f"entry point {entry!r} is not among the files")
    _check_no_file_is_a_folder(named)
    if binary_files(named):  # never built nor run: the caller judges it CE
        return named
    sources = sorted(name for name in named if language.is_source(name))
    if language.entry == "all":  # every source is compiled: no file is the entry
        if not sources:
            raise _no_source(language)
        if len(holding := _holding_main(language, named, sources)) > 1:
            raise SubmissionError(  # C#: one program, one Main
                f"several files hold an entry point: {holding}; a {language.name} program has one"
            )
        return named
    if entry_point is None:
        entry = find_entry(language, named, sources, entry_names)
    if entry != language.source_file and language.source_file in named:
        raise SubmissionError(
            f"{language.source_file!r} is where the entry point goes; rename that file"
        )
    program = {name: content for name, content in named.items() if name != entry}
    program[language.source_file] = named[entry]
    _check_no_file_is_a_folder(program)
    return program


def _check_no_file_is_a_folder(named: dict[str, str]) -> None:
    """A name cannot be both a file and a folder (``a.c`` and ``a.c/b.c``): the sandbox
    could not hold both, and that is the submission's fault (400), not the sandbox's."""
    folders = {str(parent) for name in named for parent in PurePosixPath(name).parents}
    if clash := sorted(folders.intersection(named)):
        raise SubmissionError(f"{clash[0]!r} is both a file and a folder")


def find_entry(
    language: Language, named: dict[str, str], sources: list[str], entry_names: tuple[str, ...]
) -> str:
    """The file holding the entry point, as a judge finds it without being told: the
    language's source file name; else the only source of the language; else the one
    source its ``main_pattern`` matches; else the one named after an entry (``main.*``).
    Refused, with the candidates, when that does not tell."""
    if language.source_file in named:
        return language.source_file
    if len(sources) == 1:
        return sources[0]
    if not sources:
        raise _no_source(language)
    holding = _holding_main(language, named, sources)
    if len(holding) > 1:
        raise SubmissionError(
            f"several files hold an entry point: {holding}; name one in 'entry_point'"
        )
    if holding:
        return holding[0]
    for stem in entry_names:
        named_so = [n for n in sources if PurePosixPath(n).stem.lower() == stem]
        if len(named_so) == 1:
            return named_so[0]
    raise SubmissionError(
        f"cannot tell which file is the program among {sources}; name it in 'entry_point'"
    )


def _holding_main(language: Language, named: dict[str, str], sources: list[str]) -> list[str]:
    """The sources the language's ``main_pattern`` matches (none without a pattern). One
    search per file: the pattern cannot match a line break (checked when the language is
    loaded), so a match is a line that matches, found at C speed."""
    if language.main_pattern is None:
        return []
    pattern = re.compile(language.main_pattern, re.MULTILINE)
    return [name for name in sources if pattern.search(named[name])]


def _no_source(language: Language) -> SubmissionError:
    kinds = ", ".join(language.extensions)
    return SubmissionError(f"no {language.name} source among the files (files ending in {kinds})")


# Compiled code instead of source: judged CE with a clear message, never run.
BINARY_EXTENSIONS = (
    ".o",
    ".obj",
    ".a",
    ".so",
    ".dylib",
    ".dll",
    ".exe",
    ".lib",
    ".class",
    ".jar",
    ".pyc",
    ".wasm",
    ".beam",
    ".hi",
)
# Compared with a file's first bytes as it enters the sandbox (UTF-8), never with its
# characters: "\xca\xfe\xba\xbe" as text is "Êþº¾", whose bytes are C3 8A C3 BE.
_BINARY_MAGIC = (
    b"\x7fELF",
    b"\xca\xfe\xba\xbe",
    b"!<arch>\n",
    b"\xcf\xfa\xed\xfe",
    b"\xce\xfa\xed\xfe",
    b"\x00asm",
)


def binary_files(named: dict[str, str]) -> list[str]:
    """The files that are object code or executables, not text: by name, by the
    magic number of ELF, Mach-O, Java class, ar and WebAssembly files, or NUL bytes."""
    return sorted(
        name
        for name, content in named.items()
        if name.endswith(BINARY_EXTENSIONS)
        or content[:8].encode("utf-8", errors="surrogatepass").startswith(_BINARY_MAGIC)
        or "\x00" in content
    )


def source_bytes(texts: dict[str, str]) -> int:
    """A program's size as it enters the sandbox (UTF-8, lone surrogates kept)."""
    return sum(len(t.encode("utf-8", errors="surrogatepass")) for t in texts.values())
