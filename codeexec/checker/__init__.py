"""Output checkers: decide whether a program's output answers a test."""

from collections.abc import Callable

from codeexec.checker.lines import lines_match

Checker = Callable[[bytes, bytes], bool]  # (expected, got) -> accepted
CHECKERS: dict[str, Checker] = {"lines": lines_match}

__all__ = ["CHECKERS", "Checker", "lines_match"]
