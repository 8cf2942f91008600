"""JSON shapes the problems API accepts (pydantic: every field validated, 422 naming it)
and answers with (``*Out``, built by the views from what ``codeexec.http.visibility``
lets each caller see: a contestant's hidden test is its ``position`` and ``hidden``).

Test data is text when it is UTF-8; anything else travels as base64 in the ``*_base64``
twin of the field (``input_base64``, ``expected_output_base64``), both ways.
"""

from __future__ import annotations

import base64
import binascii
from typing import Annotated, Literal

from pydantic import Field, StrictBool, StrictInt, StrictStr, model_validator

from codeexec.bounded import INT32_MAX, Input, Positive, at_most, json_at_most
from codeexec.http.answers import Answer
from codeexec.http.source_schema import FileName, SourceFiles
from codeexec.http.statement_schema import AttachmentOut, StatementSourceOut
from codeexec.model import PROBLEM_ID_PATTERN, TestCase

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


class TestIn(Input):
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


# A test's data is bounded by the body (CODEEXEC_MAX_PROBLEM_BODY_MB); lists of tests
# by CODEEXEC_MAX_TESTS (the validation context: codeexec.bounded.limits_context).
Tests = Annotated[list[TestIn], Field(fail_fast=True), at_most("max_tests")]
MAX_STATEMENT_CHARS = 1 << 20
MAX_CHECKER_ARGS = 64
MAX_POLICY_BYTES = 16 * 1024  # screening and checker args are TEXT columns (64 KiB)


class CheckerIn(Input):
    """``{"mode": "tokens", "args": [...]}``; custom and interactive (the program is the
    interactor): plus ``language`` and ``source`` (or ``files`` + ``entry_point``)."""

    mode: Literal["exact", "lines", "tokens", "custom", "interactive"] = "lines"
    args: Annotated[
        list[Annotated[StrictStr, Field(max_length=256)]],
        Field(max_length=MAX_CHECKER_ARGS, fail_fast=True),
        json_at_most(MAX_POLICY_BYTES),
    ] = Field(default_factory=list)
    language: Annotated[StrictStr, Field(max_length=32)] | None = None
    source: StrictStr | None = None  # with files: at most CODEEXEC_MAX_SOURCE_BYTES (413)
    files: SourceFiles | None = None
    entry_point: FileName | None = None


ScreeningIn = Annotated[
    dict[
        Annotated[StrictStr, Field(max_length=32)],
        Annotated[
            list[Annotated[StrictStr, Field(min_length=1, max_length=200)]],
            Field(max_length=128, fail_fast=True),
        ],
    ],
    at_most(32, "languages"),
    json_at_most(MAX_POLICY_BYTES),
]


class ProblemSettingsIn(Input):
    """What ``PATCH`` may change; every field optional, ``null`` means the default."""

    title: Annotated[StrictStr, Field(max_length=255)] | None = None
    statement: Annotated[StrictStr, Field(max_length=MAX_STATEMENT_CHARS)] | None = None
    time_limit_ms: Positive | None = None
    memory_limit_mb: Annotated[StrictInt, Field(ge=8, le=INT32_MAX)] | None = None
    output_limit_kb: Positive | None = None
    wall_time_limit_ms: Positive | None = None
    process_limit: Positive | None = None
    isolation: Literal["submission", "test"] | None = None
    checker: CheckerIn | Literal["exact", "lines", "tokens"] | None = None
    screening: ScreeningIn | None = None


class ProblemIn(ProblemSettingsIn):
    """A whole problem (create, or replace with ``PUT``): settings and tests."""

    id: ProblemId | None = None
    tests: Tests = Field(default_factory=list)


class TestsIn(Input):
    tests: Annotated[list[TestIn], Field(min_length=1, fail_fast=True), at_most("max_tests")]
    # 1-based place of the first new test; default: after the last.
    position: Positive | None = None

    __test__ = False


class TestsReplaceIn(Input):
    tests: Tests

    __test__ = False


class OrderIn(Input):
    # the current positions (1-based) in their new order
    order: Annotated[list[Positive], Field(fail_fast=True), at_most("max_tests")]


# -- answers ---------------------------------------------------------------------------


class CheckerFileOut(Answer):
    name: str
    content: str


class CheckerOut(Answer):
    """A checker's mode; admins also see its arguments and a custom one's program."""

    mode: Literal["exact", "lines", "tokens", "custom", "interactive"]
    args: list[str] | None = None
    language: str | None = None
    files: list[CheckerFileOut] | None = None


class ProblemTestOut(Answer):
    """A test: its data as text (or ``*_base64`` when not UTF-8) when it is shown or the
    caller is an admin, else its sizes; a contestant sees only where a hidden one is."""

    position: int
    hidden: bool
    name: str | None = None
    input_bytes: int | None = None
    expected_output_bytes: int | None = None
    input: str | None = None
    input_base64: str | None = None
    expected_output: str | None = None
    expected_output_base64: str | None = None

    __test__ = False


class ProblemSettingsOut(Answer):
    id: str
    title: str
    statement: str | None
    version: int
    time_limit_ms: int | None
    memory_limit_mb: int | None
    output_limit_kb: int | None
    wall_time_limit_ms: int | None
    process_limit: int | None
    isolation: Literal["submission", "test"] | None
    checker: CheckerOut
    screening: dict[str, list[str]] | None
    statement_languages: list[str] = Field(
        description="languages of its statement files (GET .../statement?lang=)"
    )
    statements: list[StatementSourceOut]
    attachments: list[AttachmentOut]


class ProblemOut(ProblemSettingsOut):
    tests: list[ProblemTestOut]


class ProblemSummaryOut(Answer):
    id: str
    title: str
    version: int
    tests: int
    hidden_tests: int
    updated_at: str


class ProblemList(Answer):
    items: list[ProblemSummaryOut]
    total: int
    limit: int
    offset: int


class TestsOut(Answer):
    version: int
    tests: list[ProblemTestOut]

    __test__ = False


class ImportedCounts(Answer):
    shown: int
    hidden: int


class ImportOut(ProblemSettingsOut):
    layout: str = Field(description="the package's format: legacy, 2023-07 or 2025-09")
    tests: ImportedCounts
    notes: list[str]


__all__ = [
    "CheckerIn",
    "CheckerOut",
    "ImportOut",
    "OrderIn",
    "ProblemIn",
    "ProblemList",
    "ProblemOut",
    "ProblemSettingsIn",
    "ProblemSummaryOut",
    "ProblemTestOut",
    "TestIn",
    "TestsIn",
    "TestsOut",
    "TestsReplaceIn",
]
