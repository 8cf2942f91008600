"""Line-based output comparison, the default for ``/exec``.

Trailing whitespace on each line (including a CR from CRLF line ends) and trailing
blank lines are ignored; everything else must match byte for byte.
"""

from __future__ import annotations

_TRAILING = b" \t\r\f\v"


def _significant_lines(data: bytes) -> list[bytes]:
    lines = [line.rstrip(_TRAILING) for line in data.split(b"\n")]
    while lines and not lines[-1]:
        lines.pop()
    return lines


def lines_match(expected: bytes, got: bytes) -> bool:
    return _significant_lines(expected) == _significant_lines(got)
