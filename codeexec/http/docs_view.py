"""``/docs``: the API's documentation page (Swagger UI) reading ``/api/v1/openapi.json``.

Its files come from the npm project in ``frontend/`` (``npm ci && npm run build`` copies
them into ``codeexec/http/static/docs/``, shipped in the wheel); nothing is loaded from
another host. Without them, ``/docs`` says how to build them.
"""

from __future__ import annotations

import re
from pathlib import Path

from aiohttp import web

from codeexec.http.browser_headers import page_policy
from codeexec.http.error_schema import ErrorBody
from codeexec.http.errors import ApiError
from codeexec.http.operations import Operation, Reply, operation

ASSETS = Path(__file__).resolve().parent / "static" / "docs"
PAGE = "index.html"
ASSET_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}")
_NOT_BUILT = Reply("the page's files are not built (the body says how)", ErrorBody)
_TAGS = ("meta",)
_POLICY = page_policy()  # Swagger UI runs with no inline script or style


def _not_built() -> ApiError:
    return ApiError(
        503,
        "The API docs page is not built",
        "build it with `make frontend` (npm ci && npm run build in frontend/);"
        " the document itself is at /api/v1/openapi.json",
    )


@operation(
    Operation(
        "docsPage", "The API's documentation page (Swagger UI)", _TAGS,
        {200: Reply("the page", media_type="text/html", schema={"type": "string"}),
         503: _NOT_BUILT},
        access="open",
    )
)  # fmt: skip
async def docs_page(request: web.Request) -> web.StreamResponse:
    page = ASSETS / PAGE
    if not page.is_file():
        raise _not_built()
    return web.FileResponse(
        page,
        headers={"Content-Type": "text/html; charset=utf-8", "Content-Security-Policy": _POLICY},
    )


@operation(
    Operation(
        "docsAsset", "A file of the documentation page", _TAGS,
        {200: Reply("the file", media_type="application/octet-stream",
                    schema={"type": "string", "format": "binary"}),
         404: Reply("no such file", ErrorBody), 503: _NOT_BUILT},
        access="open",
    )
)  # fmt: skip
async def docs_asset(request: web.Request) -> web.StreamResponse:
    name = request.match_info["name"]
    if not ASSETS.is_dir():
        raise _not_built()
    return web.FileResponse(asset_path(ASSETS, name, "docs page"))


def asset_path(folder: Path, name: str, page: str) -> Path:
    """The built file ``name`` of ``folder``: a plain name (no path) that exists, else
    404 (pages' assets: /docs, the judge page)."""
    path = folder / name
    if not ASSET_NAME.fullmatch(name) or not path.is_file():
        raise ApiError(404, "Not found", f"no file {name[:100]!r} in the {page}")
    return path


def add_routes(router: web.UrlDispatcher) -> None:
    router.add_get("/docs", docs_page)
    router.add_get("/docs/{name}", docs_asset)
