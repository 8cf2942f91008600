import pytest

from codeexec.checker.lines import lines_match


@pytest.mark.parametrize(
    ("expected", "got"),
    [
        (b"dan\n", b"dan\n"),
        (b"dan\n", b"dan"),  # no trailing newline
        (b"dan\n", b"dan  \n\n\n"),  # trailing spaces and blank lines
        (b"a\nb\n", b"a\r\nb\r\n"),  # CRLF
        (b"", b""),
        (b"", b"\n\n"),
        ("привет\n".encode(), "привет".encode()),
    ],
)
def test_equivalent_outputs_match(expected: bytes, got: bytes) -> None:
    assert lines_match(expected, got)


@pytest.mark.parametrize(
    ("expected", "got"),
    [
        (b"dan\n", b"Dan\n"),
        (b"a b\n", b"a  b\n"),  # inner whitespace matters
        (b"a\nb\n", b"a\n\nb\n"),  # inner blank lines matter
        (b"a\n", b" a\n"),  # leading whitespace matters
        (b"1\n", b""),
        (b"", b"x"),
    ],
)
def test_different_outputs_do_not_match(expected: bytes, got: bytes) -> None:
    assert not lines_match(expected, got)
