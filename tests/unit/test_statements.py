"""A package's statement files and attachments: both layouts, bounds, names, links to
test data; and statements as sanitised HTML."""

from __future__ import annotations

import asyncio
import os
import time
from pathlib import Path

import pytest

from codeexec.model import ATTACHMENT, STATEMENT
from codeexec.model.files import (
    MAX_STATEMENT_BYTES,
    statement_languages,
    statement_source,
    statement_sources,
)
from codeexec.packages import statement_html
from codeexec.packages.archive import PackageLimits, PackageTooLarge
from codeexec.packages.importer import open_path
from codeexec.packages.kattis import read_kattis_package
from codeexec.packages.statement_html import latex_html, markdown_html
from tests.conftest import unavailable
from tests.unit.test_kattis_packages import LANGUAGES, write_package, zip_of

LIMITS = PackageLimits(max_bytes=16 << 20, max_files=100)
PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 32
DATA = {
    "data/sample/1.in": "1\n",
    "data/sample/1.ans": "1\n",
    "data/secret/1.in": "SECRET-INPUT\n",
    "data/secret/1.ans": "SECRET-ANSWER\n",
}
FILES_URL = "/api/v1/problems/p/statement/files/"


def files_of(tmp_path: Path, package: dict[str, str | bytes], as_zip: bool = False) -> dict:
    root = write_package(tmp_path / "p", DATA | package)
    path = zip_of(root, tmp_path / "p.zip") if as_zip else root
    imported = read_kattis_package(open_path(path, LIMITS), LANGUAGES)
    return {
        "files": {(f.kind, f.name): (f.content_type, f.data) for f in imported.files},
        "statement": imported.problem.statement,
        "notes": imported.notes,
    }


@pytest.mark.parametrize("as_zip", [False, True])
def test_modern_layout_keeps_statements_images_and_attachments(
    tmp_path: Path, as_zip: bool
) -> None:
    got = files_of(
        tmp_path,
        {
            "problem.yaml": "problem_format_version: 2023-07-draft\nname: P\n",
            "statement/problem.en.md": "# P\n![a figure](fig.png)\n",
            "statement/problem.sv.tex": "\\problemname{P}\n",
            "statement/problem.sv.pdf": b"%PDF-1.4",
            "statement/fig.png": PNG,
            "statement/img/b.svg": "<svg/>",
            "statement/template.sty": "% not kept",
            "attachments/testing_tool.py": "print(1)\n",
            "attachments/notes.weird": b"\0\1",
        },
        as_zip,
    )
    assert got["files"] == {
        (STATEMENT, "fig.png"): ("image/png", PNG),
        (STATEMENT, "img/b.svg"): ("image/svg+xml", b"<svg/>"),
        (STATEMENT, "problem.en.md"): (
            "text/markdown; charset=utf-8",
            b"# P\n![a figure](fig.png)\n",
        ),
        (STATEMENT, "problem.sv.pdf"): ("application/pdf", b"%PDF-1.4"),
        (STATEMENT, "problem.sv.tex"): ("application/x-tex", b"\\problemname{P}\n"),
        (ATTACHMENT, "testing_tool.py"): ("text/x-python", b"print(1)\n"),
        (ATTACHMENT, "notes.weird"): ("application/octet-stream", b"\0\1"),
    }
    assert got["statement"] == "# P\n![a figure](fig.png)\n"
    assert any("statement/template.sty" in note for note in got["notes"])


def test_legacy_layout_reads_problem_statement(tmp_path: Path) -> None:
    got = files_of(
        tmp_path,
        {
            "problem.yaml": "name: P\n",
            "problem_statement/problem.tex": "\\problemname{P} Legacy.",
            "problem_statement/problem.de.tex": "Deutsch.",
            "problem_statement/pic.jpg": b"\xff\xd8jpeg",
        },
    )
    assert set(got["files"]) == {
        (STATEMENT, "problem.tex"),
        (STATEMENT, "problem.de.tex"),
        (STATEMENT, "pic.jpg"),
    }
    assert got["statement"] == "\\problemname{P} Legacy."  # problem.tex: English


