"""The language registry, discovered from ``sandbox-images/<id>/language.toml``.

Adding a language is adding a folder with a Dockerfile and a data-only definition;
no Python code changes.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

from codeexec.model.language import CompileLimits, Language, SelfTest


class LanguageError(ValueError):
    """A language definition is malformed."""


def _argv(value: Any, what: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not value or not all(isinstance(v, str) for v in value):
        raise LanguageError(f"{what} must be a non-empty list of strings")
    return tuple(value)


def load_language(folder: Path) -> Language:
    path = folder / "language.toml"
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
        return Language(
            id=lang_id,
            name=str(data.get("name", lang_id)),
            source_file=str(data["source_file"]),
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
            disallowed=tuple(str(n) for n in data.get("screening", {}).get("disallowed", [])),
        )
    except (KeyError, TypeError) as exc:
        raise LanguageError(f"{path}: missing or malformed field {exc}") from exc


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
        if (folder / "language.toml").is_file() and (folder / "Dockerfile").is_file():
            language = load_language(folder)
            languages[language.id] = language
    return languages
