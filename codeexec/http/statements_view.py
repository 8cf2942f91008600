"""A problem's statement and attachments, for anyone who may read the problem:

- ``GET /api/v1/problems/{id}/statement?lang=en&format=md|tex|html``: the statement in
  a language (default English, else the first), as stored or as sanitised HTML
  (``codeexec.packages.statement_html``); 406 when it cannot be had in that format
  (LaTeX without pandoc, a PDF-only statement), saying where the PDF is;
- ``GET .../statement/files/{name}``: a statement file (its images, its PDF);
- ``GET .../attachments`` and ``.../attachments/{name}``: the files contestants may
  download.

Only what an import stored from the package's ``statement/`` and ``attachments/`` is
reachable here, looked up by its exact name in the database: no path is ever opened,
so no name reaches test data. Files are served with the type their extension says,
``nosniff``, and, unless they are images or a PDF, as downloads in a CSP sandbox: an
SVG or HTML file from a package runs no script on this origin.
"""

from __future__ import annotations

import hashlib
import re
from typing import Any
from urllib.parse import quote

from aiohttp import web

from codeexec.http.answers import respond
from codeexec.http.error_schema import ErrorBody
from codeexec.http.errors import ApiError, choice_schema, query_choice
from codeexec.http.keys import STORE
from codeexec.http.operations import Operation, Param, Reply, operation
from codeexec.http.statement_schema import AttachmentList, StatementOut
from codeexec.model import ATTACHMENT, STATEMENT, FileSummary, Problem
from codeexec.model.files import (
    DEFAULT_LANGUAGE,
    MAX_FILE_NAME,
    STATEMENT_FORMATS,
    FileKind,
    statement_sources,
)
from codeexec.packages.statement_cache import ConversionError, HtmlCache
from codeexec.packages.statement_html import CONVERSIONS_AT_ONCE, latex_html, markdown_html
from codeexec.store.problems import ProblemStore

_TAGS = ("problems",)
_FORMATS = ("md", "tex", "html")
_LANGUAGE = re.compile(r"[A-Za-z]{2,3}(?:-[A-Za-z0-9]{2,8})*")
_SHOWN_INLINE = frozenset({"image/png", "image/jpeg", "image/gif", "application/pdf"})
_SANDBOX = "sandbox; default-src 'none'; img-src 'self' data:; style-src 'unsafe-inline'"
_NO_PROBLEM = Reply("no such problem, or no such file", ErrorBody)
_BINARY = {"type": "string", "format": "binary"}
_FILE = Reply("the file", media_type="application/octet-stream", schema=_BINARY)
_NAME = Reply("not a valid file name (a path out of the folder, a NUL byte, ...)", ErrorBody)
# Converted statements by their source's digest, format and files: each is converted
# once (a failure too), by few conversions at a time, whatever problem holds it.
_HTML = HtmlCache(max_bytes=32 << 20, at_once=CONVERSIONS_AT_ONCE)


class _NoPandoc(Exception):
    """Not kept: pandoc may be installed later."""


def _base(problem_id: str) -> str:
    return f"/api/v1/problems/{quote(problem_id)}"


def files_url(problem_id: str) -> str:
    return _base(problem_id) + "/statement/files/"


def _attachment_url(problem_id: str, name: str) -> str:
    return _base(problem_id) + "/attachments/" + quote(name)


def _in_order(item: tuple[tuple[str, str], str]) -> tuple[str, int]:
    (language, form), _ = item
    return language, STATEMENT_FORMATS.index(form)


def described(problem: Problem, files: list[FileSummary]) -> dict[str, Any]:
    """What a problem's answer says of its statement files and attachments."""
    statements = statement_sources(f.name for f in files if f.kind == STATEMENT)
    return {
        "statement_languages": sorted({language for language, _ in statements}),
        "statements": [
            {
                "language": language,
                "format": form,
                "name": name,
                "url": files_url(problem.id) + quote(name),
            }
            for (language, form), name in sorted(statements.items(), key=_in_order)
        ],
        "attachments": [
            {
                "name": f.name,
                "size": f.size,
                "content_type": f.content_type,
                "url": _attachment_url(problem.id, f.name),
            }
            for f in files
            if f.kind == ATTACHMENT
        ],
    }


