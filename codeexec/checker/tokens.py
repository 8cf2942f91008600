"""``tokens``: the semantics of Kattis' default output validator, streamed.

Output and answer are split into whitespace-separated tokens and compared in order.
Flags (Kattis ``validator_flags`` / ``output_validator_args``):

- ``case_sensitive``: tokens compare case-sensitively (default: ASCII case ignored);
- ``space_change_sensitive``: the whitespace between tokens must be identical too;
- ``float_absolute_tolerance E`` / ``float_relative_tolerance E`` / ``float_tolerance E``:
  where the answer's token is a finite floating-point number, the output's token must be
  one within E absolutely or relatively (either suffices); any float formatting is then
  accepted (``3.14e-2`` for ``0.0314``).

Messages follow the validator's ("Wrong answer on line X of output (corresponding to
line Y in answer file)" and the reason); ``tests/unit/test_checker_tokens.py`` holds this
to every golden case in ``shared/testdata/kattis-default-validator``.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass

from codeexec.checker.stream import SPACE, Comparison, shown

# Possessive: whitespace not followed by a token fails at once instead of backtracking
# through every shorter run (quadratic on a flood of whitespace).
_ITEM = re.compile(rb"([ \t\n\r\v\f]*+)([^ \t\n\r\v\f]+)")
_TOKEN = re.compile(rb"[^ \t\n\r\v\f]")
_TOKENS = re.compile(rb"[^ \t\n\r\v\f]+")
_LEADING_SPACE = re.compile(rb"[ \t\n\r\v\f]*+")  # always matches (maybe empty)
# What C's strtod accepts as a whole token (finite values only are floats here).
# Possessive throughout: a long digit run that is not a float ("111...1x") must fail in
# one pass, not by trying every split of the digits (quadratic, seconds per token).
_DECIMAL = re.compile(rb"[+-]?+(?:\d++\.?+\d*+|\.\d++)(?:[eE][+-]?+\d++)?+")
_HEX = re.compile(
    rb"[+-]?+0[xX](?:[0-9a-fA-F]++\.?+[0-9a-fA-F]*+|\.[0-9a-fA-F]++)(?:[pP][+-]?+\d++)?+"
)
MAX_TOKEN_BYTES = 1 << 20  # a longer output token is wrong, not buffered


def parse_float(token: bytes) -> float | None:
    if _DECIMAL.fullmatch(token):
        value = float(token)
    elif _HEX.fullmatch(token):
        value = float.fromhex(token.decode("ascii"))
    else:
        return None
    return value if math.isfinite(value) else None


class CheckerArgsError(ValueError):
    """The checker's arguments are not valid (the message says why)."""


@dataclass(frozen=True)
class TokenOptions:
    case_sensitive: bool = False
    space_change_sensitive: bool = False
    float_absolute_tolerance: float = -1.0
    float_relative_tolerance: float = -1.0

    @property
    def use_floats(self) -> bool:
        return self.float_absolute_tolerance >= 0 or self.float_relative_tolerance >= 0

    @classmethod
    def parse(cls, args: Sequence[str]) -> TokenOptions:
        flags: dict[str, bool] = {}
        tolerances: dict[str, float] = {}
        items = iter(args)
        for arg in items:
            if arg in ("case_sensitive", "space_change_sensitive"):
                flags[arg] = True
            elif arg in ("float_absolute_tolerance", "float_relative_tolerance", "float_tolerance"):
                value = parse_float(next(items, "").encode())
                if value is None or value < 0:
                    raise CheckerArgsError(f"{arg} needs a non-negative number after it")
                names = (
                    ("float_absolute_tolerance", "float_relative_tolerance")
                    if arg == "float_tolerance"
                    else (arg,)
                )
                tolerances.update(dict.fromkeys(names, value))
            else:
                raise CheckerArgsError(
                    f"unknown flag {arg!r}; the tokens checker takes case_sensitive,"
                    " space_change_sensitive, float_absolute_tolerance E,"
                    " float_relative_tolerance E, float_tolerance E"
                )
        return cls(
            case_sensitive=flags.get("case_sensitive", False),
            space_change_sensitive=flags.get("space_change_sensitive", False),
            float_absolute_tolerance=tolerances.get("float_absolute_tolerance", -1.0),
            float_relative_tolerance=tolerances.get("float_relative_tolerance", -1.0),
        )


