"""YAML from problem packages, read as plain data within bounds.

``yaml.safe_load`` builds no objects, but it still takes any size, any depth and any
number of aliases: nine lines of aliases ("billion laughs") stand for 10^9 strings as
soon as anything walks the result, and a few kilobytes of ``[`` overflow the parser's
recursion. Here a document is

- at most ``MAX_YAML_BYTES`` (the caller checks the file's size before reading it),
- nested at most ``MAX_DEPTH`` deep, counted while it is parsed and again with its
  aliases expanded,
- at most ``MAX_VALUES`` values with its aliases expanded (counted on the parsed
  graph, each node once, before anything is built), with no alias inside itself,
- made of mappings with string keys, lists, strings, numbers, booleans and nulls only
  (dates stay text; ``!!binary``, ``!!set`` and the like are refused).

Kattis files never need more; aliases within these bounds still work.
"""

from __future__ import annotations

from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, SequenceNode

from codeexec.packages.archive import PackageError

MAX_YAML_BYTES = 1 << 20
MAX_DEPTH = 32
MAX_VALUES = 100_000
_TIMESTAMP = "tag:yaml.org,2002:timestamp"
_PLAIN = (str, int, float, bool, type(None))


class _Refused(Exception):
    pass


class _Loader(yaml.SafeLoader):
    """The safe loader, with its nesting counted and dates left as text."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._depth = 0

    def compose_node(self, parent: Node | None, index: int) -> Node | None:
        self._depth += 1
        try:
            if self._depth > MAX_DEPTH:
                raise _Refused(f"nested more than {MAX_DEPTH} deep")
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1


# Dates stay text: a package's YAML has no use for datetime objects.
_Loader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != _TIMESTAMP]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def _children(node: Node) -> list[Node]:
    if isinstance(node, SequenceNode):
        return list(node.value)
    if isinstance(node, MappingNode):
        return [part for pair in node.value for part in pair]
    return []


def _measure(
    node: Node, level: int, sizes: dict[int, tuple[int, int]], open_nodes: set[int]
) -> tuple[int, int]:
    """(values, height) of ``node`` with aliases expanded; each node is measured once,
    and the walk never goes deeper than the limit."""
    if level > MAX_DEPTH:
        raise _Refused(f"nested more than {MAX_DEPTH} deep once aliases are expanded")
    key = id(node)
    found = sizes.get(key)
    if found is None:
        if key in open_nodes:
            raise _Refused(f"an alias refers to itself (line {node.start_mark.line + 1})")
        open_nodes.add(key)
        values, height = 1, 0
        for child in _children(node):
            child_values, child_height = _measure(child, level + 1, sizes, open_nodes)
            values += child_values
            height = max(height, child_height + 1)
            if values > MAX_VALUES:
                raise _Refused(f"more than {MAX_VALUES} values once aliases are expanded")
        open_nodes.discard(key)
        found = sizes[key] = (values, height)
    if level + found[1] > MAX_DEPTH:
        raise _Refused(f"nested more than {MAX_DEPTH} deep once aliases are expanded")
    return found


def _check_types(value: Any, where: str) -> None:
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                raise _Refused(
                    f"keys must be strings, not {key!r}" + (f" (in {where})" * bool(where))
                )
            _check_types(item, f"{where}.{key}" if where else key)
    elif isinstance(value, list):
        for i, item in enumerate(value):
            _check_types(item, f"{where}[{i}]")
    elif not isinstance(value, _PLAIN):
        raise _Refused(f"{where or 'the document'}: {type(value).__name__} values are not accepted")


def load_yaml(data: bytes, name: str) -> Any:
    """The data in one YAML document (``None`` when empty). PackageError, naming the
    file, when it is not UTF-8, not YAML, or out of bounds."""
    if len(data) > MAX_YAML_BYTES:
        raise PackageError(
            f"{name} is {len(data)} bytes; YAML files may be at most {MAX_YAML_BYTES}"
        )
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise PackageError(f"{name} is not UTF-8: {exc}") from exc
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        _measure(node, 1, {}, set())
        value = loader.construct_document(node)
        _check_types(value, "")
        return value
    except _Refused as exc:
        raise PackageError(f"{name}: {exc}") from None
    except yaml.YAMLError as exc:
        raise PackageError(f"{name} is not valid YAML: {exc}") from exc
    finally:
        loader.dispose()
