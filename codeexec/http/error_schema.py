"""Error bodies as the API answers them (``codeexec.http.errors``)."""

from __future__ import annotations

from pydantic import Field

from codeexec.http.answers import Answer


class FieldError(Answer):
    field: str = Field(description="where: a dotted path into the body ('files.0.name')")
    message: str


class ErrorBody(Answer):
    """codeexec's error: a message, what went wrong in detail, and for some errors more
    (``errors``: the invalid fields of a 422; ``status``: a job not finished, 409; a
    batch's ``index`` and ``created``)."""

    error: str = Field(description="what went wrong, in a few words")
    detail: str | None = Field(None, description="why, in more words")
    errors: list[FieldError] | None = Field(None, description="invalid fields (at most 20)")
    errors_total: int | None = Field(None, description="how many there were, past 20")
    status: str | None = Field(None, description="a job's status (409: not finished yet)")
    index: int | None = Field(None, description="the batch item refused")
    created: list[str] | None = Field(None, description="the batch items queued before it")
