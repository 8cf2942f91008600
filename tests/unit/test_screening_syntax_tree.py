"""Screening for the tree-sitter languages: names on the parse tree, never text."""

import time

import pytest

from codeexec.config import Settings
from codeexec.sandbox.languages import discover_languages, shipped_languages
from codeexec.screening import source_text, syntax_tree
from codeexec.screening.service import ScreeningResult, TreeSitterCheck
from codeexec.screening.syntax_tree import disallowed_names, normalise

DEFAULTS = {
    lang.id: lang.disallowed
    for lang in discover_languages(Settings().sandbox.languages_dir).values()
}


@pytest.mark.parametrize(
    ("language", "source", "expected"),
    [
        ("c", 'int main(void) { system("ls"); }', ["system"]),
        ("c", "int main(void) { int (*f)(const char *) = system; }", ["system"]),
        ("cpp", 'int main() { std::system("ls"); }', ["std.system", "system"]),
        ("cpp", "using namespace std;\nint main() { popen(0, 0); }", ["popen"]),
        (
            "java",
            'class M { void f() throws Exception { Runtime.getRuntime().exec("ls"); } }',
            ["Runtime.getRuntime.exec"],
        ),
        ("java", 'class M { void f() { new ProcessBuilder("ls"); } }', ["ProcessBuilder"]),
        ("java", "import java.net.Socket;\nclass M {}", ["java.net", "java.net.Socket"]),
        (
            "javascript",
            'const cp = require("child_process");\ncp.exec("ls");',
            ["child_process", "child_process.exec"],
        ),
        (
            "javascript",
            'const { execSync: run } = require("child_process");\nrun("ls");',
            ["child_process", "child_process.execSync"],
        ),
        ("javascript", 'import * as cp from "child_process";', ["child_process"]),
        ("javascript", 'eval("1 + 1");', ["eval"]),
        (
            "go",
            'package main\nimport e "os/exec"\nfunc main() { e.Command("ls").Run() }',
            ["os/exec", "os/exec.Command", "os/exec.Command.Run"],
        ),
        (
            "rust",
            'use std::process::Command;\nfn main() { Command::new("ls"); }',
            ["std.process", "std.process.Command", "std.process.Command.new"],
        ),
        ("rust", "fn main() { std::process::exit(1); }", ["std.process", "std.process.exit"]),
        ("bash", 'eval "$x"\n/usr/bin/curl example.com', ["curl", "eval"]),
        ("ruby", 'IO.popen("ls")', ["popen"]),
        ("ruby", "puts `ls`\nputs %x(ls)", ["%x", "`ls`"]),
        ("ruby", 'require "open3"\nOpen3.capture2("ls")', ["Open3"]),
        ("php", '<?php \\system("ls"); echo `ls`;', ["`ls`", "system"]),
        ("lua", 'local p = io.popen("ls")\nos.execute("x")', ["io.popen", "os.execute"]),
        (
            "kotlin",
            'fun main() { Runtime.getRuntime().exec("ls") }',
            ["Runtime.getRuntime.exec"],
        ),
        (
            "kotlin",
            'fun main() { ProcessBuilder("ls").start() }',
            ["ProcessBuilder", "ProcessBuilder.start"],
        ),
        (
            "csharp",
            'using System.Diagnostics;\nclass P { static void Main() { Process.Start("ls"); } }',
            ["Process", "Process.Start"],
        ),
        (
            "typescript",
            'import { execSync as run } from "child_process";\nrun("ls");',
            ["child_process", "child_process.execSync"],
        ),
        (
            "haskell",
            'import qualified System.Process as P\nmain = P.callCommand "ls"',
            ["System.Process", "callCommand"],
        ),
        (
            "haskell",
            'foreign import ccall "system" c :: CString -> IO CInt\nmain = return ()',
            ["foreign"],
        ),
        (
            "scala",
            'import java.io.File, scala.sys.process._\nobject M { "ls".! }',
            ["scala.sys.process"],
        ),
        (
            "scala",
            'import scala.sys.{process => p}\nobject M { p.Process("ls").run() }',
            ["scala.sys.process", "scala.sys.process.Process", "scala.sys.process.Process.run"],
        ),
        (
            "scala",
            'object M { Runtime.getRuntime().exec("ls") }',
            ["Runtime.getRuntime.exec"],
        ),
        ("ocaml", 'let () = ignore (Sys.command "ls")', ["Sys.command"]),
        ("ocaml", "module U = Unix\nlet () = U.sleep 1", ["Unix", "Unix.sleep"]),
        ("ocaml", 'external run : string -> int = "caml_sys_system_command"', ["external"]),
        ("fortran", 'program m\n  CALL SYSTEM("ls")\nend program', ["system"]),
        (
            "fortran",
            "program m\n  call Execute_Command_Line('ls')\nend program",
            ["execute_command_line"],
        ),
        (
            "fortran",
            "program m\ninterface\nfunction c(x) bind(C, name='system')\nend function\n"
            "end interface\nend program",
            ["bind"],
        ),
        ("perl", 'CORE::system("ls"); my @a = `ls`; print qx(ls);', ["qx", "system"]),
        ("perl", "my $out = readpipe $cmd; fork;", ["fork", "readpipe"]),
        ("perl", "use IPC::Open3;\nrequire IO::Socket::INET;", ["IO.Socket.INET", "IPC.Open3"]),
        (
            "pascal",
            "program M;\nuses unix;\nbegin FPSYSTEM('ls'); SysUtils.ExecuteProcess('ls', '') end.",
            ["executeprocess", "fpsystem", "unix"],
        ),
        (
            "pascal",
            "program M;\nfunction c(s: PChar): LongInt; cdecl; external 'c' name 'system';\n"
            "begin end.",
            ["external"],
        ),
        (
            "ada",
            'with GNAT.OS_Lib;\nprocedure Main is begin gnat.os_lib.Spawn ("/bin/ls"); end;',
            ["gnat.os_lib", "gnat.os_lib.spawn", "spawn"],
        ),
        (
            "ada",
            "procedure Main is\n function S (C : String) return Integer;\n"
            ' pragma Import (C, S, "system");\nbegin null; end Main;',
            ["import"],
        ),
    ],
)
def test_disallowed_names_are_found(language: str, source: str, expected: list[str]) -> None:
    assert disallowed_names(language, source.encode(), DEFAULTS[language]) == expected


