"""Reading Kattis packages (folder and zip): layouts, test order, limits, checker
settings, refusals by name, and hostile packages: zip-slip, symlinks, sizes, and one
test per attack of issue 12 (YAML bombs, zip bombs, lying headers, special files)."""

from __future__ import annotations

import base64
import contextlib
import io
import os
import socket
import stat
import struct
import threading
import tracemalloc
import zipfile
import zlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from codeexec.model import CheckerSpec
from codeexec.packages.archive import (
    DirectoryPackage,
    PackageError,
    PackageLimits,
    PackageTooLarge,
    ZipPackage,
)
from codeexec.packages.importer import open_path
from codeexec.packages.kattis import read_kattis_package
from codeexec.sandbox.languages import discover_languages

KATTIS = Path(__file__).resolve().parents[3] / "shared/testdata/kattis"
LIMITS = PackageLimits(max_bytes=64 << 20, max_files=1000)
LANGUAGES = discover_languages(Path(__file__).resolve().parents[2] / "codeexec/languages")


def write_package(root: Path, files: Mapping[str, str | bytes]) -> Path:
    for name, content in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content.encode() if isinstance(content, str) else content)
    return root


def zip_of(folder: Path, target: Path, top: str | None = None) -> Path:
    with zipfile.ZipFile(target, "w") as archive:
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                rel = path.relative_to(folder).as_posix()
                archive.write(path, f"{top}/{rel}" if top else rel)
    return target


@pytest.mark.parametrize("as_zip", [False, True])
def test_hello_package(tmp_path: Path, as_zip: bool) -> None:
    path = zip_of(KATTIS / "hello", tmp_path / "hello.zip", "hello") if as_zip else KATTIS / "hello"
    imported = read_kattis_package(open_path(path, LIMITS), LANGUAGES)
    problem = imported.problem
    assert problem.id == "hello" and problem.title == "Hello World!"
    assert problem.memory_limit_mb == 512 and problem.time_limit_ms is None
    assert problem.checker == CheckerSpec("tokens")
    assert [(t.name, t.hidden) for t in imported.tests] == [("secret/hello", True)]
    assert (
        imported.tests[0].expected_output == (KATTIS / "hello/data/secret/hello.ans").read_bytes()
    )
    assert imported.layout == "legacy"


@pytest.mark.parametrize("as_zip", [False, True])
def test_different_needs_a_checker_override(tmp_path: Path, as_zip: bool) -> None:
    path = KATTIS / "different"
    if as_zip:
        path = zip_of(path, tmp_path / "different.zip")  # files at the archive's top
    with pytest.raises(PackageError, match=r"custom output validator"):
        read_kattis_package(open_path(path, LIMITS), LANGUAGES)
    imported = read_kattis_package(
        open_path(path, LIMITS), LANGUAGES, checker=CheckerSpec("tokens")
    )
    assert imported.problem.id == "different"
    assert [(t.name, t.hidden) for t in imported.tests] == [
        ("sample/1", False),
        ("secret/01", True),
        ("secret/02_extreme_cases", True),
    ]


def test_nested_groups_are_in_lexicographic_order_and_flags_are_read(tmp_path: Path) -> None:
    root = write_package(
        tmp_path / "groups",
        {
            "problem.yaml": "name: Groups\nvalidator_flags: case_sensitive\n"
            "limits:\n  memory: 128\n  output: 2\n  time_limit: 1.5\n",
            "data/testdata.yaml": "output_validator_flags: float_tolerance 1e-6\n",
            "data/sample/2.in": "s2",
            "data/sample/2.ans": "s2",
            "data/sample/10.in": "s10",
            "data/sample/10.ans": "s10",
            "data/secret/b/01.in": "b1",
            "data/secret/b/01.ans": "b1",
            "data/secret/a/02.in": "a2",
            "data/secret/a/02.ans": "a2",
            "data/secret/a/01.in": "a1",
            "data/secret/a/01.ans": "a1",
            "data/secret/c.in": "c",
            "data/secret/c.ans": "c",
            "data/invalid_input/x.in": "not a test",
        },
    )
    imported = read_kattis_package(open_path(root, LIMITS), LANGUAGES)
    assert [t.name for t in imported.tests] == [
        "sample/10",
        "sample/2",
        "secret/a/01",
        "secret/a/02",
        "secret/b/01",
        "secret/c",
    ]
    problem = imported.problem
    assert (problem.time_limit_ms, problem.memory_limit_mb, problem.output_limit_kb) == (
        1500,
        128,
        2048,
    )
    assert problem.checker == CheckerSpec("tokens", ("case_sensitive", "float_tolerance", "1e-6"))


