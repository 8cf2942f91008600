"""The built-in checkers, fed whole and in small chunks (streaming must not change a
verdict), and the Kattis default validator's golden cases for ``tokens``."""

from __future__ import annotations

import tracemalloc
from pathlib import Path

import pytest

from codeexec.checker import CheckerArgsError, CheckResult, compare, start_comparison, validate_spec
from codeexec.checker.tokens import TokenOptions, parse_float
from codeexec.model import CheckerSpec

GOLDEN = Path(__file__).resolve().parents[3] / "shared/testdata/kattis-default-validator"


def check_in_chunks(spec: CheckerSpec, answer: bytes, output: bytes, size: int) -> CheckResult:
    comparison = start_comparison(spec, answer)
    for i in range(0, len(output), size):
        comparison.feed(output[i : i + size])
    return comparison.finish()


def verdicts(spec: CheckerSpec, answer: bytes, output: bytes) -> set[bool]:
    """The verdict however the output is chunked (a set of one when consistent)."""
    results = {compare(spec, answer, output).accepted}
    for size in (1, 2, 3, 7):
        results.add(check_in_chunks(spec, answer, output, size).accepted)
    return results


LINES = CheckerSpec("lines")
EXACT = CheckerSpec("exact")


@pytest.mark.parametrize(
    ("answer", "output"),
    [
        (b"dan\n", b"dan\n"),
        (b"dan\n", b"dan"),  # no trailing newline
        (b"dan\n", b"dan  \n\n\n"),  # trailing spaces and blank lines
        (b"a\nb\n", b"a\r\nb\r\n"),  # CRLF
        (b"", b""),
        (b"", b"\n\n"),
        (b"a\n\n\n", b"a"),
        ("привет\n".encode(), "привет".encode()),
    ],
)
def test_lines_accepts_equivalent_outputs(answer: bytes, output: bytes) -> None:
    assert verdicts(LINES, answer, output) == {True}


@pytest.mark.parametrize(
    ("answer", "output"),
    [
        (b"dan\n", b"Dan\n"),
        (b"a b\n", b"a  b\n"),  # inner whitespace matters
        (b"a\nb\n", b"a\n\nb\n"),  # inner blank lines matter
        (b"a\n", b" a\n"),  # leading whitespace matters
        (b"1\n", b""),
        (b"", b"x"),
        (b"a\n", b"a\n\n\nb"),
        (b"ab\n", b"a"),
    ],
)
def test_lines_rejects_different_outputs(answer: bytes, output: bytes) -> None:
    assert verdicts(LINES, answer, output) == {False}


def test_lines_message_names_the_line() -> None:
    result = compare(LINES, b"1\n2\n3\n", b"1\n2\n4\n")
    assert not result.accepted
    assert result.message.splitlines() == ["Wrong answer on line 3", "Expected: 3", "Got: 4"]


def test_lines_endless_trailing_whitespace_is_bounded_and_accepted() -> None:
    comparison = start_comparison(LINES, b"abc\n")
    comparison.feed(b"abc")
    for _ in range(100):
        comparison.feed(b" " * 10_000)
    assert comparison.finish().accepted


@pytest.mark.parametrize(
    ("answer", "output", "accepted"),
    [
        (b"a\n", b"a\n", True),
        (b"a\n", b"a", False),
        (b"a\n", b"a\n\n", False),
        (b"a\n", b"a \n", False),
        (b"", b"", True),
    ],
)
def test_exact_compares_bytes(answer: bytes, output: bytes, accepted: bool) -> None:
    assert verdicts(EXACT, answer, output) == {accepted}


def golden_cases() -> list[Path]:
    cases = sorted(p for p in GOLDEN.glob("test_*") if p.is_dir())
    assert cases, f"golden cases missing at {GOLDEN}"
    return cases


@pytest.mark.parametrize("case", golden_cases(), ids=lambda p: p.name)
def test_tokens_agrees_with_kattis_golden_case(case: Path) -> None:
    args_file = case / "args.txt"
    args = tuple(args_file.read_text().split()) if args_file.exists() else ()
    spec = CheckerSpec("tokens", args)
    answer, output = (case / "judge.ans").read_bytes(), (case / "user.out").read_bytes()
    expected_exit = int((case / "expected_exit_code.txt").read_text())
    assert expected_exit in (42, 43)
    assert verdicts(spec, answer, output) == {expected_exit == 42}
    message_file = case / "expected_message.txt"
    if message_file.exists():
        # The validator's position report (its first line) is reproduced exactly,
        # and so is the kind of difference (its second line, up to any quoted token).
        expected = message_file.read_bytes().decode(errors="replace").splitlines()
        for size in (len(output) or 1, 1):
            ours = check_in_chunks(spec, answer, output, size).message.splitlines()
            assert ours[0] == expected[0]
            assert ours[1].split(":")[0] == expected[1].split(":")[0]


