"""A language is a folder of data: one added in a temporary folder, with no Python file
touched, is picked up by every part of codeexec that knows about languages — discovery,
the screening policy and the screener's choice, intake (where the program goes, entry
points, which files are screened), judging (compile and run commands, limits, memory
errors, the self-test) and Kattis import (a validator told by its extension).

Two throwaway languages, beside the shipped ones:

- ``cish``: C in ``*.cish`` files with ``*.hish`` headers, built by the C image's gcc,
  screened with the C grammar (tree-sitter) under rules of its own;
- ``pyx``: Python in ``main.pyx``, screened by Python's ``ast`` (the syntax check too),
  with a default policy of its own that ``CODEEXEC_SCREENING_PYTHON`` does not touch.
"""

from __future__ import annotations

import ast
import dataclasses
import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from codeexec.config import Settings
from codeexec.intake import Intake, Rejected, Request
from codeexec.judge.judge import Judge
from codeexec.judge.self_test import run_self_tests
from codeexec.model import (
    Language,
    Problem,
    ProblemSnapshot,
    RunOutcome,
    SourceFile,
    TestCase,
    Verdict,
)
from codeexec.packages.archive import PackageError, PackageLimits
from codeexec.packages.importer import open_path
from codeexec.packages.kattis import read_kattis_package
from codeexec.sandbox.api import SandboxFile
from codeexec.sandbox.fake import FakeRun, FakeSandboxes, Program, outcome
from codeexec.sandbox.languages import SHIPPED, LanguageError, discover_languages
from codeexec.screening.service import Screener, ScreeningResult, TreeSitterCheck, check_for

CISH = """
id = "cish"
name = "C-ish (gcc, *.cish files)"
source_file = "prog.cish"
extensions = [".cish"]
header_extensions = [".hish"]
version_command = ["gcc", "--version"]
compile = ["sh", "-c", "exec gcc -x c -O2 -o prog *.cish"]
run = ["./prog"]
memory_error_patterns = ["out of cheese"]

[compile_limits]
time_ms = 7000
memory_mb = 300
output_kb = 32

[screening]
parser = "tree-sitter"
grammar = "tree_sitter_c"
name_nodes = ["identifier", "field_expression"]
bare_names = true
disallowed = ["system", "fork"]

[self_test]
source = '''
#include <stdio.h>
int main(void) { long long a, b; scanf("%lld %lld", &a, &b); printf("%lld\\n", a + b); }
'''
input = "2 3\\n"
expected = "5\\n"
"""

PYX = """
id = "pyx"
name = "Python, in main.pyx"
source_file = "main.pyx"
version_command = ["python3", "--version"]
run = ["python3", "-B", "main.pyx"]

[screening]
parser = "python-ast"
disallowed = ["eval", "os.system"]

[self_test]
source = "print(sum(map(int, input().split())))"
input = "2 3\\n"
expected = "5\\n"
"""


def add_language(root: Path, lang_id: str, definition: str, image_of: str) -> Path:
    """A language folder: its definition, and the Dockerfile of a shipped language."""
    folder = root / lang_id
    folder.mkdir()
    shutil.copy(SHIPPED / image_of / "Dockerfile", folder / "Dockerfile")
    (folder / "language.toml").write_text(definition)
    return folder


@pytest.fixture
def root(tmp_path: Path) -> Path:
    """A languages folder: the shipped ones, and the two new ones."""
    languages = tmp_path / "codeexec/languages"
    shutil.copytree(SHIPPED, languages)
    add_language(languages, "cish", CISH, "c")
    add_language(languages, "pyx", PYX, "python")
    return languages


@pytest.fixture
def languages(root: Path) -> dict[str, Language]:
    return discover_languages(root)


def test_discovery_reads_every_field(languages: dict[str, Language], root: Path) -> None:
    cish = languages["cish"]
    assert cish.source_file == "prog.cish"
    assert cish.compile == ("sh", "-c", "exec gcc -x c -O2 -o prog *.cish")
    assert cish.run == ("./prog",)
    assert (cish.compile_limits.time_ms, cish.compile_limits.memory_mb) == (7000, 300)
    assert cish.extensions == (".cish",) and cish.header_extensions == (".hish",)
    assert cish.memory_error_patterns == ("out of cheese",)
    assert cish.disallowed == ("system", "fork")
    assert cish.screening.grammar == "tree_sitter_c" and cish.screening.bare_names
    assert cish.self_test is not None and cish.self_test.expected == "5\n"
    assert cish.image_tag("p") == "p/cish:latest" and cish.folder == root / "cish"
    pyx = languages["pyx"]
    assert pyx.extensions == (".pyx",)  # by default, the source file's
    assert (pyx.compile, pyx.screening.parser) == (None, "python-ast")
    # Offered alone, like any language (CODEEXEC_LANGUAGES=cish).
    assert list(discover_languages(root, ("cish",))) == ["cish"]


