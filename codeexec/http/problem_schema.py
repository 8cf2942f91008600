"""JSON shapes the problems API accepts (pydantic: every field validated, 422 naming it).
Answers are rendered by ``codeexec.http.visibility`` (what each caller may see).

Test data is text when it is UTF-8; anything else travels as base64 in the ``*_base64``
twin of the field (``input_base64``, ``expected_output_base64``), both ways.
"""

from __future__ import annotations

import base64
import binascii
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictStr, model_validator

from codeexec.sandbox.program import SourceFileIn
from codeexec.store.problems import PROBLEM_ID_PATTERN, TestCase

ProblemId = Annotated[StrictStr, Field(pattern=PROBLEM_ID_PATTERN)]


def _data(text: str | None, encoded: str | None, field: str) -> bytes:
    if (text is None) == (encoded is None):
        raise ValueError(f"give exactly one of '{field}' and '{field}_base64'")
    if text is not None:
        return text.encode("utf-8", errors="surrogatepass")
    assert encoded is not None
    try:
        return base64.b64decode(encoded, validate=True)
    except binascii.Error as exc:
        raise ValueError(f"'{field}_base64' is not base64: {exc}") from exc


class TestIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    input: StrictStr | None = None
    input_base64: StrictStr | None = None
    expected_output: StrictStr | None = None
    expected_output_base64: StrictStr | None = None
    hidden: StrictBool = False
    name: Annotated[StrictStr, Field(max_length=255)] | None = None

    __test__ = False  # not a pytest test class

    @model_validator(mode="after")
    def _one_of_each(self) -> TestIn:
        _data(self.input, self.input_base64, "input")
        _data(self.expected_output, self.expected_output_base64, "expected_output")
        return self

    def to_test_case(self) -> TestCase:
        return TestCase(
            input=_data(self.input, self.input_base64, "input"),
            expected_output=_data(
                self.expected_output, self.expected_output_base64, "expected_output"
            ),
            hidden=self.hidden,
            name=self.name,
        )


class CheckerIn(BaseModel):
    """``{"mode": "tokens", "args": [...]}``; custom: plus ``language`` and ``source``
    (or ``files`` + ``entry_point``)."""

    model_config = ConfigDict(extra="forbid")

    mode: Literal["exact", "lines", "tokens", "custom"] = "lines"
    args: list[StrictStr] = Field(default_factory=list, max_length=64)
    language: StrictStr | None = None
    source: StrictStr | None = None
    files: list[SourceFileIn] | None = None
    entry_point: StrictStr | None = None


Positive = Annotated[int, Field(ge=1)]
ScreeningIn = dict[StrictStr, list[Annotated[StrictStr, Field(min_length=1, max_length=200)]]]


class ProblemSettingsIn(BaseModel):
    """What ``PATCH`` may change; every field optional, ``null`` means the default."""

    model_config = ConfigDict(extra="forbid")

    title: Annotated[StrictStr, Field(max_length=255)] | None = None
    statement: StrictStr | None = None
    time_limit_ms: Positive | None = None
    memory_limit_mb: Annotated[int, Field(ge=8)] | None = None
    output_limit_kb: Positive | None = None
    wall_time_limit_ms: Positive | None = None
    process_limit: Positive | None = None
    isolation: Literal["submission", "test"] | None = None
    checker: CheckerIn | Literal["exact", "lines", "tokens"] | None = None
    screening: ScreeningIn | None = None


class ProblemIn(ProblemSettingsIn):
    """A whole problem (create, or replace with ``PUT``): settings and tests."""

    id: ProblemId | None = None
    tests: list[TestIn] = Field(default_factory=list)


class TestsIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    tests: list[TestIn] = Field(min_length=1)
    # 1-based place of the first new test; default: after the last.
    position: Positive | None = None

    __test__ = False


class TestsReplaceIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    tests: list[TestIn]

    __test__ = False


class OrderIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    order: list[Positive]  # the current positions (1-based) in their new order


__all__ = [
    "CheckerIn",
    "OrderIn",
    "ProblemIn",
    "ProblemSettingsIn",
    "TestIn",
    "TestsIn",
    "TestsReplaceIn",
]