def test_modern_layout_with_an_output_validator(tmp_path: Path) -> None:
    root = write_package(
        tmp_path / "perm",
        {
            "problem.yaml": "problem_format_version: 2023-07-draft\nname:\n  en: Permutation\n"
            "type: pass-fail\nlimits:\n  time_limit: 2\n",
            "data/test_group.yaml": "output_validator_args: [strict]\n",
            "data/sample/1.in": "3",
            "data/sample/1.ans": "1 2 3",
            "data/secret/1.in": "4",
            "data/secret/1.ans": "1 2 3 4",
            "output_validator/validate.py": "import sys\nsys.exit(42)\n",
            "output_validator/README.md": "notes",
        },
    )
    imported = read_kattis_package(open_path(root, LIMITS), LANGUAGES)
    checker = imported.problem.checker
    assert imported.layout == "2023-07" and imported.problem.title == "Permutation"
    assert checker.mode == "custom" and checker.args == ("strict",)
    assert checker.program is not None and checker.program.language == "python"
    assert dict(checker.program.files) == {"main.py": "import sys\nsys.exit(42)\n"}


def test_legacy_validator_folder_in_c_with_a_header(tmp_path: Path) -> None:
    root = write_package(
        tmp_path / "cval",
        {
            "problem.yaml": "validation: custom\n",
            "data/secret/1.in": "1",
            "data/secret/1.ans": "1",
            "output_validators/check/validate.c": '#include "validate.h"\nint main(void){}\n',
            "output_validators/check/validate.h": "/* helpers */\n",
        },
    )
    checker = read_kattis_package(open_path(root, LIMITS), LANGUAGES).problem.checker
    assert checker.program is not None and checker.program.language == "c"
    # C compiles every source as it is named (issue 15): no entry file to rename.
    assert sorted(dict(checker.program.files)) == ["validate.c", "validate.h"]


@pytest.mark.parametrize(
    ("config", "feature"),
    [
        ("validation: custom interactive score\n", "interactive scoring"),
        ("problem_format_version: 2023-07-draft\ntype: [pass-fail, multi-pass]\n", "multi-pass"),
        ("problem_format_version: 2025-09\ntype: submit-answer\n", "submit-answer"),
    ],
)
def test_unsupported_problem_types_are_refused_by_name(
    tmp_path: Path, config: str, feature: str
) -> None:
    root = write_package(
        tmp_path / "p", {"problem.yaml": config, "data/secret/1.in": "", "data/secret/1.ans": ""}
    )
    with pytest.raises(PackageError, match=f"{feature} problems are not supported"):
        read_kattis_package(open_path(root, LIMITS), LANGUAGES)


INTERACTOR = "import sys\nsys.exit(42)\n"


@pytest.mark.parametrize(
    ("config", "validator"),
    [
        ("validation: custom interactive\n", "output_validators/guess/interactor.py"),
        ("problem_format_version: 2023-07-draft\ntype: interactive\n", "output_validator/x.py"),
        ("problem_format_version: 2025-09\ntype: [interactive]\n", "output_validator/x.py"),
    ],
)
def test_interactive_problems_are_judged_by_their_interactor(
    tmp_path: Path, config: str, validator: str
) -> None:
    files = {"problem.yaml": config, "data/secret/1.in": "5", validator: INTERACTOR}
    imported = read_kattis_package(
        open_path(write_package(tmp_path / "p", files), LIMITS), LANGUAGES
    )
    checker = imported.problem.checker
    assert checker.mode == "interactive" and checker.program is not None
    assert checker.program.language == "python"
    assert [(t.input, t.expected_output) for t in imported.tests] == [(b"5", b"")]  # no .ans
    without = write_package(tmp_path / "q", {"problem.yaml": config, "data/secret/1.in": ""})
    with pytest.raises(PackageError, match="needs its interactor"):
        read_kattis_package(open_path(without, LIMITS), LANGUAGES)
    with pytest.raises(PackageError, match="judged by its own interactor"):
        package = open_path(write_package(tmp_path / "r", files), LIMITS)
        read_kattis_package(package, LANGUAGES, checker=CheckerSpec("tokens"))


@pytest.mark.parametrize(
    ("files", "message"),
    [
        ({"data/secret/1.in": ""}, "no problem.yaml"),
        ({"problem.yaml": "name: x\n"}, "no tests"),
        ({"problem.yaml": "name: x\n", "data/secret/1.in": ""}, "has no 1.ans"),
        ({"problem.yaml": "limits: [1]\n", "data/secret/1.in": ""}, "limits"),
        ({"problem.yaml": ": : :\n"}, "not valid YAML"),
        ({"problem.yaml": "validator_flags: bogus\n", "data/secret/1.in": "",
          "data/secret/1.ans": ""}, "unknown flag"),
    ],
)  # fmt: skip
def test_broken_packages_get_clear_errors(
    tmp_path: Path, files: dict[str, str], message: str
) -> None:
    root = write_package(tmp_path / "broken", files)
    with pytest.raises(PackageError, match=message):
        read_kattis_package(open_path(root, LIMITS), LANGUAGES)


