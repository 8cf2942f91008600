"""Statements as HTML: Markdown with markdown-it-py (CommonMark, tables; raw HTML off),
LaTeX with pandoc when it is on the PATH; either is then sanitised with nh3 (ammonia's
allow-list: no scripts, event handlers, styles or ``javascript:`` URLs), since packages
are third-party.

Math comes out of both in one form, left for the page to typeset (KaTeX): the TeX as
escaped text in ``<span class="math inline">`` or ``<span class="math display">``
(pandoc's ``--katex`` output; Markdown's ``$..$`` and ``$$..$$`` through mdit-py-plugins'
dollarmath, with pandoc's rule for where a ``$`` opens and closes math, so "costs $5 and
$6" stays text). Those are the only classes a ``span`` keeps.

Relative references to the statement's own files (``fig.png``,
``\\includegraphics{fig}``) become ``files_url`` + the stored name; others are dropped,
so the page never asks for a file the problem does not have.

A statement is at most ``MAX_STATEMENT_BYTES`` (checked at import): converting one costs
a bounded time. pandoc runs with ``--sandbox`` (a ``\\input{/etc/passwd}`` reads
nothing), at most ``PANDOC_MEMORY_MB`` of heap, ``PANDOC_TIMEOUT_S`` and
``MAX_HTML_BYTES`` of output (macros can expand a few bytes into a lot). Callers convert
through ``statement_cache.HtmlCache``: once per statement, a few at a time.
"""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import sys
from collections.abc import Collection, Sequence
from pathlib import PurePosixPath
from urllib.parse import quote, unquote, urlsplit

import nh3

from codeexec.packages.statement_cache import ConversionError
from codeexec.packages.statements import STATEMENT_MEDIA

__all__ = ["ConversionError", "latex_html", "markdown_html", "pandoc", "sanitize"]

PANDOC_TIMEOUT_S = 20.0
PANDOC_MEMORY_MB = 512
MAX_HTML_BYTES = 8 << 20
CONVERSIONS_AT_ONCE = 2  # converter processes (each may take a CPU)
_TAGS = set(nh3.ALLOWED_TAGS) | {"figure", "figcaption", "span", "div"}
_ATTRIBUTES = {tag: set(names) for tag, names in nh3.ALLOWED_ATTRIBUTES.items()} | {
    "div": {"class"},
    "code": {"class"},
    "pre": {"class"},
    "td": {"align", "colspan", "rowspan", "style"},
    "th": {"align", "colspan", "rowspan", "style"},
}
_CLASSES = {"span": {"math", "inline", "display"}}  # the math the page typesets
_STYLES = {"text-align"}  # tables' column alignment (markdown-it, pandoc)
_SCHEMES = {"http", "https", "mailto"}
# Kattis' LaTeX class, as far as HTML goes: its commands and environments in terms
# pandoc knows (the samples are the problem's shown tests, not part of the text).
KATTIS_MACROS = r"""\newcommand{\problemname}[1]{\section*{#1}}
\newcommand{\illustration}[3]{\begin{figure}\includegraphics{#2}\caption{#3}\end{figure}}
\newenvironment{Input}{\section*{Input}}{}
\newenvironment{Output}{\section*{Output}}{}
\newenvironment{Interaction}{\section*{Interaction}}{}
\newcommand{\nextsample}{}
\newcommand{\remainingsamples}{}
"""


# markdown-it-py runs in a process of its own: some inputs take it tens of seconds
# (1 MiB of "![" ~30 s), and a thread cannot be stopped. Its configuration lives here.
# Math: a ``$`` opens only before a non-space and closes only after one, not before a
# digit (pandoc's tex_math_dollars rule); every display form is one span, valid in a <p>.
_MARKDOWN_PROGRAM = """
import sys
from markdown_it import MarkdownIt
from markdown_it.common.utils import escapeHtml
from mdit_py_plugins.dollarmath import dollarmath_plugin
md = MarkdownIt("commonmark", {"html": False, "linkify": False})
md.enable("table").enable("strikethrough")
md.use(dollarmath_plugin, allow_labels=False, allow_space=False, allow_digits=False,
       allow_blank_lines=False, double_inline=True)
def math(kind, end=""):
    def render(self, tokens, idx, options, env):
        tex = escapeHtml(tokens[idx].content.strip())
        return f'<span class="math {kind}">{tex}</span>{end}'
    return render
md.add_render_rule("math_inline", math("inline"))
md.add_render_rule("math_inline_double", math("display"))
md.add_render_rule("math_block", math("display", "\\n"))
sys.stdout.write(md.render(sys.stdin.buffer.read().decode("utf-8", "replace")))
"""
MARKDOWN_TIMEOUT_S = 20.0


