"""Read a problem package's files from a folder or a zip, safely.

Nothing is extracted: files are read straight from the archive or the folder by name.
Hostile packages are refused with a clear error before anything is read: absolute or
``..`` paths, symlinks (in a zip at all; in a folder when they point outside it, or at a
folder), devices and FIFOs, encrypted entries, too many files, too many bytes (counted
from the declared sizes, which zipfile then holds each entry to).
"""

from __future__ import annotations

import os
import stat
import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import IO, Protocol


class PackageError(ValueError):
    """The package cannot be imported (the message says why)."""


@dataclass(frozen=True)
class PackageLimits:
    max_bytes: int
    max_files: int


class PackageFiles(Protocol):
    """A package's regular files by relative POSIX path."""

    name: str  # the package's short name: its folder or archive name

    def names(self) -> list[str]: ...

    def read(self, name: str) -> bytes: ...


def _safe_name(name: str) -> str:
    path = PurePosixPath(name)
    if (
        not name
        or "\\" in name
        or "\0" in name
        or path.is_absolute()
        or any(part in ("..", "") for part in path.parts)
        or (path.parts and path.parts[0].endswith(":"))
    ):
        raise PackageError(f"refusing path {name!r}: it escapes the package")
    return path.as_posix()


def _check_totals(count: int, size: int, limits: PackageLimits) -> None:
    if count > limits.max_files:
        raise PackageError(f"package has {count} files; the limit is {limits.max_files}")
    if size > limits.max_bytes:
        raise PackageError(f"package holds {size} bytes; the limit is {limits.max_bytes}")


class DirectoryPackage:
    def __init__(self, root: Path, limits: PackageLimits) -> None:
        self.root = root.resolve()
        self.name = self.root.name
        self._files: dict[str, Path] = {}
        size = 0
        for path in self._walk(self.root):
            rel = path.relative_to(self.root).as_posix()
            self._files[rel] = path
            size += path.stat().st_size
            _check_totals(len(self._files), size, limits)

    def _walk(self, folder: Path) -> list[Path]:
        found = []
        with os.scandir(folder) as entries:
            for entry in entries:
                path = Path(entry.path)
                if entry.is_symlink():
                    target = path.resolve()
                    if not target.is_relative_to(self.root):
                        raise PackageError(
                            f"refusing symlink {path.relative_to(self.root)}: it points"
                            " outside the package"
                        )
                    if target.is_dir():
                        raise PackageError(
                            f"refusing symlink {path.relative_to(self.root)} to a folder"
                        )
                    mode = target.stat().st_mode
                else:
                    mode = entry.stat(follow_symlinks=False).st_mode
                if stat.S_ISDIR(mode):
                    found.extend(self._walk(path))
                elif stat.S_ISREG(mode):
                    found.append(path)
                else:
                    raise PackageError(
                        f"refusing {path.relative_to(self.root)}: not a regular file"
                    )
        return found

    def names(self) -> list[str]:
        return list(self._files)

    def read(self, name: str) -> bytes:
        path = self._files.get(name)
        if path is None:
            raise PackageError(f"no file {name!r} in the package")
        return path.read_bytes()


class ZipPackage:
    """A zip whose problem sits at its top or in one top-level folder. Its short name
    is the archive's name (without .zip/.kpp) when known, else that folder's."""

    def __init__(self, archive: IO[bytes], name: str, limits: PackageLimits) -> None:
        try:
            self._zip = zipfile.ZipFile(archive)
        except (zipfile.BadZipFile, OSError) as exc:
            raise PackageError(f"not a zip archive: {exc}") from exc
        entries = self._zip.infolist()
        _check_totals(len(entries), sum(e.file_size for e in entries), limits)
        files: dict[str, zipfile.ZipInfo] = {}
        for info in entries:
            clean = _safe_name(info.filename.rstrip("/") if info.is_dir() else info.filename)
            mode = info.external_attr >> 16
            if stat.S_ISLNK(mode):
                raise PackageError(f"refusing symlink {info.filename!r} in the archive")
            if info.flag_bits & 0x1:
                raise PackageError(f"refusing encrypted entry {info.filename!r}")
            if info.is_dir():
                continue
            if clean in files:
                raise PackageError(f"{clean!r} appears twice in the archive")
            files[clean] = info
        self._prefix, self.name = self._root(files, name)
        self._files = {
            n[len(self._prefix) :]: i for n, i in files.items() if n.startswith(self._prefix)
        }

    @staticmethod
    def _root(files: dict[str, zipfile.ZipInfo], name: str) -> tuple[str, str]:
        """(prefix of the problem's files, the package's short name)."""
        if "problem.yaml" in files:
            return "", name
        tops = {n.split("/", 1)[0] for n in files if "/" in n}
        for top in sorted(tops):
            if f"{top}/problem.yaml" in files and len(tops) == 1:
                return f"{top}/", name or top
        raise PackageError("no problem.yaml at the top of the archive or in its one folder")

    def names(self) -> list[str]:
        return list(self._files)

    def read(self, name: str) -> bytes:
        info = self._files.get(name)
        if info is None:
            raise PackageError(f"no file {name!r} in the package")
        try:
            with self._zip.open(info) as f:
                return f.read()  # zipfile stops at the declared size and checks the CRC
        except (zipfile.BadZipFile, OSError, RuntimeError) as exc:
            raise PackageError(f"cannot read {name!r}: {exc}") from exc

    def close(self) -> None:
        self._zip.close()
