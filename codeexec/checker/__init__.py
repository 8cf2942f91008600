"""Output checkers: decide whether a program's output answers a test."""

from codeexec.checker.lines import lines_match

CHECKERS = {"lines": lines_match}

__all__ = ["CHECKERS", "lines_match"]