@pytest.mark.parametrize(
    ("language", "source"),
    [
        ("c", '/* system("ls") */\nint main(void) { puts("system popen"); }'),
        ("cpp", '// std::system\nint main() { const char *s = "std::system"; }'),
        ("java", 'class M { /* Runtime.getRuntime().exec */ String s = "ProcessBuilder"; }'),
        ("javascript", '// require("child_process")\nconsole.log("child_process eval");'),
        ("go", 'package main\nimport "fmt"\n// os/exec\nfunc main() { fmt.Println("os/exec") }'),
        ("rust", '// std::process::Command\nfn main() { println!("std::process"); }'),
        ("bash", "echo 'eval curl'\n# eval\nprintf '%s\\n' curl"),
        ("ruby", 'puts "system popen"  # IO.popen(`ls`)\nProcess.clock_gettime(0)'),
        ("php", '<?php echo "system exec"; // shell_exec(`ls`)'),
        ("lua", 'print("os.execute") -- io.popen'),
        ("kotlin", 'fun main() { println("ProcessBuilder") } // Runtime.getRuntime().exec'),
        ("csharp", 'class P { static void Main() { System.Console.WriteLine("Process"); } }'),
        ("typescript", '// require("child_process")\nconsole.log("child_process eval");'),
        ("haskell", '-- System.Process.system\nmain = putStrLn "callCommand system"'),
        ("scala", 'object M { /* ProcessBuilder */ println("sys.process") }'),
        ("ocaml", '(* Sys.command *) let () = print_string "Unix external"'),
        ("fortran", "program m\n  ! call system('ls')\n  print *, 'system'\nend program"),
        ("perl", 'my %h = (system => 1); print $h{exec}, "fork"; # qx(ls)'),
        ("pascal", "program M;\n{ fpSystem }\nbegin writeln('ExecuteProcess') end."),
        ("ada", 'procedure Main is begin Put_Line ("Spawn"); end; -- GNAT.OS_Lib'),
    ],
)
def test_strings_and_comments_never_trigger(language: str, source: str) -> None:
    assert disallowed_names(language, source.encode(), DEFAULTS[language]) == []


def test_every_tree_sitter_language_has_a_default_policy() -> None:
    for language in ("c", "cpp", "java", "javascript", "go", "rust", "bash", "ruby", "php"):
        assert DEFAULTS[language], language