def _reference(value: str, names: Collection[str], files_url: str) -> str | None:
    """A relative reference to one of the statement's files, as the URL that serves it
    (LaTeX leaves out an image's extension); None when it names none of them."""
    path = unquote(urlsplit(value).path)
    path = PurePosixPath(path).as_posix().removeprefix("./")
    for name in (path, *(path + ext for ext in STATEMENT_MEDIA)):
        if name in names:
            return files_url + quote(name)
    return None


def sanitize(html: str, names: Collection[str], files_url: str) -> str:
    """``html`` with only allow-listed tags, attributes and URL schemes left, and its
    relative references pointing at ``files_url``."""

    def rewrite(tag: str, attribute: str, value: str) -> str | None:
        if attribute not in ("src", "href"):
            return value
        if value.startswith("#"):
            return value  # an anchor in the statement
        parts = urlsplit(value.strip())
        if parts.scheme in ("http", "https"):
            # Another site's; without a host (``https:/api/v1/keys``) a browser reads it
            # as a path on this origin.
            return value if parts.netloc else None
        if parts.scheme:
            return value  # nh3 keeps mailto only
        # Relative: one of the statement's files, or nothing. Never a path of this
        # origin's own (``/api/...``, ``//``, ``/\``): the page fetches a statement's
        # images with the viewer's key, which must not reach another route.
        return _reference(value, names, files_url)

    return nh3.clean(
        html,
        tags=_TAGS,
        attributes=_ATTRIBUTES,
        attribute_filter=rewrite,
        allowed_classes=_CLASSES,
        filter_style_properties=_STYLES,
        url_schemes=_SCHEMES,
        link_rel="noopener noreferrer nofollow",
    )


async def markdown_html(text: str, names: Collection[str], files_url: str) -> str:
    """The Markdown statement as HTML (ConversionError past ``MARKDOWN_TIMEOUT_S`` or
    ``MAX_HTML_BYTES``: one reference definition used 300,000 times, say)."""
    argv = (sys.executable, "-I", "-c", _MARKDOWN_PROGRAM)
    output = await _convert("markdown-it", argv, text.encode("utf-8"), MARKDOWN_TIMEOUT_S)
    return await asyncio.to_thread(sanitize, output.decode("utf-8", "replace"), names, files_url)


def pandoc() -> str | None:
    return shutil.which("pandoc")


async def latex_html(text: str, names: Collection[str], files_url: str) -> str | None:
    """The LaTeX statement as HTML; None when pandoc is not installed."""
    program = pandoc()
    if program is None:
        return None
    argv = (
        program, "--sandbox", "--quiet", "--from=latex", "--to=html5", "--katex",
        "+RTS", f"-M{PANDOC_MEMORY_MB}m", "-RTS",
    )  # fmt: skip
    source = (KATTIS_MACROS + text).encode("utf-8")
    output = await _convert("pandoc", argv, source, PANDOC_TIMEOUT_S)
    return await asyncio.to_thread(sanitize, output.decode("utf-8", "replace"), names, files_url)


async def _convert(name: str, argv: Sequence[str], source: bytes, timeout_s: float) -> bytes:
    """What the converter ``argv`` writes for ``source`` on its stdin, within
    ``timeout_s`` (then it is killed) and ``MAX_HTML_BYTES``; ConversionError else."""
    process = await asyncio.create_subprocess_exec(
        *argv,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        return await asyncio.wait_for(_converse(name, process, source), timeout_s)
    except TimeoutError:
        raise ConversionError(f"{name} took more than {timeout_s:g} s") from None
    finally:
        if process.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                process.kill()
            await process.wait()


async def _converse(name: str, process: asyncio.subprocess.Process, source: bytes) -> bytes:
    """The converter's output, at most ``MAX_HTML_BYTES``; ConversionError when it fails."""
    assert process.stdin and process.stdout and process.stderr
    try:
        process.stdin.write(source)
        await process.stdin.drain()
        process.stdin.close()
    except (BrokenPipeError, ConnectionResetError):
        pass  # it stopped reading: its exit status and message say why
    output = bytearray()
    while chunk := await process.stdout.read(1 << 16):
        output += chunk
        if len(output) > MAX_HTML_BYTES:
            raise ConversionError(f"{name}'s HTML is over {MAX_HTML_BYTES} bytes")
    errors = await process.stderr.read(2000)
    if await process.wait() != 0:
        message = errors.decode("utf-8", "replace").strip() or f"exit {process.returncode}"
        raise ConversionError(f"{name} could not convert it: {message}")
    return bytes(output)
