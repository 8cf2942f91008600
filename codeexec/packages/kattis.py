"""Kattis problem packages (legacy, 2023-07 and 2025-09 layouts) → a problem and its tests.

- ``data/sample`` → shown tests, ``data/secret`` (nested groups included) → hidden tests,
  each ``X.in`` with its ``X.ans``, in lexicographic order of their paths;
- ``problem.yaml``: ``name`` → title, ``limits.memory`` / ``limits.output`` (MiB) and
  ``limits.time_limit`` (seconds; legacy packages rarely give one, then the server
  default applies), legacy ``validator_flags`` and ``data/testdata.yaml`` /
  ``data/test_group.yaml`` ``output_validator_args`` / ``output_validator_flags`` →
  the checker's arguments;
- ``validation: custom`` (legacy) or an ``output_validator/`` program (2023-07+) → a
  custom checker; otherwise the ``tokens`` checker (Kattis' default validator);
- ``type: interactive`` (2023-07+) or ``validation: custom interactive`` (legacy) → the
  output validator is the interactor (checker mode ``interactive``); an interactive
  test's ``.ans`` may be absent (the interactor gets an empty answer file);
- ``statement/`` (``problem_statement/``) and ``attachments/`` → the problem's files
  (``codeexec.packages.statements``);
- scoring problems: their test groups and settings (``codeexec.packages.kattis_scoring``);
- multi-pass, submit-answer and interactive scoring problems are refused by name.
"""

from __future__ import annotations

import contextlib
import math
import re
import shlex
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import PurePosixPath
from typing import Any

from codeexec.checker import CheckerArgsError, validate_spec
from codeexec.intake import SubmissionError, binary_files, program_files
from codeexec.model import (
    PROBLEM_ID_PATTERN,
    CheckerProgram,
    CheckerSpec,
    Language,
    Problem,
    ProblemFile,
    SourceFile,
    TestCase,
)
from codeexec.packages.archive import PackageError, PackageFiles, PackageTooLarge
from codeexec.packages.kattis_scoring import read_scoring
from codeexec.packages.safe_yaml import MAX_YAML_BYTES, load_yaml
from codeexec.packages.statements import read_problem_files, statement_text

PROBLEM_ID = re.compile(PROBLEM_ID_PATTERN)
UNSUPPORTED_TYPES = ("multi-pass", "submit-answer")
_ENTRY_NAMES = ("validate", "validator", "checker", "check", "main")
_TIME_LIMIT_FILE_BYTES = 64
# Limits a package may set (seconds, MiB): beyond, they are typos or attacks; the
# server's own ceilings apply on top when judging.
_LIMIT_RANGES = {"time_limit": 86_400.0, "memory": float(1 << 20), "output": float(1 << 20)}

Progress = Callable[[int, int], None]  # (tests read, tests in all)


@dataclass(frozen=True)
class ImportedProblem:
    problem: Problem
    tests: list[TestCase]
    layout: str  # "legacy" | "2023-07" | "2025-09"
    notes: list[str] = field(default_factory=list)
    files: list[ProblemFile] = field(default_factory=list)  # statements and attachments

    @property
    def counts(self) -> tuple[int, int]:
        hidden = sum(t.hidden for t in self.tests)
        return len(self.tests) - hidden, hidden


def _yaml(files: PackageFiles, name: str) -> dict[str, Any]:
    """A YAML file of the package as a mapping ({} when absent or empty), its size
    checked before it is read (``codeexec.packages.safe_yaml`` bounds the rest)."""
    if name not in files.names():
        return {}
    size = files.size(name)
    if size > MAX_YAML_BYTES:
        raise PackageTooLarge(f"{name} is {size} bytes; YAML files may be at most {MAX_YAML_BYTES}")
    data = load_yaml(files.read(name), name)
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise PackageError(f"{name} must be a mapping, not {_kind(data)}")
    return data


def _kind(value: Any) -> str:
    """How an error names a value of the wrong kind."""
    for kind, said in ((dict, "a mapping"), (list, "a list"), (str, "text")):
        if isinstance(value, kind):
            return said
    return repr(value)


