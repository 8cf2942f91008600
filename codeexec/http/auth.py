"""Who may change problems: the bearer of ``CODEEXEC_ADMIN_TOKEN``.

With no token configured the write endpoints are disabled (403), never open. Reads are
open, but hidden tests' data is only given to the admin.
"""

from __future__ import annotations

import hmac

from aiohttp import web

from codeexec.http.errors import ApiError
from codeexec.http.keys import SETTINGS


def bearer_token(request: web.Request) -> str | None:
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


def is_admin(request: web.Request) -> bool:
    configured = request.app[SETTINGS].admin_token
    given = bearer_token(request)
    if configured is None or given is None:
        return False
    return hmac.compare_digest(given.encode(), configured.get_secret_value().encode())


def require_admin(request: web.Request) -> None:
    if request.app[SETTINGS].admin_token is None:
        raise ApiError(
            403,
            "Problem management is disabled",
            "set CODEEXEC_ADMIN_TOKEN to enable it",
        )
    if not is_admin(request):
        raise ApiError(
            401,
            "Admin token required",
            "send Authorization: Bearer <CODEEXEC_ADMIN_TOKEN>",
            headers={"WWW-Authenticate": 'Bearer realm="codeexec"'},
        )
