"""The judge page (``/``) in a real browser (Debian's Chromium driven by Playwright)
against the real service and sandbox: choose, write, submit, watch the verdicts.

Screenshots of each state go to ``build/screenshots/`` (CI keeps them; docs/web.md).
Without Chromium the tests skip, except under ``CI=true``, where they fail.
"""

from __future__ import annotations

import io
import re
import shutil
import struct
import zipfile
import zlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from aiohttp.test_utils import TestClient

from codeexec.http.web_view import PAGE
from codeexec.packages.statement_html import pandoc
from tests.conftest import REPO, started_service, unavailable
from tests.test_kattis_import import KATTIS, zipped

pytestmark = [pytest.mark.docker, pytest.mark.asyncio(loop_scope="module")]

CHROMIUM = Path("/usr/bin/chromium")
# This machine's sandbox-less, offline Chromium (no GPU, no background traffic).
FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]  # fmt: skip
SHOTS = REPO / "build" / "screenshots"
PROBLEM = "HQ000000000000000002"  # the demo's: print the line in lower case
ACCEPTED = "print(input().lower())"
WRONG = "print(input())"
BROKEN_C = "int main(void) { return 0 }\n"
Client = TestClient[Any, Any]


@pytest.fixture(scope="module")
def playwright_api() -> Any:
    try:
        from playwright.async_api import async_playwright
    except ImportError as exc:
        unavailable(f"the playwright package is not installed: {exc}")
    if not CHROMIUM.exists():
        unavailable(f"no Chromium at {CHROMIUM} (apt-get install chromium)")
    if not PAGE.is_file():
        unavailable("the page is not built (scripts/frontend.sh)")
    return async_playwright


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def client(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Client]:
    service = await started_service(
        tmp_path_factory.mktemp("web"), "web", languages=("python", "c"), job_poll_s=0.05
    )
    yield service
    await service.close()


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def browser(
    playwright_api: Any, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Any]:
    SHOTS.mkdir(parents=True, exist_ok=True)
    profile = tmp_path_factory.mktemp("chromium-profile")  # a fresh --user-data-dir
    async with playwright_api() as p:
        context = await p.chromium.launch_persistent_context(
            str(profile), executable_path=str(CHROMIUM), headless=True, args=FLAGS,
            viewport={"width": 1280, "height": 900},
        )  # fmt: skip
        yield context
        await context.close()
    shutil.rmtree(profile, ignore_errors=True)


class Page:
    """A page of the browser at the service's /, with what went wrong in it recorded."""

    def __init__(self, page: Any) -> None:
        self.page = page
        self.errors: list[str] = []
        page.on("console", self._console)
        page.on("pageerror", lambda e: self.errors.append(str(e)))

    def _console(self, message: Any) -> None:
        # A CSP violation is a console error; an API's 401 or 404 answer is one too.
        if message.type == "error" and not message.text.startswith("Failed to load resource"):
            self.errors.append(message.text)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.page, name)


@pytest_asyncio.fixture(loop_scope="module")
async def page(browser: Any, client: Client) -> AsyncIterator[Page]:
    tab = Page(await browser.new_page())
    await tab.goto(str(client.make_url("/")))
    await expect(tab.get_by_role("combobox", name="Problem")).to_have_value(re.compile(".+"))
    yield tab
    await tab.close()
    assert tab.errors == []


def expect(locator: Any) -> Any:
    from playwright.async_api import expect as playwright_expect

    playwright_expect.set_options(timeout=60_000)  # a cold sandbox takes a while
    return playwright_expect(locator)


async def write(page: Page, language: str, source: str) -> None:
    await page.get_by_role("combobox", name="Problem").select_option(PROBLEM)
    await page.get_by_role("combobox", name="Language").select_option(language)
    editor = page.get_by_role("textbox", name="Source code")
    await editor.click()
    await page.keyboard.press("Control+A")
    await page.keyboard.press("Delete")
    await page.keyboard.insert_text(source)  # as typed, without auto-indenting


