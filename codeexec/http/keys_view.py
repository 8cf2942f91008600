"""``/api/v1/keys`` (admin): make, list and revoke API keys. A new key's token and
webhook secret are shown once, in the answer that makes it."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field, StrictStr, ValidationError

from codeexec.http.auth import require_admin
from codeexec.http.errors import ApiError, json_response, read_json, validation_error
from codeexec.http.keys import KEYS
from codeexec.store.keys import ApiKey


class KeyIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

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
    try:
        payload = KeyIn.model_validate(await read_json(request, 64 * 1024))
    except ValidationError as exc:
        raise validation_error(exc) from exc
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
