"""The OpenAPI 3.1 document, built from what the app routes (``operations.routed``) and
the models its handlers validate requests with and build answers through, so it cannot
say other than what the service does. Served at ``/api/v1/openapi.json``, open to
everyone like ``/healthz``: a contract holds no data. Built once per app, on first ask.

The object model is openapi-pydantic's (``Operation``, ``PathItem``, ...); component
schemas are pydantic's own (``models_json_schema``): request models as they validate,
answers as they serialize.
"""

from __future__ import annotations

import logging
import re
from importlib import metadata
from typing import Any, Literal

from aiohttp import web
from openapi_pydantic.v3.v3_1 import (
    Components,
    Header,
    Info,
    Link,
    MediaType,
    OpenAPI,
    Parameter,
    PathItem,
    Reference,
    RequestBody,
    Response,
    Schema,
    SecurityScheme,
    Tag,
)
from openapi_pydantic.v3.v3_1 import Operation as OpenApiOperation
from pydantic import BaseModel
from pydantic.json_schema import JsonSchemaMode, models_json_schema

from codeexec.http.compat.judge0.schema import Judge0Error
from codeexec.http.compat.piston_schema import PistonError
from codeexec.http.error_schema import ErrorBody
from codeexec.http.errors import json_response
from codeexec.http.keys import SETTINGS
from codeexec.http.operations import Body, Operation, Param, Reply, Routed, operation, routed

log = logging.getLogger(__name__)

PATH = "/api/v1/openapi.json"
REF = "#/components/schemas/{model}"
# The document, once built (a dict made at start-up: the app's state is frozen by then).
_DOCUMENT = web.AppKey("openapi_document", dict[str, dict[str, Any]])

_ERROR_MODELS: dict[str, type[BaseModel]] = {
    "codeexec": ErrorBody,
    "judge0": Judge0Error,
    "piston": PistonError,
}
_HEADERS = {
    "Location": "where the new or finished resource is",
    "Retry-After": "seconds to wait before trying again",
    "RateLimit-Limit": "the caller's burst",
    "RateLimit-Remaining": "requests left in the burst",
    "WWW-Authenticate": "Bearer realm=codeexec",
}
_SECURITY_SCHEMES = {
    "bearer": SecurityScheme(
        type="http",
        scheme="bearer",
        description="An API key (`codeexec keys create`), or CODEEXEC_ADMIN_TOKEN.",
    ),
    "judge0AuthToken": SecurityScheme(
        type="apiKey",
        name="X-Auth-Token",
        security_scheme_in="header",
        description="Judge0 routes only: an API key, as Judge0 clients send one.",
    ),
    "judge0AuthUser": SecurityScheme(
        type="apiKey",
        name="X-Auth-User",
        security_scheme_in="header",
        description="Judge0 routes only: an admin key, as Judge0's X-Auth-User.",
    ),
}
_TAGS = {
    "exec": "Seed 004's synchronous judging (`POST /exec`)",
    "submissions": "Jobs: submit, poll, stream events, pause, resume, cancel, rerun, batches",
    "runs": "Ad-hoc runs: a program on a given stdin, no stored problem",
    "problems": "Problems and Kattis package imports (writes: admin)",
    "tests": "A problem's tests (writes: admin)",
    "languages": "The languages the service knows",
    "keys": "API keys (admin)",
    "health": "Liveness and readiness",
    "judge0": "Judge0 CE 1.13.1's API (docs/compat.md)",
    "piston": "Piston v2's API (docs/compat.md)",
    "meta": "This document and its page",
    "web": "The judge page (`/`) and its files",
}


class _Models:
    """The models the operations name, turned into component schemas at the end."""

    def __init__(self) -> None:
        self.wanted: dict[tuple[type[BaseModel], JsonSchemaMode], None] = {}

    def ref(self, model: type[BaseModel], mode: JsonSchemaMode) -> dict[str, Any]:
        self.wanted[(model, mode)] = None
        return {"$ref": REF.format(model=model.__name__)}

    def schemas(self) -> dict[str, Any]:
        keys, found = models_json_schema(list(self.wanted), ref_template=REF)
        defs: dict[str, Any] = found.get("$defs", {})
        for (model, _), key in keys.items():
            if key.get("$ref") != REF.format(model=model.__name__):
                raise ValueError(f"two models are named {model.__name__}: rename one")
        return defs


