"""A language: how its programs are compiled and run, read from its folder's
``language.toml`` (``codeexec.sandbox.languages``)."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

# The file in a language's folder that defines it (the rest is its image's build context).
DEFINITION = "language.toml"


@dataclass(frozen=True)
class CompileLimits:
    time_ms: int = 10_000
    memory_mb: int = 512
    output_kb: int = 64


@dataclass(frozen=True)
class SelfTest:
    source: str
    input: str
    expected: str


@dataclass(frozen=True)
class Screening:
    """How a language's programs are parsed to be screened (``[screening]`` in its
    ``language.toml``): which implementation, and what it needs to know about the
    language. The names are resolved by ``codeexec.screening.service``."""

    # "python-ast" (Python's ``ast``: also the syntax check) or "tree-sitter"; None: the
    # language is not screened.
    parser: str | None = None
    # tree-sitter: the module providing the grammar (e.g. "tree_sitter_c").
    grammar: str | None = None
    # tree-sitter: node types whose text names something (``identifier``, ``std::system``).
    name_nodes: tuple[str, ...] = ("identifier",)
    # tree-sitter: node types with ``object`` and ``name`` fields, read as ``object.name``.
    method_call_nodes: tuple[str, ...] = ()
    # tree-sitter: how imports and their aliases are read ("javascript", "go", "rust",
    # "java", "scala", "ocaml"); None: not followed.
    imports: str | None = None
    # tree-sitter: a name's last part is a name too (``std::system`` is ``system``,
    # ``/bin/nc`` is ``nc``).
    bare_names: bool = False
    # Every text file of a program is screened, whatever its name, not only sources and
    # headers: the toolchain reads any file as code (C's ``#include "x.inc"``, Rust's
    # ``include!``, Node.js's ``require("./x.txt")``, Bash's ``source``).
    every_file: bool = False
    # The compiler reads ``\uXXXX`` escapes anywhere before anything else (Java): they are
    # translated before the program is parsed (``// \u000a`` ends a comment).
    unicode_escapes: bool = False
    # tree-sitter: node types that are a construct, not a name, counted as the name given
    # (Haskell's ``foreign import`` as ``foreign``, OCaml's ``external``, Perl's
    # backticks as ``qx``): a keyword names them, so no identifier can collide.
    constructs: tuple[tuple[str, str], ...] = ()
    # tree-sitter: node types named by their first token (Perl's ``fork``,
    # ``readpipe $command``).
    keyword_nodes: tuple[str, ...] = ()
    # Names are compared case-insensitively, as the language reads them (Fortran,
    # Pascal, Ada): ``CALL SYSTEM`` is ``system``.
    fold_case: bool = False
    # tree-sitter: how the text is made what the compiler reads before it is parsed
    # ("fortran": free-form continued lines joined, ``sys&`` + ``&tem`` is ``system``).
    prepare: str | None = None
    # tree-sitter: node types whose words each count as a name (Haskell pragmas:
    # ``{-# LANGUAGE CPP #-}`` names ``CPP``; Free Pascal directives: ``{$define r :=
    # fpSystem}`` names ``fpSystem``).
    word_nodes: tuple[str, ...] = ()
    # tree-sitter: marks that quote an identifier without changing it, dropped from
    # names (Scala and Kotlin backquotes, Free Pascal ``&``, C# ``@``, Rust ``r#``).
    escapes: tuple[str, ...] = ()
    # tree-sitter: code the grammar reads as a string, found and read as code too
    # ("perl": a replacement under ``s///e``, ``(?{ })`` code blocks, ``@{[ ]}`` and
    # ``${\ }`` in patterns and replacements, format lines).
    embedded: str | None = None
    # tree-sitter: a ``'`` right after a word is a package separator (Perl before 5.42:
    # ``CORE'system`` is ``CORE::system``) that the grammar reads as a string's start,
    # hiding what follows: a program using it is a compile error (write ``::``).
    quote_separator: bool = False
    # tree-sitter: extensions of literate files (Haskell ``.lhs``), read as their
    # compiler reads them: the code blocks and ``>`` lines only, the prose dropped.
    literate: tuple[str, ...] = ()


@dataclass(frozen=True)
class Language:
    id: str
    name: str
    source_file: str
    run: tuple[str, ...]
    compile: tuple[str, ...] | None
    compile_limits: CompileLimits
    version_command: tuple[str, ...] | None
    self_test: SelfTest | None
    folder: Path
    env: dict[str, str] = field(default_factory=dict)
    # stderr text with which the language's runtime reports running out of memory
    # (e.g. the JVM's OutOfMemoryError): such a runtime error is judged MLE.
    memory_error_patterns: tuple[str, ...] = ()
    # The server's default screening policy for this language (a problem may set its own).
    disallowed: tuple[str, ...] = ()
    screening: Screening = Screening()
    # File name extensions of this language's source files (how a Kattis package's output
    # validator is recognised); by default the source file's.
    extensions: tuple[str, ...] = ()
    # Extensions of the other files its programs read at compile time (headers): kept with
    # an output validator's sources.
    header_extensions: tuple[str, ...] = ()
    # How a multi-file program is built: "file" — one entry file (named in the request,
    # or found: the only source, the one ``main_pattern`` matches, or ``main.*``), stored
    # as ``source_file``; "all" — every source is compiled together (``{sources}`` in
    # ``compile``), no entry file needed.
    entry: str = "file"
    # A regular expression matched by a line of the source file that holds the entry
    # point, e.g. Java's ``public static void main`` (searched in the whole file in
    # multi-line mode: it must not match a line break, which loading checks).
    main_pattern: str | None = None
    # Identifiers of this language in Judge0 CE and Piston (the compatibility APIs).
    judge0_ids: tuple[int, ...] = ()
    piston_names: tuple[str, ...] = ()
    # Codes the Kattis problem package format uses for it where they are not its id
    # (``submissions.yaml``'s ``language``: "python3").
    kattis_names: tuple[str, ...] = ()
    # Whether the Piston API shows a compile stage for it (when it has a compile step):
    # false where Piston's own package runs without one, so errors show in the run stage.
    piston_compile_stage: bool = True

    def is_source(self, name: str) -> bool:
        """A file of this language's own source format (case matters: ``.C`` is C++)."""
        return name.endswith(self.extensions)

    def is_program_text(self, name: str) -> bool:
        """Text the compiler or interpreter may read as code, so screening reads it too:
        a source or a header, or any file where the toolchain includes files by any
        name (``[screening] every_file``)."""
        return self.screening.every_file or name.endswith(
            (*self.extensions, *self.header_extensions)
        )

    def compile_command(self, names: Iterable[str]) -> tuple[str, ...] | None:
        """The compile step for a program of these files: ``{sources}`` stands for
        every source file of the language among them, in name order."""
        if self.compile is None:
            return None
        sources = sorted(n for n in names if self.is_source(n))
        argv: list[str] = []
        for arg in self.compile:
            argv.extend(sources if arg == "{sources}" else [arg])
        return tuple(argv)

    def image_tag(self, prefix: str) -> str:
        return f"{prefix}/{self.id}:latest"

    def context_digest(self) -> str:
        """A digest of what the image is built from: a changed Dockerfile (or a file it
        copies) means a rebuild. ``language.toml`` is the service's data, never copied
        into the image, so changing how programs are screened or run rebuilds nothing."""
        digest = hashlib.sha256()
        built_from = (p for p in self.folder.rglob("*") if p.is_file())
        for path in sorted(p for p in built_from if p != self.folder / DEFINITION):
            digest.update(path.relative_to(self.folder).as_posix().encode() + b"\0")
            digest.update(path.read_bytes() + b"\0")
        return digest.hexdigest()[:16]