def test_statement_names() -> None:
    assert statement_source("problem.en.md") == ("en", "md")
    assert statement_source("problem.pt-BR.tex") == ("pt-BR", "tex")
    assert statement_source("problem.pdf") == ("en", "pdf")
    for other in ("fig.png", "problem.en.md.png", "sub/problem.en.md", "problem.EN.md"):
        assert statement_source(other) is None
    names = ["problem.md", "problem.en.md", "problem.sv.pdf", "problem.sv.tex", "x.png"]
    assert statement_sources(names)[("en", "md")] == "problem.en.md"
    assert statement_languages(names) == {"en": ["md"], "sv": ["tex", "pdf"]}


def test_a_statement_over_its_bound_is_refused(tmp_path: Path) -> None:
    with pytest.raises(PackageTooLarge, match="a statement may be at most"):
        files_of(
            tmp_path,
            {
                "problem.yaml": "name: P\n",
                "problem_statement/problem.en.tex": "x" * (MAX_STATEMENT_BYTES + 1),
            },
        )


def test_package_limits_count_statement_files(tmp_path: Path) -> None:
    package = {f"statement/{i}.png": PNG for i in range(120)} | {"problem.yaml": "name: P\n"}
    root = write_package(tmp_path / "p", DATA | package)
    with pytest.raises(PackageTooLarge, match="more than 100 files"):
        open_path(root, LIMITS)


def test_links_to_test_data_are_never_kept(tmp_path: Path) -> None:
    root = write_package(
        tmp_path / "p",
        DATA | {"problem.yaml": "name: P\n", "statement/problem.en.md": "![s](leak.png)"},
    )
    os.symlink("../data/secret/1.ans", root / "statement/leak.png")
    (root / "attachments").mkdir()
    os.symlink("../data/secret/1.in", root / "attachments/input.txt")
    imported = read_kattis_package(open_path(root, LIMITS), LANGUAGES)
    assert [(f.kind, f.name) for f in imported.files] == [(STATEMENT, "problem.en.md")]
    assert all(b"SECRET" not in f.data for f in imported.files)
    assert any("links to test data" in note for note in imported.notes)


def test_hard_links_to_test_data_are_never_kept(tmp_path: Path) -> None:
    """A folder unpacked from a tar may hold hard links: the same bytes as a hidden
    test under another name, which no symlink check sees."""
    root = write_package(tmp_path / "p", DATA | {"problem.yaml": "name: P\n"})
    (root / "attachments").mkdir()
    (root / "statement").mkdir()
    os.link(root / "data/secret/1.ans", root / "attachments/answer.txt")
    os.link(root / "data/secret/1.in", root / "statement/input.png")
    os.link(root / "attachments/answer.txt", root / "attachments/again.txt")
    imported = read_kattis_package(open_path(root, LIMITS), LANGUAGES)
    assert imported.files == []
    assert any("3 file(s) not kept (links to test data)" in note for note in imported.notes)


def test_names_ending_in_a_space_are_left_out(tmp_path: Path) -> None:
    """MySQL compares names padded with spaces (utf8mb4_bin): "a.txt " would be the
    same stored name as "a.txt", and the import would fail on the duplicate."""
    files = {"attachments/a.txt": "1", "attachments/a.txt ": "2", "statement/f.png  ": PNG}
    root = write_package(tmp_path / "p", DATA | {"problem.yaml": "name: P\n"} | files)
    imported = read_kattis_package(open_path(zip_of(root, tmp_path / "p.zip"), LIMITS), LANGUAGES)
    assert [(f.name, f.data) for f in imported.files] == [("a.txt", b"1")]
    assert any("2 file(s) not kept (names ending in a space)" in n for n in imported.notes)