def test_names_are_compared_in_one_normal_form() -> None:
    assert normalise("std::system") == "std.system"
    assert normalise("Runtime.getRuntime().exec") == "Runtime.getRuntime.exec"
    assert normalise("a -> b") == "a.b"


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("a\\u0041b", "aAb"),
        ("a\\uuuu0041b", "aAb"),
        ("a\\\\u0041b", "a\\\\u0041b"),  # an escaped backslash: no escape
        ("a\\\\\\u0041b", "a\\\\Ab"),
        ("\\u005c\\u0041", "\\A"),  # a translated backslash starts nothing
        ("\\u00", "\\u00"),
        ("\\ud83d\\ude00", "\U0001f600"),
    ],
)
def test_java_unicode_escapes_are_translated_as_javac_does(source: str, expected: str) -> None:
    assert source_text.unicode_escapes_translated(source) == expected


def test_translating_unicode_escapes_is_linear() -> None:
    started = time.perf_counter()
    for shape in ("\\" * 400_000, "\\u" * 200_000, "\\uuuu" * 80_000 + "x"):
        assert source_text.unicode_escapes_translated(shape) == shape
    assert time.perf_counter() - started < 1.0  # quadratic: minutes


@pytest.mark.parametrize(
    ("language", "source", "expected"),
    [
        # Attack: a comment inside a qualified name was read as part of it
        # (`Sys.(* ( *)command` was the name "Sys.(*command"), and the name passed.
        ("ocaml", 'let () = ignore (Sys.(* ( *)command "ls")', ["Sys.command"]),
        (
            "scala",
            'object M { scala.sys./**/process.Process("ls").! }',
            ["scala.sys.process", "scala.sys.process.Process", "scala.sys.process.Process.!"],
        ),
        (
            "ada",
            "with GNAT.--x\nOS_Lib;\nprocedure Main is begin null; end Main;",
            ["gnat.os_lib"],
        ),
        (
            "java",
            'class M { void f() throws Exception { Runtime./**/getRuntime().exec("ls"); } }',
            ["Runtime.getRuntime.exec"],
        ),
        ("java", "import java./**/net.Socket;\nclass M {}", ["java.net", "java.net.Socket"]),
        (
            "rust",
            'use std::/**/process::Command;\nfn main() { Command::new("ls"); }',
            ["std.process", "std.process.Command", "std.process.Command.new"],
        ),
    ],
)
def test_a_comment_inside_a_name_hides_nothing(
    language: str, source: str, expected: list[str]
) -> None:
    assert disallowed_names(language, source.encode(), DEFAULTS[language]) == expected


def test_comments_inside_names_are_read_in_linear_time() -> None:
    # Each link of `a./**/b./**/c...` is a name holding the comments before it.
    source = ("class M { void f() { " + ("x" + "./**/y" * 20 + ";\n") * 3000 + " } }").encode()
    started = time.perf_counter()
    names = syntax_tree.referenced_names("java", source)
    assert time.perf_counter() - started < 10  # ~1 s; a name's comments read per link: ~20 s
    assert {"x.y.y", "x.y.y.y.y.y.y.y.y.y.y.y.y.y.y.y.y.y.y.y.y"} <= names


@pytest.mark.parametrize(
    ("language", "source", "expected"),
    [
        # Attack: a module opened (OCaml `open`, `let open`, `M.(...)`), aliased (`module S
        # = Sys`) or included, or a package imported with a wildcard (Scala `._`, `.*`),
        # made its members plain names, and `command` alone is no disallowed name.
        ("ocaml", 'open Sys\nlet () = ignore (command "ls")', ["Sys.command"]),
        ("ocaml", 'let () = let open Sys in ignore (command "ls")', ["Sys.command"]),
        ("ocaml", 'let () = ignore (Sys.(command "ls"))', ["Sys.command"]),
        ("ocaml", 'module S = Sys\nlet () = ignore (S.command "ls")', ["Sys.command"]),
        ("ocaml", 'let () = let module S = Sys in ignore (S.command "ls")', ["Sys.command"]),
        (
            "ocaml",
            'module T = struct include Sys end\nlet () = ignore (T.command "ls")',
            ["Sys.command"],
        ),
        (
            "ocaml",
            'open Stdlib\nlet () = ignore (Sys.command "ls")',
            ["Stdlib.Sys.command", "Sys.command"],
        ),
        ("ocaml", 'let () = ignore (Stdlib__Sys.command "ls")', ["Stdlib__Sys.command"]),
        (
            "scala",
            'import scala.sys._\nobject M { process.Process("ls").! }',
            ["scala.sys.process", "scala.sys.process.Process", "scala.sys.process.Process.!"],
        ),
        (
            "scala",
            'import java._\nobject M { new net.Socket("h", 1) }',
            ["java.net", "java.net.Socket"],
        ),
        (
            "scala",
            'import java.{io, _}\nobject M { new net.Socket("h", 1) }',
            ["java.net", "java.net.Socket"],
        ),
        (
            "scala",
            'object M { _root_.scala.sys.process.Process("ls").! }',
            ["scala.sys.process", "scala.sys.process.Process", "scala.sys.process.Process.!"],
        ),
    ],
)
def test_opened_modules_and_aliases_are_followed(
    language: str, source: str, expected: list[str]
) -> None:
    assert disallowed_names(language, source.encode(), DEFAULTS[language]) == expected


