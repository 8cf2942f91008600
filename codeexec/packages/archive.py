"""Read a problem package's files from a folder or a zip, safely: a package is data,
never a way in.

Nothing is extracted: files are read straight from the archive or the folder by name.
Before any file is read, the package is counted and sized from what describes it:

- a zip's central directory, walked entry by entry from its end record (zipfile would
  first build a record for every entry, however many): more than ``max_files``
  entries, a central directory bigger than they need, names with NUL bytes or over
  255 bytes a part (1024 in all), absolute or ``..`` paths, backslashes, drive letters,
  duplicate names, symlinks, encrypted entries, compression other than stored or
  deflate (zipfile inflates bzip2 and LZMA without a bound), and entries that overlap
  one another are refused; declared sizes are held to ``max_file_bytes`` each and
  ``max_bytes`` in all;
- a folder, walked without recursion to ``MAX_DEPTH`` levels, counting every entry
  (folders too): symlinks out of it or to folders, FIFOs, sockets and devices are
  refused, and sizes are summed as for a zip.

Every read is then capped at the size counted beforehand: a zip entry that inflates to
more than its header says is not read further (and fails its CRC), and a file that
changed since it was counted (grew, or became a symlink or a FIFO) is refused. Nested
archives are file contents like any other, never opened.
"""

from __future__ import annotations

import os
import stat
import struct
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import IO, Protocol


class PackageError(ValueError):
    """The package cannot be imported (the message says why)."""


class PackageTooLarge(PackageError):
    """The package, or a file in it, is over a limit."""


@dataclass(frozen=True)
class PackageLimits:
    max_bytes: int  # every file together
    max_files: int  # entries, folders included
    max_file_bytes: int | None = None  # one file (default: max_bytes)


MAX_DEPTH = 32  # folders within folders
MAX_NAME_BYTES = 1024
MAX_PART_BYTES = 255  # what filesystems allow, and the Kattis format
_DIRECTORY_BYTES_PER_ENTRY = 1024  # central directory allowed per file (~100 is usual)
_COMPRESSION = {zipfile.ZIP_STORED: "stored", zipfile.ZIP_DEFLATED: "deflate"}
_READ_ERRORS = (
    zipfile.BadZipFile, OSError, RuntimeError, ValueError, EOFError, NotImplementedError,
    struct.error, zlib.error,
)  # fmt: skip


class PackageFiles(Protocol):
    """A package's regular files by relative POSIX path."""

    name: str  # the package's short name: its folder or archive name

    def names(self) -> list[str]: ...

    def size(self, name: str) -> int:
        """The file's size as counted when the package was opened (nothing is read)."""
        ...

    def read(self, name: str) -> bytes:
        """The file, never more than ``size(name)`` bytes of it."""
        ...

    def origins(self, name: str) -> frozenset[str]:
        """Every name in the package whose bytes these are: ``name``, and in a folder
        the file a symlink points to and every hard link to the same file."""
        ...


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


def _check_name_length(name: bytes) -> None:
    if len(name) > MAX_NAME_BYTES or any(len(p) > MAX_PART_BYTES for p in name.split(b"/")):
        raise PackageError(
            f"refusing name {name[:80]!r}...: too long (at most {MAX_PART_BYTES} bytes"
            f" a part, {MAX_NAME_BYTES} in all)"
        )


class _Budget:
    """Counts a package's entries and declared bytes against its limits."""

    def __init__(self, limits: PackageLimits) -> None:
        self._limits = limits
        self._per_file = limits.max_file_bytes or limits.max_bytes
        self.entries = 0
        self.bytes = 0

    def entry(self) -> None:
        self.entries += 1
        if self.entries > self._limits.max_files:
            raise PackageTooLarge(
                f"the package has more than {self._limits.max_files} files (folders count)"
            )

    def file(self, name: str, size: int) -> None:
        if size > self._per_file:
            raise PackageTooLarge(
                f"{name} holds {size} bytes; the limit is {self._per_file} per file"
            )
        self.bytes += size
        if self.bytes > self._limits.max_bytes:
            raise PackageTooLarge(
                f"the package holds more than {self._limits.max_bytes} bytes (the limit)"
            )


# -- folders ---------------------------------------------------------------------------


