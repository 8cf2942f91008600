"""The route registry: each handler's API operation (id, summary, tags, request body,
answers by status, security), declared once beside the handler with ``@operation(...)``.

aiohttp decides which method and path reach a handler; the OpenAPI document
(``codeexec.http.openapi``) is built from ``routed(app)``: what the app really routes,
each route with its handler's operation. ``undocumented`` and ``unrouted`` say where the
two disagree (a test fails on either).

Answers common to a kind of route are added by the document, not declared here: 401
and 429 where the caller is checked, 503 while draining, 500; 400, 408, 413 and 415
where a JSON body is read (``codeexec.http.body``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, Literal, TypeVar

from aiohttp import web
from pydantic import BaseModel

from codeexec.http.errors import Handler

H = TypeVar("H", bound=Handler)

# Who may call: "open" (no token looked at: health, the document, /docs), "caller"
# (a token if authentication is required, else anyone), "admin" (the admin token or an
# admin key), "judge0" (a caller, also by Judge0's X-Auth-Token / X-Auth-User).
Access = Literal["open", "caller", "admin", "judge0"]
# How the route's errors look: codeexec's, Judge0's or Piston's (errors.ERROR_SHAPES).
Door = Literal["codeexec", "judge0", "piston"]


@dataclass(frozen=True)
class Link:
    """An OpenAPI link: the operation an answer leads to, and where its parameters come
    from (runtime expressions such as ``$response.body#/id``). Stateful fuzzing follows
    them (create a job, then read, stream, cancel and delete it)."""

    operation_id: str
    parameters: dict[str, str]


def links(parameters: dict[str, str], *operation_ids: str) -> dict[str, Link]:
    """The same parameters to each of ``operation_ids``, named after them."""
    return {op: Link(op, parameters) for op in operation_ids}


@dataclass(frozen=True)
class Reply:
    """One answer: a description, and its body: a model (JSON), or a media type with a
    JSON schema (text, a stream of events); neither: no body. ``others``: the same
    answer in more media types (Server-Sent Events beside JSON)."""

    description: str
    model: type[BaseModel] | None = None
    media_type: str = "application/json"
    schema: dict[str, Any] | None = None  # a body that has no model
    others: dict[str, dict[str, Any]] = field(default_factory=dict)
    headers: tuple[str, ...] = ()  # names of headers it carries (Location, Retry-After)
    example: Any = None
    many: bool = False  # a JSON array of ``model``
    links: dict[str, Link] = field(default_factory=dict)


@dataclass(frozen=True)
class Param:
    """A query or header parameter (path parameters come from the route's template)."""

    name: str
    schema: dict[str, Any]
    description: str
    where: Literal["query", "header", "path"] = "query"
    required: bool = False


@dataclass(frozen=True)
class Body:
    """A request body: a model, or a media type and schema (a zip, a form). ``json``: it
    is read by ``codeexec.http.body`` (so 400/408/413/415 may answer)."""

    model: type[BaseModel] | None = None
    media_type: str = "application/json"
    schema: dict[str, Any] | None = None
    others: dict[str, dict[str, Any]] = field(default_factory=dict)  # more media types
    required: bool = True
    json: bool = True
    example: Any = None


@dataclass(frozen=True)
class Operation:
    operation_id: str
    summary: str
    tags: tuple[str, ...]
    replies: dict[int, Reply]
    description: str = ""
    body: Body | None = None
    params: tuple[Param, ...] = ()
    access: Access = "caller"
    door: Door = "codeexec"


_DECLARED: dict[Handler, Operation] = {}


def operation(op: Operation) -> Callable[[H], H]:
    """Declare ``op`` as what the decorated handler does."""

    def register(handler: H) -> H:
        if handler in _DECLARED:
            raise ValueError(f"{handler.__qualname__} already has an operation")
        ids = {o.operation_id for o in _DECLARED.values()}
        if op.operation_id in ids:
            raise ValueError(f"operation id {op.operation_id!r} is declared twice")
        _DECLARED[handler] = op
        return handler

    return register


def operation_of(handler: Handler) -> Operation | None:
    return _DECLARED.get(handler)


def declared() -> dict[Handler, Operation]:
    """Every operation declared so far (by the modules imported), by handler."""
    return dict(_DECLARED)


@dataclass(frozen=True)
class Routed:
    method: str
    path: str  # aiohttp's template: /api/v1/submissions/{sid}
    handler: Handler
    operation: Operation | None
    name: str | None  # the route's name (Judge0's are "judge0.*")


def routed(app: web.Application) -> Iterator[Routed]:
    """Every route of the app but the HEAD routes aiohttp adds to each GET."""
    for route in app.router.routes():
        if route.method == "HEAD" or route.resource is None:
            continue
        handler: Handler = route.handler
        yield Routed(
            route.method,
            route.resource.canonical,
            handler,
            operation_of(handler),
            route.name,
        )


def undocumented(app: web.Application) -> list[str]:
    """Routes whose handler declares no operation."""
    return [f"{r.method} {r.path}" for r in routed(app) if r.operation is None]


def unrouted(app: web.Application, known: dict[Handler, Operation] | None = None) -> list[str]:
    """Declared operations that no route of the app reaches."""
    reached = {r.handler for r in routed(app)}
    ops = declared() if known is None else known
    return sorted(op.operation_id for h, op in ops.items() if h not in reached)
