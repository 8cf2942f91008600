"""A program's source as the JSON APIs take it: ``code`` (or ``source``), or ``files``
with an optional ``entry_point``; checked further by intake (``codeexec.intake``)."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, StrictStr

from codeexec.bounded import Input
from codeexec.intake import MAX_FILES, MAX_NAME_CHARS
from codeexec.model import SourceFile

FileName = Annotated[StrictStr, Field(max_length=MAX_NAME_CHARS)]


class SourceFileIn(Input):
    name: FileName
    content: StrictStr  # all files together: at most CODEEXEC_MAX_SOURCE_BYTES (413)


# The first bad file stops validation; an empty list is refused by intake.
SourceFiles = Annotated[list[SourceFileIn], Field(max_length=MAX_FILES, fail_fast=True)]


def source_files(files: list[SourceFileIn] | None) -> list[SourceFile] | None:
    return None if files is None else [SourceFile(f.name, f.content) for f in files]
