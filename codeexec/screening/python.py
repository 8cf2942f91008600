"""Disallowed-name screening for Python, on the parsed program (``ast``), never its text.

A policy is a list of dotted names and ``fnmatch`` patterns:

- ``eval`` names a built-in; ``builtins.eval`` resolves to it too;
- ``subprocess`` names a module: importing it, or anything from it, is reported;
- ``os.system`` / ``os.exec*`` name attributes of a module, however it was imported
  (``import os as o; o.system``, ``from os import system as s``, ``from os import *``).

Strings and comments never match because they are not names in the tree. This is a
per-problem policy check, not the security boundary: the container is.
"""

from __future__ import annotations

import ast
import builtins
from collections.abc import Iterable
from fnmatch import fnmatchcase

_BUILTINS = frozenset(dir(builtins))


def name_matches(name: str, patterns: Iterable[str]) -> bool:
    """True when ``name`` is a pattern, matches one, or lies inside a disallowed module."""
    return any(fnmatchcase(name, p) or name.startswith(p + ".") for p in patterns)


def _dotted(node: ast.expr) -> list[str] | None:
    """``a.b.c`` as ``["a", "b", "c"]``, or None when the chain does not start at a name."""
    parts: list[str] = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if not isinstance(node, ast.Name):
        return None
    parts.append(node.id)
    parts.reverse()
    return parts


def _imports(tree: ast.AST) -> tuple[dict[str, str], list[str], set[str]]:
    """Local aliases (name -> module path), star-imported modules, imported names."""
    aliases: dict[str, str] = {}
    stars: list[str] = []
    imported: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                imported.add(alias.name)
                if alias.asname:
                    aliases[alias.asname] = alias.name
                else:
                    top = alias.name.split(".")[0]
                    aliases[top] = top
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            for alias in node.names:
                if alias.name == "*":
                    stars.append(node.module)
                    imported.add(node.module)
                    continue
                full = f"{node.module}.{alias.name}"
                imported.add(full)
                aliases[alias.asname or alias.name] = full
    return aliases, stars, imported


def _resolve(parts: list[str], aliases: dict[str, str]) -> str:
    head = aliases.get(parts[0], parts[0])
    full = ".".join([head, *parts[1:]])
    return full.removeprefix("builtins.")


def disallowed_names(source: str, patterns: Iterable[str]) -> list[str]:
    """Sorted names in ``source`` that the policy disallows. Raises SyntaxError and,
    for pathological input, RecursionError or MemoryError."""
    return disallowed_in_tree(ast.parse(source), patterns)


def disallowed_in_tree(tree: ast.AST, patterns: Iterable[str]) -> list[str]:
    """Sorted names in a parsed program that the policy disallows."""
    patterns = tuple(patterns)
    if not patterns:
        return []
    aliases, stars, imported = _imports(tree)
    found = {name for name in imported if name_matches(name, patterns)}
    for node in ast.walk(tree):  # iterative: deep trees cannot exhaust the stack here
        if isinstance(node, ast.Name | ast.Attribute):
            parts = _dotted(node)
            if parts is None:
                continue
            if parts[0] in aliases:
                candidates = [_resolve(parts, aliases)]
            else:  # an unimported name is a built-in, or comes from a star import
                candidates = [".".join(parts)] if parts[0] in _BUILTINS else []
                candidates += [f"{module}.{'.'.join(parts)}" for module in stars]
            found.update(c for c in candidates if name_matches(c, patterns))
    return sorted(found)