def _schema(raw: dict[str, Any]) -> Schema:
    return Schema.model_validate(raw)


def _content(
    models: _Models, reply_or_body: Reply | Body, mode: JsonSchemaMode
) -> dict[str, MediaType]:
    item = reply_or_body
    content: dict[str, MediaType] = {}
    if item.model is not None:
        schema = models.ref(item.model, mode)
        if isinstance(item, Reply) and item.many:
            schema = {"type": "array", "items": schema}
        content[item.media_type] = MediaType(media_type_schema=_schema(schema))
    elif item.schema is not None:
        content[item.media_type] = MediaType(media_type_schema=_schema(item.schema))
    for media_type, schema in item.others.items():
        content[media_type] = MediaType(media_type_schema=_schema(schema))
    if item.example is not None and content:
        first = next(iter(content))
        content[first] = content[first].model_copy(update={"example": item.example})
    return content


def _reply(models: _Models, reply: Reply) -> Response:
    headers = {
        name: Header(description=_HEADERS[name], schema=_schema({"type": "string"}))
        for name in reply.headers
    }
    return Response(
        description=reply.description,
        content=_content(models, reply, "serialization") or None,
        headers=headers or None,
        links={
            name: Link(operationId=link.operation_id, parameters=dict(link.parameters))
            for name, link in reply.links.items()
        }
        or None,
    )


def _common(op: Operation, app: web.Application, method: str) -> dict[int, Reply]:
    """The answers the middlewares and the body reader give, in the route's error shape."""
    # Judge0's door words only its own handlers' errors; the rest are codeexec's.
    error = outer = _ERROR_MODELS["codeexec" if op.door == "judge0" else op.door]
    settings = app[SETTINGS]
    found: dict[int, Reply] = {}
    if op.access != "open":
        if settings.auth_required or op.access == "admin":
            found[401] = Reply(
                "no token where one is required, or an invalid or revoked one",
                outer,
                headers=("WWW-Authenticate",),
            )
        else:
            found[401] = Reply("an invalid or revoked token", outer, headers=("WWW-Authenticate",))
        if op.access == "admin":
            found[403] = Reply(
                "not an admin (or no CODEEXEC_ADMIN_TOKEN is set for anonymous callers)", outer
            )
        if settings.auth.rate_limit_per_s > 0:
            found[429] = Reply(
                "over the caller's rate limit",
                outer,
                headers=("Retry-After", "RateLimit-Limit", "RateLimit-Remaining"),
            )
        found[503] = Reply("shutting down", outer, headers=("Retry-After",))
        if not settings.auth_required:
            found[421] = Reply(
                "no token, and a host name that is not an address of the service"
                " (CODEEXEC_ALLOWED_HOSTS)",
                outer,
            )
    if method not in ("GET", "HEAD", "OPTIONS"):
        found.setdefault(403, Reply("sent by a browser for a page of another site", outer))
    if op.body is not None and op.body.json:
        found[400] = Reply("the body is not valid JSON, or nested too deep", error)
        found[408] = Reply("the body stopped arriving", error)
        found[413] = Reply("the body is too large, or has too many JSON values", error)
        found[415] = Reply("not application/json (UTF-8), or a compressed body", error)
    found[500] = Reply("the service failed (the log has why)", outer)
    return found


def _parameters(op: Operation, path: str) -> list[Parameter | Reference]:
    names = re.findall(r"\{(\w+)\}", path)
    params = [Param(n, {"type": "string"}, n.replace("_", " "), "path", True) for n in names]
    return [
        Parameter.model_validate(
            {
                "name": p.name,
                "in": p.where,
                "required": p.required or p.where == "path",
                "description": p.description,
                "schema": p.schema,
            }
        )
        for p in (*params, *op.params)
    ]


def _security(op: Operation, auth_required: bool) -> list[dict[str, list[str]]]:
    if op.access == "open":
        return []
    schemes: list[dict[str, list[str]]] = [{"bearer": []}]
    if op.access == "judge0":
        schemes += [{"judge0AuthToken": []}, {"judge0AuthUser": []}]
    if op.access != "admin" and not auth_required:
        schemes.append({})  # anonymous callers are served (CODEEXEC_AUTH)
    return schemes