def hostile_zip(entries: Sequence[tuple[zipfile.ZipInfo | str, bytes]]) -> io.BytesIO:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for info, data in entries:
            archive.writestr(info, data)
    buffer.seek(0)
    return buffer


def symlink_entry(name: str) -> zipfile.ZipInfo:
    """A zip entry that unzip would create as a symlink (its data is the target)."""
    info = zipfile.ZipInfo(name)
    info.external_attr = (stat.S_IFLNK | 0o777) << 16
    return info


@pytest.mark.parametrize(
    ("entries", "message"),
    [
        ([("problem.yaml", b""), ("../evil.in", b"x")], "escapes the package"),
        ([("problem.yaml", b""), ("/etc/cron.d/x", b"x")], "escapes the package"),
        ([("problem.yaml", b""), ("data/../../x", b"x")], "escapes the package"),
        ([("problem.yaml", b""), ("data\\..\\x", b"x")], "escapes the package"),
        ([("problem.yaml", b""), (symlink_entry("data/secret/1.in"), b"/etc/passwd")],
         "symlink"),
        ([("problem.yaml", b""), ("big.bin", b"\0" * (2 << 20))], "limit"),
    ],
)  # fmt: skip
def test_hostile_zips_are_refused(entries: list[tuple[zipfile.ZipInfo | str, bytes]],
                                  message: str) -> None:  # fmt: skip
    with pytest.raises(PackageError, match=message):
        ZipPackage(hostile_zip(entries), "evil", PackageLimits(1 << 20, 100))


def test_too_many_files_and_garbage_are_refused() -> None:
    many = [(f"f{i}", b"") for i in range(20)]
    with pytest.raises(PackageError, match=r"files"):
        ZipPackage(hostile_zip(many), "many", PackageLimits(1 << 20, 10))
    with pytest.raises(PackageError, match=r"not a zip"):
        ZipPackage(io.BytesIO(b"PK\x03\x04 not really"), "junk", LIMITS)


def test_folder_symlinks_out_of_the_package_are_refused(tmp_path: Path) -> None:
    secret = tmp_path / "host-secret.txt"
    secret.write_text("do not read")
    root = write_package(tmp_path / "pkg", {"problem.yaml": "", "data/secret/1.ans": ""})
    (root / "data/secret/1.in").symlink_to(secret)
    with pytest.raises(PackageError, match=r"outside the package"):
        DirectoryPackage(root, LIMITS)
    (root / "data/secret/1.in").unlink()
    (root / "data/secret/1.in").symlink_to(root / "problem.yaml")  # inside: fine
    assert "data/secret/1.in" in DirectoryPackage(root, LIMITS).names()
    (root / "data/loop").symlink_to(root / "data")
    with pytest.raises(PackageError, match=r"to a folder"):
        DirectoryPackage(root, LIMITS)


def test_fifos_in_a_folder_are_refused_without_blocking(tmp_path: Path) -> None:
    root = write_package(tmp_path / "pkg", {"problem.yaml": ""})
    os.mkfifo(root / "data.in")
    with pytest.raises(PackageError, match=r"not a regular file"):
        DirectoryPackage(root, LIMITS)


def test_2025_09_layout(tmp_path: Path) -> None:
    root = write_package(
        tmp_path / "tolerant",
        {
            "problem.yaml": "problem_format_version: 2025-09\nname: Tolerant\n"
            "type: pass-fail\nlimits:\n  time_limit: 0.5\n  memory: 256\n",
            "data/test_group.yaml": "output_validator_args: float_tolerance 1e-6\n",
            "data/sample/001.in": "1",
            "data/sample/001.ans": "1.0",
            "data/secret/group/001.in": "2",
            "data/secret/group/001.ans": "2.0",
            "statement/problem.en.md": "# Tolerant\nPrint the number.",
        },
    )
    imported = read_kattis_package(open_path(root, LIMITS), LANGUAGES)
    assert imported.layout == "2025-09"
    assert imported.problem.checker == CheckerSpec("tokens", ("float_tolerance", "1e-6"))
    assert imported.problem.time_limit_ms == 500 and imported.problem.memory_limit_mb == 256
    assert imported.problem.statement == "# Tolerant\nPrint the number."
    assert [t.name for t in imported.tests] == ["sample/001", "secret/group/001"]


