"""The shape every output comparison has: fed the program's output chunk by chunk.

The answer is in memory (it is test data); the program's output never is as a whole:
each chunk is looked at as it arrives from the sandbox and then dropped. While the
output is byte-identical to the answer (the common case for accepted programs) a chunk
costs one memcmp; at the first differing byte the mode's own parser takes over from the
last safe boundary before it, so a 100 MB accepted output is compared at memory speed.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass

SPACE = b" \t\n\r\v\f"  # C isspace() in the "C" locale, as the Kattis validator uses


@dataclass(frozen=True)
class CheckResult:
    accepted: bool
    message: str = ""  # why not (shown to the submitter for shown tests only)
    # A custom checker's score.txt / score_multiplier.txt (scoring problems).
    score: float | None = None
    score_multiplier: float | None = None
    score_error: str | None = None  # a score file that holds no number


ACCEPTED = CheckResult(True)


def common_prefix(a: bytes, b: bytes) -> int:
    """How many leading bytes ``a`` and ``b`` share."""
    n = min(len(a), len(b))
    lo, hi = 0, n
    while lo < hi:  # binary search on C-speed slice comparisons
        mid = (lo + hi + 1) // 2
        if a[:mid] == b[:mid]:
            lo = mid
        else:
            hi = mid - 1
    return lo


def shown(token: bytes, limit: int = 30) -> str:
    """A token as a person should see it in a message: cut without splitting UTF-8."""
    if len(token) <= limit:
        return token.decode("utf-8", errors="replace")
    cut = limit
    while cut > limit - 3 and (token[cut] & 0xC0) == 0x80:  # inside a UTF-8 sequence
        cut -= 1
    return token[:cut].decode("utf-8", errors="replace") + "..."


class Comparison(ABC):
    """Compares a streamed output with an answer; ``result`` is set once decided."""

    def __init__(self, answer: bytes) -> None:
        self.answer = answer
        self.result: CheckResult | None = None
        self._identical = 0  # the output so far equals answer[:_identical]
        self._diverged = False

    def feed(self, chunk: bytes) -> None:
        if self.result is not None or not chunk:
            return
        if self._diverged:
            self._feed(chunk)
            return
        start = self._identical
        if self.answer.startswith(chunk, start):
            self._identical = start + len(chunk)
            return
        same = common_prefix(self.answer[start : start + len(chunk)], chunk)
        self._diverge(start + same, chunk[same:])

    def finish(self) -> CheckResult:
        if self.result is None and not self._diverged:
            if self._identical == len(self.answer):
                self.result = ACCEPTED
            else:
                self._diverge(self._identical, b"")
        if self.result is None:
            self._finish()
        assert self.result is not None
        return self.result

    def _diverge(self, at: int, rest: bytes) -> None:
        """The output first differs from the answer at byte ``at``; ``rest`` is the
        output from there on (so far)."""
        self._diverged = True
        resume = self._resume_point(at)
        self._feed(self.answer[resume:at] + rest)

    def decide(self, accepted: bool, message: str = "") -> bool:
        self.result = CheckResult(accepted, message)
        return True

    @abstractmethod
    def _resume_point(self, at: int) -> int:
        """A position <= ``at`` where the mode's parser can start on both the answer and
        the output as if it had read everything before it (its state set accordingly)."""

    @abstractmethod
    def _feed(self, chunk: bytes) -> None: ...

    @abstractmethod
    def _finish(self) -> None: ...
