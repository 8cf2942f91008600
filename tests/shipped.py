"""The repository's own languages (``codeexec/languages/``) by id, and how each is screened:
shorthands for tests that name "python" or "c" (the service reads the configured folder)."""

from __future__ import annotations

from codeexec.sandbox.languages import shipped_languages
from codeexec.screening.service import screeners

LANGUAGES = shipped_languages()
SCREENERS = screeners(LANGUAGES)  # language id -> its screening check
DEFAULT_PYTHON_DISALLOWED = LANGUAGES["python"].disallowed
