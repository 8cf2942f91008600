// Syntax highlighting and a starting program for each of codeexec's languages
// (codeexec/languages/*/language.toml). Each language's support is loaded when it is
// first picked (its own chunk), so the page starts with the editor only.
import { StreamLanguage } from "@codemirror/language";

const legacy = (load) => async () => StreamLanguage.define(await load());

// Ada, AWK and Prolog have no CodeMirror mode: a few rules in simple-mode's format.
const simple = (rules) => async () => {
  const { simpleMode } = await import("@codemirror/legacy-modes/mode/simple-mode");
  return StreamLanguage.define(simpleMode({ start: rules }));
};
const words = (list, flags = "") => new RegExp(`(?:${list.join("|")})\\b`, flags);

/** @type {Record<string, () => Promise<any>>} */
export const HIGHLIGHT = {
  ada: simple([
    { regex: /--.*/, token: "comment" },
    { regex: /"(?:[^"]|"")*"/, token: "string" },
    { regex: /'.'/, token: "string" },
    { regex: words(["abort", "abs", "accept", "access", "all", "and", "array", "begin", "body", "case", "constant", "declare", "delay", "do", "else", "elsif", "end", "entry", "exception", "exit", "for", "function", "generic", "goto", "if", "in", "is", "limited", "loop", "mod", "new", "not", "null", "of", "or", "others", "out", "package", "pragma", "private", "procedure", "raise", "range", "record", "rem", "renames", "return", "reverse", "select", "subtype", "task", "then", "type", "use", "when", "while", "with", "xor"], "i"), token: "keyword" },
    { regex: /\d[\d_]*(?:\.\d[\d_]*)?(?:[eE][+-]?\d+)?/, token: "number" },
  ]),
  awk: simple([
    { regex: /#.*/, token: "comment" },
    { regex: /"(?:[^"\\]|\\.)*"/, token: "string" },
    { regex: words(["BEGIN", "END", "if", "else", "while", "for", "do", "break", "continue", "next", "exit", "function", "return", "in", "delete", "print", "printf", "getline"]), token: "keyword" },
    { regex: /\$\d+|\$NF|\b(?:NR|NF|FS|OFS|RS|ORS)\b/, token: "variableName.special" },
    { regex: /\d+(?:\.\d+)?/, token: "number" },
  ]),
  prolog: simple([
    { regex: /%.*/, token: "comment" },
    { regex: /"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'/, token: "string" },
    { regex: /:-|-->|\?-/, token: "keyword" },
    { regex: words(["is", "mod", "rem", "not", "fail", "true", "halt", "read_term", "write", "writeln", "nl", "format"]), token: "keyword" },
    { regex: /[A-Z_]\w*/, token: "variableName" },
    { regex: /\d+(?:\.\d+)?/, token: "number" },
  ]),
  bash: legacy(async () => (await import("@codemirror/legacy-modes/mode/shell")).shell),
  c: async () => (await import("@codemirror/lang-cpp")).cpp(),
  cpp: async () => (await import("@codemirror/lang-cpp")).cpp(),
  csharp: legacy(async () => (await import("@codemirror/legacy-modes/mode/clike")).csharp),
  fortran: legacy(async () => (await import("@codemirror/legacy-modes/mode/fortran")).fortran),
  go: async () => (await import("@codemirror/lang-go")).go(),
  haskell: legacy(async () => (await import("@codemirror/legacy-modes/mode/haskell")).haskell),
  java: async () => (await import("@codemirror/lang-java")).java(),
  javascript: async () => (await import("@codemirror/lang-javascript")).javascript(),
  kotlin: legacy(async () => (await import("@codemirror/legacy-modes/mode/clike")).kotlin),
  lua: legacy(async () => (await import("@codemirror/legacy-modes/mode/lua")).lua),
  ocaml: legacy(async () => (await import("@codemirror/legacy-modes/mode/mllike")).oCaml),
  pascal: legacy(async () => (await import("@codemirror/legacy-modes/mode/pascal")).pascal),
  perl: legacy(async () => (await import("@codemirror/legacy-modes/mode/perl")).perl),
  php: async () => (await import("@codemirror/lang-php")).php({ plain: false }),
  python: async () => (await import("@codemirror/lang-python")).python(),
  r: legacy(async () => (await import("@codemirror/legacy-modes/mode/r")).r),
  ruby: legacy(async () => (await import("@codemirror/legacy-modes/mode/ruby")).ruby),
  rust: async () => (await import("@codemirror/lang-rust")).rust(),
  scala: legacy(async () => (await import("@codemirror/legacy-modes/mode/clike")).scala),
  typescript: async () => (await import("@codemirror/lang-javascript")).javascript({ typescript: true }),
};