# -- hostile packages: one test per attack (issue 12, class 8) ------------------------
#
# Each says what it must not cost: memory is measured with tracemalloc around opening
# and reading the package; none of these may take more than a few MiB, whatever the
# package claims or really holds.

MIB = 1 << 20
SMALL = PackageLimits(max_bytes=8 * MIB, max_files=100, max_file_bytes=4 * MIB)


def peak_bytes(action: Callable[[], object]) -> int:
    """Peak memory allocated while ``action`` runs (its PackageError is expected)."""
    tracemalloc.start()
    try:
        with contextlib.suppress(PackageError):
            action()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def import_folder(root: Path, limits: PackageLimits = LIMITS) -> Any:
    return read_kattis_package(open_path(root, limits), LANGUAGES)


def yaml_package(tmp_path: Path, config: str | bytes) -> Path:
    return write_package(
        tmp_path / "p",
        {"problem.yaml": config, "data/secret/1.in": "1\n", "data/secret/1.ans": "1\n"},
    )


def billion_laughs(key: str = "name") -> str:
    """Nine levels of ten aliases each: 10^9 strings once expanded."""
    lines = ['l0: &l0 "lol"']
    for level in range(1, 10):
        refs = ", ".join([f"*l{level - 1}"] * 10)
        lines.append(f"l{level}: &l{level} [{refs}]")
    lines.append(f"{key}: *l9")
    return "\n".join(lines) + "\n"


@pytest.mark.timeout(60)
@pytest.mark.parametrize("key", ["name", "validator_flags", "type"])
def test_yaml_billion_laughs_is_refused_in_bounded_memory(tmp_path: Path, key: str) -> None:
    root = yaml_package(tmp_path, billion_laughs(key))
    with pytest.raises(PackageError, match=r"problem.yaml: .*values once aliases are expanded"):
        import_folder(root)
    assert peak_bytes(lambda: import_folder(root)) < 8 * MIB


@pytest.mark.timeout(60)
def test_yaml_billion_laughs_in_test_group_yaml(tmp_path: Path) -> None:
    root = yaml_package(tmp_path, "name: x\n")
    (root / "data/testdata.yaml").write_text(billion_laughs("output_validator_args"))
    with pytest.raises(PackageError, match=r"data/testdata.yaml: .*aliases are expanded"):
        import_folder(root)


@pytest.mark.parametrize(
    "config",
    [
        "name: &a [x, *a]\n",  # a list that contains itself
        "limits: &a {memory: 1, loop: *a}\n",
        "a: &a {<<: *a}\nname: x\n",  # a merge key into itself
    ],
)
def test_yaml_recursive_aliases_are_refused(tmp_path: Path, config: str) -> None:
    with pytest.raises(PackageError, match=r"problem.yaml: .*(refers to itself|alias)"):
        import_folder(yaml_package(tmp_path, config))


@pytest.mark.timeout(60)
@pytest.mark.parametrize(
    "config",
    [
        "name: " + "[" * 100_000 + "]" * 100_000 + "\n",  # flow: the composer recurses
        "".join(f"{'  ' * i}k{i}:\n" for i in range(200)) + "  " * 200 + "x\n",  # block
        # shallow as written, deep once aliases are expanded
        "a0: &a0 [x]\n" + "".join(f"a{i}: &a{i} [*a{i - 1}]\n" for i in range(1, 3000)),
    ],
)
def test_yaml_deep_nesting_is_refused(tmp_path: Path, config: str) -> None:
    with pytest.raises(PackageError, match=r"problem.yaml: nested more than"):
        import_folder(yaml_package(tmp_path, config))


def test_yaml_files_are_bounded_in_size_before_parsing(tmp_path: Path) -> None:
    big = "name: x\nkeywords: [" + ", ".join(["word"] * 300_000) + "]\n"  # ~1.8 MB
    root = yaml_package(tmp_path, big)
    with pytest.raises(PackageError, match=r"problem.yaml is .* bytes; YAML files"):
        import_folder(root)
    assert peak_bytes(lambda: import_folder(root)) < 4 * MIB