def test_the_screener_is_the_one_the_folder_names(languages: dict[str, Language]) -> None:
    cish = check_for(languages["cish"])
    assert isinstance(cish, TreeSitterCheck) and cish.rules == languages["cish"].screening
    # Its own rules: a name's last part counts (bare_names), strings and comments never.
    source = 'int main(void) { s.system("x"); /* fork() */ puts("fork"); }'
    assert cish(source, "prog.cish", ("system", "fork")) == ScreeningResult(("system",))
    strict = TreeSitterCheck(dataclasses.replace(cish.rules, bare_names=False))
    assert strict(source, "prog.cish", ("system", "fork")) == ScreeningResult()
    pyx = check_for(languages["pyx"])
    assert pyx is not None
    assert pyx("import os as o\no.system('ls')", "main.pyx", ("os.system",)).disallowed == (
        "os.system",
    )
    error = pyx("def (:", "main.pyx", ()).compile_error
    assert error is not None and "SyntaxError" in error  # python-ast: the syntax check too


def test_a_folder_naming_what_does_not_exist_is_refused_at_start_up(root: Path) -> None:
    for screening, error in [
        ('parser = "pascal-ast"', "unknown screening parser 'pascal-ast'"),
        ('parser = "tree-sitter"', "needs a grammar"),
        ('parser = "tree-sitter"\ngrammar = "tree_sitter_cobol"', "no tree-sitter grammar"),
        ('parser = "tree-sitter"\ngrammar = "tree_sitter_c"\nimports = "cobol"', "imports"),
    ]:
        (root / "cish" / "language.toml").write_text(
            CISH.replace('parser = "tree-sitter"\ngrammar = "tree_sitter_c"', screening)
        )
        with pytest.raises(ValueError, match=error):
            check_for(discover_languages(root)["cish"])
    (root / "cish" / "language.toml").write_text(CISH.replace("bare_names", "bare_name"))
    with pytest.raises(LanguageError, match="unknown keys"):
        discover_languages(root)


def test_default_policies_come_from_the_folders(languages: dict[str, Language]) -> None:
    # CODEEXEC_SCREENING_PYTHON replaces Python's default only.
    screener = Screener(Settings(screening_workers=1, screening_python=("exec",)), languages)
    try:
        assert screener.policy_for("cish", None) == ("system", "fork")
        assert screener.policy_for("pyx", None) == ("eval", "os.system")
        assert screener.policy_for("python", None) == ("exec",)
        assert screener.policy_for("cish", {"cish": ["popen"]}) == ("popen",)  # a problem's own
    finally:
        screener.close()
    unset = Screener(Settings(screening_workers=1), languages)
    assert unset.policy_for("python", None) == languages["python"].disallowed


class Problems:
    def __init__(self, snapshot: ProblemSnapshot) -> None:
        self._snapshot = snapshot

    async def snapshot(self, problem_id: str) -> ProblemSnapshot | None:
        return self._snapshot if problem_id == self._snapshot.problem.id else None


SNAPSHOT = ProblemSnapshot(Problem("p"), (TestCase(b"2 3\n", b"5\n"),))


@pytest.fixture
async def intake(languages: dict[str, Language]) -> AsyncIterator[Intake]:
    screener = Screener(Settings(screening_workers=1), languages)
    yield Intake(lambda: languages, Problems(SNAPSHOT), lambda: screener, 10_000)
    screener.close()


async def test_intake_places_and_screens_the_program_by_the_folder(intake: Intake) -> None:
    files = [
        SourceFile("solve.cish", '#include "util.hish"\nint main(void) { return f(); }\n'),
        SourceFile("util.cish", "int f(void) { return 0; }\n"),
        SourceFile("util.hish", "int f(void); /* system() */\n"),
    ]
    work = await intake.accept(Request("p", "cish", None, files, "solve.cish"))
    # The entry file goes where source_file says, so the commands never change.
    assert sorted(work.files) == ["prog.cish", "util.cish", "util.hish"]
    assert work.files["prog.cish"] == files[0].content
    # Every *.cish file is screened by the folder's rules and default policy.
    bad = [
        SourceFile("solve.cish", "int main(void) {}"),
        SourceFile("x.cish", "void g(void) { fork(); }"),
    ]
    with pytest.raises(Rejected) as caught:
        await intake.accept(Request("p", "cish", None, bad, "solve.cish"))
    assert (caught.value.status, caught.value.title) == (
        403,
        "Found disallowed functions in code (fork)",
    )
    # Another entry point leaves no room for a file of the source file's name.
    with pytest.raises(Rejected, match=r"'prog\.cish' is where the entry point goes"):
        await intake.accept(
            Request(
                "p", "cish", None, [SourceFile("a.cish", ""), SourceFile("prog.cish", "")], "a.cish"
            )
        )
    pyx = await intake.accept(Request("p", "pyx", "print(1 +)"))
    assert list(pyx.files) == ["main.pyx"]
    assert pyx.screening.compile_error is not None  # a CE, judged without a container
    with pytest.raises(Rejected, match="disallowed"):
        await intake.accept(Request("p", "pyx", "eval('1')"))