@pytest.mark.parametrize(
    ("language", "source"),
    [
        ("ocaml", 'open Printf\nlet command = read_line ()\nlet () = printf "%s" command'),
        ("ocaml", "let command = 3\nlet () = print_int (Sys.time () |> int_of_float + command)"),
        ("scala", "import scala.collection.mutable._\nobject M { val process = ArrayBuffer(1) }"),
        ("scala", "import java.util._\nobject M { val q = new PriorityQueue[Int]() }"),
    ],
)
def test_opened_modules_the_policy_cannot_reach_add_nothing(language: str, source: str) -> None:
    assert disallowed_names(language, source.encode(), DEFAULTS[language]) == []


def test_opened_modules_do_not_multiply_with_names() -> None:
    opens = "".join(f"open M{i}\n" for i in range(3000))
    names = "".join(f"let v{i} = f{i} ()\n" for i in range(3000))
    source = (opens + "open Sys\n" + names + 'let () = ignore (command "ls")\n').encode()
    started = time.perf_counter()
    assert disallowed_names("ocaml", source, DEFAULTS["ocaml"]) == ["Sys.command"]
    assert time.perf_counter() - started < 5  # 3000 x 3000 names: minutes


@pytest.mark.parametrize(
    ("language", "source", "expected"),
    [
        # Attack: a name written with the language's quoting of identifiers (Scala and
        # Kotlin backquotes, Free Pascal `&`, C# `@`, Rust `r#`) is the same name to the
        # compiler, but was another text to the policy.
        (
            "scala",
            'object M { `scala`.`sys`.`process`.Process("ls").! }',
            ["scala.sys.process", "scala.sys.process.Process", "scala.sys.process.Process.!"],
        ),
        ("scala", 'import scala.sys.`process`._\nobject M { "ls".! }', ["scala.sys.process"]),
        ("pascal", "program M;\nuses &Unix;\nbegin &fpSystem('ls') end.", ["fpsystem", "unix"]),
        (
            "kotlin",
            'fun main() { `Runtime`.getRuntime().`exec`("ls") }',
            ["Runtime.getRuntime.exec"],
        ),
        (
            "csharp",
            'class P { static void Main() { @System.Diagnostics.@Process.Start("ls"); } }',
            ["Process", "System.Diagnostics.Process", "System.Diagnostics.Process.Start"],
        ),
        (
            "rust",
            'fn main() { std::r#process::Command::new("ls"); }',
            ["std.process", "std.process.Command", "std.process.Command.new"],
        ),
    ],
)
def test_quoted_identifiers_are_the_names_they_quote(
    language: str, source: str, expected: list[str]
) -> None:
    assert disallowed_names(language, source.encode(), DEFAULTS[language]) == expected


