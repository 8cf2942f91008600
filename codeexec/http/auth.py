"""Who is calling: an API key (``Authorization: Bearer ce_...``), the bootstrap admin
token (``CODEEXEC_ADMIN_TOKEN``), or nobody.

Roles: ``admin`` manages problems and keys and sees every submission; ``submitter``
submits and sees only its own submissions. Without a token a caller is anonymous:
allowed to submit and read only when authentication is not required (the embedded
default on 127.0.0.1; ``CODEEXEC_AUTH``). A token that is given must be valid (401).
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass

from aiohttp import web

from codeexec.http.cross_origin import check_host
from codeexec.http.errors import ApiError, Handler
from codeexec.http.keys import KEYS, SETTINGS
from codeexec.http.operations import operation_of


@dataclass(frozen=True)
class Principal:
    key_id: str | None  # None: anonymous
    role: str  # "admin" | "submitter" | "anonymous"

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"


ANONYMOUS = Principal(None, "anonymous")
BOOTSTRAP_ADMIN = Principal("admin-token", "admin")
_PRINCIPAL = web.RequestKey("principal", Principal)
METRICS_PATH = "/metrics"  # admin-only, or open to all with CODEEXEC_METRICS_PUBLIC


def is_open(request: web.Request) -> bool:
    """Open to everyone, whatever CODEEXEC_AUTH says: the routes whose operation says so
    (health, the API's contract and its page, the judge page and their files: public,
    no data; the judge page asks for a key itself when the API needs one). The route,
    not the path: a door mounted under /docs is not open for being there."""
    found = operation_of(request.match_info.route.handler)
    return found is not None and found.access == "open"


JUDGE0_ROUTES = "judge0"  # the names of Judge0's routes start so (compat/judge0/routes.py)
_CHALLENGE = {"WWW-Authenticate": 'Bearer realm="codeexec"'}


def bearer_token(request: web.Request) -> str | None:
    """The caller's token: ``Authorization: Bearer``, or on the Judge0 API the headers
    its clients send (``X-Auth-User``, Judge0's admin token, else ``X-Auth-Token``)."""
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        return token.strip()
    route = request.match_info.route.name or ""
    if route.startswith(JUDGE0_ROUTES + "."):  # only there, whatever its prefix
        for header in ("X-Auth-User", "X-Auth-Token"):
            if value := request.headers.get(header, "").strip():
                return value
    return None


async def _principal_for(app: web.Application, token: str) -> Principal | None:
    configured = app[SETTINGS].auth.admin_token
    if configured is not None and hmac.compare_digest(
        token.encode(), configured.get_secret_value().encode()
    ):
        return BOOTSTRAP_ADMIN
    key = await app[KEYS].authenticate(token)
    return Principal(key.id, key.role) if key is not None else None


def needs_no_token(request: web.Request) -> bool:
    """Whether anyone may call this path, without a token."""
    if request.path == METRICS_PATH:
        return request.app[SETTINGS].auth.metrics_public
    return is_open(request)


@web.middleware
async def authenticate(request: web.Request, handler: Handler) -> web.StreamResponse:
    if not needs_no_token(request):
        token = bearer_token(request)
        if token is None:
            if request.app[SETTINGS].auth_required:
                raise ApiError(
                    401, "Authentication required", "send Authorization: Bearer <API key>",
                    headers=_CHALLENGE,
                )  # fmt: skip
            # Anyone who can reach the service acts: not a page under another name.
            check_host(request, request.app[SETTINGS].auth.allowed_hosts)
            request[_PRINCIPAL] = ANONYMOUS
        else:
            principal = await _principal_for(request.app, token)
            if principal is None:
                raise ApiError(401, "Invalid or revoked API key", headers=_CHALLENGE)
            request[_PRINCIPAL] = principal
    return await handler(request)


def principal(request: web.Request) -> Principal:
    found: Principal = request.get(_PRINCIPAL, ANONYMOUS)
    return found


def is_admin(request: web.Request) -> bool:
    return principal(request).is_admin


def require_admin(request: web.Request) -> None:
    caller = principal(request)
    if caller.is_admin:
        return
    if caller.role == "anonymous":
        if request.app[SETTINGS].auth.admin_token is None:
            raise ApiError(
                403,
                "Problem management is disabled",
                "set CODEEXEC_ADMIN_TOKEN, or use an admin API key",
            )
        raise ApiError(
            401,
            "Admin token required",
            "send Authorization: Bearer <CODEEXEC_ADMIN_TOKEN or an admin API key>",
            headers=_CHALLENGE,
        )
    raise ApiError(403, "Admin role required", f"key {caller.key_id} is a {caller.role}")


def sees_everything(request: web.Request) -> bool:
    """Admins see every submission; so does an anonymous caller where authentication
    is off (one trusted user)."""
    caller = principal(request)
    return caller.is_admin or caller.role == "anonymous"