def stand_in(language: Language) -> Program:
    """A fake toolchain that only answers the folder's own commands: its compile
    command leaves ``prog``, its run command adds two numbers (or runs out of cheese)."""

    def program(run: FakeRun) -> RunOutcome:
        if run.argv == language.compile:
            assert "prog.cish" in run.files
            run.files["prog"] = b"\x7fELF"
            return outcome()
        assert run.argv == language.run, run.argv
        if language.compile is not None:
            assert "prog" in run.files
        numbers = run.stdin.split()
        if not numbers:
            return outcome(exit_code=1, stderr=b"out of cheese\n")
        return outcome(f"{sum(int(n) for n in numbers)}\n".encode())

    return program


async def test_judging_runs_the_folders_commands(languages: dict[str, Language]) -> None:
    cish = languages["cish"]
    sandboxes = FakeSandboxes(stand_in(cish))
    judge = Judge(Settings(), sandboxes, languages)
    snapshot = ProblemSnapshot(Problem("p"), (TestCase(b"2 3\n", b"5\n"), TestCase(b"", b"0\n")))
    program = (SandboxFile.source("prog.cish", "int main(void) {}"),)
    judgement = await judge.judge(cish, program, snapshot)
    # A memory error the runtime reports in the folder's words is MLE.
    assert [r.verdict for r in judgement.results] == [Verdict.AC, Verdict.MLE]
    compile_run = sandboxes.boxes[0].runs[0]
    assert compile_run.argv == cish.compile and compile_run.keep_files
    assert (compile_run.limits.cpu_ms, compile_run.limits.memory_mb) == (7000, 300)
    # The self-test the folder holds, by the same commands.
    assert await run_self_tests(judge, [cish]) == {}
    pyx_run = FakeSandboxes(stand_in(languages["pyx"]))
    pyx_judge = Judge(Settings(), pyx_run, languages)
    assert await run_self_tests(pyx_judge, [languages["pyx"]]) == {}
    assert pyx_run.boxes[0].runs[0].argv == ("python3", "-B", "main.pyx")
    assert pyx_run.boxes[0].files == {"main.pyx": b"print(sum(map(int, input().split())))"}


def package(root: Path, validator: dict[str, str]) -> Path:
    files = {
        "problem.yaml": "validation: custom\n",
        "data/secret/1.in": "1",
        "data/secret/1.ans": "1",
    }
    for name, content in (files | validator).items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content)
    return root


LIMITS = PackageLimits(max_bytes=1 << 20, max_files=100)


def test_a_kattis_validator_is_told_by_the_folders_extensions(
    tmp_path: Path, languages: dict[str, Language]
) -> None:
    root = package(
        tmp_path / "sum",
        {
            "output_validators/check/check.cish": '#include "util.hish"\nint main(void) {}\n',
            "output_validators/check/util.hish": "/* helpers */\n",
            "output_validators/check/README.md": "notes\n",
        },
    )
    checker = read_kattis_package(open_path(root, LIMITS), languages).problem.checker
    assert checker.program is not None and checker.program.language == "cish"
    # The entry file under source_file, the header kept, the notes left out.
    assert sorted(dict(checker.program.files)) == ["prog.cish", "util.hish"]
    # Known but not usable: refused as such.
    usable = {k: v for k, v in languages.items() if k != "cish"}
    with pytest.raises(PackageError, match="'cish' is not available"):
        read_kattis_package(open_path(root, LIMITS), usable, known=languages)


def test_two_folders_claiming_one_extension_make_a_validator_ambiguous(
    tmp_path: Path, root: Path
) -> None:
    add_language(root, "pyy", PYX.replace('"pyx"', '"pyy"'), "python")  # main.pyx too
    languages = discover_languages(root)
    assert languages["pyy"].extensions == languages["pyx"].extensions == (".pyx",)
    package_root = package(tmp_path / "p", {"output_validator/check.pyx": "print(1)\n"})
    with pytest.raises(PackageError, match=r"could be in any of \['pyx', 'pyy'\]"):
        read_kattis_package(open_path(package_root, LIMITS), languages)


def test_no_python_file_names_a_language() -> None:
    """The promise kept: the only language ids in codeexec's code are the API's default
    language, the setting that replaces Python's policy, and the names of the import
    readers, text preparations and embedded-code readers a language.toml can pick."""
    ids = set(discover_languages(SHIPPED))
    found: dict[str, set[str]] = {}
    package_root = SHIPPED.parent  # the codeexec package
    for path in package_root.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Constant) and node.value in ids:
                found.setdefault(path.relative_to(package_root).as_posix(), set()).add(node.value)
    assert found == {
        "http/exec_view.py": {"python"},  # DEFAULT_LANGUAGE
        "config.py": {"python"},  # CODEEXEC_SCREENING_PYTHON
        # IMPORTS (and ROOTS), EMBEDDED
        "screening/syntax_tree.py": {
            *("javascript", "go", "rust", "java", "scala", "ocaml", "perl"),
        },
        "screening/source_text.py": {"fortran"},  # PREPARE
    }
