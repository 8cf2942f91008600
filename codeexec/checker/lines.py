"""``lines``, the default for ``/exec``: line by line, ignoring trailing whitespace on
each line (including a CR from CRLF line ends) and trailing blank lines; everything else
must match byte for byte."""

from __future__ import annotations

from codeexec.checker.stream import Comparison, shown

TRAILING = b" \t\r\f\v"
BLANK = TRAILING + b"\n"
_SLACK = 64 * 1024  # how far an unfinished output line may outgrow the answer's line


def _significant_end(answer: bytes) -> int:
    """Where the answer's content ends: trailing whitespace and blank lines do not count."""
    end = len(answer)
    while end and answer[end - 1] in b" \t\r\f\v\n":
        end -= 1
    return end


class LinesComparison(Comparison):
    def __init__(self, answer: bytes) -> None:
        super().__init__(answer)
        self._end = _significant_end(answer)
        self._pos = 0  # start of the answer's next line
        self._line = 0  # lines of output compared so far
        self._pending = bytearray()  # the output's unfinished line

    def _resume_point(self, at: int) -> int:
        start = self.answer.rfind(b"\n", 0, at) + 1
        self._pos = start
        self._line = self.answer.count(b"\n", 0, start)
        return start

    def _answer_line(self) -> bytes | None:
        if self._pos >= self._end:
            return None
        stop = self.answer.find(b"\n", self._pos, self._end)
        return self.answer[self._pos : self._end if stop < 0 else stop].rstrip(TRAILING)

    def _line_done(self, line: bytes) -> bool:
        self._line += 1
        expected = self._answer_line()
        got = line.rstrip(TRAILING)
        if expected is None:
            if got:
                return self.decide(False, f"Trailing output on line {self._line}: {shown(got)}")
            return False  # a trailing blank line
        if got != expected:
            return self.decide(
                False,
                f"Wrong answer on line {self._line}\n"
                f"Expected: {shown(expected)}\nGot: {shown(got)}",
            )
        stop = self.answer.find(b"\n", self._pos, self._end)
        self._pos = self._end if stop < 0 else stop + 1
        return False

    def _feed(self, chunk: bytes) -> None:
        data = self._pending + chunk
        start = 0
        while self._pos < self._end and (stop := data.find(b"\n", start)) >= 0:
            if self._line_done(bytes(data[start:stop])):
                return
            start = stop + 1
        if self._pos >= self._end:  # the answer is done: only blank lines may follow
            self._after_the_answer(data[start:])
            return
        self._pending = data[start:]
        self._bound_pending()

    def _after_the_answer(self, data: bytes | bytearray) -> None:
        """Output after the answer's last line: blank lines are fine, anything else is
        wrong. Checked at C speed, so a flood of blank lines costs no work per line."""
        if not data.translate(None, BLANK):
            self._line += data.count(b"\n")
            self._pending = bytearray()  # blank: nothing of it needs keeping
            return
        first = len(data) - len(data.lstrip(BLANK))
        line_start = data.rfind(b"\n", 0, first) + 1
        self._line += data.count(b"\n", 0, line_start)
        end = data.find(b"\n", first)
        self._line_done(bytes(data[line_start : len(data) if end < 0 else end]))

    def _bound_pending(self) -> None:
        """An endless line cannot grow in memory: past the answer's line plus some slack
        it either is wrong already or only adds trailing whitespace, which is dropped."""
        expected = self._answer_line() or b""
        if len(self._pending) <= len(expected) + _SLACK:
            return
        if self._pending[len(expected) :].strip(TRAILING):
            self._line += 1
            self.decide(
                False,
                f"Wrong answer on line {self._line}\n"
                f"Expected: {shown(expected)}\nGot: {shown(bytes(self._pending))}",
            )
        else:
            del self._pending[len(expected) + 1 :]

    def _finish(self) -> None:
        if self._pending and self._line_done(bytes(self._pending)):
            return
        expected = self._answer_line()
        if expected is not None:
            self.decide(
                False,
                f"Output ended after line {self._line}; expected line {self._line + 1}:"
                f" {shown(expected)}",
            )
        else:
            self.decide(True)