@pytest.mark.parametrize(
    ("language", "source", "expected"),
    [
        # Attack: modules and units that spawn processes, open sockets or run machine code
        # that the default policies did not name.
        (
            "haskell",  # Cabal ships with GHC, exposed: rawSystemExitCode runs a program
            'import Distribution.Simple.Utils\nmain = rawSystemExitCode minBound "sh" []',
            ["Distribution.Simple.Utils"],
        ),
        (
            "haskell",  # Template Haskell names any global (mkNameG_v) or writes a foreign import
            "import Language.Haskell.TH.Syntax\nmain = return ()",
            ["Language.Haskell.TH.Syntax"],
        ),
        ("pascal", "program M;\nuses Dos;\nbegin Exec('/bin/sh', '-c ls') end.", ["exec"]),
        (
            "pascal",
            "program M;\nuses Process;\nvar s: string;\n"
            "begin RunCommandInDir('/', 'ls', [], s) end.",
            ["runcommandindir"],
        ),
        (
            "pascal",
            "program M;\nuses dl;\nbegin dlsym(dlopen('libc.so.6', 1), 'system') end.",
            ["dlopen", "dlsym"],
        ),
        (
            "pascal",
            "program M;\nuses Syscall;\nbegin Do_SysCall(59, 0, 0, 0) end.",
            ["do_syscall", "syscall"],
        ),
        ("pascal", "program M;\nbegin asm\n mov rax, 59\n syscall\n end; end.", ["asm", "syscall"]),
        ("pascal", "program M;\nuses ssockets;\nbegin end.", ["ssockets"]),
        (
            "ada",  # the Ada 83 name of pragma Import, which GNAT still honours
            "procedure Main is\n function S (C : String) return Integer;\n"
            "pragma Interface (C, S);\nbegin null; end Main;",
            ["interface"],
        ),
        (
            "ada",  # inline machine code: a system call without any subprogram
            "with System.Machine_Code;\n"
            'procedure Main is begin System.Machine_Code.Asm ("syscall"); end;',
            ["system.machine_code", "system.machine_code.asm"],
        ),
        (
            "ada",  # options for the linker: gcc's -wrapper runs a program of one's choice
            'procedure Main is\n pragma Linker_Options ("-wrapper");\nbegin null; end Main;',
            ["linker_options"],
        ),
        ("perl", 'use IO::Pipe;\nIO::Pipe->new->reader("ls");', ["IO.Pipe"]),
        ("perl", "use HTTP::Tiny;\nuse Net::FTP;", ["HTTP.Tiny", "Net.FTP"]),
        (
            "perl",
            'use DynaLoader;\nDynaLoader::dl_load_file("libc.so.6");',
            ["DynaLoader", "DynaLoader.dl_load_file"],
        ),
        (
            "scala",
            'object M { javax.net.SocketFactory.getDefault.createSocket("h", 1) }',
            [
                "javax.net",
                "javax.net.SocketFactory",
                "javax.net.SocketFactory.getDefault",
                "javax.net.SocketFactory.getDefault.createSocket",
            ],
        ),
        (
            "scala",
            'object M { java.lang.Runtime.getRuntime.exec("ls") }',
            ["java.lang.Runtime.getRuntime.exec"],
        ),
        # The plainest Scala of all: a type named alone, after `new`.
        ("scala", 'object M { new ProcessBuilder("ls").start() }', ["ProcessBuilder"]),
        (
            "scala",  # scala.sys's runtime is Runtime.getRuntime
            'object M { sys.runtime.exec("ls"); scala.sys.runtime.exec("ls") }',
            ["scala.sys.runtime.exec", "sys.runtime.exec"],
        ),
    ],
)
def test_other_ways_out_are_disallowed_by_default(
    language: str, source: str, expected: list[str]
) -> None:
    assert disallowed_names(language, source.encode(), DEFAULTS[language]) == expected


@pytest.mark.parametrize(
    ("language", "source"),
    [
        # Ordinary contest code: names the policies must leave alone.
        (
            "pascal",
            "program M;\nuses SysUtils, Math;\nvar dl, dr, n: longint;\n"
            "procedure process(i: longint); begin writeln(i) end;\n"
            "begin readln(n); dl := 0; dr := n; process(dl + dr) end.",
        ),
        ("pascal", "program M;\nuses Dos;\nvar h, m, s, c: word;\nbegin GetTime(h, m, s, c) end."),
        (
            "haskell",
            "import qualified Data.Map.Strict as M\nimport Data.IORef\nimport Control.Monad\n"
            "main = interact $ show . M.size . M.fromList . map (\\w -> (w, ())) . words",
        ),
        ("perl", "use strict; use warnings;\nuse List::Util qw(sum max);\nprint sum(<STDIN>);"),
        (
            "ada",
            "with Ada.Text_IO; use Ada.Text_IO;\nwith Interfaces; use Interfaces;\n"
            "procedure Main is X : Unsigned_64 := 1; begin Put_Line (X'Image); end Main;",
        ),
        ("ocaml", 'let () = Printf.printf "%f\\n" (Sys.time ()); exit 0'),
        (
            "scala",
            "import scala.io.StdIn\n"
            "object M { def main(a: Array[String]) = println(StdIn.readLine()) }",
        ),
    ],
)
def test_ordinary_programs_pass_the_default_policy(language: str, source: str) -> None:
    assert disallowed_names(language, source.encode(), DEFAULTS[language]) == []