class TokenComparison(Comparison):
    def __init__(self, answer: bytes, options: TokenOptions) -> None:
        super().__init__(answer)
        self.options = options
        self._jpos = 0  # where the answer's next item (whitespace + token) starts
        self._judge_line = 1
        self._user_line = 1
        self._pending = bytearray()  # output not yet split into complete items
        self._saw_output = False
        self._saw_token = False

    # -- the answer side ------------------------------------------------------

    def _next_judge(self) -> tuple[bytes, bytes | None]:
        match = _ITEM.match(self.answer, self._jpos)
        if match is None:
            return self.answer[self._jpos :], None
        return match.group(1), match.group(2)

    def _resume_point(self, at: int) -> int:
        last_space = max(self.answer.rfind(bytes([c]), 0, at) for c in SPACE)
        start = last_space + 1
        self._jpos = start
        self._judge_line = self._user_line = self.answer.count(b"\n", 0, start) + 1
        self._saw_output = at > 0
        self._saw_token = _TOKEN.search(self.answer, 0, start) is not None
        return start

    # -- the output side ------------------------------------------------------

    def _feed(self, chunk: bytes) -> None:
        self._saw_output = self._saw_output or bool(chunk)
        going_on = self._pending and self._pending[-1] not in SPACE
        if going_on and len(chunk.translate(None, SPACE)) == len(chunk):
            # A token still going on: append, never rescan what came before (a program
            # feeding a long token a byte at a time would cost its length per byte).
            self._pending += chunk
            self._bound_pending()
            return
        data = self._pending + chunk
        if not self.options.space_change_sensitive and not data.translate(None, SPACE):
            # Only whitespace: nothing to compare, lines to count (at C speed; a flood of
            # whitespace costs the service no Python work per byte).
            self._user_line += data.count(b"\n")
            self._pending = bytearray()
            return
        end = 0
        # Tokens are found by themselves (a search that skips whitespace in one pass):
        # matching "whitespace then token" at every position is quadratic in whitespace.
        for match in _TOKENS.finditer(data):
            if match.end() == len(data):
                break  # the token may go on in the next chunk
            if self._item(bytes(data[end : match.start()]), match.group()):
                return
            end = match.end()
        self._pending = data[end:]
        self._bound_pending()

    def _bound_pending(self) -> None:
        gap_end = _LEADING_SPACE.match(self._pending).end()  # type: ignore[union-attr]
        gap = bytes(self._pending[:gap_end])
        judge_gap, judge_token = self._next_judge()
        if self.options.space_change_sensitive:
            if not judge_gap.startswith(gap):
                self._space_error(gap, judge_gap, after=-1)
                return
        else:  # whitespace only counts lines here; it need not be kept
            self._user_line += gap.count(b"\n")
            del self._pending[:gap_end]
            gap_end = 0
        if len(self._pending) - gap_end > MAX_TOKEN_BYTES + len(judge_token or b""):
            self._wrong(f"Output token longer than {MAX_TOKEN_BYTES} bytes")

    def _finish(self) -> None:
        data = bytes(self._pending)
        match = _TOKENS.search(data)
        if match is not None:
            if self._item(data[: match.start()], match.group()):
                return
            data = data[match.end() :]
        # Only whitespace is left of the output.
        judge_gap, judge_token = self._next_judge()
        if self.options.space_change_sensitive and judge_gap != data:
            self._space_error(data, judge_gap, after=-1)
            return
        self._user_line += data.count(b"\n")
        self._judge_line += judge_gap.count(b"\n")
        if judge_token is None:
            self.decide(True)
            return
        why = "User EOF while judge had more output"
        if not self._saw_output:
            why += "; user output was empty."
        elif not self._saw_token:
            why += "; user output contained only whitespace."
        self._wrong(f"{why}\n(Next judge token: {shown(judge_token)})")

    # -- one output item against the answer's next -------------------------------

    def _item(self, gap: bytes, token: bytes) -> bool:
        """Compare whitespace ``gap`` + ``token`` of the output; True once decided."""
        judge_gap, judge_token = self._next_judge()
        if self.options.space_change_sensitive and gap != judge_gap:
            return self._space_error(gap, judge_gap, after=token[0])
        self._judge_line += judge_gap.count(b"\n")
        self._user_line += gap.count(b"\n")
        self._saw_token = True
        if judge_token is None:
            self._jpos = len(self.answer)
            return self._wrong(f"Trailing output:\n{shown(token)}")
        self._jpos += len(judge_gap) + len(judge_token)
        return self._compare(judge_token, token)

    def _compare(self, judge: bytes, user: bytes) -> bool:
        opts = self.options
        expected = parse_float(judge) if opts.use_floats else None
        if expected is not None:
            got = parse_float(user)
            if got is None:
                return self._wrong(f"Expected float, got: {shown(user)}")
            diff = abs(expected - got)
            if diff <= opts.float_absolute_tolerance or diff <= (
                opts.float_relative_tolerance * abs(expected)
            ):
                return False
            relative = f"{diff / abs(expected):e}" if expected else "undefined, judge value is 0"
            return self._wrong(
                "Too large difference.\n"
                f" Judge: {shown(judge)}\n User:  {shown(user)}\n"
                f" Absolute error: {diff:e} (abs tolerance {opts.float_absolute_tolerance:e})\n"
                f" Relative error: {relative} (rel tolerance {opts.float_relative_tolerance:e})"
            )
        same = judge == user if opts.case_sensitive else judge.lower() == user.lower()
        if same:
            return False
        return self._wrong(
            f'String tokens mismatch\nJudge: "{shown(judge)}"\nUser: "{shown(user)}"'
        )

    def _space_error(self, gap: bytes, judge_gap: bytes, after: int) -> bool:
        """Whitespace differs: report it where the validator would, at the first
        differing character (lines counted up to it). ``after`` is the output's byte
        after ``gap`` (-1: end of output)."""
        same = 0
        while same < min(len(gap), len(judge_gap)) and gap[same] == judge_gap[same]:
            same += 1
        newlines = gap.count(b"\n", 0, same)
        self._user_line += newlines
        self._judge_line += newlines
        if same == len(judge_gap):
            return self._wrong(f"Space change error: judge out of space, got {gap[same]} from user")
        got = gap[same] if same < len(gap) else after
        return self._wrong(f"Space change error: got {got} expected {judge_gap[same]}")

    def _wrong(self, why: str) -> bool:
        return self.decide(
            False,
            f"Wrong answer on line {self._user_line} of output"
            f" (corresponding to line {self._judge_line} in answer file)\n{why}",
        )
