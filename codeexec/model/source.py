"""A program's source as submitted: named files (or one ``code`` string)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class SourceFile:
    name: str  # a relative path, checked by intake before anything touches a sandbox
    content: str