def results(page: Page) -> Any:
    return page.get_by_role("table", name="Results").locator("tbody tr")


async def test_an_accepted_submission_shows_ac_and_a_row_per_shown_test(page: Page) -> None:
    await write(page, "python", ACCEPTED)
    await page.get_by_role("button", name="Submit").click()
    status = page.get_by_role("status")
    await expect(status).to_have_text(re.compile(r"AC, shown 2/2 passed, hidden 2/2 passed$"))
    await expect(results(page)).to_have_count(2)
    await expect(results(page).nth(0)).to_contain_text(re.compile(r"AC\s*\d+ ms\s*\d"))
    await page.screenshot(path=SHOTS / "accepted.png", full_page=True)


async def test_run_samples_judges_the_shown_tests_only(page: Page, client: Client) -> None:
    await write(page, "python", ACCEPTED)
    posted: list[str] = []
    page.on("request", lambda r: posted.append(r.url) if r.method == "POST" else None)
    await page.get_by_role("button", name="Run samples").click()
    await expect(page.get_by_role("status")).to_have_text("Samples: AC, shown 2/2 passed")
    await expect(results(page)).to_have_count(2)
    await expect(page.locator("#history button").first).to_have_text(
        f"{PROBLEM} · python · AC · samples"
    )
    await page.screenshot(path=SHOTS / "samples.png", full_page=True)
    # One job on the shown tests (compiled once), not a run per sample.
    assert posted == [str(client.make_url("/api/v1/submissions"))]
    newest = (await (await client.get("/api/v1/submissions?limit=1")).json())["items"][0]
    assert (newest["scope"], newest["verdict"], newest["tests"]["hidden"]) == (
        "shown", "AC", {"passed": 0, "failed": 0},
    )  # fmt: skip
    assert [r["position"] for r in newest["results"]] == [1, 2]


async def test_a_wrong_answer_shows_where_the_output_differs(page: Page) -> None:
    await write(page, "python", WRONG)
    await page.get_by_role("button", name="Submit").click()
    await expect(page.get_by_role("status")).to_have_text(re.compile(r"WA, shown 0/2 passed"))
    first = page.locator("#details .difference").first
    await expect(first).to_contain_text("First difference: line 1, column 1.")
    marks = first.locator("mark")
    await expect(marks).to_have_text(["dan", "DaN"])  # expected, got
    await page.screenshot(path=SHOTS / "wrong-answer.png", full_page=True)


async def test_a_compile_error_shows_the_compilers_message(page: Page) -> None:
    await write(page, "c", BROKEN_C)
    await page.get_by_role("button", name="Submit").click()
    await expect(page.get_by_role("status")).to_have_text(re.compile(r"CE, shown 0/2 passed"))
    await expect(page.locator("#compile-output")).to_contain_text("error")
    await expect(page.locator("#compile-output")).to_contain_text("expected")
    await page.screenshot(path=SHOTS / "compile-error.png", full_page=True)


async def test_the_page_fits_360_px_without_horizontal_scroll(page: Page) -> None:
    await page.set_viewport_size({"width": 360, "height": 780})
    await write(page, "python", WRONG + "  # a long line " + "x" * 80)
    await page.get_by_role("button", name="Submit").click()
    await expect(page.get_by_role("status")).to_have_text(re.compile(r"WA, shown 0/2"))
    overflow = await page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 0
    await page.screenshot(path=SHOTS / "narrow-360px.png", full_page=True)


async def focus(page: Page, selector: str) -> None:
    """Tab (only) until the element has the focus."""
    for _ in range(40):
        if await page.evaluate(f"document.activeElement === document.querySelector('{selector}')"):
            return
        await page.keyboard.press("Tab")
    raise AssertionError(f"Tab never reached {selector}")