def test_yaml_with_too_many_values_is_refused(tmp_path: Path) -> None:
    many = "name: x\nkeywords: [" + ", ".join(["w"] * 150_000) + "]\n"  # < 1 MiB
    with pytest.raises(PackageError, match=r"more than 100000 values"):
        import_folder(yaml_package(tmp_path, many))


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ("- a\n- b\n", "problem.yaml must be a mapping"),
        ("just text\n", "problem.yaml must be a mapping"),
        ("42\n", "problem.yaml must be a mapping"),
        ("1: x\nname: y\n", "problem.yaml: keys must be strings, not 1"),
        ("limits: {1.5: x}\n", "problem.yaml: keys must be strings"),
        ("? [a, b]\n: x\n", "problem.yaml"),  # a list as a key
        ("name: !!binary aGVsbG8=\n", "problem.yaml: .*bytes"),
        ("name: !!set {a, b}\n", "problem.yaml: .*set"),
        ("name: !!python/object:os.system x\n", "not valid YAML"),
        ("name: x\n---\nname: y\n", "not valid YAML"),
        ("problem_format_version: 2025-09\ntype: 5\n", "problem.yaml: type must be"),
        ("problem_format_version: 2023-07-draft\ntype: {a: b}\n", "problem.yaml: type must be"),
        ("validation: [custom]\n", "problem.yaml: validation must be a string"),
        ("name: [a, b]\n", "problem.yaml: name must be"),
        ("name: {en: [a]}\n", "problem.yaml: name must be"),
        ("validator_flags: [[a]]\n", "validator_flags must be"),
        ("limits: {time_limit: .inf}\n", "problem.yaml: bad limit"),
        ("limits: {time_limit: .nan}\n", "problem.yaml: bad limit"),
        ("limits: {memory: 1e400}\n", "problem.yaml: bad limit"),
        ("limits: {memory: true}\n", "problem.yaml: bad limit"),
        ("limits: {memory: 99999999999999999999}\n", "problem.yaml: bad limit"),
        ("limits: {output: [1]}\n", "problem.yaml: bad limit"),
        ("problem_format_version: [1]\n", "problem_format_version must be"),
        (b"name: \xff\xfe\n", "not UTF-8"),
    ],
)
def test_yaml_that_is_not_the_expected_data_gets_a_clear_error(
    tmp_path: Path, config: str | bytes, message: str
) -> None:
    with pytest.raises(PackageError, match=message):
        import_folder(yaml_package(tmp_path, config))


def test_yaml_dates_stay_text(tmp_path: Path) -> None:
    imported = import_folder(yaml_package(tmp_path, "name: 2024-01-02\n"))
    assert imported.problem.title == "2024-01-02"


# -- zips --------------------------------------------------------------------------------


@dataclass
class Raw:
    """A zip entry written byte by byte: whatever its headers claim."""

    name: bytes
    payload: bytes = b""  # as stored (compressed for method 8/12)
    size: int | None = None  # the uncompressed size its headers claim
    crc: int | None = None
    method: int = 0
    flags: int = 0
    offset: int | None = None  # its central entry points here instead of its own header
    extra: bytes = b""


def raw_zip(entries: list[Raw], claimed_count: int | None = None) -> io.BytesIO:
    out, central = bytearray(), bytearray()
    for e in entries:
        size = len(e.payload) if e.size is None else e.size
        crc = zlib.crc32(e.payload) if e.crc is None else e.crc
        offset = len(out) if e.offset is None else e.offset
        if e.offset is None:
            out += struct.pack(
                "<4s5H3L2H", b"PK\x03\x04", 20, e.flags, e.method, 0, 0, crc,
                len(e.payload), size, len(e.name), 0,
            ) + e.name + e.payload  # fmt: skip
        central += struct.pack(
            "<4s6H3L5H2L", b"PK\x01\x02", 20, 20, e.flags, e.method, 0, 0, crc,
            len(e.payload), size, len(e.name), len(e.extra), 0, 0, 0, 0, offset,
        ) + e.name + e.extra  # fmt: skip
    count = min(len(entries) if claimed_count is None else claimed_count, 0xFFFF)
    end = struct.pack("<4s4H2LH", b"PK\x05\x06", 0, 0, count, count, len(central), len(out), 0)
    return io.BytesIO(bytes(out + central + end))


def deflated(data: bytes) -> bytes:
    packer = zlib.compressobj(9, zlib.DEFLATED, -15)
    return packer.compress(data) + packer.flush()


