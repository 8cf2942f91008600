"""``GET /api/v1/languages``: every language the service knows, usable or not."""

from __future__ import annotations

from typing import Any

from aiohttp import web
from pydantic import Field

from codeexec.http.answers import Answer, respond
from codeexec.http.keys import LANGUAGES, LIFECYCLE
from codeexec.http.operations import Operation, Reply, operation


class LanguageOut(Answer):
    id: str
    name: str
    version: str = Field(description="what its version command printed (empty: not known yet)")
    compiled: bool
    source_file: str
    extensions: list[str]
    kattis_names: list[str] = Field(
        description="the Kattis package format's codes for it, where they are not its id"
    )
    screened: bool = Field(description="programs are screened against a policy before they run")
    available: bool
    reason: str | None = Field(None, description="why it is not available")
    preparing: str | None = Field(None, description="where its image's preparation stands")


class LanguageList(Answer):
    languages: list[LanguageOut]


@operation(
    Operation("listLanguages", "Every language the service knows, usable or not",
              ("languages",), {200: Reply("the languages", LanguageList)})
)  # fmt: skip
async def list_languages(request: web.Request) -> web.Response:
    lifecycle = request.app[LIFECYCLE]
    items: list[dict[str, Any]] = []
    for language in sorted(request.app[LANGUAGES].values(), key=lambda lang: lang.id):
        item: dict[str, Any] = {
            "id": language.id,
            "name": language.name,
            "version": lifecycle.versions.get(language.id, ""),
            "compiled": language.compile is not None,
            "source_file": language.source_file,
            "extensions": list(language.extensions),
            "kattis_names": list(language.kattis_names),
            # Whether programs are screened against a policy before they run.
            "screened": language.screening.parser is not None,
        } | lifecycle.availability(language.id)
        items.append(item)
    return respond(LanguageList, {"languages": items})