class DirectoryPackage:
    def __init__(self, root: Path, limits: PackageLimits) -> None:
        self.root = root.resolve()
        self.name = self.root.name
        self._files: dict[str, tuple[Path, int]] = {}  # name → (file to open, size)
        self._inode: dict[str, tuple[int, int]] = {}  # name → its file's (device, inode)
        self._names: dict[tuple[int, int], set[str]] = {}  # (device, inode) → names
        budget = _Budget(limits)
        folders = [(self.root, 1)]
        while folders:  # no recursion: depth is bounded, not Python's stack
            folder, depth = folders.pop()
            try:
                with os.scandir(folder) as entries:
                    for entry in entries:
                        budget.entry()
                        target, status = self._classify(entry)
                        rel = self._rel(Path(entry.path))
                        if stat.S_ISDIR(status.st_mode):
                            if depth >= MAX_DEPTH:
                                raise PackageError(
                                    f"refusing {rel}: folders nested more than {MAX_DEPTH} deep"
                                )
                            folders.append((target, depth + 1))
                        else:
                            _check_name_length(rel.encode("utf-8", errors="surrogateescape"))
                            budget.file(rel, status.st_size)
                            self._files[rel] = (target, status.st_size)
                            inode = (status.st_dev, status.st_ino)
                            self._inode[rel] = inode
                            self._names.setdefault(inode, set()).update((rel, self._rel(target)))
            except OSError as exc:
                raise PackageError(f"cannot read {self._rel(folder)}: {exc.strerror}") from exc

    def _rel(self, path: Path) -> str:
        return path.relative_to(self.root).as_posix()

    def _classify(self, entry: os.DirEntry[str]) -> tuple[Path, os.stat_result]:
        """The path to open for a folder entry and its status; anything but a regular
        file or a folder (or a symlink within the package to a regular file) is refused."""
        path = Path(entry.path)
        rel = self._rel(path)
        if entry.is_symlink():
            try:
                target = path.resolve(strict=True)
            except (OSError, RuntimeError) as exc:  # missing, or a loop
                raise PackageError(f"refusing symlink {rel}: {exc}") from exc
            if not target.is_relative_to(self.root):
                raise PackageError(f"refusing symlink {rel}: it points outside the package")
            status = target.stat()
            if stat.S_ISDIR(status.st_mode):
                raise PackageError(f"refusing symlink {rel} to a folder")
        else:
            target, status = path, entry.stat(follow_symlinks=False)
        if not (stat.S_ISDIR(status.st_mode) or stat.S_ISREG(status.st_mode)):
            raise PackageError(f"refusing {rel}: not a regular file")
        return target, status

    def names(self) -> list[str]:
        return list(self._files)

    def size(self, name: str) -> int:
        return self._entry(name)[1]

    def origins(self, name: str) -> frozenset[str]:
        self._entry(name)
        return frozenset(self._names[self._inode[name]])

    def _entry(self, name: str) -> tuple[Path, int]:
        found = self._files.get(name)
        if found is None:
            raise PackageError(f"no file {name!r} in the package")
        return found

    def read(self, name: str) -> bytes:
        path, size = self._entry(name)
        # Not following a symlink, not waiting on a FIFO: the file may have been swapped
        # since it was counted.
        flags = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC
        try:
            with open(os.open(path, flags), "rb") as f:
                if not stat.S_ISREG(os.fstat(f.fileno()).st_mode):
                    raise PackageError(f"{name} changed while the package was read")
                data = f.read(size + 1)
        except OSError as exc:
            raise PackageError(f"cannot read {name}: {exc.strerror}") from exc
        if len(data) != size:
            raise PackageError(f"{name} changed while the package was read")
        return data


# -- zips ------------------------------------------------------------------------------

_END = struct.Struct("<4s4H2LH")  # end of central directory
_LOCATOR = struct.Struct("<4sLQL")  # zip64 end locator
_END64 = struct.Struct("<4sQ2H2L4Q")  # zip64 end of central directory
_CENTRAL = struct.Struct("<4s6H3L5H2L")  # a central directory entry
_LOCAL_HEADER_BYTES = 30
_MAX_COMMENT = 0xFFFF


@dataclass(frozen=True)
class _Entry:
    name: bytes
    method: int
    offset: int  # of its local header, as the archive states it
    compressed: int
    size: int


def _central_directory(archive: IO[bytes]) -> tuple[int, int, int]:
    """(where the central directory starts, its size, the offset the archive states for
    it), found as zipfile finds it: from the end record (zip64 too)."""
    end = archive.seek(0, os.SEEK_END)
    tail_size = min(end, _LOCATOR.size + _END.size + _MAX_COMMENT)
    archive.seek(end - tail_size)
    tail = archive.read(tail_size)
    at = len(tail) - _END.size
    if not (tail[at : at + 4] == b"PK\x05\x06" and tail[-2:] == b"\0\0"):
        at = tail.rfind(b"PK\x05\x06")
    if at < 0 or len(tail) - at < _END.size:
        raise PackageError("not a zip archive: no end of central directory")
    *_, size, stated, _ = _END.unpack_from(tail, at)
    record = end - tail_size + at
    locator = at - _LOCATOR.size
    if locator >= 0 and tail[locator : locator + 4] == b"PK\x06\x07":
        record -= _LOCATOR.size + _END64.size  # zipfile reads it right before the locator
        archive.seek(max(record, 0))
        raw = archive.read(_END64.size)
        if record < 0 or len(raw) != _END64.size or raw[:4] != b"PK\x06\x06":
            raise PackageError("not a zip archive: a broken zip64 end record")
        *_, size, stated = _END64.unpack(raw)
    if record - size < 0:
        raise PackageError("not a zip archive: its central directory is out of bounds")
    return record - size, size, stated


