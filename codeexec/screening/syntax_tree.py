"""Disallowed-name screening on a tree-sitter parse tree (every shipped language with a
grammar on PyPI: all but Python, which has its own, and R, Prolog and AWK), never on the
program's text.

What is read from a language's tree is data, from its ``language.toml`` (``[screening]``,
``codeexec.model.Screening``): the ``grammar`` module; ``name_nodes``, the node types
whose text names something (identifiers, qualified names such as ``std::system``,
member chains such as ``cp.exec``, Bash command names); ``method_call_nodes``, read as
``object.name`` (``Runtime.getRuntime().exec``); ``imports``, which of the import
readers below follows imports and their aliases (``require("child_process")``, Go
import paths, Rust ``use`` paths, Java imports): ``const cp = require("child_process");
cp.exec()`` refers to ``child_process.exec``; ``import e "os/exec"; e.Command()`` to
``os/exec.Command``; and ``bare_names``, whether a name's last part counts too
(``std::system`` as ``system``, ``/bin/nc`` as ``nc``); ``constructs``, node types
counted as a fixed name (Haskell's ``foreign import`` as ``foreign``); ``keyword_nodes``,
named by their first token (Perl's ``fork``); ``fold_case``, names compared as the
language reads them (Fortran ``CALL SYSTEM``). Strings and comments are their
own nodes, so names in them never match; a comment inside a name is no part of it
(``Sys.(* x *)command`` is ``Sys.command``). Names are compared in one normal form: ``::``
and ``->`` become ``.``, call parentheses and whitespace are dropped (``std::system`` →
``std.system``, ``Runtime.getRuntime().exec`` → ``Runtime.getRuntime.exec``).

Cost is linear in the program's size: one walk with a tree cursor (no recursion, no
parent look-ups, which tree-sitter answers by searching down from the root); a name
node's text is read only up to ``_MAX_NAME`` bytes, so chains such as
``a.b().c()...`` are not read again at every link; each distinct name is normalised
and matched once, against the policy compiled into one regular expression.

Like the Python screener this is a policy check, not the security boundary.
"""

from __future__ import annotations

import bisect
import functools
import importlib
import importlib.util
import re
import warnings
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

import tree_sitter

from codeexec.model import Screening
from codeexec.screening.python import Policy, compiled
from codeexec.screening.source_text import PREPARE, unicode_escapes_translated

_MAX_NAME = 200  # bytes; longer name nodes are not read (their parts are names too)
_WORD = re.compile(r"[-\w.]+")  # in a pragma or directive: LANGUAGE, CPP, -XCPP, fpSystem
Node = tree_sitter.Node


def normalise(name: str) -> str:
    """One form for names: whitespace and call arguments (balanced parentheses) dropped,
    ``::`` and ``->`` as ``.``. One pass: each character is kept or dropped once."""
    name = "".join(name.split())
    if "(" in name:
        kept: list[str] = []
        opened: list[int] = []  # where each open parenthesis was kept
        for char in name:
            if char == "(":
                opened.append(len(kept))
                kept.append(char)
            elif char == ")" and opened:
                del kept[opened.pop() :]
            else:
                kept.append(char)
        name = "".join(kept)
    return name.replace("::", ".").replace("->", ".")


@functools.cache
def parser(grammar: str) -> tree_sitter.Parser:
    """A parser for the grammar a module provides (loaded once per process):
    ``module`` (its ``language()``) or ``module:function`` where a package holds
    several grammars (``tree_sitter_php:language_php``)."""
    module_name, _, function = grammar.partition(":")
    module = importlib.import_module(module_name)
    with warnings.catch_warnings():
        # Some grammar packages (tree-sitter-perl 2.0) still hand over the grammar as an
        # address, which tree-sitter accepts with a DeprecationWarning.
        warnings.simplefilter("ignore", DeprecationWarning)
        language = tree_sitter.Language(getattr(module, function or "language")())
    return tree_sitter.Parser(language)