LITERATE = [
    # GHC's unlit keeps only the code: `\begin{code}` blocks and `>` lines; the prose
    # around them (here an unclosed `{-`) is dropped, never read as Haskell.
    'Some prose {-\n\n\\begin{code}\nimport System.Process\nmain = callCommand "ls"\n'
    "\\end{code}\n\nMore prose -}\n",
    'Some prose {-\n\n> import System.Process\n> main = callCommand "ls"\n\nMore prose -}\n',
    'Prose -- fine\n\n>import System.Process\n>main = callCommand "ls"\n',
]


@pytest.mark.parametrize("source", LITERATE)
def test_literate_haskell_is_screened_as_ghc_reads_it(source: str) -> None:
    # Attack: a .lhs file was parsed whole as Haskell: prose opening a block comment
    # (`{-`) hid the code blocks after it, which GHC compiles.
    check = TreeSitterCheck(shipped_languages()["haskell"].screening)
    found = check(source, "Main.lhs", DEFAULTS["haskell"]).disallowed
    assert found == ("System.Process", "callCommand")


def test_literate_prose_is_not_code() -> None:
    check = TreeSitterCheck(shipped_languages()["haskell"].screening)
    prose = "We never call system here.\n\n> main = print 1\n"
    assert check(prose, "Main.lhs", DEFAULTS["haskell"]).disallowed == ()
    assert check(prose, "Main.hs", DEFAULTS["haskell"]).disallowed == ("system",)


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("prose\n\n> main = f\n", "\n\n  main = f\n"),
        ("  \\begin{code}  \nx = 1\n\\end{code} trailing\nprose\n", "\nx = 1\n\n\n"),
        ("\\begin{code} not alone\nx = 1\n", "\n\n"),  # not a code block: prose
        ("#!/usr/bin/env runghc\n#define X 1\n", "#define X 1\n"),
        ("#\nprose {-\n> x\n", "#\nprose {-\n  x\n"),  # a lone # takes the next line
        ("\\begin{code}\n" + "y" * 999 + "\\end{code}{-\n> z\n", "\n" + "y" * 999 + "\n  z\n"),
        ("\\begin{code}\n\tx\n\\end{code}\n>\tq\n", "\n\tx\n\n        q\n"),
    ],
)
def test_unlit_keeps_what_ghc_keeps(source: str, expected: str) -> None:
    assert source_text.unlit(source) == expected


def test_unlit_is_linear() -> None:
    started = time.perf_counter()
    source_text.unlit("\\begin{code}\n" + "x" * 2_000_000 + "\n\\end{code}\n" + "> a\n" * 200_000)
    assert time.perf_counter() - started < 2


@pytest.mark.parametrize(
    ("language", "source", "expected"),
    [
        # Attack: a preprocessor makes any name out of pieces (traditional cpp pastes
        # `for/**/eign`), or a macro holds the name in a directive that was no name.
        (
            "haskell",
            "{-# LANGUAGE CPP #-}\n#define FI foreign import\n"
            'FI ccall "system" c :: CString -> IO CInt\nmain = return ()',
            ["CPP", "foreign"],
        ),
        ("haskell", "{-# OPTIONS_GHC -XCPP #-}\nmain = return ()", ["-XCPP"]),
        ("haskell", "{-#OPTIONS_GHC -cpp#-}\nmain = return ()", ["-cpp"]),
        (
            "haskell",
            "{-# LANGUAGE BangPatterns,TemplateHaskell #-}\nmain = return ()",
            ["TemplateHaskell"],
        ),
        (
            "haskell",  # a preprocessor of one's choice, run by the compiler
            "{-# OPTIONS_GHC -F -pgmF=./run.sh #-}\nmain = return ()",
            ["-F", "-pgmF"],
        ),
        (
            "haskell",
            "{-# OPTIONS_GHC -XTemplateHaskell #-}\nmain = return ()",
            ["-XTemplateHaskell"],
        ),
        (
            "haskell",  # gcc's -wrapper runs a program of one's choice around the linker
            "{-# OPTIONS_GHC -optl-wrapper -optl./run.sh #-}\nmain = return ()",
            ["-optl-wrapper", "-optl."],
        ),
        ("pascal", "program M;\n{$MACRO ON}{$DEFINE u := unix}\nuses u;\nbegin end.", ["unix"]),
        (
            "pascal",
            "program M;\n{$MACRO ON}{$define run:=fpSystem}\nuses u;\nbegin run('ls') end.",
            ["fpsystem"],
        ),
    ],
)
def test_pragmas_and_directives_are_read(language: str, source: str, expected: list[str]) -> None:
    assert disallowed_names(language, source.encode(), DEFAULTS[language]) == expected