async def problem_files(store: ProblemStore, problem: Problem) -> dict[str, Any]:
    return described(problem, await store.file_summaries(problem.id, problem.version))


async def _problem(request: web.Request) -> tuple[Problem, list[FileSummary]]:
    problem_id = request.match_info["problem_id"]
    store: ProblemStore = request.app[STORE]
    problem = await store.get_problem(problem_id)
    if problem is None:
        raise ApiError(404, "Problem not found", f"no problem with id {problem_id!r}")
    return problem, await store.file_summaries(problem.id, problem.version)


def _language(request: web.Request, available: set[str]) -> str:
    asked = request.query.get("lang")
    if asked is not None and not _LANGUAGE.fullmatch(asked):
        raise ApiError(400, "Invalid query parameter", "lang must be a language code, e.g. en")
    if not available:
        raise ApiError(404, "No statement", "the problem has no statement files")
    if asked is None:
        return DEFAULT_LANGUAGE if DEFAULT_LANGUAGE in available else min(available)
    if asked not in available:
        raise ApiError(
            404, "No statement in that language", f"languages: {', '.join(sorted(available))}"
        )
    return asked


def _not_acceptable(problem: Problem, sources: dict[str, str], why: str) -> ApiError:
    if "pdf" in sources:
        why += f"; the PDF is at {files_url(problem.id) + quote(sources['pdf'])}"
    return ApiError(406, "Statement not available in that format", why)


@operation(
    Operation(
        "getStatement", "A problem's statement in a language, as Markdown, LaTeX or HTML",
        _TAGS,
        {200: Reply("the statement", StatementOut),
         400: Reply("invalid lang or format", ErrorBody),
         404: Reply("no such problem, or no statement in that language", ErrorBody),
         406: Reply("not available in that format (its PDF, if any, is named)", ErrorBody)},
        params=(
            Param("lang", {"type": "string", "pattern": _LANGUAGE.pattern},
                  "a language code (default: en, else the first)"),
            Param("format", choice_schema(_FORMATS),
                  "md or tex: as stored; html (default): sanitised HTML"),
        ),
    )
)  # fmt: skip
async def get_statement(request: web.Request) -> web.Response:
    form = query_choice(request, "format", _FORMATS) or "html"
    problem, files = await _problem(request)
    names = [f.name for f in files if f.kind == STATEMENT]
    by_source = statement_sources(names)
    language = _language(request, {lang for lang, _ in by_source})
    sources = {f: name for (lang, f), name in by_source.items() if lang == language}
    wanted = ("md", "tex") if form == "html" else (form,)
    source_format = next((f for f in wanted if f in sources), None)
    if source_format is None:
        raise _not_acceptable(
            problem, sources, f"the {language} statement is {' and '.join(sorted(sources))}"
        )
    store: ProblemStore = request.app[STORE]
    stored = await store.read_file(problem.id, STATEMENT, sources[source_format])
    if stored is None:  # replaced meanwhile
        raise ApiError(404, "No statement", "the problem changed; ask again")
    text = stored.data.decode("utf-8", errors="replace")
    if form == "html":
        text = await _html(problem, sources, stored.data, source_format, names)
    return respond(
        StatementOut,
        {
            "language": language,
            "format": form,
            "source": stored.name,
            "content": text,
            "files_url": files_url(problem.id),
        },
    )