def _walk(root: Node) -> Iterator[Node]:
    """Every named node in document order, parents first: a tree cursor, so deep trees
    cannot exhaust the stack and no list of children is built per node."""
    cursor = root.walk()
    while True:
        node = cursor.node
        if node is not None and node.is_named:
            yield node
        if cursor.goto_first_child():
            continue
        while not cursor.goto_next_sibling():
            if not cursor.goto_parent():
                return


def _size(node: Node | None) -> int:
    return 0 if node is None else node.end_byte - node.start_byte


def _text(node: Node | None) -> str:
    return node.text.decode("utf-8", errors="replace") if node is not None and node.text else ""


def _code(node: Node | None) -> str:
    """A node's text without the comments inside it (``java./**/net`` is ``java. net``).
    For import declarations, which do not nest: their nodes are walked once more."""
    if node is None:
        return ""
    comments = [n for n in _walk(node) if n.is_extra]
    if not comments:
        return _text(node)
    source, at, kept = node.text or b"", node.start_byte, []
    for comment in comments:
        kept.append(source[at - node.start_byte : comment.start_byte - node.start_byte])
        at = comment.end_byte
    kept.append(source[at - node.start_byte :])
    return b" ".join(kept).decode("utf-8", errors="replace")


def _is_module_path(node: Node | None) -> bool:
    return node is not None and node.type == "module_path" and _size(node) <= _MAX_NAME


def _string_value(node: Node | None) -> str:
    return _text(node).strip("\"'`")


class Misread(ValueError):
    """The grammar reads the program otherwise than its compiler (Perl's old package
    separator): what it found cannot be trusted, and the program is a compile error."""


_WORD_BYTES = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_")
_WORD_START = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz_")
QUOTE_SEPARATOR = (
    "the old package separator (') cannot be screened (it reads as the start of a string): write ::"
)


class _Name:
    """A name node being read: its text is taken once the walk has passed it, without
    the comments found inside it (``Sys.(* x *)command`` is ``Sys.command``)."""

    __slots__ = ("commented", "end", "node", "start", "suffix")

    def __init__(self, node: Node, suffix: str = "") -> None:
        self.start, self.end, self.node, self.suffix = node.start_byte, node.end_byte, node, suffix
        self.commented = False