def _operation(
    app: web.Application, models: _Models, route: Routed, op: Operation, operation_id: str
) -> OpenApiOperation:
    replies = _common(op, app, route.method) | op.replies
    body = None
    if op.body is not None:
        body = RequestBody(
            content=_content(models, op.body, "validation"), required=op.body.required
        )
    return OpenApiOperation(
        operationId=operation_id,
        summary=op.summary,
        description=op.description or None,
        tags=list(op.tags),
        parameters=_parameters(op, route.path) or None,
        requestBody=body,
        responses={str(status): _reply(models, replies[status]) for status in sorted(replies)},
        security=_security(op, app[SETTINGS].auth_required),
    )


_Method = Literal["get", "put", "post", "delete", "patch"]


def build(app: web.Application) -> dict[str, Any]:
    """The document for ``app``'s routes (a route without an operation is left out and
    logged; tests/unit/test_operations.py and tests/test_openapi.py fail on it)."""
    models = _Models()
    paths: dict[str, dict[str, OpenApiOperation]] = {}
    seen: dict[str, int] = {}
    for route in routed(app):
        op = route.operation
        if op is None:
            log.warning("no operation documents %s %s", route.method, route.path)
            continue
        # A handler at two paths (Piston's, with and without a final slash) is one
        # operation: each path after the first gets a numbered id.
        seen[op.operation_id] = seen.get(op.operation_id, 0) + 1
        count = seen[op.operation_id]
        operation_id = op.operation_id if count == 1 else f"{op.operation_id}{count}"
        method: _Method = route.method.lower()  # type: ignore[assignment]
        paths.setdefault(route.path, {})[method] = _operation(app, models, route, op, operation_id)
    _check_links(paths)
    used_tags = {t for methods in paths.values() for o in methods.values() for t in o.tags or ()}
    document = OpenAPI(
        openapi="3.1.0",
        info=Info(
            title="codeexec",
            version=_version(),
            description=(
                "A self-hosted judge. Every route, its bodies and its answers; errors are"
                " `{error, detail}` (Judge0's routes: `{error}` or `{field: [messages]}`,"
                " Piston's: `{message}`). See docs/api.md."
            ),
        ),
        paths={path: PathItem(**methods) for path, methods in paths.items()},
        tags=[
            Tag(name=name, description=text) for name, text in _TAGS.items() if name in used_tags
        ],
        components=Components(schemas={}, securitySchemes=_SECURITY_SCHEMES),
    )
    out: dict[str, Any] = document.model_dump(
        mode="json", by_alias=True, exclude_none=True, exclude_unset=True
    )
    out["components"]["schemas"] = models.schemas()
    return out


def _check_links(paths: dict[str, dict[str, OpenApiOperation]]) -> None:
    """Every link leads to an operation of the document, by a parameter it has."""
    params = {
        o.operationId: {p.name for p in o.parameters or () if isinstance(p, Parameter)}
        for methods in paths.values()
        for o in methods.values()
    }
    for methods in paths.values():
        for o in methods.values():
            for response in o.responses.values() if o.responses else ():
                for name, link in (getattr(response, "links", None) or {}).items():
                    target = link.operationId if isinstance(link, Link) else None
                    if target not in params:
                        raise ValueError(f"{o.operationId}: link {name} leads nowhere")
                    unknown = set(link.parameters or {}) - params[target]
                    if unknown:
                        raise ValueError(f"{o.operationId}: link {name} sets {sorted(unknown)}")


def _version() -> str:
    try:
        return metadata.version("codeexec")
    except metadata.PackageNotFoundError:
        return "0"


def document(app: web.Application) -> dict[str, Any]:
    cache = app[_DOCUMENT]
    if "document" not in cache:
        cache["document"] = build(app)
    return cache["document"]


@operation(
    Operation(
        "openapi",
        "This document (OpenAPI 3.1)",
        ("meta",),
        {200: Reply("the document", schema={"type": "object"})},
        access="open",
    )
)
async def openapi_json(request: web.Request) -> web.Response:
    return json_response(document(request.app))


def add_routes(app: web.Application) -> None:
    app[_DOCUMENT] = {}
    app.router.add_get(PATH, openapi_json)
