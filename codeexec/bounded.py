"""Building blocks for the models of request bodies, so that validating one costs
little and answers with a few errors, whatever it holds.

- ``Input``: unknown fields are refused, the first few by name (pydantic would make one
  error per field: 10^5 of them cost seconds to report).
- Every list is declared with ``Field(max_length=..., fail_fast=True)`` (its length is
  checked before its items, and the first bad item stops it) or ``at_most(...)`` when
  the maximum is a setting, given in the validation context (``limits_context``).
- Integers are strict (no ``true``, ``"5"`` or ``5.0``) and fit the database's INT.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Mapping
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictInt,
    ValidationInfo,
    model_validator,
)
from pydantic_core import PydanticCustomError

from codeexec.config import Settings

INT32_MAX = 2**31 - 1
Positive = Annotated[StrictInt, Field(ge=1, le=INT32_MAX)]
_NAMED = 5  # unknown fields reported


def limits_context(settings: Settings) -> dict[str, int]:
    """The validation context that gives ``at_most`` its settings."""
    return {"max_tests": settings.http.max_tests, "batch_max": settings.jobs.batch_max}


class Input(BaseModel):
    """A request body's object: of its unknown fields only the first few are reported
    (each by name, as pydantic does); the others are dropped unseen."""

    model_config = ConfigDict(extra="forbid")

    @model_validator(mode="before")
    @classmethod
    def _few_unknown_fields(cls, data: Any) -> Any:
        known = _field_names(cls)
        if isinstance(data, dict) and not data.keys() <= known:
            unknown = [key for key in data if key not in known]
            if len(unknown) > _NAMED:
                dropped = set(unknown[_NAMED:])
                return {k: v for k, v in data.items() if k not in dropped}
        return data


@functools.cache
def _field_names(model: type[BaseModel]) -> frozenset[str]:
    return frozenset(model.model_fields)  # the property costs microseconds per call


def at_most(limit: int | str, what: str = "items") -> BeforeValidator:
    """A list or object with at most ``limit`` entries: a number, or the name of a
    setting in the validation context (unchecked without one). Checked before the
    entries are validated."""

    def check(value: Any, info: ValidationInfo) -> Any:
        most = limit
        if isinstance(limit, str):
            context = info.context if isinstance(info.context, Mapping) else {}
            most = context.get(limit, -1)
        if isinstance(value, list | dict) and 0 <= int(most) < len(value):
            raise PydanticCustomError(
                "too_long", "at most {most} {what}, not {actual}",
                {"most": most, "what": what, "actual": len(value)},
            )  # fmt: skip
        return value

    return BeforeValidator(check)


def json_at_most(max_bytes: int) -> AfterValidator:
    """A value whose JSON (as the store keeps it, in a TEXT column) fits ``max_bytes``."""

    def check(value: Any) -> Any:
        size = len(json.dumps(value))
        if size > max_bytes:
            raise PydanticCustomError(
                "too_long", "at most {most} bytes as JSON, not {actual}",
                {"most": max_bytes, "actual": size},
            )  # fmt: skip
        return value

    return AfterValidator(check)