def _zip64_fields(extra: bytes, fields: list[int]) -> list[int]:
    """Sizes and offset from the zip64 extra field where the entry says 0xFFFFFFFF."""
    at = 0
    while at + 4 <= len(extra):
        kind, length = struct.unpack_from("<2H", extra, at)
        if kind == 1:
            values = extra[at + 4 : at + 4 + length]
            used = 0
            for i, value in enumerate(fields):
                if value == 0xFFFFFFFF:
                    if used + 8 > len(values):
                        raise PackageError("not a zip archive: a broken zip64 extra field")
                    fields[i] = struct.unpack_from("<Q", values, used)[0]
                    used += 8
            break
        at += 4 + length
    return fields


def _scan(archive: IO[bytes], limits: PackageLimits) -> list[_Entry]:
    """Every entry of the central directory, read one at a time and counted as it is
    read; refused at the first that breaks a limit."""
    start, size, stated = _central_directory(archive)
    allowed = limits.max_files * _DIRECTORY_BYTES_PER_ENTRY + (64 << 10)
    if size > allowed:
        raise PackageTooLarge(
            f"the zip's central directory is {size} bytes; at most {allowed} for"
            f" {limits.max_files} files"
        )
    budget = _Budget(limits)
    entries: list[_Entry] = []
    archive.seek(start)
    done = 0
    while done < size:  # as zipfile reads it
        head = archive.read(_CENTRAL.size)
        if len(head) != _CENTRAL.size or head[:4] != b"PK\x01\x02":
            raise PackageError("not a zip archive: a broken central directory")
        fields = _CENTRAL.unpack(head)
        method, compressed, length, name_len, extra_len, comment_len = (
            fields[4], fields[8], fields[9], fields[10], fields[11], fields[12],
        )  # fmt: skip
        name, extra = archive.read(name_len), archive.read(extra_len)
        archive.seek(comment_len, os.SEEK_CUR)
        done += _CENTRAL.size + name_len + extra_len + comment_len
        budget.entry()
        if b"\0" in name:
            raise PackageError(f"refusing name {name!r}: it holds a NUL byte")
        _check_name_length(name)
        length, compressed, offset = _zip64_fields(extra, [length, compressed, fields[16]])
        if method not in _COMPRESSION:
            raise PackageError(
                f"refusing {name.decode('utf-8', 'replace')!r}: compression method {method}"
                " (only stored and deflate, zip's default, are read)"
            )
        if not name.endswith(b"/"):
            budget.file(name.decode("utf-8", "replace"), length)
        entries.append(_Entry(name, method, offset, compressed, length))
    _refuse_overlaps(entries, stated)
    return entries


def _refuse_overlaps(entries: list[_Entry], directory_offset: int) -> None:
    """Each entry's local header and data lie apart from every other's, before the
    central directory: no two names for the same bytes."""
    previous_end, previous = 0, b""
    for entry in sorted(entries, key=lambda e: e.offset):
        if entry.offset < previous_end:
            raise PackageError(f"refusing {entry.name!r}: it overlaps {previous!r}")
        previous_end = entry.offset + _LOCAL_HEADER_BYTES + len(entry.name) + entry.compressed
        previous = entry.name
    if previous_end > directory_offset:
        raise PackageError(f"refusing {previous!r}: it overlaps the central directory")


class ZipPackage:
    """A zip whose problem sits at its top or in one top-level folder. Its short name
    is the archive's name (without .zip/.kpp) when known, else that folder's. With
    ``problem=False`` it is any zip of files (e.g. Judge0's additional files), read
    with the same care, every file by its path from the top."""

    def __init__(
        self, archive: IO[bytes], name: str, limits: PackageLimits, problem: bool = True
    ) -> None:
        try:
            scanned = _scan(archive, limits)
            archive.seek(0)
            self._zip = zipfile.ZipFile(archive)
        except PackageError:
            raise
        except _READ_ERRORS as exc:
            raise PackageError(f"not a zip archive: {exc}") from exc
        entries = self._zip.infolist()
        if len(entries) != len(scanned):  # zipfile read another directory than we did
            raise PackageError("not a zip archive: an inconsistent central directory")
        files: dict[str, zipfile.ZipInfo] = {}
        for info in entries:
            if not info.filename:  # zipfile's is_dir() fails on it (a name of only NUL)
                raise PackageError("refusing an entry without a name in the archive")
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
        self._prefix, self.name = self._root(files, name) if problem else ("", name)
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

    def _info(self, name: str) -> zipfile.ZipInfo:
        info = self._files.get(name)
        if info is None:
            raise PackageError(f"no file {name!r} in the package")
        return info

    def size(self, name: str) -> int:
        return self._info(name).file_size

    def origins(self, name: str) -> frozenset[str]:
        self._info(name)
        return frozenset((name,))  # symlinks and overlapping entries are refused

    def read(self, name: str) -> bytes:
        info = self._info(name)
        try:
            with self._zip.open(info) as f:
                # A bounded read: zipfile inflates at most this much, whatever the
                # compressed data really holds, then checks the CRC.
                data = f.read(info.file_size + 1)
        except _READ_ERRORS as exc:
            raise PackageError(f"cannot read {name!r}: {exc}") from exc
        if len(data) != info.file_size:
            raise PackageError(f"cannot read {name!r}: not the size its header says")
        return data

    def close(self) -> None:
        self._zip.close()