def test_ordinary_pragmas_and_directives_pass() -> None:
    haskell = (
        "{-# LANGUAGE BangPatterns, ScopedTypeVariables #-}\n{-# OPTIONS_GHC -O2 #-}\n"
        "module Main where\n{-# INLINE f #-}\nf :: Int -> Int\nf !x = x\nmain = print (f 1)"
    )
    assert disallowed_names("haskell", haskell.encode(), DEFAULTS["haskell"]) == []
    pascal = "{$mode objfpc}{$H+}{$R-}{$Q-}\nprogram M;\nuses SysUtils;\nbegin writeln(1) end."
    assert disallowed_names("pascal", pascal.encode(), DEFAULTS["pascal"]) == []


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        # Attack: free-form Fortran splits a token across lines (`sys&` then `&tem`), and
        # gfortran joins it back: `call system('ls')`, which the parser read as two names.
        ("program m\n  call sys&\n  &tem('ls')\nend program", ["system"]),
        ("program m\n  call execute_command_&\n ! a comment between\n\n     &line('ls')\n"
         "end program", ["execute_command_line"]),
        ("program m\n  call sys& ! why not\n  &tem('ls')\nend program", ["system"]),
        ("program m\n  call foo('a&\n  &b'); call sys&\n  &tem('ls')\nend program", ["system"]),
        # In a string only `&` at the end of the line continues it (`& !` is text there),
        # and comment lines between are skipped: as gfortran 12 compiles them.
        ("program m\n  x = \"abc& !\"; call system(\"ls\")\nend program", ["system"]),
        ("program m\n  x = 'abc&\n! note'\n  &def'; call system('ls')\nend program", ["system"]),
    ],
)  # fmt: skip
def test_fortran_tokens_split_across_lines_are_joined(source: str, expected: list[str]) -> None:
    assert disallowed_names("fortran", source.encode(), DEFAULTS["fortran"]) == expected


@pytest.mark.parametrize(
    "source",
    [
        "program m\n  print *, 'system&'\n  ! call sys&\n  print *, 1\nend program",
        "program m\n  print *, 'it''s ! no comment &\n  &sys'; x = 1 ! tem\nend program",
        "program m\n  x = 1 + &\n      2\nend program",
    ],
)
def test_fortran_strings_and_comments_stay_what_they_are(source: str) -> None:
    assert disallowed_names("fortran", source.encode(), DEFAULTS["fortran"]) == []


def test_joining_fortran_lines_is_linear() -> None:
    started = time.perf_counter()
    for shape in ("x&\n&" * 300_000, "'" + "a&\n&" * 300_000, "!&\n" * 300_000, "&\n!\n" * 300_000):
        source_text.fortran_joined(shape)
    assert time.perf_counter() - started < 20  # ~2 s; joined by repeated copies: hours


def test_fortran_is_compiled_in_the_form_it_is_screened() -> None:
    # Attack: in fixed form (.f, .for) blanks mean nothing, so `CALL SYS TEM('ls')` calls
    # system; the grammar reads free form only, where that is two names. Every source is
    # compiled as free form, as it is screened (fixed-form code is then a compile error).
    fixed = "      PROGRAM M\n      CALL SYS TEM('ls')\n      END\n"
    assert disallowed_names("fortran", fixed.encode(), DEFAULTS["fortran"]) == []
    command = shipped_languages()["fortran"].compile_command(["main.f", "util.for", "x.f90"])
    assert command is not None and "-ffree-form" in command