async def _html(
    problem: Problem, sources: dict[str, str], data: bytes, source_format: str, names: list[str]
) -> str:
    base = files_url(problem.id)
    key = hashlib.sha256(data)
    key.update("\0".join((source_format, base, *names)).encode("utf-8", "surrogatepass"))
    text = data.decode("utf-8", errors="replace")

    async def convert() -> str:
        if source_format == "md":
            return await markdown_html(text, names, base)
        converted = await latex_html(text, names, base)
        if converted is None:
            raise _NoPandoc
        return converted

    try:
        return await _HTML.get(key.hexdigest(), convert)
    except _NoPandoc:
        raise _not_acceptable(
            problem, sources, "the statement is LaTeX and pandoc is not installed here"
        ) from None
    except ConversionError as exc:
        what = "Markdown" if source_format == "md" else "LaTeX"
        raise _not_acceptable(problem, sources, f"the {what} statement: {exc}") from exc


def _name(request: web.Request) -> str:
    """The file name in the URL, as stored: a relative POSIX path within its folder."""
    name = request.match_info["name"]
    parts = name.split("/")
    if (
        len(name.encode("utf-8", errors="surrogatepass")) > MAX_FILE_NAME
        or any(part in ("", ".", "..") for part in parts)
        or any(c in name for c in "\\\0")
        or parts[0].endswith(":")
    ):
        raise ApiError(400, "Invalid file name", f"{name[:100]!r} is not a file's name")
    return name


def _headers(kind: FileKind, name: str, content_type: str) -> dict[str, str]:
    headers = {"X-Content-Type-Options": "nosniff", "Cache-Control": "no-cache"}
    inline = kind == STATEMENT and content_type in _SHOWN_INLINE
    if not inline:
        headers["Content-Security-Policy"] = _SANDBOX
    if not content_type.startswith("image/") or kind == ATTACHMENT:
        base = name.rsplit("/", 1)[-1]
        ascii_name = re.sub(r"[^A-Za-z0-9._-]", "_", base)
        disposition = "inline" if inline else "attachment"
        headers["Content-Disposition"] = (
            f"{disposition}; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(base)}"
        )
    return headers


async def _file(request: web.Request, kind: FileKind) -> web.Response:
    name = _name(request)
    problem_id = request.match_info["problem_id"]
    store: ProblemStore = request.app[STORE]
    found = await store.read_file(problem_id, kind, name)
    if found is None:
        what = "statement file" if kind == STATEMENT else "attachment"
        raise ApiError(404, "Not found", f"no {what} {name[:100]!r} in problem {problem_id!r}")
    return web.Response(
        body=found.data,
        headers=_headers(kind, name, found.content_type) | {"Content-Type": found.content_type},
    )


@operation(
    Operation(
        "getStatementFile", "A file of a problem's statement (an image, the PDF)", _TAGS,
        {200: _FILE, 400: _NAME, 404: _NO_PROBLEM},
    )
)  # fmt: skip
async def get_statement_file(request: web.Request) -> web.Response:
    return await _file(request, STATEMENT)


@operation(
    Operation(
        "listAttachments", "A problem's attachments (files for contestants)", _TAGS,
        {200: Reply("the attachments", AttachmentList),
         404: Reply("no such problem", ErrorBody)},
    )
)  # fmt: skip
async def list_attachments(request: web.Request) -> web.Response:
    problem, files = await _problem(request)
    return respond(AttachmentList, {"items": described(problem, files)["attachments"]})


@operation(
    Operation(
        "getAttachment", "Download one of a problem's attachments", _TAGS,
        {200: _FILE, 400: _NAME, 404: _NO_PROBLEM},
    )
)  # fmt: skip
async def get_attachment(request: web.Request) -> web.Response:
    return await _file(request, ATTACHMENT)


def add_routes(router: web.UrlDispatcher) -> None:
    one = "/api/v1/problems/{problem_id}"
    router.add_get(one + "/statement", get_statement)
    router.add_get(one + "/statement/files/{name:.+}", get_statement_file)
    router.add_get(one + "/attachments", list_attachments)
    router.add_get(one + "/attachments/{name:.+}", get_attachment)
