"""Disallowed-name screening for Python, on the parsed program (``ast``), never its text.

A policy is a list of dotted names and ``fnmatch`` patterns:

- ``eval`` names a built-in; ``builtins.eval`` resolves to it too;
- ``subprocess`` names a module: importing it, or anything from it, is reported;
- ``os.system`` / ``os.exec*`` name attributes of a module, however it was imported
  (``import os as o; o.system``, ``from os import system as s``, ``from os import *``).

Strings and comments never match because they are not names in the tree. This is a
per-problem policy check, not the security boundary: the container is.

Cost is linear in the program's size: one walk of the tree; each dotted chain
(``a.b.c``) is read once from its outermost node and checked with its prefixes up to
``MAX_NAME`` characters; a policy is one compiled regular expression; and a
star-imported module is only followed when some pattern's literal head can reach inside
it (``from os import *`` for ``os.system``), so that thousands of star imports cannot
multiply with thousands of names. (A setter's pattern with a wildcard before its end,
such as ``*.system``, still checks each name against every star-imported module it
can reach.)
"""

from __future__ import annotations

import ast
import builtins
import fnmatch
import functools
import re
from collections.abc import Iterable

_BUILTINS = frozenset(dir(builtins))
_WILDCARD = re.compile(r"[*?\[]")
MAX_NAME = 200  # longer dotted names are checked up to this many characters


class Policy:
    """Patterns compiled once: a name is checked with two regular-expression matches."""

    def __init__(self, patterns: Iterable[str]) -> None:
        self.patterns = tuple(patterns)
        self._glob = re.compile("|".join(fnmatch.translate(p) for p in self.patterns))
        self._inside = re.compile("(?:" + "|".join(re.escape(p) for p in self.patterns) + r")\.")
        # Each pattern's literal head (up to its first wildcard), and whether it has one.
        self._heads = tuple((_WILDCARD.split(p, 1)[0], _WILDCARD.search(p) is not None)
                            for p in self.patterns)  # fmt: skip

    def __bool__(self) -> bool:
        return bool(self.patterns)

    def matches(self, name: str) -> bool:
        """``name`` is a pattern, matches one, or lies inside a disallowed module."""
        return bool(self.patterns) and bool(self._glob.match(name) or self._inside.match(name))

    def reaches_inside(self, module: str) -> bool:
        """Whether some ``module.<name>`` could match: the module is a dotted prefix of a
        pattern's literal head, or starts with the head of a pattern that has wildcards."""
        prefix = module + "."
        return any(
            head.startswith(prefix) or (wild and prefix.startswith(head))
            for head, wild in self._heads
        )


@functools.lru_cache(maxsize=256)
def compiled(patterns: tuple[str, ...]) -> Policy:
    return Policy(patterns)


def name_matches(name: str, patterns: Iterable[str]) -> bool:
    """True when ``name`` is a pattern, matches one, or lies inside a disallowed module."""
    return compiled(tuple(patterns)).matches(name)


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


def _prefixes(parts: list[str]) -> Iterable[str]:
    """``a``, ``a.b``, ``a.b.c`` ... while at most ``MAX_NAME`` characters long."""
    dotted = parts[0]
    yield dotted
    for part in parts[1:]:
        dotted = f"{dotted}.{part}"
        if len(dotted) > MAX_NAME:
            return
        yield dotted


def _walk(tree: ast.AST) -> Iterable[ast.AST]:
    """Every node, parents before children, without recursion (and faster than
    ``ast.walk``, which builds a generator per node)."""
    stack = [tree]
    while stack:
        node = stack.pop()
        yield node
        for field in node._fields:
            child = getattr(node, field, None)
            if isinstance(child, ast.AST):
                stack.append(child)
            elif isinstance(child, list):
                stack.extend(c for c in child if isinstance(c, ast.AST))


class _Program:
    """What one walk of the tree finds: imports and every distinct dotted name."""

    def __init__(self, tree: ast.AST) -> None:
        self.aliases: dict[str, str] = {}  # local name -> module path
        self.stars: set[str] = set()  # star-imported modules
        self.imported: set[str] = set()
        self.names: set[str] = set()
        inner: set[int] = set()  # nodes that are the value of an attribute: read from its top
        for node in _walk(tree):
            if isinstance(node, ast.Attribute):
                inner.add(id(node.value))
                if id(node) not in inner and (parts := _dotted(node)) is not None:
                    self.names.update(_prefixes(parts))
            elif isinstance(node, ast.Name):
                if id(node) not in inner:
                    self.names.add(node.id)
            elif isinstance(node, ast.Import):
                self._import(node)
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                self._import_from(node, node.module)

    def _import(self, node: ast.Import) -> None:
        for alias in node.names:
            self.imported.add(alias.name)
            if alias.asname:
                self.aliases[alias.asname] = alias.name
            else:
                top = alias.name.split(".")[0]
                self.aliases[top] = top

    def _import_from(self, node: ast.ImportFrom, module: str) -> None:
        for alias in node.names:
            if alias.name == "*":
                self.stars.add(module)
                self.imported.add(module)
                continue
            full = f"{module}.{alias.name}"
            self.imported.add(full)
            self.aliases[alias.asname or alias.name] = full


def disallowed_names(source: str, patterns: Iterable[str]) -> list[str]:
    """Sorted names in ``source`` that the policy disallows. Raises SyntaxError and,
    for pathological input, RecursionError or MemoryError."""
    return disallowed_in_tree(ast.parse(source), patterns)


def disallowed_in_tree(tree: ast.AST, patterns: Iterable[str]) -> list[str]:
    """Sorted names in a parsed program that the policy disallows."""
    policy = compiled(tuple(patterns))
    if not policy:
        return []
    program = _Program(tree)
    found = {name for name in program.imported if policy.matches(name)}
    # A star-imported module that is itself disallowed is reported as such; the others
    # are followed only where the policy can reach inside them.
    stars = sorted(m for m in program.stars if not policy.matches(m) and policy.reaches_inside(m))
    for name in program.names:
        head, dot, rest = name.partition(".")
        if head in program.aliases:
            candidates = [(program.aliases[head] + dot + rest).removeprefix("builtins.")]
        else:  # an unimported name is a built-in, or comes from a star import
            candidates = [name] if head in _BUILTINS else []
            candidates += [f"{module}.{name}" for module in stars]
        found.update(c for c in candidates if policy.matches(c))
    return sorted(found)
