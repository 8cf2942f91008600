"""``/api/v1/keys`` (admin): make, list and revoke API keys. A new key's token and
webhook secret are shown once, in the answer that makes it."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from aiohttp import web
from pydantic import Field, StrictStr, ValidationError

from codeexec.bounded import Input
from codeexec.http.auth import require_admin
from codeexec.http.body import BodyLimits, read_json
from codeexec.http.errors import ApiError, json_response, validation_error
from codeexec.http.keys import KEYS
from codeexec.store.keys import ApiKey

_LIMITS = BodyLimits(64 * 1024, 64)


class KeyIn(Input):
    name: Annotated[StrictStr, Field(min_length=1, max_length=255)]
    role: Literal["admin", "submitter"] = "submitter"


def key_out(key: ApiKey) -> dict[str, Any]:
    return {
        "id": key.id,
        "name": key.name,
        "role": key.role,
        "created_at": key.created_at.isoformat() + "Z",
        "revoked_at": key.revoked_at.isoformat() + "Z" if key.revoked_at else None,
    }


async def create_key(request: web.Request) -> web.Response:
    require_admin(request)
    data = await read_json(request, _LIMITS)
    try:
        payload = KeyIn.model_validate(data)
    except ValidationError as exc:
        raise validation_error(exc) from None
    made = await request.app[KEYS].create(payload.name, payload.role)
    body = key_out(made.key) | {"token": made.token, "webhook_secret": made.key.webhook_secret}
    return json_response(body, 201, {"Location": f"/api/v1/keys/{made.key.id}"})


async def list_keys(request: web.Request) -> web.Response:
    require_admin(request)
    return json_response({"items": [key_out(k) for k in await request.app[KEYS].all_keys()]})


async def get_key(request: web.Request) -> web.Response:
    require_admin(request)
    key = await request.app[KEYS].get(request.match_info["key_id"])
    if key is None:
        raise ApiError(404, "Key not found")
    return json_response(key_out(key))


async def revoke_key(request: web.Request) -> web.Response:
    require_admin(request)
    key = await request.app[KEYS].revoke(request.match_info["key_id"])
    if key is None:
        raise ApiError(404, "Key not found")
    return json_response(key_out(key))


def add_routes(router: web.UrlDispatcher) -> None:
    router.add_post("/api/v1/keys", create_key)
    router.add_get("/api/v1/keys", list_keys)
    router.add_get("/api/v1/keys/{key_id}", get_key)
    router.add_delete("/api/v1/keys/{key_id}", revoke_key)
