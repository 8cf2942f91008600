"""Reading Kattis packages (folder and zip): layouts, test order, limits, checker
settings, refusals by name, and hostile packages (zip-slip, symlinks, sizes)."""

from __future__ import annotations

import io
import os
import stat
import zipfile
from pathlib import Path

import pytest

from codeexec.checker import CheckerSpec
from codeexec.packages.archive import DirectoryPackage, PackageError, PackageLimits, ZipPackage
from codeexec.packages.importer import open_path
from codeexec.packages.kattis import read_kattis_package
from codeexec.sandbox.languages import discover_languages

KATTIS = Path(__file__).resolve().parents[3] / "shared/testdata/kattis"
LIMITS = PackageLimits(max_bytes=64 << 20, max_files=1000)
LANGUAGES = discover_languages(Path(__file__).resolve().parents[2] / "sandbox-images")


def write_package(root: Path, files: dict[str, str | bytes]) -> Path:
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
    with pytest.raises(PackageError, match="custom output validator"):
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
    assert sorted(dict(checker.program.files)) == ["main.c", "validate.h"]


@pytest.mark.parametrize(
    ("config", "feature"),
    [
        ("validation: custom interactive\n", "interactive"),
        ("validation: default score\n", "scoring"),
        ("problem_format_version: 2023-07-draft\ntype: interactive\n", "interactive"),
        ("problem_format_version: 2023-07-draft\ntype: [pass-fail, multi-pass]\n", "multi-pass"),
        ("problem_format_version: 2025-09\ntype: scoring\n", "scoring"),
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


def hostile_zip(entries: list[tuple[zipfile.ZipInfo | str, bytes]]) -> io.BytesIO:
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
    with pytest.raises(PackageError, match="files"):
        ZipPackage(hostile_zip(many), "many", PackageLimits(1 << 20, 10))
    with pytest.raises(PackageError, match="not a zip"):
        ZipPackage(io.BytesIO(b"PK\x03\x04 not really"), "junk", LIMITS)


def test_folder_symlinks_out_of_the_package_are_refused(tmp_path: Path) -> None:
    secret = tmp_path / "host-secret.txt"
    secret.write_text("do not read")
    root = write_package(tmp_path / "pkg", {"problem.yaml": "", "data/secret/1.ans": ""})
    (root / "data/secret/1.in").symlink_to(secret)
    with pytest.raises(PackageError, match="outside the package"):
        DirectoryPackage(root, LIMITS)
    (root / "data/secret/1.in").unlink()
    (root / "data/secret/1.in").symlink_to(root / "problem.yaml")  # inside: fine
    assert "data/secret/1.in" in DirectoryPackage(root, LIMITS).names()
    (root / "data/loop").symlink_to(root / "data")
    with pytest.raises(PackageError, match="to a folder"):
        DirectoryPackage(root, LIMITS)


def test_fifos_in_a_folder_are_refused_without_blocking(tmp_path: Path) -> None:
    root = write_package(tmp_path / "pkg", {"problem.yaml": ""})
    os.mkfifo(root / "data.in")
    with pytest.raises(PackageError, match="not a regular file"):
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
