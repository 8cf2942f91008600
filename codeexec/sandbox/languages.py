"""The language registry, discovered from ``sandbox-images/<id>/language.toml``.

Adding a language is adding a folder with a Dockerfile and a data-only definition;
no Python code changes.
"""

from __future__ import annotations

import hashlib
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


class LanguageError(ValueError):
    """A language definition is malformed."""


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

    def image_tag(self, prefix: str) -> str:
        return f"{prefix}/{self.id}:latest"

    def context_digest(self) -> str:
        """A digest of the image folder: a changed Dockerfile means a rebuild."""
        digest = hashlib.sha256()
        for path in sorted(p for p in self.folder.rglob("*") if p.is_file()):
            digest.update(path.relative_to(self.folder).as_posix().encode() + b"\0")
            digest.update(path.read_bytes() + b"\0")
        return digest.hexdigest()[:16]


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
