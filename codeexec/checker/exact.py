"""``exact``: the output must be the answer, byte for byte."""

from __future__ import annotations

from codeexec.checker.stream import Comparison


class ExactComparison(Comparison):
    def _resume_point(self, at: int) -> int:
        line = self.answer.count(b"\n", 0, at) + 1
        if at == len(self.answer):
            self.decide(False, f"Output continues after the end of the answer (line {line})")
        else:
            self.decide(False, f"Output differs from the answer at byte {at + 1} (line {line})")
        return at

    def _feed(self, chunk: bytes) -> None:
        pass  # decided at the first differing byte

    def _finish(self) -> None:
        pass
