"""Response bodies built through their models (``Answer``): the models the OpenAPI
document (``codeexec.http.openapi``) describes the answers with, so a view cannot answer
what the document does not say."""

from __future__ import annotations

from typing import Any

from aiohttp import web
from pydantic import BaseModel, ConfigDict

from codeexec.http.errors import json_response


class Answer(BaseModel):
    """A response body. Unknown fields are an error and types are strict: a view that
    drifts from its model fails (500, and its tests), never silently."""

    model_config = ConfigDict(extra="forbid", strict=True)


def body_of(model: type[BaseModel], body: Any) -> Any:
    """``body`` checked against ``model``, as JSON: only the fields it gave (a field a
    view leaves out stays out; one it sets to None stays null)."""
    return model.model_validate(body).model_dump(mode="json", exclude_unset=True)


def respond(
    model: type[BaseModel], body: Any, status: int = 200, headers: dict[str, str] | None = None
) -> web.Response:
    return json_response(body_of(model, body), status, headers)