def _text(config: dict[str, Any], key: str, default: str) -> str:
    value = config.get(key, default)
    if not isinstance(value, str):
        raise PackageError(f"problem.yaml: {key} must be a string, not {_kind(value)}")
    return value


def _layout(config: dict[str, Any]) -> str:
    version = _text(config, "problem_format_version", "legacy")
    if version.startswith("legacy"):
        return "legacy"
    if version.startswith("2023-07"):
        return "2023-07"
    if version.startswith("2025-09") or version == "draft":
        return "2025-09"
    raise PackageError(f"unknown problem_format_version {version!r}")


def _types(config: dict[str, Any], layout: str, names: list[str]) -> set[str]:
    """The problem's types as 2023-07 names them ("interactive", "scoring", ...):
    ``type`` (a string or a list; legacy packages have it too), and in legacy packages
    the ``validation`` words ("custom interactive", "custom score")."""
    given = config.get("type", "pass-fail")
    if isinstance(given, str):
        kinds = given.split()
    elif isinstance(given, list) and all(isinstance(k, str) for k in given):
        kinds = list(given)
    else:
        raise PackageError(
            f"problem.yaml: type must be a string or a list of strings, not {_kind(given)}"
        )
    if layout == "legacy":
        words = _text(config, "validation", "default").split()
        kinds += [{"interactive": "interactive", "score": "scoring"}.get(w, w) for w in words]
        if any(n.endswith(".interaction") for n in names):
            kinds.append("interactive")  # sample interactions: only interactive problems
    return set(kinds)


def _refuse_unsupported(types: set[str]) -> None:
    found = [k for k in UNSUPPORTED_TYPES if k in types]
    if {"interactive", "scoring"} <= types:  # an interactor's score.txt is not read yet
        found.append("interactive scoring")
    if found:
        raise PackageError(f"{', '.join(found)} problems are not supported (yet)")


def _title(config: dict[str, Any], fallback: str) -> str:
    name = config.get("name")
    if isinstance(name, dict):  # by language
        name = name.get("en") or next(iter(name.values()), None)
    if isinstance(name, bool) or not isinstance(name, str | int | float | None):
        raise PackageError(
            "problem.yaml: name must be a string or a mapping of languages to strings"
        )
    return str(name)[:255] if name else fallback


def _limits(config: dict[str, Any], files: PackageFiles, notes: list[str]) -> dict[str, int]:
    limits = config.get("limits") or {}
    if not isinstance(limits, dict):
        raise PackageError("problem.yaml: limits must be a mapping")
    out: dict[str, int] = {}
    if "memory" in limits:
        out["memory_limit_mb"] = int(_limit(limits["memory"], "memory"))
    if "output" in limits:
        out["output_limit_kb"] = int(_limit(limits["output"], "output") * 1024)
    seconds = limits.get("time_limit")
    if seconds is None and ".timelimit" in files.names():  # DOMjudge's file
        if files.size(".timelimit") > _TIME_LIMIT_FILE_BYTES:
            raise PackageError(".timelimit: bad limit: not a number of seconds")
        seconds = files.read(".timelimit").decode("utf-8", errors="replace").strip()
    if seconds is not None:
        out["time_limit_ms"] = max(1, round(_limit(seconds, "time_limit") * 1000))
    else:
        notes.append("no time limit in the package: the server default applies")
    if any(v <= 0 for v in out.values()):
        raise PackageError("problem.yaml: limits must be positive")
    return out


def _limit(value: Any, key: str) -> float:
    """A limit as a finite positive number within its range (a number or numeric text)."""
    number = math.nan
    if isinstance(value, int | float | str) and not isinstance(value, bool):
        with contextlib.suppress(ValueError):
            number = float(value)
    if not (0 < number <= _LIMIT_RANGES[key]):  # NaN fails every comparison
        raise PackageError(
            f"problem.yaml: bad limit: limits.{key} must be a number in (0,"
            f" {_LIMIT_RANGES[key]:g}], not {value!r}"[:300]
        )
    return number