class _Program:
    """What one walk of the tree finds: aliases (local name -> what it stands for), the
    modules and paths imported, and the distinct names referred to (raw text)."""

    def __init__(self, rules: _Rules, root: Node, source: bytes) -> None:
        self.aliases: dict[str, str] = {}
        self.imported: set[str] = set()
        self.names: set[str] = set()
        # Modules whose members are named without them: opened (OCaml ``open Sys``,
        # ``Sys.(...)``, Scala ``import scala.sys._``), and included in another module
        # (OCaml ``module T = struct include Sys end``: ``T.command`` is Sys's).
        self.opened: set[str] = set()
        self.included: set[str] = set()
        # Byte ranges of code the grammar read as a string (``[screening] embedded``).
        self.embedded: list[tuple[int, int]] = []
        if rules.root is not None:  # Scala `_root_.scala.sys` is `scala.sys`
            self.aliases[rules.root] = ""
        self._source = source
        # Names the walk is inside (each inside the one before) and the comments met in
        # them, in document order: a name's text is read when the walk leaves it.
        self._open: list[_Name] = []
        self._comments: list[tuple[int, int]] = []
        names, calls, imports = rules.name_nodes, rules.method_call_nodes, rules.imports
        constructs, keywords, words = rules.constructs, rules.keyword_nodes, rules.word_nodes
        quote_separator, embedded = rules.quote_separator, rules.embedded
        for node in _walk(root):
            if quote_separator and self._quote_separates(node.start_byte):
                raise Misread(QUOTE_SEPARATOR)
            if embedded is not None:
                self.embedded.extend(embedded(node, node.type))
            if node.is_extra and self._open:  # a comment, here inside a name
                self._leave(node.start_byte)
                if self._open:
                    self._open[-1].commented = True
                    self._comments.append((node.start_byte, node.end_byte))
            kind = node.type
            if kind in names:
                if _size(node) <= _MAX_NAME:
                    self._enter(_Name(node))
            elif kind in constructs:
                self.names.add(constructs[kind])
            elif kind in keywords:  # Perl: `readpipe $x`, the keyword is the first token
                keyword = node.child(0)
                if keyword is not None and _size(keyword) <= _MAX_NAME:
                    self.names.add(_text(keyword))
            elif kind in words:  # {-# LANGUAGE CPP #-}, {$define run := fpSystem}
                self.names.update(w for w in _WORD.findall(_text(node)) if len(w) <= _MAX_NAME)
            elif kind in calls:  # Java: object.name(...)
                self._method_invocation(node)
            elif imports is not None:
                imports(self, node, kind)
        self._leave(len(source) + 1)

    def _quote_separates(self, at: int) -> bool:
        """A node starting with ``'`` right after a word, a word's start after it: Perl's
        ``CORE'system`` (a real string never follows a word so: Perl would not read it
        as one either)."""
        source = self._source
        return (
            0 < at < len(source) - 1
            and source[at] == 0x27  # '
            and source[at - 1] in _WORD_BYTES
            and source[at + 1] in _WORD_START
        )

    def _enter(self, name: _Name) -> None:
        self._leave(name.start)
        self._open.append(name)

    def _leave(self, position: int) -> None:
        """Read the names that end at or before ``position``: the walk has left them."""
        while self._open and self._open[-1].end <= position:
            name = self._open.pop()
            if name.commented and self._open:
                self._open[-1].commented = True  # it holds the same comment
            text = self._without_comments(name) if name.commented else _text(name.node)
            self.names.add(text + name.suffix)

    def _without_comments(self, name: _Name) -> str:
        kept, at = [], name.start
        first = bisect.bisect_left(self._comments, (name.start, -1))
        for index in range(first, len(self._comments)):
            start, end = self._comments[index]
            if start >= name.end:
                break
            kept.append(self._source[at:start])
            at = end
        kept.append(self._source[at : name.end])
        return b" ".join(kept).decode("utf-8", errors="replace")

    def _method_invocation(self, node: Node) -> None:
        obj, name = node.child_by_field_name("object"), node.child_by_field_name("name")
        if _size(name) > _MAX_NAME or _size(obj) > _MAX_NAME:
            return  # a long chain: its inner invocations are visited on their own
        if obj is None:
            self.names.add(_text(name))
        else:
            self._enter(_Name(obj, f".{_text(name)}"))

    def _go(self, node: Node, kind: str) -> None:
        if kind == "import_spec":
            path = _string_value(node.child_by_field_name("path"))
            name = _text(node.child_by_field_name("name")) or path.rsplit("/", 1)[-1]
            self.imported.add(path)
            self.aliases[name] = path

    def _rust(self, node: Node, kind: str) -> None:
        if kind != "use_declaration":
            return
        argument = node.child_by_field_name("argument")
        if argument is not None and argument.type == "use_as_clause":
            path = normalise(_code(argument.child_by_field_name("path")))
            self.aliases[_text(argument.child_by_field_name("alias"))] = path
        else:
            path = normalise(_code(argument))
            self.aliases[path.rsplit(".", 1)[-1]] = path
        self.imported.add(path)

    def _java(self, node: Node, kind: str) -> None:
        if kind == "import_declaration":
            path = normalise(_code(node).removeprefix("import").removesuffix(";"))
            path = path.removeprefix("static")
            self.imported.add(path)
            self.aliases[path.rsplit(".", 1)[-1]] = path

    def _scala(self, node: Node, kind: str) -> None:
        """``import a.b.c, d.e._`` and ``import a.b.{c, d => e}``: a path per comma."""
        if kind != "import_declaration":
            return
        path: list[str] = []
        for child in [*node.children, None]:
            part = child.type if child is not None else ","  # the end closes a path too
            if part == "identifier":
                path.append(_text(child))
            elif part == "namespace_wildcard" and path:  # a.b._ (Scala 3: a.b.*)
                self._import(".".join(path), path[-1])
                self.opened.add(".".join(path))
                path = []
            elif part == "namespace_selectors" and child is not None:
                for selector in child.named_children:  # c, d => e, _
                    if selector.type == "namespace_wildcard":
                        self.opened.add(".".join(path))
                        continue
                    names = [_text(n) for n in selector.named_children] or [_text(selector)]
                    self._import(".".join([*path, names[0]]), names[-1])
                path = []
            elif part == "," and path:
                self._import(".".join(path), path[-1])
                path = []

    def _ocaml(self, node: Node, kind: str) -> None:
        """``open M`` (also in ``let open M in``), ``M.(...)``, ``module S = M`` (also
        ``let module``) and ``include M``."""
        if kind == "open_module":
            self._module(self.opened, node.child_by_field_name("module"))
        elif kind == "local_open_expression" and node.named_child_count:
            self._module(self.opened, node.named_child(0))
        elif kind == "include_module":
            self._module(self.included, node.child_by_field_name("module"))
        elif kind == "module_binding":
            body = node.child_by_field_name("body")
            name = node.named_child(0) if node.named_child_count else None
            if _is_module_path(body) and name is not None:
                self.aliases[_text(name)] = normalise(_code(body))

    def _module(self, into: set[str], module: Node | None) -> None:
        """A module named by its path; not ``struct ... end`` (which nests: reading it
        whole at every level would read a program again per level)."""
        if _is_module_path(module):
            into.add(normalise(_code(module)))

    def _import(self, path: str, local: str) -> None:
        self.imported.add(path)
        self.aliases[local] = path

    def _javascript(self, node: Node, kind: str) -> None:
        if kind == "call_expression":
            module = _required_module(node)
            if module:
                self.imported.add(module)
        elif kind == "variable_declarator":  # const cp = require(...)
            value = node.child_by_field_name("value")
            module = _required_module(value) if value is not None else None
            if module:
                self._bind(node.child_by_field_name("name"), module)
        elif kind == "import_statement":
            module = _string_value(node.child_by_field_name("source"))
            self.imported.add(module)
            for child in _walk(node):  # import statements do not nest: still linear
                if child.type == "import_specifier":
                    name = _text(child.child_by_field_name("name"))
                    local = _text(child.child_by_field_name("alias")) or name
                    self.aliases[local] = f"{module}.{name}"
                elif child.type in ("namespace_import", "import_clause"):
                    for part in child.named_children:
                        if part.type == "identifier":
                            self.aliases[_text(part)] = module

    def _bind(self, target: Node | None, module: str) -> None:
        if target is None:
            return
        if target.type == "identifier":
            self.aliases[_text(target)] = module
        elif target.type == "object_pattern":  # const { exec, spawn: s } = require(...)
            for part in target.named_children:
                if part.type == "shorthand_property_identifier_pattern":
                    self.aliases[_text(part)] = f"{module}.{_text(part)}"
                elif part.type == "pair_pattern":
                    key = _text(part.child_by_field_name("key"))
                    self.aliases[_text(part.child_by_field_name("value"))] = f"{module}.{key}"


