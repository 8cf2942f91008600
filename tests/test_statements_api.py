"""A package's statement and attachments through the real service: imported from a zip
built here, served by the problems API (Markdown, sanitised HTML, files, attachments),
never a way to hidden test data."""

from __future__ import annotations

import asyncio
import io
import zipfile
from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_asyncio
from aiohttp.test_utils import TestClient

from codeexec.packages import statement_html
from tests.conftest import started_service, unavailable
from tests.test_kattis_import import upload

pytestmark = [pytest.mark.docker, pytest.mark.asyncio(loop_scope="module")]

Client = TestClient[Any, Any]
TOKEN = "import-admin"
PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 64
SECRET = b"SECRET-7f3a\n"
HOSTILE = """# Sum

Read <script>alert(1)</script> two numbers.
<img src=x onerror=alert(2)>

[click](javascript:alert(3)) [also](JaVaScRiPt:alert(4)) [data](data:text/html,<b>x</b>)

![the figure](fig.png)

Download the [tool](../attachments/tool.py).
"""


def package(files: dict[str, bytes | str], top: str = "sum") -> bytes:
    base = {
        "problem.yaml": "problem_format_version: 2023-07-draft\nname: Sum\n",
        "data/sample/1.in": "1 2\n",
        "data/sample/1.ans": "3\n",
        "data/secret/1.in": SECRET,
        "data/secret/1.ans": SECRET,
    }
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in (base | files).items():
            archive.writestr(f"{top}/{name}", data)
    return buffer.getvalue()


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def client(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Client]:
    service = await started_service(
        tmp_path_factory.mktemp("statements"), "statements", admin_token=TOKEN,
        seed_demo_problems=False,
    )  # fmt: skip
    status, body = await upload(
        service,
        package(
            {
                "statement/problem.en.md": HOSTILE,
                "statement/problem.en.pdf": b"%PDF-1.4 en",
                "statement/problem.sv.pdf": b"%PDF-1.4 sv",
                "statement/fig.png": PNG,
                "statement/evil.svg": '<svg xmlns="http://www.w3.org/2000/svg"><script>1</script></svg>',
                "attachments/tool.py": "print('tool')\n",
                "attachments/page.html": "<script>alert(1)</script>",
            }
        ),
        "sum.zip",
        checker="tokens",
    )
    assert status == 201, body
    yield service
    await service.close()


async def get(client: Client, path: str, status: int = 200) -> Any:
    response = await client.get(path)
    assert response.status == status, await response.text()
    return response


async def test_the_problem_says_what_statements_and_attachments_it_has(client: Client) -> None:
    body = await (await get(client, "/api/v1/problems/sum")).json()
    assert body["statement_languages"] == ["en", "sv"]
    files = "/api/v1/problems/sum/statement/files/"
    assert body["statements"] == [
        {"language": lang, "format": form, "name": name, "url": files + name}
        for lang, form, name in (
            ("en", "md", "problem.en.md"),
            ("en", "pdf", "problem.en.pdf"),
            ("sv", "pdf", "problem.sv.pdf"),
        )
    ]
    assert body["attachments"] == [
        {"name": "page.html", "size": 25, "content_type": "text/html",
         "url": "/api/v1/problems/sum/attachments/page.html"},
        {"name": "tool.py", "size": 14, "content_type": "text/x-python",
         "url": "/api/v1/problems/sum/attachments/tool.py"},
    ]  # fmt: skip
    assert body["statement"] == HOSTILE  # the field, as before


async def test_markdown_as_stored_and_as_sanitised_html(client: Client) -> None:
    md = await (await get(client, "/api/v1/problems/sum/statement?format=md")).json()
    assert md == {
        "language": "en",
        "format": "md",
        "source": "problem.en.md",
        "content": HOSTILE,
        "files_url": "/api/v1/problems/sum/statement/files/",
    }
    answer = await (await get(client, "/api/v1/problems/sum/statement?lang=en")).json()
    html = answer["content"]
    assert answer["format"] == "html" and "<h1>Sum</h1>" in html
    assert "<script" not in html and "<img src=x" not in html  # as text at most
    assert "javascript:" not in html.lower().replace("](javascript:", "")
    assert 'href="javascript' not in html.lower() and 'href="data:' not in html
    assert '<img src="/api/v1/problems/sum/statement/files/fig.png" alt="the figure">' in html
    assert "<a rel=" in html  # a link to a file the statement does not have: no href


