"""Requests another web site makes the user's browser send.

A page on any site may POST to codeexec without asking first when the request is a
"simple" one (``text/plain``, a form, ``mode: "no-cors"``): it cannot read the answer,
but the service does the work. The Piston door reads ``text/plain`` bodies as JSON (its
clients send them so), so such a page could run programs on a codeexec on the
loopback address, where nobody needs a key. codeexec answers no CORS request, so no
cross-origin page is a legitimate caller of an unsafe method: they are refused (403),
as Go's ``net/http.CrossOriginProtection`` does: ``Sec-Fetch-Site`` when the browser
sends it, else ``Origin`` against ``Host``. Clients that are not browsers send neither.

DNS rebinding: a site whose name the attacker then points at 127.0.0.1 is same-origin
with the service, and reads its answers. Where callers need no key, a caller without one
must name the service by an IP address, ``localhost``, or a name in
``CODEEXEC_ALLOWED_HOSTS`` (421 otherwise): a rebinding page can only use its own name.
"""

from __future__ import annotations

import ipaddress

from aiohttp import hdrs, web

from codeexec.http.errors import ApiError, Handler

_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_SAME_ORIGIN = frozenset({"same-origin", "none"})  # "none": typed, a bookmark
ANY_HOST = "*"


def is_cross_origin(request: web.Request) -> bool:
    site = request.headers.get("Sec-Fetch-Site")
    if site is not None:
        return site.lower() not in _SAME_ORIGIN
    origin = request.headers.get(hdrs.ORIGIN)
    if origin is None:
        return False
    host = request.headers.get(hdrs.HOST)
    _, _, origin_host = origin.partition("://")
    return host is None or origin_host.lower() != host.lower()


@web.middleware
async def refuse_cross_origin(request: web.Request, handler: Handler) -> web.StreamResponse:
    if request.method not in _SAFE_METHODS and is_cross_origin(request):
        raise ApiError(
            403,
            "Cross-origin request refused",
            "a page of another site may not make this service act; call it from its own"
            " page (/) or from a program",
        )
    return await handler(request)


def _host_name(header: str) -> str:
    """``Host`` without its port, lower case, without a final dot; an IPv6 address
    without its brackets."""
    name = header.strip().lower()
    if name.startswith("["):
        return name[1 : name.find("]")] if "]" in name else name
    head, colon, port = name.rpartition(":")
    if colon and port.isdigit():
        name = head
    return name.rstrip(".")


def host_allowed(request: web.Request, allowed: tuple[str, ...]) -> bool:
    """Whether the request names the service so that no other site can: an IP address,
    ``localhost``, one of ``allowed`` (``*``: any), or no ``Host`` at all (HTTP/1.0:
    no browser)."""
    header = request.headers.get(hdrs.HOST)
    if header is None or ANY_HOST in allowed:
        return True
    name = _host_name(header)
    if name == "localhost" or name in (a.lower().rstrip(".") for a in allowed):
        return True
    try:
        ipaddress.ip_address(name)
    except ValueError:
        return False
    return True


def check_host(request: web.Request, allowed: tuple[str, ...]) -> None:
    """421 unless ``host_allowed``: for callers without a key where none is needed."""
    if not host_allowed(request, allowed):
        raise ApiError(
            421,
            "Host name not allowed",
            f"{_host_name(request.headers.get(hdrs.HOST, ''))[:100]!r} is not an address of"
            " this service; use its IP address or localhost, send an API key, or list the"
            " name in CODEEXEC_ALLOWED_HOSTS",
        )
