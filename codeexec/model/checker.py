"""How a problem's outputs are checked (the checking itself is ``codeexec.checker``)."""

from __future__ import annotations

from dataclasses import dataclass

CHECKER_MODES = ("exact", "lines", "tokens", "custom", "interactive")
# Modes whose checker is the problem's own program: "custom" reads a finished output,
# "interactive" (an interactor) talks with the submission while it runs.
PROGRAM_MODES = ("custom", "interactive")
# Not a problem's mode: an ad-hoc run given no expected output is accepted whatever it
# prints, when it ends well (Judge0's rule).
UNCHECKED = "none"


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
    program: CheckerProgram | None = None  # only for PROGRAM_MODES

    @property
    def interactive(self) -> bool:
        return self.mode == "interactive"