@pytest.mark.parametrize(
    ("args", "answer", "output", "accepted"),
    [
        ((), b"Hello World", b"hello   world\n\n", True),  # case and space lenient
        (("case_sensitive",), b"Hello", b"hello", False),
        (("space_change_sensitive",), b"a b\n", b"a b\n", True),
        (("space_change_sensitive",), b"a b\n", b"a b", False),
        (("space_change_sensitive",), b"a b\n", b"a  b\n", False),
        (("float_tolerance", "1e-6"), b"0.0314", b"3.14000000e-2", True),
        (("float_tolerance", "1e-6"), b"200", b"2.0e2", True),  # 200 is a float token
        ((), b"200", b"2.0e2", False),  # no tolerance: tokens are compared as strings
        (("float_absolute_tolerance", "0.1"), b"x 1.0", b"x 1.05", True),
        (("float_relative_tolerance", "0.1"), b"1000", b"1099", True),
        (("float_relative_tolerance", "0.1"), b"1000", b"1101", False),
        (("float_tolerance", "1"), b"nan", b"nan", True),  # not a float: a string token
        (("float_tolerance", "1"), b"1", b"1_000", False),  # Python-only float syntax
        (("float_tolerance", "1"), b"1", b"0x1p0", True),  # C's strtod reads hex floats
        ((), b"1 2 3", b"1 2", False),
        ((), b"1 2", b"1 2 3", False),
        ((), b"", b" \n ", True),
    ],
)
def test_tokens_semantics(
    args: tuple[str, ...], answer: bytes, output: bytes, accepted: bool
) -> None:
    assert verdicts(CheckerSpec("tokens", args), answer, output) == {accepted}


@pytest.mark.parametrize(
    "args",
    [("float_tolerance",), ("float_tolerance", "x"), ("float_tolerance", "-1"), ("bogus",)],
)
def test_bad_token_flags_are_refused(args: tuple[str, ...]) -> None:
    with pytest.raises(CheckerArgsError):
        validate_spec(CheckerSpec("tokens", args))


def test_flag_parsing() -> None:
    options = TokenOptions.parse(["float_tolerance", "1e-4", "case_sensitive"])
    assert options.case_sensitive and not options.space_change_sensitive
    assert options.float_absolute_tolerance == options.float_relative_tolerance == 1e-4
    assert parse_float(b"1e999") is None and parse_float(b"inf") is None


@pytest.mark.parametrize("mode", ["exact", "lines", "tokens"])
def test_a_long_token_in_the_output_is_not_buffered(mode: str) -> None:
    comparison = start_comparison(CheckerSpec(mode), b"1\n")
    tracemalloc.start()
    try:
        for _ in range(256):  # 16 MiB without a separator
            comparison.feed(b"9" * (64 * 1024))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert not comparison.finish().accepted
    assert peak < 5 * 1024 * 1024  # tokens keeps at most MAX_TOKEN_BYTES (1 MiB) of it


@pytest.mark.parametrize("mode", ["exact", "lines", "tokens"])
@pytest.mark.parametrize("differs", [False, True])
def test_100_mb_output_against_100_mb_answer_is_streamed(mode: str, differs: bool) -> None:
    """Only the answer is in memory; the output passes through in 64 KiB chunks."""
    line = b"12345 67890 abcde fghij\n"
    answer = line * (100 * 1024 * 1024 // len(line))
    comparison = start_comparison(CheckerSpec(mode), answer)
    chunk = 64 * 1024
    tracemalloc.start()
    try:
        for i in range(0, len(answer), chunk):
            piece = answer[i : i + chunk]
            if differs and i <= len(answer) // 2 < i + chunk:
                piece = piece.replace(b"abcde", b"abcdf", 1)
            comparison.feed(piece)
            del piece
        result = comparison.finish()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert result.accepted is not differs
    assert peak < 4 * 1024 * 1024, f"peak {peak} bytes beyond the answer"


@pytest.mark.timeout(60)  # before: matching per position took ~50 s per 32 KB of whitespace
@pytest.mark.parametrize("mode", ["tokens", "lines"])
@pytest.mark.parametrize("then", [b"", b"extra\n"])
def test_a_whitespace_flood_after_the_answer_costs_no_work_per_byte(mode: str, then: bytes) -> None:
    """16 MB of blank lines and spaces after the right answer: accepted (wrong if
    something follows), in 64 KiB chunks as the sandbox sends them."""
    comparison = start_comparison(CheckerSpec(mode=mode), b"42\n")
    comparison.feed(b"42\n")
    chunk = b" \n" * (1 << 15)
    for _ in range(256):
        comparison.feed(chunk)
    comparison.feed(then)
    result = comparison.finish()
    assert result.accepted is (then == b"")
    if then:
        assert "extra" in result.message
        line = 1 + 256 * (1 << 15) + 1  # the answer's line, the blank ones, then "extra"
        assert f"line {line}" in result.message


@pytest.mark.timeout(60)  # before: each byte rescanned the whole pending token or line
@pytest.mark.parametrize(
    ("mode", "args"), [("tokens", ()), ("tokens", ("space_change_sensitive",)), ("lines", ())]
)
def test_output_fed_a_byte_at_a_time_costs_each_byte_once(mode: str, args: tuple[str, ...]) -> None:
    """A program can make every byte its own message: a 200 KB token (or line) arrives
    byte by byte, then blank lines byte by byte; each byte must cost O(1)."""
    comparison = start_comparison(
        CheckerSpec(mode=mode, args=args), b"ab " + b"x" * 200_000 + b"\n"
    )
    comparison.feed(b"ab ")
    for _ in range(200_000):
        comparison.feed(b"x")
    for _ in range(100_000):
        comparison.feed(b"\n" if mode == "lines" else b" ")
    assert comparison.finish().accepted is (not args)


@pytest.mark.timeout(30)  # before: 16,000 digits took 13 s (every split of the run tried)
def test_a_long_digit_run_that_is_not_a_float_fails_in_one_pass() -> None:
    assert parse_float(b"1" * 1_000_000 + b"x") is None
    assert parse_float(b"0x" + b"f" * 1_000_000 + b"g") is None
    spec = CheckerSpec(mode="tokens", args=("float_tolerance", "1e-6"))
    result = compare(spec, b"1.5\n", b"1" * 100_000 + b"x\n")
    assert not result.accepted and "Expected float" in result.message
