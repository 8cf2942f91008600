"""The text a screener parses is the text the compiler reads: what a language's
toolchain does to a file before its grammar applies, done the same way first (Java's
``\\uXXXX`` escapes, Fortran's continued lines, literate Haskell's prose). Each is one
linear pass over the text."""

from __future__ import annotations

import re
from collections.abc import Callable

# A Unicode escape as javac reads it (JLS 3.3): a backslash that is not itself escaped
# (an odd run of them), one or more 'u', four hex digits. The lookbehind starts a match
# only at the start of a run, so a long run of backslashes is read once.
_UNICODE_ESCAPE = re.compile(r"(?<!\\)(\\+)u+([0-9A-Fa-f]{4})")


def _unicode_escape(match: re.Match[str]) -> str:
    backslashes = match.group(1)
    if len(backslashes) % 2 == 0:
        return match.group(0)
    return backslashes[:-1] + chr(int(match.group(2), 16))


def unicode_escapes_translated(source: str) -> str:
    """``source`` as javac reads it before anything else: ``\\u000a`` in a comment
    ends the comment, ``\\u0050rocessBuilder`` is ``ProcessBuilder``. One pass: what
    an escape produces starts no other (``\\u005c\\u0041`` is a backslash and ``A``);
    escaped UTF-16 surrogate pairs become their character."""
    if "\\u" not in source:
        return source
    translated = _UNICODE_ESCAPE.sub(_unicode_escape, source)
    return translated.encode("utf-16", "surrogatepass").decode("utf-16", "replace")


_FORTRAN_SPECIAL = re.compile("['\"!&]")  # outside a string
_FORTRAN_IN_STRING = {"'": re.compile("['&]"), '"': re.compile('["&]')}
# What may follow a continuing `&`: outside a string a comment or nothing; in a string
# nothing (`"a& !"` is text), as gfortran 12 reads them.
_FORTRAN_CONTINUES = re.compile(r"[ \t\r]*(?:!|$)")
_FORTRAN_CONTINUES_STRING = re.compile(r"[ \t\r]*$")


def fortran_joined(source: str) -> str:
    """Free-form Fortran as gfortran reads it: a line whose ``&`` is followed by nothing
    but a comment goes on in the next line that is not blank or a comment, after its
    leading ``&`` — within a token (``call sys&`` / ``&tem('ls')`` is ``call
    system('ls')``) or a string (where only a last ``&`` continues: ``'a& !'`` is text);
    comment lines between are skipped, in a string too; comments dropped. One pass."""
    out: list[list[str]] = []  # the pieces of each line as the compiler reads it
    quote, continued = "", False
    for line in source.split("\n"):
        start = 0
        if continued:
            rest = line.lstrip(" \t")
            if not rest.strip() or rest.startswith("!"):
                continue  # blank and comment lines between are skipped, in a string too
            if rest.startswith("&"):
                start = len(line) - len(rest) + 1
        end, index, goes_on = len(line), start, False
        while index < len(line):
            pattern = _FORTRAN_IN_STRING[quote] if quote else _FORTRAN_SPECIAL
            if (special := pattern.search(line, index)) is None:
                break
            char, index = special.group(), special.end()
            if char == "&":
                if (_FORTRAN_CONTINUES_STRING if quote else _FORTRAN_CONTINUES).match(line, index):
                    end, goes_on = special.start(), True
                    break
            elif quote:
                quote = ""  # its closing quote (a doubled one closes and opens again)
            elif char == "!":
                end = special.start()
                break
            else:
                quote = char
        joined, continued = continued, goes_on
        if not continued:
            quote = ""  # a string left open ends with its statement
        piece = line[start:end]
        if joined and out:
            out[-1].append(piece)
        else:
            out.append([piece])
    return "\n".join("".join(pieces) for pieces in out)


# How a language's text is made what its compiler reads, before it is parsed
# (``[screening] prepare``).
PREPARE: dict[str, Callable[[str], str]] = {"fortran": fortran_joined}


_BEGIN_CODE, _END_CODE = b"\\begin{code}", b"\\end{code}"


def unlit(source: str) -> str:
    """A literate Haskell file as GHC's ``unlit`` leaves it for the compiler: lines
    starting ``>`` (the ``>`` a space), ``#`` lines (a lone ``#`` takes the next line
    with it, ``#!`` is dropped), and the lines between a ``\\begin{code}`` line (blanks
    around it allowed) and one starting ``\\end{code}`` (read as ``fgets`` reads them,
    999 bytes at a time); any other line, prose that could open a comment, is blank."""
    data = source.encode("utf-8", "surrogatepass")
    out, at, size = bytearray(), 0, len(data)

    def line_at(start: int) -> tuple[bytes, int]:
        newline = data.find(b"\n", start)
        return (data[start:], size) if newline < 0 else (data[start:newline], newline + 1)

    while at < size:
        line, after = line_at(at)
        if line.startswith(b"#!"):
            at = after
        elif line == b"#" and after < size:  # '#', then the next line, kept whole
            following, at = line_at(after)
            out += b"#\n" + following + b"\n"
        elif line.startswith((b"#", b">")):
            out += (line if line.startswith(b"#") else b" " + line[1:]).expandtabs(8) + b"\n"
            at = after
        else:
            out += b"\n"
            at = after
            if line.expandtabs(8).lstrip(b" \r")[:99].rstrip() != _BEGIN_CODE:
                continue
            while at < size:  # the code block, by fgets's 999-byte pieces
                newline = data.find(b"\n", at, at + 999)
                piece_end = min(at + 999, size) if newline < 0 else newline + 1
                piece, at = data[at:piece_end], piece_end
                if piece.startswith(_END_CODE):
                    out += b"\n"
                    break
                out += piece
    return out.decode("utf-8", errors="replace")
