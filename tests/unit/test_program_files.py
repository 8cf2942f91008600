"""How a multi-file submission becomes a program, for the shipped languages: which file
is the entry (none, for languages that compile every source), what is compiled, what
is screened, and what is refused or judged CE — the rules every door shares."""

from __future__ import annotations

from pathlib import Path

import pytest

from codeexec.intake import SubmissionError, binary_files, program_files
from codeexec.intake.program import check_name
from codeexec.model import Language, SourceFile
from codeexec.sandbox.languages import LanguageError, load_language, shipped_languages

LANGS = shipped_languages()


def sent(language: str, *pairs: tuple[str, str], entry: str | None = None) -> dict[str, str]:
    given = [SourceFile(name, text) for name, text in pairs]
    return program_files(LANGS[language], None, given, entry)


def refused(language: str, *pairs: tuple[str, str], entry: str | None = None) -> str:
    with pytest.raises(SubmissionError) as caught:
        sent(language, *pairs, entry=entry)
    return str(caught.value)


JAVA_MAIN = "public static void main(String[] args) {}"


def test_c_compiles_every_source_whatever_its_name_and_keeps_other_files() -> None:
    program = sent("c", ("test-hello.c", "int main(void){}"), ("notes.txt", "hi"))
    assert program == {"test-hello.c": "int main(void){}", "notes.txt": "hi"}
    command = LANGS["c"].compile_command(program)
    assert command is not None and "test-hello.c" in command and "notes.txt" not in command


def test_cpp_compiles_every_extension_it_accepts_and_no_header() -> None:
    names = ["main.cc", "a.cpp", "b.cxx", "c.c++", "d.C", "e.hpp", "f.h", "g.hh", "h.hxx", "x.c"]
    program = sent("cpp", *((n, "") for n in names))
    assert sorted(program) == sorted(names)  # nothing renamed
    command = LANGS["cpp"].compile_command(program)
    assert command is not None
    compiled = [arg for arg in command if arg in names]
    assert compiled == ["a.cpp", "b.cxx", "c.c++", "d.C", "main.cc"]  # in name order


def test_case_tells_cpp_from_c() -> None:
    assert LANGS["cpp"].is_source("x.C") and not LANGS["c"].is_source("x.C")
    assert LANGS["c"].is_source("x.c") and not LANGS["cpp"].is_source("x.c")


def test_a_compiled_language_needs_a_source_of_its_own() -> None:
    assert "no C (gcc, C17) source among the files (files ending in .c)" in refused(
        "c", ("main.cpp", "int main(){}")
    )


def test_an_entry_point_named_must_be_there_even_where_none_is_needed() -> None:
    assert "'b.c' is not among the files" in refused("c", ("a.c", ""), entry="b.c")


def test_java_finds_the_file_with_main_and_stores_it_as_the_entry() -> None:
    program = sent(
        "java",
        ("hello.java", f"public class hello {{ {JAVA_MAIN} }}"),
        ("message.java", "class message {}"),
    )
    assert program["Main.java"].startswith("public class hello")
    assert sorted(program) == ["Main.java", "message.java"]


def test_java_with_several_mains_is_refused_with_each_named() -> None:
    detail = refused(
        "java",
        ("A.java", f"class A {{ {JAVA_MAIN} }}"),
        ("B.java", "class B { static public void main(String... a) {} }"),
    )
    assert "several files hold an entry point: ['A.java', 'B.java']" in detail
    # Naming one settles it.
    program = sent(
        "java",
        ("A.java", f"class A {{ {JAVA_MAIN} }}"),
        ("B.java", f"class B {{ {JAVA_MAIN} }}"),
        entry="B.java",
    )
    assert program["Main.java"].startswith("class B")


