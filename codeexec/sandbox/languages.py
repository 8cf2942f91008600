"""The language registry, discovered from ``codeexec/languages/<id>/language.toml``.

Adding a language is adding a folder with a Dockerfile and a data-only definition;
no Python code changes.
"""

from __future__ import annotations

import functools
import importlib
import re
import tomllib
from collections.abc import Mapping
from pathlib import Path, PurePosixPath
from types import MappingProxyType
from typing import Any

from codeexec.model.language import DEFINITION, CompileLimits, Language, Screening, SelfTest

_SCREENING_KEYS = frozenset(
    {"disallowed", "parser", "grammar", "name_nodes", "method_call_nodes", "imports"}
    | {"constructs", "keyword_nodes", "bare_names", "every_file", "unicode_escapes"}
    | {"fold_case", "escapes", "literate", "word_nodes", "prepare", "quote_separator"}
    | {"embedded"}
)


ENTRY_MODES = ("file", "all")


class LanguageError(ValueError):
    """A language definition is malformed."""


def _argv(value: Any, what: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not value or not all(isinstance(v, str) for v in value):
        raise LanguageError(f"{what} must be a non-empty list of strings")
    return tuple(value)


def _strings(value: Any, what: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise LanguageError(f"{what} must be a list of strings")
    return tuple(value)


def _optional_text(table: dict[str, Any], key: str, what: str) -> str | None:
    value = table.get(key)
    if value is not None and not isinstance(value, str):
        raise LanguageError(f"{what} must be a string")
    return value


def _constructs(value: Any) -> tuple[tuple[str, str], ...]:
    if not isinstance(value, dict) or not all(
        isinstance(name, str) and name.strip() for name in value.values()
    ):
        raise LanguageError(
            "screening.constructs must be a table of node type = name (external = 'external')"
        )
    return tuple(sorted(value.items()))


def _escapes(value: Any) -> tuple[str, ...]:
    marks = _strings(value, "screening.escapes")
    if any(not mark or "." in mark or mark.isspace() for mark in marks):
        raise LanguageError("screening.escapes must be marks such as '`' or '&' (not '.')")
    return marks


def _screening(table: Any) -> tuple[tuple[str, ...], Screening]:
    """``[screening]``: the default policy, and how programs are parsed."""
    if not isinstance(table, dict):
        raise LanguageError("[screening] must be a table")
    unknown = sorted(set(table) - _SCREENING_KEYS)
    if unknown:
        raise LanguageError(f"[screening] has unknown keys {unknown}")
    switches = {
        key: table.get(key, False)
        for key in ("bare_names", "every_file", "unicode_escapes", "fold_case", "quote_separator")
    }
    for key, value in switches.items():
        if not isinstance(value, bool):
            raise LanguageError(f"screening.{key} must be true or false")
    bare_names, every_file = switches["bare_names"], switches["every_file"]
    if every_file and table.get("parser") != "tree-sitter":
        # Python's ast would judge a data file's text a syntax error (CE).
        raise LanguageError("screening.every_file needs parser = 'tree-sitter'")
    rules = Screening(
        parser=_optional_text(table, "parser", "screening.parser"),
        grammar=_optional_text(table, "grammar", "screening.grammar"),
        name_nodes=_strings(
            table.get("name_nodes", list(Screening.name_nodes)), "screening.name_nodes"
        ),
        method_call_nodes=_strings(
            table.get("method_call_nodes", []), "screening.method_call_nodes"
        ),
        imports=_optional_text(table, "imports", "screening.imports"),
        prepare=_optional_text(table, "prepare", "screening.prepare"),
        embedded=_optional_text(table, "embedded", "screening.embedded"),
        constructs=_constructs(table.get("constructs", {})),
        keyword_nodes=_strings(table.get("keyword_nodes", []), "screening.keyword_nodes"),
        word_nodes=_strings(table.get("word_nodes", []), "screening.word_nodes"),
        bare_names=bare_names,
        every_file=every_file,
        unicode_escapes=switches["unicode_escapes"],
        fold_case=switches["fold_case"],
        quote_separator=switches["quote_separator"],
        escapes=_escapes(table.get("escapes", [])),
        literate=_extensions(table.get("literate", []), "screening.literate"),
    )
    return _strings(table.get("disallowed", []), "screening.disallowed"), rules


def _extensions(value: Any, what: str) -> tuple[str, ...]:
    extensions = _strings(value, what)
    for extension in extensions:
        if not extension.startswith(".") or len(extension) < 2 or "/" in extension:
            raise LanguageError(f"{what}: {extension!r} is not a file name extension like '.c'")
    return extensions


def _entry(value: Any, compile_argv: Any) -> str:
    if value not in ENTRY_MODES:
        raise LanguageError(f"entry must be one of {list(ENTRY_MODES)}, not {value!r}")
    if value == "all" and (not isinstance(compile_argv, list) or "{sources}" not in compile_argv):
        raise LanguageError('entry = "all" needs "{sources}" among the compile arguments')
    return str(value)


def _pattern(value: Any) -> str | None:
    """A ``main_pattern``: it is searched in a whole file in one call (on the event
    loop) and means "a line that matches", so it must not match a line break: then no
    match spans lines and none costs more than its line (``^\\s*x`` across a file of
    empty lines is quadratic)."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise LanguageError("main_pattern must be a string")
    try:
        re.compile(value)
    except re.error as exc:
        raise LanguageError(f"main_pattern is not a regular expression: {exc}") from exc
    parsed = _RE_PARSER.parse(value)
    if _may_match_line_break(parsed, parsed.state.flags):
        raise LanguageError(
            f"main_pattern must not match a line break (it is matched within a line):"
            f" {value!r}; use [ \\t] rather than \\s, [^x\\n] rather than [^x]"
        )
    return value


# The parser of ``re`` (private, but stable since 3.11): a pattern's parts, to tell whether
# any of them can match a line break.
_RE_PARSER: Any = importlib.import_module("re._parser")
_BREAKING = frozenset(  # the categories that hold "\n"
    {"CATEGORY_SPACE", "CATEGORY_UNI_SPACE", "CATEGORY_NOT_DIGIT", "CATEGORY_UNI_NOT_DIGIT"}
    | {"CATEGORY_NOT_WORD", "CATEGORY_UNI_NOT_WORD", "CATEGORY_LOC_NOT_WORD"}
    | {"CATEGORY_LINEBREAK", "CATEGORY_UNI_LINEBREAK"}
)
_NEWLINE = ord("\n")


def _may_match_line_break(items: Any, flags: int) -> bool:
    """Whether some part of a parsed pattern can match "\\n" (what it cannot read: yes)."""
    for op, arg in items:
        kind = str(op)
        if kind == "LITERAL":
            hit = arg == _NEWLINE
        elif kind == "NOT_LITERAL":
            hit = arg != _NEWLINE
        elif kind == "ANY":
            hit = bool(flags & re.DOTALL)
        elif kind == "IN":
            hit = _class_holds_line_break(arg)
        elif kind == "CATEGORY":
            hit = str(arg) in _BREAKING
        elif kind in ("AT", "GROUPREF"):  # a group's text is checked in the group
            hit = False
        elif kind in ("MAX_REPEAT", "MIN_REPEAT", "POSSESSIVE_REPEAT"):
            hit = _may_match_line_break(arg[2], flags)
        elif kind == "SUBPATTERN":
            _, added, removed, inner = arg
            hit = _may_match_line_break(inner, (flags | added) & ~removed)
        elif kind == "BRANCH":
            hit = any(_may_match_line_break(branch, flags) for branch in arg[1])
        elif kind == "ATOMIC_GROUP":
            hit = _may_match_line_break(arg, flags)
        elif kind in ("ASSERT", "ASSERT_NOT"):
            hit = _may_match_line_break(arg[1], flags)
        elif kind == "GROUPREF_EXISTS":
            hit = any(_may_match_line_break(b, flags) for b in arg[1:] if b is not None)
        else:
            hit = True
        if hit:
            return True
    return False


def _class_holds_line_break(items: Any) -> bool:
    negated = False
    holds = False
    for op, arg in items:
        kind = str(op)
        if kind == "NEGATE":
            negated = True
        elif kind == "LITERAL":
            holds = holds or arg == _NEWLINE
        elif kind == "RANGE":
            holds = holds or arg[0] <= _NEWLINE <= arg[1]
        elif kind == "CATEGORY":
            holds = holds or str(arg) in _BREAKING
        else:
            return True
    return holds != negated


def _switch(value: Any, what: str) -> bool:
    if not isinstance(value, bool):
        raise LanguageError(f"{what} must be true or false")
    return value


def _ints(value: Any, what: str) -> tuple[int, ...]:
    if not isinstance(value, list) or not all(type(v) is int for v in value):
        raise LanguageError(f"{what} must be a list of integers")
    return tuple(value)


def load_language(folder: Path) -> Language:
    path = folder / DEFINITION
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise LanguageError(f"{path}: {exc}") from exc
    try:
        lang_id = data["id"]
        if lang_id != folder.name:
            raise LanguageError(f"{path}: id {lang_id!r} differs from its folder name")
        limits = data.get("compile_limits", {})
        test = data.get("self_test")
        source_file = str(data["source_file"])
        disallowed, screening = _screening(data.get("screening", {}))
        suffix = PurePosixPath(source_file).suffix
        return Language(
            id=lang_id,
            name=str(data.get("name", lang_id)),
            source_file=source_file,
            run=_argv(data["run"], "run"),
            compile=_argv(data["compile"], "compile") if "compile" in data else None,
            compile_limits=CompileLimits(**limits),
            version_command=(
                _argv(data["version_command"], "version_command")
                if "version_command" in data
                else None
            ),
            self_test=SelfTest(**test) if test else None,
            folder=folder,
            env={str(k): str(v) for k, v in data.get("env", {}).items()},
            memory_error_patterns=tuple(str(p) for p in data.get("memory_error_patterns", [])),
            disallowed=disallowed,
            screening=screening,
            extensions=_extensions(
                data.get("extensions", [suffix] if suffix else []), "extensions"
            ),
            header_extensions=_extensions(data.get("header_extensions", []), "header_extensions"),
            entry=_entry(data.get("entry", "file"), data.get("compile")),
            main_pattern=_pattern(data.get("main_pattern")),
            judge0_ids=_ints(data.get("judge0_ids", []), "judge0_ids"),
            piston_names=_strings(data.get("piston_names", []), "piston_names"),
            kattis_names=_strings(data.get("kattis_names", []), "kattis_names"),
            piston_compile_stage=_switch(
                data.get("piston_compile_stage", True), "piston_compile_stage"
            ),
        )
    except (KeyError, TypeError) as exc:
        raise LanguageError(f"{path}: missing or malformed field {exc}") from exc
    except LanguageError as exc:
        if str(exc).startswith(str(path)):
            raise
        raise LanguageError(f"{path}: {exc}") from exc


def discover_languages(root: Path, enabled: tuple[str, ...] = ()) -> dict[str, Language]:
    """Every ``<root>/<id>/language.toml`` that has a Dockerfile beside it (only the
    ``enabled`` ids when given)."""
    unknown = set(enabled) - {p.name for p in root.iterdir() if p.is_dir()}
    if unknown:
        raise LanguageError(f"no language folder for {sorted(unknown)} in {root}")
    languages = {}
    for folder in sorted(p for p in root.iterdir() if p.is_dir()):
        if enabled and folder.name not in enabled:
            continue
        if (folder / DEFINITION).is_file() and (folder / "Dockerfile").is_file():
            language = load_language(folder)
            languages[language.id] = language
    return languages


# The repository's own languages, whatever CODEEXEC_LANGUAGES_DIR says.
SHIPPED = Path(__file__).resolve().parents[1] / "languages"


@functools.cache
def shipped_languages() -> Mapping[str, Language]:
    """The languages of the repository's ``codeexec/languages/``: for tools and tests that
    name one by id (the service reads the configured folder)."""
    return MappingProxyType(discover_languages(SHIPPED))
