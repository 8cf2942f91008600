"""``/api/v1/keys`` (admin): make, list and revoke API keys. A new key's token and
webhook secret are shown once, in the answer that makes it."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from aiohttp import web
from pydantic import Field, StrictStr, ValidationError

from codeexec.bounded import Input
from codeexec.http.answers import Answer, respond
from codeexec.http.auth import require_admin
from codeexec.http.body import BodyLimits, read_json
from codeexec.http.error_schema import ErrorBody
from codeexec.http.errors import ApiError, validation_error
from codeexec.http.keys import KEYS
from codeexec.http.operations import Body, Operation, Reply, links, operation
from codeexec.store.keys import ApiKey

_LIMITS = BodyLimits(64 * 1024, 64)


class KeyIn(Input):
    name: Annotated[StrictStr, Field(min_length=1, max_length=255)]
    role: Literal["admin", "submitter"] = "submitter"


class KeyOut(Answer):
    id: str
    name: str
    role: Literal["admin", "submitter"]
    created_at: str
    revoked_at: str | None


class KeyMade(KeyOut):
    token: str = Field(description="the key's token, shown only here")
    webhook_secret: str = Field(description="signs this key's callbacks; shown only here")


class KeyList(Answer):
    items: list[KeyOut]


_TAGS = ("keys",)
_NO_KEY = Reply("no such key", ErrorBody)


def key_out(key: ApiKey) -> dict[str, Any]:
    return {
        "id": key.id,
        "name": key.name,
        "role": key.role,
        "created_at": key.created_at.isoformat() + "Z",
        "revoked_at": key.revoked_at.isoformat() + "Z" if key.revoked_at else None,
    }


@operation(
    Operation(
        "createKey", "Make an API key", _TAGS,
        {201: Reply("the key, with its token and webhook secret", KeyMade,
                    headers=("Location",),
                    links=links({"key_id": "$response.body#/id"}, "getKey", "revokeKey")),
         422: Reply("invalid fields", ErrorBody)},
        body=Body(KeyIn, example={"name": "grader", "role": "submitter"}), access="admin",
    )
)  # fmt: skip
async def create_key(request: web.Request) -> web.Response:
    require_admin(request)
    data = await read_json(request, _LIMITS)
    try:
        payload = KeyIn.model_validate(data)
    except ValidationError as exc:
        raise validation_error(exc) from None
    made = await request.app[KEYS].create(payload.name, payload.role)
    body = key_out(made.key) | {"token": made.token, "webhook_secret": made.key.webhook_secret}
    return respond(KeyMade, body, 201, {"Location": f"/api/v1/keys/{made.key.id}"})


@operation(
    Operation("listKeys", "Every API key (revoked ones too)", _TAGS,
              {200: Reply("the keys", KeyList)}, access="admin")
)  # fmt: skip
async def list_keys(request: web.Request) -> web.Response:
    require_admin(request)
    return respond(KeyList, {"items": [key_out(k) for k in await request.app[KEYS].all_keys()]})


@operation(
    Operation("getKey", "An API key", _TAGS,
              {200: Reply("the key", KeyOut), 404: _NO_KEY}, access="admin")
)  # fmt: skip
async def get_key(request: web.Request) -> web.Response:
    require_admin(request)
    key = await request.app[KEYS].get(request.match_info["key_id"])
    if key is None:
        raise ApiError(404, "Key not found")
    return respond(KeyOut, key_out(key))


@operation(
    Operation("revokeKey", "Revoke an API key (its token stops working at once)", _TAGS,
              {200: Reply("the key, revoked", KeyOut), 404: _NO_KEY}, access="admin")
)  # fmt: skip
async def revoke_key(request: web.Request) -> web.Response:
    require_admin(request)
    key = await request.app[KEYS].revoke(request.match_info["key_id"])
    if key is None:
        raise ApiError(404, "Key not found")
    return respond(KeyOut, key_out(key))


def add_routes(router: web.UrlDispatcher) -> None:
    router.add_post("/api/v1/keys", create_key)
    router.add_get("/api/v1/keys", list_keys)
    router.add_get("/api/v1/keys/{key_id}", get_key)
    router.add_delete("/api/v1/keys/{key_id}", revoke_key)