async def test_files_are_served_with_safe_headers(client: Client) -> None:
    image = await get(client, "/api/v1/problems/sum/statement/files/fig.png")
    assert await image.read() == PNG
    assert image.headers["Content-Type"] == "image/png"
    assert image.headers["X-Content-Type-Options"] == "nosniff"
    assert "Content-Disposition" not in image.headers
    pdf = await get(client, "/api/v1/problems/sum/statement/files/problem.sv.pdf")
    assert await pdf.read() == b"%PDF-1.4 sv"
    assert pdf.headers["Content-Type"] == "application/pdf"
    assert pdf.headers["Content-Disposition"].startswith('inline; filename="problem.sv.pdf"')
    svg = await get(client, "/api/v1/problems/sum/statement/files/evil.svg")
    assert svg.headers["Content-Security-Policy"].startswith("sandbox")
    assert svg.headers["Content-Type"] == "image/svg+xml"  # shown by <img>, scripts never run
    tool = await get(client, "/api/v1/problems/sum/attachments/tool.py")
    assert await tool.read() == b"print('tool')\n"
    assert tool.headers["Content-Disposition"] == (
        "attachment; filename=\"tool.py\"; filename*=UTF-8''tool.py"
    )
    page = await get(client, "/api/v1/problems/sum/attachments/page.html")
    assert page.headers["Content-Security-Policy"].startswith("sandbox")
    assert page.headers["Content-Disposition"].startswith("attachment")
    assert page.headers["X-Content-Type-Options"] == "nosniff"
    listed = await (await get(client, "/api/v1/problems/sum/attachments")).json()
    assert [a["name"] for a in listed["items"]] == ["page.html", "tool.py"]


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("statement/files/..%2F..%2Fdata%2Fsecret%2F1.in", 400),
        ("statement/files/%2E%2E/data/secret/1.ans", 404),  # the client makes it /statement/data
        ("statement/files/a/..%2f..%2fdata/secret/1.in", 400),
        ("statement/files/%2Fetc%2Fpasswd", 400),
        ("statement/files/fig.png%00.txt", 400),
        ("statement/files/C:%5Cx", 400),
        ("statement/files/data/secret/1.in", 404),
        ("statement/files/secret/1.in", 404),
        ("attachments/..%2Fdata%2Fsecret%2F1.ans", 400),
        ("attachments/data/secret/1.ans", 404),
        ("attachments/problem.en.md", 404),  # kinds are apart
        ("statement/files/tool.py", 404),
        ("statement/files/FIG.PNG", 404),  # names as stored
    ],
)
async def test_no_name_reaches_anything_else(client: Client, path: str, status: int) -> None:
    response = await client.get(f"/api/v1/problems/sum/{path}")
    assert response.status == status, await response.text()
    assert SECRET.strip() not in await response.read()


async def test_statement_errors_are_clear(client: Client) -> None:
    pdf_only = await (await get(client, "/api/v1/problems/sum/statement?lang=sv", 406)).json()
    assert pdf_only["detail"] == (
        "the sv statement is pdf; the PDF is at /api/v1/problems/sum/statement/files/problem.sv.pdf"
    )
    missing = await (await get(client, "/api/v1/problems/sum/statement?lang=de", 404)).json()
    assert missing["detail"] == "languages: en, sv"
    await get(client, "/api/v1/problems/sum/statement?format=docx", 400)
    await get(client, "/api/v1/problems/sum/statement?lang=../x", 400)
    await get(client, "/api/v1/problems/nope/statement", 404)
    await get(client, "/api/v1/problems/nope/attachments", 404)
    await get(client, "/api/v1/problems/nope/attachments/tool.py", 404)


