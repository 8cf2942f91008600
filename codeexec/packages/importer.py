"""Import Kattis packages into the store: shared by ``codeexec problems import`` and
``POST /api/v1/problems/import``. Reading (file and zip I/O) runs in a thread, so the
event loop never waits on a disk."""

from __future__ import annotations

import asyncio
import zipfile
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from codeexec.config import Settings
from codeexec.model import CheckerSpec, Language, Problem
from codeexec.packages.archive import (
    DirectoryPackage,
    PackageError,
    PackageFiles,
    PackageLimits,
    ZipPackage,
)
from codeexec.packages.kattis import ImportedProblem, Progress, read_kattis_package
from codeexec.store.problems import ProblemStore

ARCHIVE_SUFFIXES = (".zip", ".kpp")


@dataclass(frozen=True)
class ImportResult:
    problem: Problem  # as saved (with its new version)
    imported: ImportedProblem
    replaced: bool  # the problem existed: its tests are now a new version


def package_limits(settings: Settings) -> PackageLimits:
    """A package's limits: ``CODEEXEC_MAX_PACKAGE_MB`` and ``_FILES`` in all, and no file
    bigger than ``CODEEXEC_MAX_PROBLEM_BODY_MB`` (the most the problems API takes at
    once, and what the database must hold in one test)."""
    return PackageLimits(
        settings.http.max_package_mb << 20,
        settings.http.max_package_files,
        min(settings.http.max_problem_body_mb, settings.http.max_package_mb) << 20,
    )


def short_name(filename: str) -> str:
    """A package's short name from its archive's file name (``hello.zip`` → ``hello``)."""
    name = Path(filename).name
    for suffix in ARCHIVE_SUFFIXES:
        if name.lower().endswith(suffix):
            return name[: -len(suffix)]
    return name


def open_path(path: Path, limits: PackageLimits) -> PackageFiles:
    """A package folder, or a zip archive on disk."""
    if path.is_dir():
        return DirectoryPackage(path, limits)
    if path.is_file() and zipfile.is_zipfile(path):
        return ZipPackage(path.open("rb"), short_name(path.name), limits)
    raise PackageError(f"{path}: not a package folder or a zip archive")


def package_paths(path: Path) -> list[Path]:
    """The packages ``path`` names: itself, or for a folder of packages (a contest's
    archive, unpacked: no problem.yaml of its own) every subfolder that has one, by name."""
    if path.is_dir() and not (path / "problem.yaml").exists():
        found = sorted(p for p in path.iterdir() if p.is_dir() and (p / "problem.yaml").is_file())
        if found:
            return found
    return [path]


def open_upload(archive: IO[bytes], filename: str, limits: PackageLimits) -> PackageFiles:
    return ZipPackage(archive, short_name(filename) if filename else "", limits)


async def import_package(
    store: ProblemStore,
    files: PackageFiles,
    languages: Mapping[str, Language],
    problem_id: str | None = None,
    checker: CheckerSpec | None = None,
    progress: Progress | None = None,
    verify: Callable[[CheckerSpec], Awaitable[None]] | None = None,
    known: Mapping[str, Language] | None = None,
) -> ImportResult:
    """Read the package, let ``verify`` check its checker (e.g. compile it), then save.
    ``languages``: those a custom checker can be in; ``known``: every language its
    files' extensions are looked up among (by default ``languages``)."""
    imported = await asyncio.to_thread(
        read_kattis_package, files, languages, problem_id, checker, progress, known
    )
    if verify is not None:
        await verify(imported.problem.checker)
    replaced = await store.exists(imported.problem.id)
    saved = await store.save(imported.problem, imported.tests, imported.files)
    return ImportResult(saved, imported, replaced)