def test_markdown_becomes_sanitised_html_with_its_images() -> None:
    html = asyncio.run(markdown_html(
        "# T\n<script>alert(1)</script>\n\n[x](javascript:alert(1)) <img src=x onerror=alert(1)>"
        "\n\n![fig](fig.png) ![gone](missing.png) [web](https://example.com) [tool](t.py)",
        ["fig.png"],
        FILES_URL,
    ))  # fmt: skip
    assert "<script" not in html and "&lt;script&gt;" in html  # shown as text, never run
    assert "&lt;img src=x onerror=alert(1)&gt;" in html and "<img src=x" not in html
    assert 'href="javascript' not in html
    assert f'<img src="{FILES_URL}fig.png" alt="fig">' in html
    assert '<img alt="gone">' in html  # a file the problem does not have: no request
    assert 'href="https://example.com"' in html
    assert "<h1>T</h1>" in html


def test_raw_html_that_reaches_the_sanitiser_is_cleaned() -> None:
    html = statement_html.sanitize(
        '<p onclick="x()">a<script>b</script><a href="javascript:c()">d</a>'
        '<img src="./fig.png" style="position:fixed"><iframe src="e"></iframe></p>',
        ["fig.png"],
        FILES_URL,
    )
    assert (
        html == f'<p>a<a rel="noopener noreferrer nofollow">d</a><img src="{FILES_URL}fig.png"></p>'
    )


def test_latex_becomes_html_with_pandoc_in_a_sandbox() -> None:
    if statement_html.pandoc() is None:
        unavailable("pandoc is not installed")
    html = asyncio.run(
        latex_html(
            "\\problemname{Sum}\n\\illustration{0.3}{fig}{A figure}\n"
            "\\begin{Input}Two numbers $a<b$.\\end{Input}\n\\input{/etc/passwd}\n"
            "\\href{javascript:alert(1)}{x}",
            ["fig.png"],
            FILES_URL,
        )
    )
    assert html is not None
    assert "<h1>Sum</h1>" in html and "<h1>Input</h1>" in html
    assert f'<img src="{FILES_URL}fig.png"' in html
    assert "root:" not in html and "javascript" not in html


def test_markdown_math_becomes_elements_holding_the_tex_as_text() -> None:
    html = asyncio.run(markdown_html(
        "Let $1 \\le n \\le 10^5$ and $a<b$; also $$\\sum_i i$$ here.\n\n"
        "$$\n\\frac{1}{2} > x\n$$\n\n"
        "$</span><script>alert(1)</script>$",
        [],
        FILES_URL,
    ))  # fmt: skip
    assert '<span class="math inline">1 \\le n \\le 10^5</span>' in html
    assert '<span class="math inline">a&lt;b</span>' in html
    assert '<p>Let <span class="math inline">' in html
    assert '<span class="math display">\\sum_i i</span> here.</p>' in html  # in its paragraph
    assert '<span class="math display">\\frac{1}{2} &gt; x</span>' in html
    hostile = "&lt;/span&gt;&lt;script&gt;alert(1)&lt;/script&gt;"
    assert f'<span class="math inline">{hostile}</span>' in html
    assert "<script" not in html


@pytest.mark.parametrize(
    "text",
    [
        "It costs $5 and $6 today.",  # a $ before a space does not close math
        "From $5 to $10.",
        "Pay $ x $ now.",  # nor does one after a space open it
        "It is 2$ or $3.",  # nor one next to a digit
        "An escaped \\$x\\$ here.",
        "`$x$` in code",
        "```\n$x$\n```",
        "    $x$ indented",
    ],
)
def test_dollars_that_are_not_math_stay_as_written(text: str) -> None:
    html = asyncio.run(markdown_html(text, [], FILES_URL))
    assert "math" not in html
    assert "$" in html


