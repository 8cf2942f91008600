"""JSON shapes of a problem's statement and attachments (``codeexec.http.statements_view``)
and of what the problem's own answers say about them."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from codeexec.http.answers import Answer


class StatementSourceOut(Answer):
    """A statement as the package gave it: ``GET .../statement?lang=&format=`` serves
    it (``md``/``tex`` as they are, ``html`` converted), ``url`` the file itself."""

    language: str
    format: Literal["md", "tex", "pdf"]
    name: str = Field(description="the file's name in the package's statement folder")
    url: str


class AttachmentOut(Answer):
    name: str
    size: int
    content_type: str
    url: str


class AttachmentList(Answer):
    items: list[AttachmentOut]


class StatementOut(Answer):
    language: str
    format: Literal["md", "tex", "html"]
    source: str = Field(description="the statement file it comes from, e.g. problem.en.md")
    content: str = Field(
        description="the statement; html is sanitised, its images point at files_url"
    )
    files_url: str = Field(
        description="where the statement's own files are: relative references in md/tex"
        " are names under it"
    )