// A program that reads a line and prints it back: where a solution starts.
/** @type {Record<string, string>} */
export const TEMPLATES = {
  ada: `with Ada.Text_IO; use Ada.Text_IO;\n\nprocedure Main is\n   Line : constant String := Get_Line;\nbegin\n   Put_Line (Line);\nend Main;\n`,
  awk: `{\n    print $0\n}\n`,
  bash: `read -r line\necho "$line"\n`,
  c: `#include <stdio.h>\n\nint main(void) {\n    char line[1024];\n    if (fgets(line, sizeof line, stdin)) fputs(line, stdout);\n    return 0;\n}\n`,
  cpp: `#include <iostream>\n#include <string>\n\nint main() {\n    std::string line;\n    std::getline(std::cin, line);\n    std::cout << line << "\\n";\n}\n`,
  csharp: `using System;\n\nclass Program {\n    static void Main() {\n        string line = Console.ReadLine();\n        Console.WriteLine(line);\n    }\n}\n`,
  fortran: `program main\n    implicit none\n    character(len=1024) :: line\n    read (*, '(A)') line\n    print '(A)', trim(line)\nend program main\n`,
  go: `package main\n\nimport (\n\t"bufio"\n\t"fmt"\n\t"os"\n)\n\nfunc main() {\n\tin := bufio.NewScanner(os.Stdin)\n\tin.Scan()\n\tfmt.Println(in.Text())\n}\n`,
  haskell: `main :: IO ()\nmain = do\n    line <- getLine\n    putStrLn line\n`,
  java: `import java.util.Scanner;\n\npublic class Main {\n    public static void main(String[] args) {\n        Scanner in = new Scanner(System.in);\n        System.out.println(in.nextLine());\n    }\n}\n`,
  javascript: `const lines = require("fs").readFileSync(0, "utf8").split("\\n");\nconsole.log(lines[0]);\n`,
  kotlin: `fun main() {\n    val line = readLine() ?: ""\n    println(line)\n}\n`,
  lua: `local line = io.read("l")\nprint(line)\n`,
  ocaml: `let () =\n  let line = read_line () in\n  print_endline line\n`,
  pascal: `program Main;\nvar\n  line: string;\nbegin\n  readln(line);\n  writeln(line);\nend.\n`,
  perl: `my $line = <STDIN>;\nprint $line;\n`,
  php: `<?php\n$line = trim(fgets(STDIN));\necho $line, "\\n";\n`,
  prolog: `main :-\n    read_line_to_string(user_input, Line),\n    write(Line), nl.\n`,
  python: `line = input()\nprint(line)\n`,
  r: `con <- file("stdin")\nline <- readLines(con, n = 1)\ncat(line, "\\n", sep = "")\n`,
  ruby: `line = gets\nputs line\n`,
  rust: `use std::io::{self, BufRead};\n\nfn main() {\n    let line = io::stdin().lock().lines().next().unwrap().unwrap();\n    println!("{}", line);\n}\n`,
  scala: `object Main extends App {\n  val line = scala.io.StdIn.readLine()\n  println(line)\n}\n`,
  typescript: `const lines = require("fs").readFileSync(0, "utf8").split("\\n");\nconsole.log(lines[0]);\n`,
};

/** The language support for an id (plain text for one this page does not know). */
export async function highlighting(id) {
  const load = HIGHLIGHT[id];
  return load ? await load() : [];
}