@pytest.mark.parametrize(
    ("language", "first", "second"),
    [
        ("kotlin", ("a.kt", "fun main() {}"), ("b.kt", "fun main(args: Array<String>) {}")),
        (
            "scala",
            ("A.scala", "object A extends App {}"),
            ("B.scala", "object B { def main(a: Array[String]) = () }"),
        ),
        ("go", ("a.go", "package main\nfunc main() {}"), ("b.go", "package main\nfunc  main() {}")),
    ],
)
def test_other_languages_with_several_mains_are_refused_with_each_named(
    language: str, first: tuple[str, str], second: tuple[str, str]
) -> None:
    detail = refused(language, first, second)
    assert f"several files hold an entry point: {[first[0], second[0]]}" in detail
    # Naming one settles it: it is stored as the language's entry file.
    program = sent(language, first, second, entry=second[0])
    assert program[LANGS[language].source_file] == second[1]


def test_csharp_compiles_every_file_but_refuses_two_mains() -> None:
    main = "class A { static void Main() {} }"
    other = "class B { public static int Main(string[] a) { return 0; } }"
    detail = refused("csharp", ("A.cs", main), ("B.cs", other))
    assert "several files hold an entry point: ['A.cs', 'B.cs']; a C# (Mono 6.8)" in detail
    assert sorted(sent("csharp", ("A.cs", main), ("Util.cs", "class U {}"))) == [
        "A.cs",
        "Util.cs",
    ]


def test_a_csharp_main_in_a_comment_is_no_second_main() -> None:
    # Ordinary code refused: a file keeping an old Main commented out (or a doc comment
    # showing one) counted as a second entry point, a 400 that no entry_point settles,
    # though the compiler sees one Main.
    main = "class A {\n    static void Main() { B.Run(); }\n}"
    helper = (
        "class B {\n    // static void Main() { Run(); }\n    /* static void Main(string[] a) */\n"
        "    /**\n     * static int Main() is not here\n     */\n    public static void Run() {}\n}"
    )
    assert sorted(sent("csharp", ("A.cs", main), ("B.cs", helper))) == ["A.cs", "B.cs"]


def test_without_any_main_the_candidates_are_listed() -> None:
    detail = refused("java", ("A.java", "class A {}"), ("B.java", "class B {}"))
    assert "cannot tell which file is the program among ['A.java', 'B.java']" in detail


def test_python_takes_the_single_script_or_main_or_the_named_file() -> None:
    assert sent("python", ("solve.py", "print(1)"), ("data.txt", "1 2")) == {
        "main.py": "print(1)",
        "data.txt": "1 2",
    }
    script = 'import util\nif __name__ == "__main__":\n    util.go()'
    program = sent("python", ("util.py", "def go(): pass"), ("run.py", script))
    assert program == {"util.py": "def go(): pass", "main.py": script}
    program = sent("python", ("main.py", "import a"), ("a.py", ""))
    assert program == {"main.py": "import a", "a.py": ""}
    detail = refused("python", ("a.py", ""), ("b.py", ""))
    assert "among ['a.py', 'b.py']; name it in 'entry_point'" in detail


def test_a_file_of_the_entry_name_other_than_the_entry_is_refused() -> None:
    detail = refused("python", ("a.py", ""), ("main.py", ""), entry="a.py")
    assert "'main.py' is where the entry point goes" in detail


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("helper.o", "anything"),
        ("Main.class", "x"),
        ("lib.so", ""),
        ("a.out", "\x7fELF\x02\x01"),
        ("prog", "\xca\xfe\xba\xbe\x00\x00"),
        ("lib.a", "!<arch>\n"),
        ("blob.bin", "text\x00with a NUL"),
    ],
)
def test_object_files_and_executables_are_found(name: str, content: str) -> None:
    program = sent("c", ("main.c", "int main(void){}"), (name, content))
    assert binary_files(program) == [name]


def test_text_is_not_mistaken_for_a_binary() -> None:
    program = sent("c", ("main.c", "int main(void){}"), ("notes.txt", "ELF\nMZ\ncafebabe"))
    assert binary_files(program) == []


