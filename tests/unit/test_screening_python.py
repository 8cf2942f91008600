"""Python screening works on the parse tree: names, aliases, modules, never text."""

import pytest

from codeexec.screening.python import disallowed_names, name_matches
from tests.shipped import DEFAULT_PYTHON_DISALLOWED as DEFAULT


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("eval('1')", ["eval"]),
        ("exec('x=1'); compile('1','f','eval')", ["compile", "exec"]),
        ("__import__('os')", ["__import__"]),
        ("import os\nos.system('ls')", ["os.system"]),
        ("import os as o\no.popen('ls')", ["os.popen"]),
        ("import os\nos.execv('/bin/sh', [])", ["os.execv"]),
        ("from os import system as s\ns('ls')", ["os.system"]),
        ("from os import *\nsystem('ls')", ["os.system"]),
        ("import subprocess", ["subprocess"]),
        ("from subprocess import run as r\nr(['ls'])", ["subprocess.run"]),
        ("import socket.socket", ["socket.socket"]),
        ("import builtins\nbuiltins.eval('1')", ["eval"]),
        ("f = eval", ["eval"]),  # a reference, not only a call
        ("import os\nf = os.system", ["os.system"]),
    ],
)
def test_disallowed_names_are_found(source: str, expected: list[str]) -> None:
    assert disallowed_names(source, DEFAULT) == expected


@pytest.mark.parametrize(
    "source",
    [
        "# eval(input())\nprint('ok')",
        "print('os.system and exec and subprocess')",
        "socket = 3\nprint(socket)",  # a local variable, not the module
        "import os\nprint(os.path.join('a', 'b'))",
        "x = input()\nprint(x.lower())",
        "def f():\n    return 'eval'\n",
    ],
)
def test_strings_comments_and_harmless_names_never_trigger(source: str) -> None:
    assert disallowed_names(source, DEFAULT) == []


def test_every_offending_name_is_reported_sorted_once() -> None:
    source = "import os\nimport subprocess\neval('1')\nos.system('a')\nos.system('b')\n"
    assert disallowed_names(source, DEFAULT) == ["eval", "os.system", "subprocess"]


def test_empty_policy_allows_everything() -> None:
    assert disallowed_names("import os\nos.system('ls')\neval('1')", ()) == []


def test_problem_specific_policy() -> None:
    assert disallowed_names("print(sorted([3, 1]))", ("sorted",)) == ["sorted"]


def test_name_matching_rules() -> None:
    assert name_matches("os.execvp", ["os.exec*"])
    assert name_matches("subprocess.run", ["subprocess"])
    assert not name_matches("os", ["os.system"])
    assert not name_matches("ossystem", ["os"])


def test_syntax_errors_are_raised_for_the_compile_step() -> None:
    with pytest.raises(SyntaxError):
        disallowed_names("x = ", DEFAULT)
