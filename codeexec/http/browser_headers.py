"""What every answer tells a browser: not to frame it (clickjacking), not to sniff its
type (an error repeating a path as HTML), not to send where the user came from, and by
default no content at all (``default-src 'none'``). Pages (``/``, ``/docs``) set their
own Content-Security-Policy, from ``page_policy``: this service's scripts and styles
only, never inline script."""

from __future__ import annotations

from aiohttp import web

_BASELINE = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Content-Security-Policy": "default-src 'none'; frame-ancestors 'none'",
}


def page_policy(style_nonce: str | None = None) -> str:
    """A page's CSP: scripts, styles, images, fetches from this origin only; a nonce, if
    given, only for <style> elements (CodeMirror's), never for scripts."""
    styles = "style-src 'self'" + (f" 'nonce-{style_nonce}'" if style_nonce else "")
    return "; ".join(
        (
            "default-src 'none'",
            "script-src 'self'",
            styles,
            "img-src 'self' data: blob:",  # blob: a statement's images fetched with the key
            "font-src 'self'",
            "connect-src 'self'",
            "form-action 'self'",
            "base-uri 'none'",
            "frame-ancestors 'none'",
        )
    )


async def add_browser_headers(request: web.Request, response: web.StreamResponse) -> None:
    """``on_response_prepare``: the baseline, where the answer set no other."""
    for name, value in _BASELINE.items():
        response.headers.setdefault(name, value)
