"""Disallowed-name screening for C, C++, Java, JavaScript, Go, Rust and Bash, on a
tree-sitter parse tree, never on the program's text.

The names a program refers to are collected from name-like nodes (identifiers,
qualified names such as ``std::system``, member chains such as
``Runtime.getRuntime().exec`` or ``cp.exec``, Bash command names) and from what it
imports (``require("child_process")``, Go import paths, Rust ``use`` paths, Java
imports). Imported aliases are followed: ``const cp = require("child_process");
cp.exec()`` refers to ``child_process.exec``; ``import e "os/exec"; e.Command()`` to
``os/exec.Command``. Strings and comments are their own nodes, so names in them never
match. Names are compared in one normal form: ``::`` and ``->`` become ``.``, call
parentheses and whitespace are dropped (``std::system`` → ``std.system``,
``Runtime.getRuntime().exec`` → ``Runtime.getRuntime.exec``).

Like the Python screener this is a policy check, not the security boundary.
"""

from __future__ import annotations

import functools
import importlib
import re
from collections.abc import Iterable, Iterator

import tree_sitter

from codeexec.screening.python import name_matches

# Language id -> the PyPI grammar module that provides it.
GRAMMARS = {
    "c": "tree_sitter_c",
    "cpp": "tree_sitter_cpp",
    "java": "tree_sitter_java",
    "javascript": "tree_sitter_javascript",
    "go": "tree_sitter_go",
    "rust": "tree_sitter_rust",
    "bash": "tree_sitter_bash",
}

# Nodes whose (normalised) text names something the program refers to.
_NAME_NODES = frozenset(
    {
        "identifier",
        "type_identifier",
        "qualified_identifier",  # C++ std::system
        "scoped_identifier",  # Rust std::process::Command, Java imports
        "field_expression",  # C/C++ a.b, Rust a.b
        "member_expression",  # JavaScript a.b
        "selector_expression",  # Go pkg.Name
        "field_access",  # Java a.b
        "command_name",  # Bash
    }
)
_CALL_ARGUMENTS = re.compile(r"\([^()]*\)")
_MAX_NAME = 200


def normalise(name: str) -> str:
    name = "".join(name.split())
    while True:
        shorter = _CALL_ARGUMENTS.sub("", name)
        if shorter == name:
            break
        name = shorter
    return name.replace("::", ".").replace("->", ".")


@functools.cache
def _parser(language: str) -> tree_sitter.Parser:
    grammar = importlib.import_module(GRAMMARS[language])
    return tree_sitter.Parser(tree_sitter.Language(grammar.language()))


def _walk(root: tree_sitter.Node) -> Iterator[tree_sitter.Node]:
    stack = [root]  # iterative: deep trees cannot exhaust the stack
    while stack:
        node = stack.pop()
        yield node
        stack.extend(reversed(node.named_children))


def _text(node: tree_sitter.Node | None) -> str:
    return node.text.decode("utf-8", errors="replace") if node is not None and node.text else ""


def _string_value(node: tree_sitter.Node | None) -> str:
    return _text(node).strip("\"'`")


def _imports(language: str, root: tree_sitter.Node) -> tuple[dict[str, str], set[str]]:
    """Aliases (local name -> what it stands for) and the modules/paths imported."""
    aliases: dict[str, str] = {}
    imported: set[str] = set()
    for node in _walk(root):
        if language == "javascript":
            _javascript_import(node, aliases, imported)
        elif language == "go" and node.type == "import_spec":
            path = _string_value(node.child_by_field_name("path"))
            name = _text(node.child_by_field_name("name")) or path.rsplit("/", 1)[-1]
            imported.add(path)
            aliases[name] = path
        elif language == "rust" and node.type == "use_declaration":
            argument = node.child_by_field_name("argument")
            if argument is not None and argument.type == "use_as_clause":
                path = normalise(_text(argument.child_by_field_name("path")))
                aliases[_text(argument.child_by_field_name("alias"))] = path
            else:
                path = normalise(_text(argument))
                aliases[path.rsplit(".", 1)[-1]] = path
            imported.add(path)
        elif language == "java" and node.type == "import_declaration":
            path = normalise(_text(node).removeprefix("import").removesuffix(";"))
            path = path.removeprefix("static")
            imported.add(path)
            aliases[path.rsplit(".", 1)[-1]] = path
    return aliases, imported


def _javascript_import(node: tree_sitter.Node, aliases: dict[str, str], imported: set[str]) -> None:
    if node.type == "call_expression" and _text(node.child_by_field_name("function")) == "require":
        arguments = node.child_by_field_name("arguments")
        module = (
            _string_value(arguments.named_children[0])
            if arguments and arguments.named_children
            else ""
        )
        if not module:
            return
        imported.add(module)
        parent = node.parent
        if parent is not None and parent.type == "variable_declarator":
            target = parent.child_by_field_name("name")
            _bind_javascript(target, module, aliases)
    elif node.type == "import_statement":
        module = _string_value(node.child_by_field_name("source"))
        imported.add(module)
        for child in _walk(node):
            if child.type == "import_specifier":
                name = _text(child.child_by_field_name("name"))
                local = _text(child.child_by_field_name("alias")) or name
                aliases[local] = f"{module}.{name}"
            elif child.type in ("namespace_import", "import_clause"):
                for part in child.named_children:
                    if part.type == "identifier":
                        aliases[_text(part)] = module


def _bind_javascript(target: tree_sitter.Node | None, module: str, aliases: dict[str, str]) -> None:
    if target is None:
        return
    if target.type == "identifier":
        aliases[_text(target)] = module
    elif target.type == "object_pattern":  # const { exec, spawn: s } = require(...)
        for part in target.named_children:
            if part.type == "shorthand_property_identifier_pattern":
                aliases[_text(part)] = f"{module}.{_text(part)}"
            elif part.type == "pair_pattern":
                key = _text(part.child_by_field_name("key"))
                aliases[_text(part.child_by_field_name("value"))] = f"{module}.{key}"


def _names(language: str, root: tree_sitter.Node) -> Iterator[str]:
    for node in _walk(root):
        if node.type == "method_invocation":  # Java: object.name(...)
            obj, name = node.child_by_field_name("object"), node.child_by_field_name("name")
            yield f"{_text(obj)}.{_text(name)}" if obj is not None else _text(name)
        elif node.type in _NAME_NODES and node.end_byte - node.start_byte <= _MAX_NAME:
            yield _text(node)


def referenced_names(language: str, source: bytes) -> set[str]:
    """Every name the program refers to, normalised, with imports and aliases resolved."""
    tree = _parser(language).parse(source)
    aliases, imported = _imports(language, tree.root_node)
    found = {normalise(name) for name in imported}
    for raw in _names(language, tree.root_node):
        name = normalise(raw)
        if not name:
            continue
        found.add(name)
        head, _, rest = name.partition(".")
        if head in aliases:
            found.add(f"{aliases[head]}.{rest}" if rest else aliases[head])
        if language in ("c", "cpp", "bash"):
            found.add(name.rsplit(".", 1)[-1].rsplit("/", 1)[-1])  # std::system, /bin/nc
    return found


def disallowed_names(language: str, source: bytes, patterns: Iterable[str]) -> list[str]:
    """Sorted names in ``source`` that the policy disallows."""
    normal = tuple(normalise(p) for p in patterns)
    if not normal:
        return []
    return sorted(n for n in referenced_names(language, source) if name_matches(n, normal))
