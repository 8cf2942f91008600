"""Which way the arrows go: the shared types depend on nothing, and the rooms that use
them do not reach into each other's mechanisms (docs/architecture.md)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "codeexec"


def imports_of(room: str) -> set[str]:
    """Every codeexec module imported anywhere in ``codeexec/<room>``."""
    found: set[str] = set()
    for path in (PACKAGE / room).rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                found.add(node.module)
            elif isinstance(node, ast.Import):
                found.update(alias.name for alias in node.names)
    return {name for name in found if name == "codeexec" or name.startswith("codeexec.")}


def test_the_model_imports_nothing_else_of_codeexec() -> None:
    outside = {m for m in imports_of("model") if not m.startswith("codeexec.model")}
    assert outside == set()


@pytest.mark.parametrize(
    ("room", "must_not_import"),
    [
        ("judge", "codeexec.store"),  # judging works on a snapshot, not on the database
        ("store", "codeexec.checker"),  # a stored checker is a spec, not the checking
        ("store", "codeexec.sandbox"),
        ("checker", "codeexec.store"),
        ("sandbox", "codeexec.store"),
        ("sandbox", "codeexec.judge"),
    ],
)
def test_rooms_do_not_reach_into_each_other(room: str, must_not_import: str) -> None:
    reached = {m for m in imports_of(room) if m.startswith(must_not_import)}
    assert reached == set()