async def test_keyboard_only_submit(page: Page) -> None:
    await focus(page, "#problem")
    await page.keyboard.press("Home")
    await page.keyboard.press("ArrowDown")  # the demo's second problem
    await expect(page.get_by_role("combobox", name="Problem")).to_have_value(PROBLEM)
    await expect(page.locator("#problem-title")).to_have_text("Lower case")
    await focus(page, "#language")
    await page.keyboard.press("End")  # the last language offered: Python 3 (by id)
    await expect(page.get_by_role("combobox", name="Language")).to_have_value("python")
    await focus(page, ".cm-content")
    await page.keyboard.press("Control+A")
    await page.keyboard.press("Delete")
    await page.keyboard.insert_text(ACCEPTED)
    await focus(page, "#submit")  # Tab leaves the editor
    await page.keyboard.press("Enter")
    await expect(page.get_by_role("status")).to_have_text(re.compile(r"AC, shown 2/2 passed"))
    await page.screenshot(path=SHOTS / "keyboard.png", full_page=True)


async def test_recent_submissions_open_again(page: Page) -> None:
    await write(page, "python", ACCEPTED + "  # again")
    await page.get_by_role("button", name="Submit").click()
    await expect(page.get_by_role("status")).to_have_text(re.compile(r"AC, shown 2/2"))
    await page.reload()
    history = page.locator("#history button")
    await expect(history.first).to_have_text(f"{PROBLEM} · python · AC")
    await history.first.click()
    await expect(page.get_by_role("status")).to_have_text(re.compile(r"AC, shown 2/2 passed"))
    await expect(page.get_by_role("textbox", name="Source code")).to_have_text(
        ACCEPTED + "  # again"
    )
    await expect(results(page)).to_have_count(2)
    await page.screenshot(path=SHOTS / "reopened.png", full_page=True)