def _required_module(call: Node) -> str | None:
    """The module of ``require("m")``. Only a plain string is read: an argument that
    could hold further calls (``require(require(...))``) would be read again per level."""
    if call.type != "call_expression":
        return None
    function = call.child_by_field_name("function")
    if function is None or function.type != "identifier" or _text(function) != "require":
        return None
    arguments = call.child_by_field_name("arguments")
    if arguments is None or not arguments.named_child_count:
        return None
    first = arguments.named_child(0)
    if first.type == "template_string" and any(
        c.type == "template_substitution" for c in first.named_children
    ):
        return None
    if first.type not in ("string", "template_string"):
        return None
    return _string_value(first) or None


# Where Perl runs code inside a pattern or a replacement: a code block (`(?{`, `(??{`,
# `(*{`) or an interpolated block (`@{[ ... ]}`, `${\ ...}`).
_PERL_CODE_START = re.compile(rb"\(\?\??\{|\(\*\{|[$@]\{")


def _perl_embedded(node: Node, kind: str) -> list[tuple[int, int]]:
    """Code that tree-sitter-perl reads as a string: a replacement under ``/e`` (all of
    it), each code or interpolated block in a pattern or a replacement (from its brace
    to the end: where Perl ends the block is Perl's parse), a format's lines."""
    if kind == "substitution_regexp":
        modifiers = node.child_by_field_name("modifiers")
        if modifiers is not None and b"e" in (modifiers.text or b""):
            return [(c.start_byte, c.end_byte) for c in node.children if c.type == "replacement"]
    elif kind in ("regexp_content", "replacement"):
        text, start = node.text or b"", node.start_byte
        return [(start + m.end(), node.end_byte) for m in _PERL_CODE_START.finditer(text)]
    elif kind == "format_content":
        return [(node.start_byte, node.end_byte)]
    return []


