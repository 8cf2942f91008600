"""``/``: the judge page, a browser's way to try problems and submit through the API.

Its files come from ``frontend/web`` (Vite builds them into ``codeexec/http/static/web/``,
shipped in the wheel; ``scripts/frontend.sh``). The page loads scripts and styles from
this service only, under a Content-Security-Policy that allows no inline script and no
other origin. Assets have content-hashed names and are cached for good; the page itself
is revalidated each time (a new build is seen at once) and carries a fresh nonce the
editor puts on the style elements it creates.
"""

from __future__ import annotations

import asyncio
import secrets
from pathlib import Path

from aiohttp import web

from codeexec.http.browser_headers import page_policy
from codeexec.http.docs_view import asset_path
from codeexec.http.error_schema import ErrorBody
from codeexec.http.errors import ApiError
from codeexec.http.operations import Operation, Reply, operation

ASSETS = Path(__file__).resolve().parent / "static" / "web"
PAGE = ASSETS / "index.html"
ASSET_PREFIX = "/web/assets/"
NONCE_SLOT = "__CSP_NONCE__"
_NOT_BUILT = Reply("the page's files are not built (the body says how)", ErrorBody)
_TAGS = ("web",)
# Framing, sniffing and the referrer: codeexec/http/browser_headers.py, on every answer.
_ASSET_HEADERS = {"Cache-Control": "public, max-age=31536000, immutable"}


def _not_built() -> ApiError:
    return ApiError(
        503,
        "The web page is not built",
        "build it with `make frontend` (npm ci && npm run build in frontend/);"
        " the API itself works: see /docs",
    )


@operation(
    Operation(
        "webPage", "The judge page: problems, an editor, run and submit, verdicts", _TAGS,
        {200: Reply("the page", media_type="text/html", schema={"type": "string"}),
         503: _NOT_BUILT},
        access="open",
    )
)  # fmt: skip
async def web_page(request: web.Request) -> web.StreamResponse:
    try:
        html = await asyncio.to_thread(PAGE.read_text, "utf-8")
    except FileNotFoundError:
        raise _not_built() from None
    nonce = secrets.token_urlsafe(18)
    return web.Response(
        text=html.replace(NONCE_SLOT, nonce),
        content_type="text/html",
        headers={"Cache-Control": "no-cache", "Content-Security-Policy": page_policy(nonce)},
    )


@operation(
    Operation(
        "webAsset", "A file of the judge page (content-hashed name)", _TAGS,
        {200: Reply("the file", media_type="application/octet-stream",
                    schema={"type": "string", "format": "binary"}),
         404: Reply("no such file", ErrorBody), 503: _NOT_BUILT},
        access="open",
    )
)  # fmt: skip
async def web_asset(request: web.Request) -> web.StreamResponse:
    name = request.match_info["name"]
    if not PAGE.is_file():
        raise _not_built()
    return web.FileResponse(asset_path(ASSETS / "assets", name, "web page"), headers=_ASSET_HEADERS)


def add_routes(router: web.UrlDispatcher) -> None:
    router.add_get("/", web_page)
    router.add_get(ASSET_PREFIX + "{name}", web_asset)