async def test_the_page_and_its_assets_carry_their_headers(client: Client) -> None:
    page = await client.get("/")
    policy = page.headers["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "'unsafe-inline'" not in policy
    assert "default-src 'none'" in policy and page.headers["Cache-Control"] == "no-cache"
    html = await page.text()
    nonce = re.search(r"'nonce-([^']+)'", policy)
    assert nonce and f'content="{nonce.group(1)}"' in html  # the editor's, fresh each time
    asset = re.search(r'src="(/web/assets/[^"]+\.js)"', html)
    assert asset, html
    served = await client.get(asset.group(1))
    assert served.status == 200 and "immutable" in served.headers["Cache-Control"]
    assert served.headers["Content-Security-Policy"].startswith("default-src 'none'")
    missing = await client.get("/web/assets/nothing.js")
    assert missing.status == 404 and (await missing.json())["error"] == "Not found"
    assert (await client.get("/web/assets/..%2findex.html")).status == 404


ADMIN_TOKEN = "web-admin-token"


async def signed_in(page: Page, service: Client) -> None:
    """``page`` at ``service``'s / with the admin key entered, as a person does it."""
    await page.goto(str(service.make_url("/")))
    await page.get_by_label("API key").fill(ADMIN_TOKEN)
    await page.keyboard.press("Enter")
    await expect(page.get_by_role("combobox", name="Problem")).to_have_value(re.compile(".+"))


async def import_through_the_page(page: Page, name: str, package: bytes) -> None:
    """Import a Kattis package zip with the page's form; it opens the problem."""
    await page.get_by_label("Kattis package (zip)").set_input_files(
        files=[{"name": f"{name}.zip", "mimeType": "application/zip", "buffer": package}]
    )
    await page.get_by_role("button", name="Import problem").click()
    await expect(page.get_by_role("combobox", name="Problem")).to_have_value(name)


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def locked(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Client]:
    """A service that requires a key, as one on a public address does."""
    service = await started_service(
        tmp_path_factory.mktemp("web-auth"), "web-auth", languages=("python",),
        job_poll_s=0.05, auth="on", admin_token=ADMIN_TOKEN,
    )  # fmt: skip
    yield service
    await service.close()


async def test_sign_in_with_a_key_and_import_a_problem_as_admin(
    browser: Any, locked: Client
) -> None:
    page = Page(await browser.new_page())
    await page.goto(str(locked.make_url("/")))
    status = page.get_by_role("status")
    await expect(status).to_have_text(re.compile("Authentication required.*Sign in"))
    await expect(page.get_by_role("heading", name="Import problem")).to_be_hidden()
    await page.get_by_label("API key").fill(ADMIN_TOKEN)
    await page.keyboard.press("Enter")
    await expect(page.get_by_role("combobox", name="Problem")).to_have_value(re.compile(".+"))
    assert ADMIN_TOKEN not in page.url
    stored = await page.evaluate("sessionStorage.getItem('codeexec.apiKey')")
    assert stored == ADMIN_TOKEN
    await expect(page.get_by_role("heading", name="Import problem")).to_be_visible()
    await page.get_by_label("Kattis package (zip)").set_input_files(
        files=[{"name": "hello.zip", "mimeType": "application/zip",
                "buffer": zipped(KATTIS / "hello", "hello")}]
    )  # fmt: skip
    await page.get_by_role("button", name="Import problem").click()
    await expect(page.locator("#import-report")).to_contain_text("Imported hello")
    await expect(page.get_by_role("combobox", name="Problem")).to_have_value("hello")
    await page.screenshot(path=SHOTS / "signed-in-admin-import.png", full_page=True)
    await page.get_by_role("button", name="Sign out").click()
    assert await page.evaluate("sessionStorage.getItem('codeexec.apiKey')") is None
    await page.close()
    assert page.errors == []


# A statement from a third-party package (Kattis import), and a program's output: text
# that neither the admin nor the page's author wrote.
HOSTILE_STATEMENT = """# Hostile <script>window.pwned = 1</script>

[a link](javascript:window.pwned=1) <a href="javascript:window.pwned=1">another</a>
<img src="x" onerror="window.pwned = 1"> <img src="https://evil.example/pixel.png">
<svg><script>window.pwned = 1</script><a href="javascript:window.pwned=1"><text>s</text></a></svg>
<style>body { background: rgb(255, 0, 0) }</style>
<p style="color: rgb(255, 0, 0)" class="styled">styled</p>

<p id="status">Judged: AC, shown 1/1 passed</p>
<div id="details"></div><table><tbody id="results-body"></tbody></table>
<form id="import-form" action="/"><input id="api-key" name="key"><button>Sign in</button></form>
<iframe src="/"></iframe><meta http-equiv="refresh" content="0; url=https://evil.example">
"""
HOSTILE_OUTPUT = (
    "print('<img src=x onerror=window.pwned=1></pre></script><script>window.pwned=1</script>')"
)


async def test_hostile_statement_and_output_stay_text_and_cannot_stand_in_for_the_page(
    browser: Any, locked: Client
) -> None:
    problem = {
        "id": "hostile", "title": "<img src=x onerror='window.pwned=1'>Hostile",
        "statement": HOSTILE_STATEMENT,
        "tests": [{"name": "<b>one</b>", "input": "x\n", "expected_output": "<i>x</i>\n"}],
    }  # fmt: skip
    made = await locked.post(
        "/api/v1/problems", json=problem, headers={"Authorization": f"Bearer {ADMIN_TOKEN}"}
    )
    assert made.status == 201, await made.text()
    page = Page(await browser.new_page())
    await signed_in(page, locked)
    await page.get_by_role("combobox", name="Problem").select_option("hostile")
    await expect(page.locator("#problem-title")).to_have_text(problem["title"])
    await page.get_by_role("combobox", name="Language").select_option("python")
    await page.get_by_role("textbox", name="Source code").click()
    await page.keyboard.press("Control+A")
    await page.keyboard.press("Delete")
    await page.keyboard.insert_text(HOSTILE_OUTPUT)
    await page.get_by_role("button", name="Submit").click()
    # The verdict goes to the page's own status line, not to the statement's look-alike.
    status = page.locator("#status")
    await expect(status).to_have_count(1)
    await expect(status).to_have_attribute("role", "status")
    await expect(status).to_have_text(re.compile(r"WA, shown 0/1 passed"))
    await expect(page.locator("#details .difference")).to_contain_text("<img src=x onerror")
    await expect(page.locator("#samples h4")).to_have_text("Sample 1 (<b>one</b>)")
    statement = page.locator("#statement")
    await expect(statement.locator("h1")).to_have_text("Hostile")
    for what in ("script", "form", "input", "button", "iframe", "meta", "[onerror]",
                 "[href^='javascript']", "[id='details']", "[id='results-body']"):  # fmt: skip
        assert await statement.locator(what).count() == 0, what
    # The CSP holds for what the sanitiser lets through: no inline style, no foreign image.
    styled = await page.evaluate(
        "getComputedStyle(document.querySelector('#statement .styled')).color"
    )
    assert styled != "rgb(255, 0, 0)"
    assert await page.evaluate("getComputedStyle(document.body).backgroundColor") != (
        "rgb(255, 0, 0)"
    )
    assert await page.evaluate("window.pwned") is None
    assert page.url == str(locked.make_url("/"))
    await page.screenshot(path=SHOTS / "hostile-statement.png", full_page=True)
    await page.close()
    assert [e for e in page.errors if "Content Security Policy" not in e] == []


async def test_every_answer_forbids_framing_and_sniffing(client: Client) -> None:
    """Pages, their files, the API's answers and errors (which repeat what was asked):
    none may be framed (clickjacking) or sniffed into HTML, whatever answers them."""
    for path in (
        "/", "/web/assets/nothing.js", "/web/assets/%3Cscript%3E.html", "/docs",
        "/docs/swagger-ui-bundle.js", "/docs/%3Csvg%20onload=alert(1)%3E", "/docs/LICENSE",
        "/api/v1/openapi.json", "/api/v1/problems/%3Cscript%3E", "/no/such/route",
    ):  # fmt: skip
        answer = await client.get(path)
        headers = answer.headers
        assert headers.get("X-Content-Type-Options") == "nosniff", path
        policy = headers.get("Content-Security-Policy", "")
        assert "frame-ancestors 'none'" in policy and headers.get("X-Frame-Options") == "DENY", path
        assert "'unsafe-inline'" not in policy and "'unsafe-eval'" not in policy, path
        if not headers["Content-Type"].startswith("text/html"):
            assert policy.startswith("default-src 'none'"), path


async def test_the_api_docs_page_works_under_its_policy_and_loads_nothing_from_elsewhere(
    browser: Any, client: Client
) -> None:
    tab = Page(await browser.new_page())
    elsewhere: list[str] = []
    origin = str(client.make_url("/")).rstrip("/")
    tab.on(
        "request",
        lambda r: None if r.url.startswith((origin, "data:")) else elsewhere.append(r.url),
    )
    await tab.goto(str(client.make_url("/docs")))
    await expect(tab.locator(".opblock-summary-path").first).to_be_visible()
    await expect(tab.get_by_text("/api/v1/submissions", exact=True).first).to_be_visible()
    await tab.locator(".opblock-summary").first.click()  # an operation, opened
    await expect(tab.locator(".opblock-body").first).to_be_visible()
    await tab.screenshot(path=SHOTS / "api-docs.png")
    await tab.close()
    assert elsewhere == []
    assert tab.errors == []


def png_dot() -> bytes:
    """A real 1x1 PNG (the browser must decode it)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\0\xff\0\0")) + chunk(b"IEND", b"")
    )  # fmt: skip


def statement_package() -> bytes:
    files = {
        "problem.yaml": "problem_format_version: 2023-07-draft\nname: Shown\n",
        "data/sample/1.in": "a\n",
        "data/sample/1.ans": "a\n",
        "statement/problem.en.md": "# Shown statement\n\nPrint it.<script>window.pwned = 1</script>"
        "\n\n![a dot](dot.png)\n",
        "statement/dot.png": png_dot(),
        "attachments/tool.py": "print('tool')\n",
    }
    return package_zip("shown", files)


def package_zip(name: str, files: dict[str, str | bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for path, data in files.items():
            archive.writestr(f"{name}/{path}", data)
    return buffer.getvalue()


async def test_an_imported_statement_shows_with_its_image_and_attachments(
    browser: Any, locked: Client
) -> None:
    page = Page(await browser.new_page())
    await signed_in(page, locked)
    await import_through_the_page(page, "shown", statement_package())
    statement = page.locator("#statement")
    await expect(statement.get_by_role("heading", name="Shown statement")).to_be_visible()
    await expect(statement.get_by_role("link", name="tool.py")).to_be_visible()
    image = statement.get_by_role("img", name="a dot")
    await expect(image).to_have_attribute("src", re.compile("^blob:"))  # fetched with the key
    await page.wait_for_function("document.querySelector('#statement img').naturalWidth === 1")
    assert await page.evaluate("window.pwned") is None
    await page.screenshot(path=SHOTS / "imported-statement.png", full_page=True)
    await page.close()
    assert page.errors == []


# Points of the viewport, outside the element, where something inside it is on top.
PAINTED_OUTSIDE = """(id) => {
  const box = document.getElementById(id), r = box.getBoundingClientRect(), found = [];
  for (let x = 2; x < innerWidth; x += 16) for (let y = 2; y < innerHeight; y += 16) {
    if (x >= r.left && x < r.right && y >= r.top && y < r.bottom) continue;
    const on = document.elementFromPoint(x, y);
    if (on && box.contains(on)) found.push([x, y]);
  }
  return found.slice(0, 5);
}"""


def math_package() -> bytes:
    """Statements in two languages, Markdown and LaTeX, with math, hostile TeX too."""
    return package_zip(
        "sums",
        {
            "problem.yaml": "problem_format_version: 2023-07-draft\nname: Sums\n",
            "data/sample/1.in": "3\n",
            "data/sample/1.ans": "6\n",
            "statement/problem.en.md": "# Sums\n\n"
            "Given $1 \\le n \\le 10^5$, print $$\\sum_{i=1}^n i.$$ It costs $5 and $6.\n\n"
            "Hostile: $\\href{javascript:window.pwned=1}{click}$ $\\htmlClass{skip}{x}$"
            " $\\url{https://evil.example}$ $\\rule{100000em}{100000em}$"
            " $\\def\\a{\\a\\a}\\a$"
            " $\\kern{10em}\\kern{10em}\\kern{10em}\\kern{10em}\\kern{10em}\\kern{10em}"
            "\\raisebox{10em}{\\rule{10em}{10em}}$\n",
            "statement/problem.sv.tex": "\\problemname{Summor}\n"
            "Givet $1 \\le n \\le 10^5$, skriv \\[\\sum_{i=1}^n i.\\]\n",
        },
    )


async def test_statement_math_is_typeset_and_the_language_switch_shows_another(
    browser: Any, locked: Client
) -> None:
    if pandoc() is None:
        unavailable("pandoc is not installed (the Swedish statement is LaTeX)")
    page = Page(await browser.new_page())
    requests: list[str] = []
    page.on("request", lambda request: requests.append(request.url))
    await signed_in(page, locked)
    await import_through_the_page(page, "sums", math_package())
    statement = page.locator("#statement")
    await expect(statement.get_by_role("heading", name="Sums")).to_be_visible()
    await expect(statement.locator(".katex").first).to_be_visible()
    await expect(statement.locator(".katex-display")).to_have_count(1)
    await expect(statement).to_contain_text("It costs $5 and $6.")
    assert await statement.locator("span.math").count() == 8
    untypeset = statement.locator("span.math:not(:has(.katex)):not(.math-error)")
    assert await untypeset.count() == 0  # no raw TeX left
    # Hostile TeX: no link, no class of the page's, the rule capped, the bomb stopped.
    assert await statement.locator("a, .skip, script, img").count() == 0
    bomb = statement.locator(".math-error")
    await expect(bomb).to_have_count(1)
    await expect(bomb).to_have_attribute("title", re.compile("Too many expansions"))
    width = await page.evaluate("document.documentElement.scrollWidth - innerWidth")
    assert width <= 0
    # Math moved out of the statement (kerns, \raisebox) is clipped: it covers nothing.
    await page.set_viewport_size({"width": 1280, "height": 2000})  # the whole page in view
    assert await page.evaluate(PAINTED_OUTSIDE, "statement") == []
    await page.set_viewport_size({"width": 1280, "height": 900})
    fonts = await page.evaluate(
        "document.fonts.ready.then(() => [...document.fonts]"
        ".filter((f) => f.status === 'loaded').map((f) => f.family))"
    )
    assert any(family.startswith("KaTeX_") for family in fonts), fonts
    await page.screenshot(path=SHOTS / "statement-math.png", full_page=True)

    switch = page.get_by_role("combobox", name="Statement language")
    await expect(switch.locator("option")).to_have_text(["English", "Svenska"])
    await expect(switch).to_have_value("en")
    await switch.select_option("sv")
    await expect(statement.get_by_role("heading", name="Summor")).to_be_visible()
    await expect(statement.get_by_role("heading", name="Sums")).to_have_count(0)
    await expect(statement).to_have_attribute("lang", "sv")
    await expect(statement.locator(".katex-display")).to_have_count(1)
    await expect(statement.locator(".katex").first).to_be_visible()
    await page.screenshot(path=SHOTS / "statement-language.png", full_page=True)
    # Only this service was asked for anything (KaTeX's script, styles and fonts too).
    origin = str(locked.make_url("/")).rstrip("/")
    assert [url for url in requests if not url.startswith((origin, "blob:", "data:"))] == []
    assert any("/web/assets/KaTeX_" in url for url in requests)
    assert await page.evaluate("window.pwned") is None
    await page.close()
    assert page.errors == []  # a CSP violation is one


def guess_package() -> bytes:
    """tests/data/kattis/guess (an interactive problem, Python interactor) as a zip."""
    folder = Path(__file__).parent / "data" / "kattis" / "guess"
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for path in sorted(folder.rglob("*")):
            if path.is_file() and "submissions" not in path.parts:
                archive.write(path, f"guess/{path.relative_to(folder).as_posix()}")
    return buffer.getvalue()


async def test_an_interactive_problem_says_so_and_shows_the_interactors_feedback(
    browser: Any, locked: Client
) -> None:
    page = Page(await browser.new_page())
    await signed_in(page, locked)
    await import_through_the_page(page, "guess", guess_package())
    samples = page.locator("#samples")
    await expect(samples).to_contain_text("Interactive problem")
    await expect(samples.get_by_text("Interactor's input")).to_be_visible()
    await expect(samples.locator("figcaption", has_text=re.compile("^Output$"))).to_have_count(0)
    await page.get_by_role("combobox", name="Language").select_option("python")
    editor = page.get_by_role("textbox", name="Source code")
    await editor.click()
    await page.keyboard.press("Control+A")
    await page.keyboard.press("Delete")
    await page.keyboard.insert_text('input()\nprint("five", flush=True)\ninput()\n')
    await page.get_by_role("button", name="Submit").click()
    await expect(page.get_by_role("status")).to_have_text(re.compile(r"WA, shown 0/1 passed"))
    first = page.locator("#details .difference").first
    await expect(first).to_contain_text("Interactor: guess 1 is not a number: 'five")
    await expect(first).to_contain_text("Your program wrote")
    await page.screenshot(path=SHOTS / "interactive.png", full_page=True)
    await page.close()
    assert page.errors == []