def test_nested_ocaml_opens_and_includes_are_read_once() -> None:
    # `include struct ... end` nests: the module of each was read whole, again per level.
    depth = 1500
    source = "module M = struct " + "include struct let x = 1 " * depth + "end " * depth + "end"
    started = time.perf_counter()
    assert disallowed_names("ocaml", source.encode(), DEFAULTS["ocaml"]) == []
    opened = "let () = " + "let open struct let y = 2 end in " * depth + "()"
    assert disallowed_names("ocaml", opened.encode(), DEFAULTS["ocaml"]) == []
    assert time.perf_counter() - started < 2  # ~0.1 s; read again per level: ~5 s


@pytest.mark.parametrize(
    "source",
    [
        # Attack: Perl 5.36 still reads `'` after a word as the old package separator
        # (`CORE'system` is CORE::system); tree-sitter-perl reads it as the start of a
        # string, so everything up to the next quote was hidden: `A'b; system(...); #'`.
        "CORE'system('ls');",
        "my $x = A'b; system('ls'); #'",
        "my $v = $x'y; system('ls'); #'",
        "use IO'Socket'INET;",
    ],
)
def test_perl_old_package_separator_is_a_compile_error(source: str) -> None:
    check = TreeSitterCheck(shipped_languages()["perl"].screening)
    result = check(source, "main.pl", DEFAULTS["perl"])
    assert result.compile_error is not None
    assert "old package separator" in result.compile_error


def test_perl_quotes_in_ordinary_code_are_no_separator() -> None:
    check = TreeSitterCheck(shipped_languages()["perl"].screening)
    source = (
        "print join',', @a; print 'a' x 3; my %h = ('k' => 1); print \"don't $h{'k'}\";\n"
        "my @w = qw'a b'; my $q = q'x'; # it's fine\nprint STDOUT 'done';\n"
    )
    assert check(source, "main.pl", DEFAULTS["perl"]) == ScreeningResult()


@pytest.mark.parametrize(
    "source",
    [
        # Attack: Perl runs code that tree-sitter-perl reads as a string: a substitution's
        # replacement under /e, regular-expression code blocks, `@{[ ... ]}` and `${\ ...}`
        # interpolated in a pattern or a replacement, and a format's argument lines.
        '$_ = "x"; s/x/system("ls")/e;',
        '$_ = "x"; s{x}{ system("ls") }ge;',
        '"x" =~ /(?{ system("ls") })/;',
        'my $r = qr{a(??{ system("ls") })b}x;',
        '$_ = "x"; s/x/@{[ system("ls") ]}/;',
        '"x" =~ m/${\\ system("ls")}/;',
        '"x" =~ m/(?{ 1 })#(?{ system("ls") })/;',
        '"x" =~ m/(?{ f(\'${\') ; system("ls") })/;',
        'format STDOUT =\n@<<<\nsystem("ls")\n.\nwrite;',
        '$_ = "x"; s/x/s{y}{system("ls")}er/e;',  # nested
    ],
)
def test_perl_code_in_patterns_and_replacements_is_read(source: str) -> None:
    assert disallowed_names("perl", source.encode(), DEFAULTS["perl"]) == ["system"]


def test_perl_patterns_in_ordinary_code_pass() -> None:
    source = (
        '$s =~ s/(\\d+)/$1+1/ge; my @w = split /,/, $l; $t =~ s/\\s+//g; print "${x}y";\n'
        "if ($l =~ /^${p}(\\d+)$/) { print @{$a}; } tr/a-z/A-Z/;\n"
    )
    assert disallowed_names("perl", source.encode(), DEFAULTS["perl"]) == []


def test_perl_code_in_strings_is_read_within_a_budget() -> None:
    # Every block is read from where it starts to the pattern's end: many blocks in one
    # pattern would read it again per block; past a budget the program is a CE.
    check = TreeSitterCheck(shipped_languages()["perl"].screening)
    started = time.perf_counter()
    result = check('"x" =~ m/' + "(?{1})" * 20_000 + "/;", "main.pl", DEFAULTS["perl"])
    assert result.compile_error is not None and "code in strings" in result.compile_error
    deep = "s{x}{" * 40 + "system(1)" + "}e" * 40 + ";"  # read again per level
    assert check(deep, "main.pl", DEFAULTS["perl"]).compile_error is not None
    assert time.perf_counter() - started < 5
