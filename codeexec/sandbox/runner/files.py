"""The program's files: the baseline every run starts from, and what a compile step
leaves (kept as the new baseline)."""

import os
import stat

WORKDIR = "/sandbox"

Files = list[tuple[str, int, bytes]]


class TooBig(Exception):
    """What a compile step left is too deep, too many or too large to keep."""


SNAPSHOT_DEPTH, SNAPSHOT_FILES = 32, 10_000


def snapshot(directory: str) -> Files:
    """Regular files under ``directory`` as (relative name, mode, bytes); links skipped.
    Walked without recursion and bounded: a compile step writes what the source asks
    for (``javac -d .`` makes one directory per package level)."""
    files: Files = []
    pending = [("", 0)]
    while pending:
        prefix, depth = pending.pop()
        if depth > SNAPSHOT_DEPTH:
            raise TooBig(f"the compiled program is nested deeper than {SNAPSHOT_DEPTH} levels")
        for name in sorted(os.listdir(os.path.join(directory, prefix))):
            rel = prefix + name
            path = os.path.join(directory, rel)
            st = os.lstat(path)
            if stat.S_ISDIR(st.st_mode):
                pending.append((rel + "/", depth + 1))
            elif stat.S_ISREG(st.st_mode):
                if len(files) >= SNAPSHOT_FILES:
                    raise TooBig(f"the compiled program has more than {SNAPSHOT_FILES} files")
                with open(path, "rb") as f:
                    files.append((rel, stat.S_IMODE(st.st_mode), f.read()))
    return sorted(files)


def restore(files: Files) -> None:
    for rel, mode, data in files:
        path = os.path.join(WORKDIR, rel)
        parent = os.path.dirname(path)
        if parent != WORKDIR:
            os.makedirs(parent, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, mode)
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view) :]
        finally:
            os.close(fd)
        os.chmod(path, mode)