def deflated_zeros(size: int) -> bytes:
    packer = zlib.compressobj(9, zlib.DEFLATED, -15)
    chunk = bytes(MIB)
    parts = [packer.compress(chunk) for _ in range(size // MIB)]
    return b"".join(parts) + packer.flush()


YAML = Raw(b"problem.yaml", b"name: x\n")


def test_many_tiny_entries_are_counted_before_the_archive_is_parsed() -> None:
    # 100,000 empty entries (an 8 MB zip): zipfile alone would build every entry's
    # record before anyone could count them.
    archive = raw_zip([YAML] + [Raw(b"f%06d" % i) for i in range(100_000)])
    limits = PackageLimits(max_bytes=8 * MIB, max_files=10_000)
    with pytest.raises(PackageError, match=r"more than 10000 files"):
        ZipPackage(archive, "many", limits)
    assert peak_bytes(lambda: ZipPackage(archive, "many", limits)) < 2 * MIB


def test_a_zip_that_understates_its_entry_count_is_counted_entry_by_entry() -> None:
    archive = raw_zip([YAML] + [Raw(b"f%06d" % i) for i in range(1000)], claimed_count=2)
    with pytest.raises(PackageError, match=r"more than 100 files"):
        ZipPackage(archive, "liar", SMALL)


def test_a_huge_central_directory_is_refused_before_it_is_read() -> None:
    # Few entries, each with a 60 KiB extra field: a central directory of 6 MB.
    entries = [YAML] + [Raw(b"f%02d" % i, extra=b"\xfe\xca" + struct.pack("<H", 60_000)
                            + bytes(60_000)) for i in range(99)]  # fmt: skip
    archive = raw_zip(entries)
    with pytest.raises(PackageError, match=r"central directory"):
        ZipPackage(archive, "fat", PackageLimits(8 * MIB, 100))
    assert peak_bytes(lambda: ZipPackage(archive, "fat", PackageLimits(8 * MIB, 100))) < MIB


def test_compression_ratio_bomb_is_refused_by_its_declared_size() -> None:
    # 1 GiB of zeros in a 1 MB zip (42.zip's layers are this, nested).
    bomb = Raw(b"data/secret/1.in", deflated_zeros(1 << 30), size=1 << 30, method=8, crc=0)
    archive = raw_zip([YAML, bomb, Raw(b"data/secret/1.ans", b"1")])
    with pytest.raises(PackageError, match=r"data/secret/1.in holds 1073741824 bytes"):
        ZipPackage(archive, "bomb", SMALL)
    assert peak_bytes(lambda: ZipPackage(archive, "bomb", SMALL)) < MIB


def test_an_entry_bigger_than_its_header_says_is_read_no_further() -> None:
    # The header says 100 bytes; the deflated data is 256 MiB of zeros.
    liar = Raw(b"data/secret/1.in", deflated_zeros(256 * MIB), size=100, method=8,
               crc=zlib.crc32(bytes(100)))  # fmt: skip
    archive = raw_zip([YAML, liar, Raw(b"data/secret/1.ans", b"1")])
    package = ZipPackage(archive, "liar", SMALL)
    assert package.read("data/secret/1.in") == bytes(100)
    assert peak_bytes(lambda: package.read("data/secret/1.in")) < 2 * MIB


# 256 MiB of zeros as bzip2: 208 bytes (bzip2 ratios are unbounded per read).
BZIP2_BOMB = base64.b64decode(
    "QlpoOTFBWSZTWQ4J4t8BX45AAMAAAAggADCATUZCoCWpCoCXMUFZJlNZDgni3wFfjkAAwAAACCAAMIBNRkKg"
    "JakKgJcxQVkmU1kOCeLfAV+OQADAAAAIIAAwgE1GQqAlqQqAlzFBWSZTWQ4J4t8BX45AAMAAAAggADCATUZC"
    "oCWpCoCXMUFZJlNZDgni3wFfjkAAwAAACCAAMIBNRkKgJakKgJcxQVkmU1kezuTbASo/wADABAAIIAAwzAUp"
    "pqqoSRsAIkjxdyRThQkGsXyvAA=="
)


@pytest.mark.timeout(60)
def test_bzip2_entries_are_refused_before_anything_is_decompressed() -> None:
    # zipfile decompresses bzip2 without a bound per read: a 100-byte claim would still
    # inflate 256 MiB in memory.
    bomb = Raw(b"data/secret/1.in", BZIP2_BOMB, size=100, method=12, crc=0)
    archive = raw_zip([YAML, bomb, Raw(b"data/secret/1.ans", b"1")])

    def open_and_read() -> None:
        ZipPackage(archive, "bz", SMALL).read("data/secret/1.in")

    with pytest.raises(PackageError, match=r"compression method 12"):
        open_and_read()
    assert peak_bytes(open_and_read) < 2 * MIB


def test_unknown_compression_methods_are_refused_at_opening() -> None:
    archive = raw_zip([YAML, Raw(b"data/secret/1.in", b"xx", method=99)])
    with pytest.raises(PackageError, match=r"compression method 99"):
        ZipPackage(archive, "odd", SMALL)


def test_nested_zips_are_data_never_expanded() -> None:
    inner = io.BytesIO()
    with zipfile.ZipFile(inner, "w", zipfile.ZIP_DEFLATED) as nested:
        nested.writestr("bomb.bin", bytes(32 * MIB))
    archive = hostile_zip(
        [
            ("nested/problem.yaml", b"name: nested\n"),
            ("nested/data/secret/1.in", inner.getvalue()),
            ("nested/data/secret/1.ans", b"x\n"),
        ]
    )
    package = ZipPackage(archive, "nested", SMALL)
    imported = read_kattis_package(package, LANGUAGES)
    assert imported.tests[0].input == inner.getvalue()  # the inner zip's bytes, as is


def test_overlapping_entries_are_refused_at_opening() -> None:
    # Two names for the same bytes ("better zip bomb" style overlaps).
    first = Raw(b"data/secret/1.in", b"shared")
    at = 30 + len(YAML.name) + len(YAML.payload)  # where the first's local header is
    archive = raw_zip([YAML, first, Raw(b"data/secret/1.ans", b"shared", offset=at)])
    with pytest.raises(PackageError, match=r"overlap"):
        ZipPackage(archive, "overlap", SMALL)


@pytest.mark.parametrize(
    "names",
    [
        [b"data/secret/1.in", b"data/secret/1.in"],
        [b"data/secret/1.in", b"data/secret/./1.in"],
        [b"data/secret/1.in", b"data//secret/1.in"],
    ],
)
def test_duplicate_names_are_refused(names: list[bytes]) -> None:
    archive = raw_zip([YAML] + [Raw(n, b"1") for n in names])
    with pytest.raises(PackageError, match=r"appears twice"):
        ZipPackage(archive, "dup", SMALL)


@pytest.mark.parametrize(
    ("name", "message"),
    [
        (b"data/secret/1.in\x00/../../etc/passwd", "NUL"),  # zipfile would cut it at NUL
        (b"data/secret/" + b"a" * 300 + b".in", "too long"),
        (b"data/" + b"d/" * 600 + b"1.in", "too long"),
        (b"data\\secret\\1.in", "escapes the package"),
        (b"/data/secret/1.in", "escapes the package"),
        (b"C:/data/secret/1.in", "escapes the package"),
        (b"data/../../1.in", "escapes the package"),
        (b"\xff\xfe.in", "utf-8"),  # declared UTF-8, but is not
    ],
)
def test_hostile_entry_names_are_refused(name: bytes, message: str) -> None:
    flags = 0x800 if name.startswith(b"\xff") else 0
    archive = raw_zip([YAML, Raw(name, b"1", flags=flags)])
    with pytest.raises(PackageError, match=message):
        ZipPackage(archive, "names", SMALL)


def test_a_test_file_over_the_per_file_limit_is_refused_by_its_size() -> None:
    archive = raw_zip(
        [YAML, Raw(b"data/secret/1.in", bytes(5 * MIB)), Raw(b"data/secret/1.ans", b"1")]
    )
    with pytest.raises(PackageTooLarge, match=r"data/secret/1.in holds 5242880 bytes"):
        ZipPackage(archive, "huge", SMALL)


def test_a_yaml_file_is_refused_by_its_declared_size_before_it_is_read() -> None:
    big_yaml = Raw(b"problem.yaml", deflated(b"#" * (2 * MIB)), method=8, size=2 * MIB)
    archive = raw_zip([big_yaml, Raw(b"data/secret/1.in", b"1"), Raw(b"data/secret/1.ans", b"1")])
    package = ZipPackage(archive, "bigyaml", SMALL)
    with pytest.raises(PackageError, match=r"problem.yaml is 2097152 bytes"):
        read_kattis_package(package, LANGUAGES)
    assert peak_bytes(lambda: read_kattis_package(package, LANGUAGES)) < MIB


# -- folders -----------------------------------------------------------------------------


def test_a_huge_file_in_a_folder_is_refused_by_its_size_unread(tmp_path: Path) -> None:
    root = write_package(tmp_path / "p", {"problem.yaml": "name: x\n", "data/secret/1.ans": ""})
    with open(root / "data/secret/1.in", "wb") as sparse:
        sparse.truncate(10 << 30)  # 10 GiB, sparse
    with pytest.raises(PackageTooLarge, match=r"data/secret/1.in holds 10737418240 bytes"):
        DirectoryPackage(root, SMALL)
    assert peak_bytes(lambda: DirectoryPackage(root, SMALL)) < MIB


def test_deep_folder_trees_are_refused(tmp_path: Path) -> None:
    root = write_package(tmp_path / "p", {"problem.yaml": "name: x\n"})
    deep = root
    for _ in range(100):
        deep /= "d"
        deep.mkdir()
    with pytest.raises(PackageError, match=r"nested more than"):
        DirectoryPackage(root, SMALL)


def test_many_folders_count_as_entries(tmp_path: Path) -> None:
    root = write_package(tmp_path / "p", {"problem.yaml": "name: x\n"})
    for i in range(300):
        (root / f"empty{i}").mkdir()
    with pytest.raises(PackageTooLarge, match=r"more than 100 files"):
        DirectoryPackage(root, SMALL)


def test_sockets_and_links_to_special_files_are_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = write_package(tmp_path / "p", {"problem.yaml": "name: x\n"})
    monkeypatch.chdir(root)  # a socket's path must be short
    with socket.socket(socket.AF_UNIX) as server:
        server.bind("judge.sock")
        with pytest.raises(PackageError, match=r"not a regular file"):
            DirectoryPackage(root, SMALL)
    (root / "judge.sock").unlink()
    os.mkfifo(root / "fifo")
    (root / "data.in").symlink_to(root / "fifo")
    with pytest.raises(PackageError, match=r"not a regular file"):
        DirectoryPackage(root, SMALL)
    (root / "fifo").unlink()  # now a broken link
    with pytest.raises(PackageError, match=r"data.in"):
        DirectoryPackage(root, SMALL)


@pytest.mark.timeout(30)
def test_a_file_swapped_for_a_fifo_after_listing_is_not_opened_blocking(tmp_path: Path) -> None:
    root = write_package(tmp_path / "p", {"problem.yaml": "name: x\n", "data/1.in": "1"})
    package = DirectoryPackage(root, SMALL)
    (root / "data/1.in").unlink()
    os.mkfifo(root / "data/1.in")
    outcome: list[BaseException | bytes] = []

    def read() -> None:
        try:
            outcome.append(package.read("data/1.in"))
        except BaseException as exc:
            outcome.append(exc)

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    reader.join(5)
    if reader.is_alive():  # blocked in open(): let it go, then fail
        with open(root / "data/1.in", "wb"):
            pass
        pytest.fail("reading blocked on a FIFO")
    assert isinstance(outcome[0], PackageError)


def test_a_file_swapped_for_a_symlink_or_grown_after_listing_is_refused(tmp_path: Path) -> None:
    secret = tmp_path / "host-secret.txt"
    secret.write_text("do not read")
    root = write_package(tmp_path / "p", {"problem.yaml": "name: x\n", "data/1.in": "12"})
    package = DirectoryPackage(root, SMALL)
    (root / "data/1.in").write_bytes(b"12" + bytes(MIB))
    with pytest.raises(PackageError, match=r"changed while"):
        package.read("data/1.in")
    (root / "data/1.in").unlink()
    (root / "data/1.in").symlink_to(secret)
    with pytest.raises(PackageError, match=r"data/1.in"):
        package.read("data/1.in")


def test_corrupt_compressed_data_is_a_package_error() -> None:
    broken = Raw(b"data/secret/1.in", b"\xff" * 64, size=1000, method=8)
    package = ZipPackage(raw_zip([YAML, broken]), "broken", SMALL)
    with pytest.raises(PackageError, match=r"cannot read 'data/secret/1.in'"):
        package.read("data/secret/1.in")


class _Unseekable(io.RawIOBase):
    """A write-only stream: zipfile then writes data descriptors after each entry."""

    def __init__(self) -> None:
        self.data = bytearray()

    def writable(self) -> bool:
        return True

    def write(self, b: Any) -> int:
        self.data += bytes(b)
        return len(b)


def test_honest_zips_of_every_shape_still_open() -> None:
    files = {"problem.yaml": b"name: x\n", "data/secret/1.in": b"1\n", "data/secret/1.ans": b"1\n"}
    # zip64: more entries than the end record can count
    many = io.BytesIO()
    with zipfile.ZipFile(many, "w") as archive:
        for name, data in files.items():
            archive.writestr(name, data)
        for i in range(70_000):
            archive.writestr(f"extra/{i}", b"")
    limits = PackageLimits(max_bytes=8 * MIB, max_files=80_000)
    assert "data/secret/1.in" in ZipPackage(many, "zip64", limits).names()
    # data descriptors, as written to a stream that cannot seek
    stream = _Unseekable()
    with zipfile.ZipFile(stream, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    package = ZipPackage(io.BytesIO(bytes(stream.data)), "streamed", SMALL)
    assert package.read("data/secret/1.in") == b"1\n"
    # something before the archive (a self-extracting stub)
    plain = hostile_zip(list(files.items()))
    prefixed = io.BytesIO(b"#!/bin/sh\nexit 0\n" + plain.getvalue())
    assert ZipPackage(prefixed, "stub", SMALL).read("problem.yaml") == b"name: x\n"