def _args(value: Any, where: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        try:
            return tuple(shlex.split(value))
        except ValueError as exc:  # e.g. an unclosed quote
            raise PackageError(f"{where}: {exc}") from exc
    if isinstance(value, list) and all(
        isinstance(v, str | int | float) and not isinstance(v, bool) for v in value
    ):
        return tuple(str(v) for v in value)
    raise PackageError(f"{where} must be a string or a list of strings")


def _validator_args(config: dict[str, Any], files: PackageFiles) -> tuple[str, ...]:
    args = _args(config.get("validator_flags"), "problem.yaml: validator_flags")
    for name in ("data/test_group.yaml", "data/testdata.yaml"):
        group = _yaml(files, name)
        for key in ("output_validator_args", "output_validator_flags"):
            if key in group:
                args += _args(group[key], f"{name}: {key}")
    return args


def _tests(files: PackageFiles, progress: Progress | None, interactive: bool) -> list[TestCase]:
    names = set(files.names())
    inputs = sorted(
        (n for n in names if n.endswith(".in") and n.startswith(("data/sample/", "data/secret/"))),
        key=lambda n: PurePosixPath(n).parts,
    )
    # Samples first, then secret groups: each in lexicographic order of its path.
    inputs.sort(key=lambda n: n.split("/")[1] != "sample")
    tests = []
    for i, name in enumerate(inputs):
        answer = name[: -len(".in")] + ".ans"
        if answer not in names and not interactive:
            raise PackageError(f"{name} has no {PurePosixPath(answer).name}")
        hidden = name.split("/")[1] == "secret"
        label = name[len("data/") : -len(".in")]
        expected = files.read(answer) if answer in names else b""
        tests.append(TestCase(files.read(name), expected, hidden, label))
        if progress is not None:
            progress(i + 1, len(inputs))
    if not tests:
        raise PackageError("no tests: expected data/sample/*.in and data/secret/**/*.in")
    return tests


def _validator_files(files: PackageFiles) -> list[tuple[str, str]]:
    """(name within the program, path in the package) of the output validator's files:
    ``output_validator/`` (2023-07+) is the program; under ``output_validators/``
    (legacy) the program is one file or one folder."""
    names = files.names()
    modern = [n for n in names if n.startswith("output_validator/")]
    if modern:
        return [(n[len("output_validator/") :], n) for n in modern]
    legacy = [n for n in names if n.startswith("output_validators/")]
    programs = {n.split("/")[1] for n in legacy}
    if len(programs) > 1:
        raise PackageError(f"more than one output validator: {sorted(programs)}")
    return [("/".join(n.split("/")[2:]) or n.split("/")[1], n) for n in legacy]


def _suffix(name: str) -> str:
    return PurePosixPath(name).suffix  # case matters: ".C" is C++


def _validator_language(names: list[str], known: Mapping[str, Language]) -> str:
    """The language of an output validator, told by its files' extensions (each
    language's ``extensions`` in its language.toml)."""
    claims: dict[str, set[str]] = {}
    for language in known.values():
        for extension in language.extensions:
            claims.setdefault(extension, set()).add(language.id)
    by_language: set[str] = set()
    for name in names:
        candidates = claims.get(_suffix(name), set())
        if len(candidates) > 1:
            raise PackageError(
                f"output validator file {name!r} could be in any of {sorted(candidates)}"
            )
        by_language |= candidates
    if not by_language:
        raise PackageError(f"output validator in an unknown language: {sorted(names)}")
    if len(by_language) > 1:
        raise PackageError(f"output validator mixes languages: {sorted(by_language)}")
    (language_id,) = by_language
    return language_id


def _checker_program(
    files: PackageFiles, languages: Mapping[str, Language], known: Mapping[str, Language]
) -> CheckerProgram | None:
    sources = _validator_files(files)
    if not sources:
        return None
    names = [inner for inner, _ in sources]
    if any(PurePosixPath(n).name in ("build", "run") for n in names):
        raise PackageError("output validators with build/run scripts are not supported")
    language_id = _validator_language(names, known)
    language = languages.get(language_id)
    if language is None:
        raise PackageError(f"output validator language {language_id!r} is not available")
    kept = (*language.extensions, *language.header_extensions)
    texts: list[SourceFile] = []
    for inner, path in sources:
        if _suffix(inner) not in kept:
            continue
        try:
            texts.append(SourceFile(inner, files.read(path).decode("utf-8")))
        except UnicodeDecodeError as exc:
            raise PackageError(f"{path} is not UTF-8 text") from exc
    try:
        program = program_files(language, None, texts, None, entry_names=_ENTRY_NAMES)
        if binaries := binary_files(program):
            raise SubmissionError(f"{binaries} are not source files")
    except SubmissionError as exc:
        raise PackageError(f"output validator: {exc}") from exc
    return CheckerProgram(language.id, tuple(program.items()))


def read_kattis_package(
    files: PackageFiles,
    languages: Mapping[str, Language],
    problem_id: str | None = None,
    checker: CheckerSpec | None = None,
    progress: Progress | None = None,
    known: Mapping[str, Language] | None = None,
) -> ImportedProblem:
    """The problem a package describes. ``checker`` overrides the package's checker.
    A custom checker can be in any of ``languages``; ``known`` (by default the same) are
    the languages its files' extensions are looked up among, so that one in a language
    known but unavailable is refused as such."""
    known = languages if known is None else known
    pid = problem_id or files.name
    if not PROBLEM_ID.match(pid):
        raise PackageError(f"{pid!r} is not a valid problem id; give one explicitly")
    config = _yaml(files, "problem.yaml")
    if "problem.yaml" not in files.names():
        raise PackageError("no problem.yaml in the package")
    layout = _layout(config)
    types = _types(config, layout, files.names())
    _refuse_unsupported(types)
    interactive = "interactive" in types
    notes: list[str] = []
    limits = _limits(config, files, notes)
    args = _validator_args(config, files)
    if interactive:
        if checker is not None:
            raise PackageError("an interactive problem is judged by its own interactor only")
        program = _checker_program(files, languages, known)
        if program is None:
            raise PackageError(
                "an interactive problem needs its interactor: output_validator/ (2023-07+)"
                " or output_validators/ (legacy)"
            )
        checker = CheckerSpec("interactive", args, program)
    elif checker is None:
        if layout == "legacy":
            custom = _text(config, "validation", "default").startswith("custom")
            program = _checker_program(files, languages, known) if custom else None
        else:
            program = _checker_program(files, languages, known)
            custom = program is not None
        if custom and program is None:
            raise PackageError(
                "the package declares a custom output validator but has none; import it"
                " with another checker (e.g. --checker tokens)"
            )
        checker = CheckerSpec("custom", args, program) if program else CheckerSpec("tokens", args)
    elif args and not checker.args and checker.mode in ("tokens", "custom"):
        checker = replace(checker, args=args)
    try:
        validate_spec(checker)
    except CheckerArgsError as exc:
        raise PackageError(f"checker: {exc}") from exc
    kept = read_problem_files(files, layout, notes)
    tests = _tests(files, progress, interactive)
    scoring = None
    if "scoring" in types:
        scoring, tests = read_scoring(
            config, layout, tests, lambda n: _yaml(files, n), files.names()
        )
    problem = Problem(
        id=pid,
        title=_title(config, pid),
        statement=statement_text(kept),
        checker=checker,
        time_limit_ms=limits.get("time_limit_ms"),
        memory_limit_mb=limits.get("memory_limit_mb"),
        output_limit_kb=limits.get("output_limit_kb"),
        scoring=scoring,
    )
    return ImportedProblem(problem, tests, layout, notes, kept)


def package_layout(files: PackageFiles) -> str:
    """The package's layout as its ``problem.yaml`` says: legacy, 2023-07 or 2025-09."""
    return _layout(_yaml(files, "problem.yaml"))


def package_yaml(files: PackageFiles, name: str) -> dict[str, Any]:
    """Another YAML file of the package (e.g. ``submissions/submissions.yaml``), within
    the same bounds as ``problem.yaml``: {} when absent or empty."""
    return _yaml(files, name)