def test_the_sanitiser_keeps_the_math_classes_only() -> None:
    html = statement_html.sanitize(
        '<span class="math inline">x</span><span class="math display evil">y</span>'
        '<span class="muted">z</span><p class="math inline">w</p><a class="math">v</a>',
        [],
        FILES_URL,
    )
    assert html == (
        '<span class="math inline">x</span><span class="math display">y</span>'
        '<span class="">z</span><p>w</p><a rel="noopener noreferrer nofollow">v</a>'
    )


def test_latex_math_becomes_the_same_elements() -> None:
    if statement_html.pandoc() is None:
        unavailable("pandoc is not installed")
    html = asyncio.run(
        latex_html(
            "Let $1 \\le n < 10^5$ and \\(a\\) and \\[ b \\]\n"
            "\\begin{equation} c = 1 \\end{equation}\n"
            "$$d$$ Prices \\$5 and \\$6. \\verb|$e$|\n"
            "\\begin{verbatim}\n$f$\n\\end{verbatim}\n",
            [],
            FILES_URL,
        )
    )
    assert html is not None
    assert '<span class="math inline">1 \\le n &lt; 10^5</span>' in html
    assert '<span class="math inline">a</span>' in html
    for tex in ("b", "c = 1", "d"):
        assert f'<span class="math display">{tex}</span>' in html
    assert "Prices $5 and $6." in html
    assert "<code>$e$</code>" in html and "<pre><code>$f$</code></pre>" in html
    assert "\\(" not in html and "\\[" not in html  # no delimiters: the TeX only


def test_latex_without_pandoc_is_none(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(statement_html.shutil, "which", lambda _name: None)
    assert asyncio.run(latex_html("x", [], FILES_URL)) is None


@pytest.mark.parametrize(
    "reference",
    [
        "/api/v1/keys",
        "/api/v1/problems/other/attachments/a.txt",
        "/api/v1/problems/p/statement/files/../../../keys",
        "/api/v1/problems/p/statement/files/%2e%2e/%2e%2e/%2e%2e/keys",
        "\\api\\v1\\keys",
        "/\\evil.example/x.png",
        "fig.png/../../../../keys",
        "https:/api/v1/keys",  # same scheme, no host: a browser makes it this origin's
        "http:api/v1/keys",
        "//evil.example/x.png",
    ],
)
def test_a_statement_names_no_other_route(reference: str) -> None:
    """The page fetches a statement's images with the viewer's key: a hostile statement
    must not make it ask for another route (an admin's keys, another problem's files)."""
    for html in (
        asyncio.run(
            markdown_html(f"![x](<{reference}>) [y](<{reference}>)", ["fig.png"], FILES_URL)
        ),
        statement_html.sanitize(
            f'<img src="{reference}"><a href="{reference}">y</a>', ["fig.png"], FILES_URL
        ),
    ):
        assert "src=" not in html and "href=" not in html, html


def test_markdown_whose_html_is_too_big_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(statement_html, "MAX_HTML_BYTES", 1000)
    with pytest.raises(statement_html.ConversionError, match="over 1000 bytes"):
        asyncio.run(markdown_html("[x]: /u\n" + "[x] " * 100, [], FILES_URL))  # from 400 bytes
    assert asyncio.run(markdown_html("[x]: /u\n" + "[x] " * 10, [], FILES_URL))


def test_markdown_that_converts_forever_is_stopped(monkeypatch: pytest.MonkeyPatch) -> None:
    """markdown-it-py takes tens of seconds on some inputs (1 MiB of "![" ~30 s): it runs
    in a process of its own, killed at the timeout (a thread could not be stopped)."""
    monkeypatch.setattr(statement_html, "MARKDOWN_TIMEOUT_S", 1.0)
    started = time.monotonic()
    with pytest.raises(statement_html.ConversionError, match="took more than 1 s"):
        asyncio.run(markdown_html("![" * 400_000, [], FILES_URL))
    assert time.monotonic() - started < 5