async def test_a_latex_only_package(client: Client, monkeypatch: pytest.MonkeyPatch) -> None:
    latex = "\\problemname{Sum}\nAdd $a$ and $b$.\n\\illustration{0.4}{fig}{A figure}\n"
    status, body = await upload(
        client,
        package(
            {
                "statement/problem.en.tex": latex,
                "statement/problem.en.pdf": b"%PDF-1.4",
                "statement/fig.png": PNG,
            },
            "texsum",
        ),
        "texsum.zip",
        checker="tokens",
    )
    assert status == 201, body
    assert [(s["language"], s["format"]) for s in body["statements"]] == [
        ("en", "tex"),
        ("en", "pdf"),
    ]
    tex = await (await get(client, "/api/v1/problems/texsum/statement?format=tex")).json()
    assert tex["content"] == latex
    await get(client, "/api/v1/problems/texsum/statement?format=md", 406)
    if statement_html.pandoc() is not None:
        html = await (await get(client, "/api/v1/problems/texsum/statement")).json()
        assert "<h1>Sum</h1>" in html["content"]
        assert 'src="/api/v1/problems/texsum/statement/files/fig.png"' in html["content"]
    monkeypatch.setattr(statement_html.shutil, "which", lambda _name: None)
    # another statement (the conversion above is cached by content)
    status, _ = await upload(
        client,
        package({"statement/problem.en.tex": latex + "%\n", "statement/problem.en.pdf": b"%"}),
        "texsum.zip",
        checker="tokens",
    )
    assert status == 200
    refused = await (await get(client, "/api/v1/problems/texsum/statement", 406)).json()
    assert refused["detail"] == (
        "the statement is LaTeX and pandoc is not installed here; the PDF is at"
        " /api/v1/problems/texsum/statement/files/problem.en.pdf"
    )


async def test_editing_tests_keeps_the_files_and_a_new_import_replaces_them(
    client: Client,
) -> None:
    admin = {"Authorization": f"Bearer {TOKEN}"}
    status, _ = await upload(
        client, package({"attachments/a.txt": "a"}, "keep"), "keep.zip", checker="tokens"
    )
    assert status == 201
    response = await client.post(
        "/api/v1/problems/keep/tests",
        json={"tests": [{"input": "2 2\n", "expected_output": "4\n"}]},
        headers=admin,
    )
    assert response.status == 201
    edited = await response.json()
    assert edited["version"] == 2 and [a["name"] for a in edited["attachments"]] == ["a.txt"]
    assert await (await get(client, "/api/v1/problems/keep/attachments/a.txt")).read() == b"a"
    status, body = await upload(client, package({}, "keep"), "keep.zip", checker="tokens")
    assert status == 200 and body["attachments"] == [] and body["statement_languages"] == []
    await get(client, "/api/v1/problems/keep/attachments/a.txt", 404)
    await get(client, "/api/v1/problems/keep/statement", 404)


async def test_a_hostile_latex_statement_costs_one_bounded_conversion(
    client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    """LaTeX that never ends (a macro expanding itself) is converted once per statement,
    by few pandoc processes at a time, however many callers ask, and however often: an
    anonymous GET must not cost the host a CPU for the timeout each."""
    program = statement_html.pandoc()
    if program is None:
        unavailable("pandoc is not installed")
    languages = ["aa", "bb", "cc", "dd"]
    endless = {
        f"statement/problem.{lang}.tex": f"\\newcommand{{\\x}}{{{lang}\\x}}\\x\n"
        for lang in languages
    }
    status, body = await upload(
        client, package(endless, "endless"), "endless.zip", checker="tokens"
    )
    assert status == 201, body
    monkeypatch.setattr(statement_html, "PANDOC_TIMEOUT_S", 1.0)
    spawned: list[asyncio.subprocess.Process] = []
    running_before: list[int] = []  # pandoc processes still running at each spawn
    spawn = asyncio.create_subprocess_exec

    async def counted(*args: Any, **kwargs: Any) -> asyncio.subprocess.Process:
        process = await spawn(*args, **kwargs)
        if args[0] == program:
            running_before.append(sum(p.returncode is None for p in spawned))
            spawned.append(process)
        return process

    monkeypatch.setattr(statement_html.asyncio, "create_subprocess_exec", counted)
    paths = [f"/api/v1/problems/endless/statement?lang={lang}" for lang in languages] * 3
    for _ in range(2):  # the second round: the failures are remembered
        answers = await asyncio.gather(*(client.get(path) for path in paths))
        for answer in answers:
            assert answer.status == 406, await answer.text()
            assert "pandoc took more than 1 s" in (await answer.json())["detail"]
    assert len(spawned) == len(languages)
    assert max(running_before) < statement_html.CONVERSIONS_AT_ONCE
    assert all(p.returncode is not None for p in spawned)
