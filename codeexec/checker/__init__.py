"""Output checkers: decide whether a program's output answers a test.

Built-in modes compare the streamed output with the answer (``exact``, ``lines``,
``tokens``); ``custom`` runs the problem's own checker program in a sandbox of its own
(``codeexec.checker.program``).
"""

from __future__ import annotations

from dataclasses import dataclass

from codeexec.checker.exact import ExactComparison
from codeexec.checker.lines import LinesComparison
from codeexec.checker.stream import ACCEPTED, CheckResult, Comparison
from codeexec.checker.tokens import CheckerArgsError, TokenComparison, TokenOptions

MODES = ("exact", "lines", "tokens", "custom")


@dataclass(frozen=True)
class CheckerProgram:
    """A custom checker's source: files as they go into its sandbox (the entry file
    under its language's source file name, like a submission's)."""

    language: str
    files: tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class CheckerSpec:
    mode: str = "lines"
    args: tuple[str, ...] = ()  # tokens: its flags; custom: passed to the program
    program: CheckerProgram | None = None  # only for "custom"

    def validate(self) -> None:
        if self.mode not in MODES:
            raise CheckerArgsError(f"unknown checker mode {self.mode!r}; use one of {MODES}")
        if (self.mode == "custom") != (self.program is not None):
            raise CheckerArgsError("a checker program goes with mode 'custom', and only there")
        if self.mode == "tokens":
            TokenOptions.parse(self.args)
        elif self.args and self.mode != "custom":
            raise CheckerArgsError(f"the {self.mode} checker takes no arguments")


def start_comparison(spec: CheckerSpec, answer: bytes) -> Comparison:
    """A streaming comparison for a built-in mode."""
    if spec.mode == "exact":
        return ExactComparison(answer)
    if spec.mode == "lines":
        return LinesComparison(answer)
    if spec.mode == "tokens":
        return TokenComparison(answer, TokenOptions.parse(spec.args))
    raise ValueError(f"{spec.mode!r} is not a built-in comparison")


def compare(spec: CheckerSpec, answer: bytes, output: bytes) -> CheckResult:
    """Compare a whole output at once (the streaming comparison fed one chunk)."""
    comparison = start_comparison(spec, answer)
    comparison.feed(output)
    return comparison.finish()


__all__ = [
    "ACCEPTED",
    "MODES",
    "CheckResult",
    "CheckerArgsError",
    "CheckerProgram",
    "CheckerSpec",
    "Comparison",
    "compare",
    "start_comparison",
]
