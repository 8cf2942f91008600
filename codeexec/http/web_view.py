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

from codeexec.http.docs_view import ASSET_NAME
from codeexec.http.error_schema import ErrorBody
from codeexec.http.errors import ApiError
from codeexec.http.operations import Operation, Reply, operation

ASSETS = Path(__file__).resolve().parent / "static" / "web"
PAGE = ASSETS / "index.html"
ASSET_PREFIX = "/web/assets/"
NONCE_SLOT = "__CSP_NONCE__"
_NOT_BUILT = Reply("the page's files are not built (the body says how)", ErrorBody)
_TAGS = ("web",)
# Both: nothing framed, sniffed or told where the user came from.
_COMMON = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
}
_ASSET_HEADERS = _COMMON | {
    "Cache-Control": "public, max-age=31536000, immutable",
    "Content-Security-Policy": "default-src 'none'; frame-ancestors 'none'",
}


def page_policy(nonce: str) -> str:
    """The page's CSP: scripts, styles, fetches from this origin only; the nonce only
    for <style> elements (CodeMirror's), never for scripts."""
    return "; ".join(
        (
            "default-src 'none'",
            "script-src 'self'",
            f"style-src 'self' 'nonce-{nonce}'",
            "img-src 'self' data: blob:",  # blob: a statement's images fetched with the key
            "font-src 'self'",
            "connect-src 'self'",
            "form-action 'self'",
            "base-uri 'none'",
            "frame-ancestors 'none'",
        )
    )


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
        headers=_COMMON
        | {"Cache-Control": "no-cache", "Content-Security-Policy": page_policy(nonce)},
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
    path = ASSETS / "assets" / name
    if not ASSET_NAME.fullmatch(name) or not path.is_file():
        raise ApiError(404, "Not found", f"no file {name[:100]!r} in the web page")
    return web.FileResponse(path, headers=_ASSET_HEADERS)


def add_routes(router: web.UrlDispatcher) -> None:
    router.add_get("/", web_page)
    router.add_get(ASSET_PREFIX + "{name}", web_asset)