@pytest.mark.parametrize("text", ["Êþº¾ is how a class file starts", "Ïúíþ", "Îúíþ x"])
def test_text_whose_characters_spell_a_magic_number_is_text(text: str) -> None:
    # The magic numbers were compared with characters: "\xca\xfe\xba\xbe" is the text
    # "Êþº¾" (bytes C3 8A C3 BE in the sandbox), refused as a Java class file, while
    # no class file (not UTF-8) can arrive as text at all.
    assert binary_files({"notes.txt": text}) == []


def test_every_shipped_extension_belongs_to_one_language() -> None:
    owners: dict[str, list[str]] = {}
    for language in LANGS.values():
        for extension in language.extensions:
            owners.setdefault(extension, []).append(language.id)
    assert {e: ids for e, ids in owners.items() if len(ids) > 1} == {}


def write_language(tmp_path: Path, extra: str) -> Path:
    folder = tmp_path / "toy"
    folder.mkdir()
    (folder / "Dockerfile").write_text("FROM scratch\n")
    (folder / "language.toml").write_text(
        f'id = "toy"\nsource_file = "main.toy"\nrun = ["./main"]\n{extra}\n'
    )
    return folder


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ('entry = "all"\ncompile = ["cc", "main.toy"]', '"{sources}" among the compile arguments'),
        ('entry = "some"', "entry must be one of ['file', 'all']"),
        ("main_pattern = '(unclosed'", "main_pattern is not a regular expression"),
        ("judge0_ids = ['50']", "judge0_ids must be a list of integers"),
        ('piston_compile_stage = "no"', "piston_compile_stage must be true or false"),
        (
            '[screening]\nparser = "python-ast"\nevery_file = true',
            "screening.every_file needs parser = 'tree-sitter'",
        ),
        (
            '[screening]\nparser = "tree-sitter"\nconstructs = ["external"]',
            "screening.constructs must be a table of node type = name",
        ),
        (
            '[screening]\nparser = "tree-sitter"\nconstructs = { external = "" }',
            "screening.constructs must be a table of node type = name",
        ),
        ('[screening]\nfold_case = "yes"', "screening.fold_case must be true or false"),
    ],
)
def test_bad_language_definitions_are_refused(tmp_path: Path, extra: str, message: str) -> None:
    with pytest.raises(LanguageError, match=message.replace("[", r"\[").replace("(", r"\(")):
        load_language(write_language(tmp_path, extra))


def test_sources_placeholder_expands_in_place(tmp_path: Path) -> None:
    toy: Language = load_language(
        write_language(
            tmp_path, 'entry = "all"\ncompile = ["cc", "-o", "main", "{sources}", "-lm"]'
        )
    )
    assert toy.compile_command(["b.toy", "notes", "a.toy"]) == (
        "cc",
        "-o",
        "main",
        "a.toy",
        "b.toy",
        "-lm",
    )


# -- attacks (red team, issue 15) -------------------------------------------------------


@pytest.mark.parametrize("name", ["evil.js\n", "a.c\n", "lib\n/x.java", "x.py\n"])
def test_a_name_ending_in_a_newline_is_refused(name: str) -> None:
    # `$` also matched before a final newline: `evil.js\n` passed check_name, ended in no
    # extension (so it was not screened) and node's require("./evil.js\n") loads it.
    with pytest.raises(SubmissionError, match="each part must be letters"):
        check_name(name)


@pytest.mark.parametrize(
    ("language", "pairs"),
    [
        ("c", (("a.c", "int main(void){}"), ("a.c/b.c", ""))),
        ("python", (("main.py", ""), ("main.py/x.py", ""))),
        # The entry found (A.java) is stored as Main.java, where a folder already is.
        ("java", (("A.java", f"class A {{ {JAVA_MAIN} }}"), ("Main.java/X.java", "class X {}"))),
    ],
)
def test_a_name_that_is_both_a_file_and_a_folder_is_refused(
    language: str, pairs: tuple[tuple[str, str], ...]
) -> None:
    # The runner could not write both: the sandbox failed (500 from /exec, a job failed
    # as "sandbox failure (not caused by the submission)", a checker 500), not a 400.
    assert "is both a file and a folder" in refused(language, *pairs)