# Code read as a string, by the name a language.toml gives (``[screening] embedded``);
# it is read as code too, within a budget (a block is read from its start to its
# pattern's end: each block nested in another reads that text again).
EMBEDDED: dict[str, Callable[[Node, str], list[tuple[int, int]]]] = {"perl": _perl_embedded}
EMBEDDED_BUDGET = 4  # bytes read as embedded code, per byte of the program
EMBEDDED_DEPTH = 8
TOO_MUCH_EMBEDDED = "too much code in strings (patterns, replacements) to screen"


# How imports and their aliases are read, by the name a language.toml gives
# (``[screening] imports``): each is called with every node not read as a name.
IMPORTS: dict[str, Callable[[_Program, Node, str], None]] = {
    "javascript": _Program._javascript,
    "go": _Program._go,
    "rust": _Program._rust,
    "java": _Program._java,
    "scala": _Program._scala,
    "ocaml": _Program._ocaml,
}
# The name that starts a path from the root package, by import reader.
ROOTS = {"scala": "_root_"}


@dataclass(frozen=True)
class _Rules:
    """A language's ``[screening]`` rules, ready for the walk."""

    grammar: str
    name_nodes: frozenset[str]
    method_call_nodes: frozenset[str]
    imports: Callable[[_Program, Node, str], None] | None
    constructs: dict[str, str]
    keyword_nodes: frozenset[str]
    word_nodes: frozenset[str]
    bare_names: bool
    root: str | None
    quote_separator: bool
    embedded: Callable[[Node, str], list[tuple[int, int]]] | None


def check_rules(screening: Screening) -> None:
    """Raises ValueError when the rules name no grammar, or a grammar or an import
    reader that does not exist."""
    if not screening.grammar:
        raise ValueError("tree-sitter screening needs a grammar (e.g. grammar = 'tree_sitter_c')")
    module_name, _, function = screening.grammar.partition(":")
    if importlib.util.find_spec(module_name) is None:
        raise ValueError(f"no tree-sitter grammar module {module_name!r} is installed")
    if function and not callable(getattr(importlib.import_module(module_name), function, None)):
        raise ValueError(f"grammar module {module_name!r} has no function {function!r}")
    if screening.imports is not None and screening.imports not in IMPORTS:
        raise ValueError(
            f"unknown imports reader {screening.imports!r}; use one of {sorted(IMPORTS)}"
        )
    if screening.embedded is not None and screening.embedded not in EMBEDDED:
        raise ValueError(f"unknown embedded {screening.embedded!r}; use one of {sorted(EMBEDDED)}")
    if screening.prepare is not None and screening.prepare not in PREPARE:
        raise ValueError(f"unknown prepare {screening.prepare!r}; use one of {sorted(PREPARE)}")


@functools.cache
def _rules(screening: Screening) -> _Rules:
    check_rules(screening)
    assert screening.grammar is not None
    return _Rules(
        screening.grammar,
        frozenset(screening.name_nodes),
        frozenset(screening.method_call_nodes),
        IMPORTS[screening.imports] if screening.imports is not None else None,
        dict(screening.constructs),
        frozenset(screening.keyword_nodes),
        frozenset(screening.word_nodes),
        screening.bare_names,
        ROOTS.get(screening.imports or ""),
        screening.quote_separator,
        EMBEDDED[screening.embedded] if screening.embedded is not None else None,
    )


def _screening_of(language: Screening | str) -> Screening:
    """A language's rules; a language id names one of the repository's own languages
    (``codeexec/languages/``), a shorthand for tools and tests."""
    if isinstance(language, Screening):
        return language
    from codeexec.sandbox.languages import shipped_languages

    return shipped_languages()[language].screening


