"""Output checkers: decide whether a program's output answers a test.

Built-in modes compare the streamed output with the answer (``exact``, ``lines``,
``tokens``); ``custom`` runs the problem's own checker program in a sandbox of its own
(``codeexec.checker.program``).
"""

from __future__ import annotations

from codeexec.checker.exact import ExactComparison
from codeexec.checker.lines import LinesComparison
from codeexec.checker.stream import ACCEPTED, CheckResult, Comparison
from codeexec.checker.tokens import CheckerArgsError, TokenComparison, TokenOptions
from codeexec.checker.unchecked import UncheckedComparison
from codeexec.model import CHECKER_MODES, PROGRAM_MODES, UNCHECKED, CheckerSpec


def validate_spec(spec: CheckerSpec) -> None:
    """Refuse a spec no checker can run (unknown mode, bad flags, a stray program)."""
    if spec.mode not in CHECKER_MODES:
        raise CheckerArgsError(f"unknown checker mode {spec.mode!r}; use one of {CHECKER_MODES}")
    if (spec.mode in PROGRAM_MODES) != (spec.program is not None):
        raise CheckerArgsError(
            "a checker program goes with modes 'custom' and 'interactive', and only there"
        )
    if spec.mode == "tokens":
        TokenOptions.parse(spec.args)
    elif spec.args and spec.mode not in PROGRAM_MODES:
        raise CheckerArgsError(f"the {spec.mode} checker takes no arguments")


def start_comparison(spec: CheckerSpec, answer: bytes) -> Comparison:
    """A streaming comparison for a built-in mode."""
    if spec.mode == "exact":
        return ExactComparison(answer)
    if spec.mode == "lines":
        return LinesComparison(answer)
    if spec.mode == "tokens":
        return TokenComparison(answer, TokenOptions.parse(spec.args))
    if spec.mode == UNCHECKED:
        return UncheckedComparison()
    raise ValueError(f"{spec.mode!r} is not a built-in comparison")


def compare(spec: CheckerSpec, answer: bytes, output: bytes) -> CheckResult:
    """Compare a whole output at once (the streaming comparison fed one chunk)."""
    comparison = start_comparison(spec, answer)
    comparison.feed(output)
    return comparison.finish()


__all__ = [
    "ACCEPTED",
    "CheckResult",
    "CheckerArgsError",
    "Comparison",
    "compare",
    "start_comparison",
    "validate_spec",
]
