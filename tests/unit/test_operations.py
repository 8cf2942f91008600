"""The route registry (codeexec.http.operations) and the document built from it: every
route of the app is documented and every documented operation is routed; the document
is valid OpenAPI 3.1."""

from __future__ import annotations

from typing import Any

import pytest
from aiohttp import web
from openapi_spec_validator import validate
from pydantic import BaseModel

from codeexec.config import Settings
from codeexec.http import operations
from codeexec.http.app import make_app
from codeexec.http.exec_view import SEED_REQUEST, SEED_RESPONSE, ExecRequest, ExecResponse
from codeexec.http.openapi import build
from codeexec.http.operations import Operation, Reply, operation, undocumented, unrouted


def _op(op_id: str) -> Operation:
    return Operation(op_id, "a test operation", ("t",), {200: Reply("ok")})


async def _plain(request: web.Request) -> web.Response:
    return web.Response()


@pytest.fixture
def registry(monkeypatch: pytest.MonkeyPatch) -> dict[Any, Operation]:
    """An empty registry of declared operations, for toy apps."""
    fresh: dict[Any, Operation] = {}
    monkeypatch.setattr(operations, "_DECLARED", fresh)
    return fresh


def test_a_route_without_an_operation_is_found(registry: dict[Any, Operation]) -> None:
    documented = operation(_op("documented"))(_plain)

    async def bare(request: web.Request) -> web.Response:
        return web.Response()

    app = web.Application()
    app.router.add_get("/a", documented)
    app.router.add_post("/b/{x}", bare)
    assert undocumented(app) == ["POST /b/{x}"]  # GET's automatic HEAD is not a route of ours
    assert unrouted(app) == []


def test_an_operation_without_a_route_is_found(registry: dict[Any, Operation]) -> None:
    async def other(request: web.Request) -> web.Response:
        return web.Response()

    operation(_op("routed"))(_plain)
    operation(_op("forgotten"))(other)
    app = web.Application()
    app.router.add_get("/a", _plain)
    assert unrouted(app) == ["forgotten"]


def test_an_operation_is_declared_once(registry: dict[Any, Operation]) -> None:
    async def other(request: web.Request) -> web.Response:
        return web.Response()

    operation(_op("once"))(_plain)
    with pytest.raises(ValueError, match="declared twice"):
        operation(_op("once"))(other)
    with pytest.raises(ValueError, match="already has an operation"):
        operation(_op("again"))(_plain)


def _app(**overrides: Any) -> web.Application:
    return make_app(Settings(**overrides), judging=False)


def test_every_route_of_the_service_is_documented_and_every_operation_routed() -> None:
    app = _app()
    assert undocumented(app) == []
    assert unrouted(app) == []


@pytest.mark.parametrize(
    "overrides",
    [{}, {"auth": "on", "judge0_prefix": "", "piston_prefix": "/p"}],
    ids=["defaults", "auth-required-other-prefixes"],
)
def test_the_document_is_valid_openapi_3_1(overrides: dict[str, Any]) -> None:
    document = build(_app(**overrides))
    validate(document)  # raises on an invalid document
    assert document["openapi"] == "3.1.0"
    judge0 = "" if overrides else "/judge0"
    assert f"{judge0}/submissions" in document["paths"]
    assert ("/p" if overrides else "/piston") + "/api/v2/execute" in document["paths"]


def test_anonymous_callers_are_documented_only_where_they_are_served() -> None:
    open_doc = build(_app())
    closed_doc = build(_app(auth="on"))
    create = "/api/v1/submissions"
    assert {} in open_doc["paths"][create]["post"]["security"]
    assert {} not in closed_doc["paths"][create]["post"]["security"]
    assert open_doc["paths"]["/healthz"]["get"]["security"] == []
    admin = open_doc["paths"]["/api/v1/problems"]["post"]
    assert admin["security"] == [{"bearer": []}]
    assert {"401", "403"} <= set(admin["responses"])


def test_every_answer_names_its_error_body_in_its_doors_shape() -> None:
    document = build(_app())
    for path, methods in document["paths"].items():
        for method, op in methods.items():
            for status, reply in op["responses"].items():
                if int(status) < 400 or path == "/readyz":  # its 503 is its own report
                    continue
                schema = reply["content"]["application/json"]["schema"]
                ref = schema.get("$ref", "")
                if path.startswith("/piston"):
                    assert ref.endswith("/PistonError"), (method, path, status)
                else:
                    assert ref.rsplit("/", 1)[-1] in (
                        "ErrorBody", "Judge0Error", "Judge0Errors", "Judge0BatchItem",
                    ) or schema.get("type") == "array", (method, path, status)  # fmt: skip


def test_json_body_routes_document_the_body_readers_answers() -> None:
    op = build(_app())["paths"]["/api/v1/submissions"]["post"]
    assert {"400", "408", "413", "415", "422", "429", "503", "500"} <= set(op["responses"])


def _valid(model: type[BaseModel], data: Any) -> None:
    model.model_validate(data)


def test_seed_004s_example_is_in_the_document_and_fits_its_schemas() -> None:
    exec_op = build(_app())["paths"]["/exec"]["post"]
    assert exec_op["requestBody"]["content"]["application/json"]["example"] == SEED_REQUEST
    assert exec_op["responses"]["200"]["content"]["application/json"]["example"] == SEED_RESPONSE
    _valid(ExecRequest, SEED_REQUEST)
    _valid(ExecResponse, SEED_RESPONSE)