def _read(rules: _Rules, source: bytes) -> _Program:
    """The program's walk, with the code embedded in its strings (``[screening]
    embedded``) read as code too and what it finds added."""
    program = _Program(rules, parser(rules.grammar).parse(source).root_node, source)
    budget = EMBEDDED_BUDGET * len(source)
    pending: list[tuple[bytes, int]] = []

    def found_in(text: bytes, inside: _Program, depth: int) -> None:
        nonlocal budget
        budget -= sum(end - start for start, end in inside.embedded)
        if inside.embedded and (budget < 0 or depth > EMBEDDED_DEPTH):
            raise Misread(TOO_MUCH_EMBEDDED)  # before any of it is parsed
        pending.extend((text[start:end], depth) for start, end in inside.embedded)

    found_in(source, program, 1)
    while pending:
        code, depth = pending.pop()
        inner = _Program(rules, parser(rules.grammar).parse(code).root_node, code)
        program.names |= inner.names
        program.imported |= inner.imported
        program.opened |= inner.opened
        program.included |= inner.included
        program.aliases.update(inner.aliases)
        found_in(code, inner, depth + 1)
    return program


def referenced_names(
    language: Screening | str, source: bytes, policy: Policy | None = None
) -> set[str]:
    """Every name the program refers to, normalised, with imports and aliases resolved.
    The members of a module opened or included are read as its own where ``policy`` can
    reach inside it (every such module without a policy: for tools, not for the service,
    as names times modules can grow large)."""
    screening = _screening_of(language)
    if screening.unicode_escapes:
        text = source.decode("utf-8", "surrogatepass")
        source = unicode_escapes_translated(text).encode("utf-8", "surrogatepass")
    if screening.prepare is not None:
        text = source.decode("utf-8", "surrogatepass")
        source = PREPARE[screening.prepare](text).encode("utf-8", "surrogatepass")
    rules = _rules(screening)
    program = _read(rules, source)
    escapes = screening.escapes

    def plain(name: str) -> str:
        name = normalise(name)
        for mark in escapes:  # `sys`, &Unix, @Process, r#process: the name quoted
            name = name.replace(mark, "")
        return name

    aliases = {plain(local): plain(target) for local, target in program.aliases.items()}

    def resolved(name: str) -> str | None:
        head, _, rest = name.partition(".")
        if head not in aliases:
            return None
        return f"{aliases[head]}.{rest}" if aliases[head] and rest else aliases[head] or rest

    def reached(modules: set[str]) -> set[str]:
        """Each module once, however written, where the policy can reach inside it."""
        found = {resolved(n := plain(m)) or n for m in modules}
        fold = screening.fold_case
        return {
            m
            for m in found
            if m and (policy is None or policy.reaches_inside(m.lower() if fold else m))
        }

    found = {plain(name) for name in program.imported}
    written: list[str] = []
    for raw in program.names:
        name = plain(raw)
        if not name:
            continue
        written.append(name)
        found.add(name)
        if (target := resolved(name)) is not None:
            found.add(target)
        if rules.bare_names:
            found.add(name.rsplit(".", 1)[-1].rsplit("/", 1)[-1])  # std::system, /bin/nc
    for module in reached(program.opened):  # open Sys: `command` is Sys.command
        found.update(f"{module}.{name}" for name in written)
    for module in reached(program.included):  # T includes Sys: `T.command` is Sys.command
        found.update(f"{module}.{name.rsplit('.', 1)[-1]}" for name in written)
    if screening.fold_case:
        return {name.lower() for name in found}
    return found


def disallowed_names(
    language: Screening | str, source: bytes, patterns: Iterable[str]
) -> list[str]:
    """Sorted names in ``source`` that the policy disallows."""
    screening = _screening_of(language)
    normal = [normalise(p) for p in patterns]
    policy = compiled(tuple(p.lower() for p in normal) if screening.fold_case else tuple(normal))
    if not policy:
        return []
    return sorted(n for n in referenced_names(screening, source, policy) if policy.matches(n))
