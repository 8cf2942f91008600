"""``GET /api/v1/languages``: every language the service knows, usable or not."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from codeexec.http.errors import json_response
from codeexec.http.keys import LANGUAGES, LIFECYCLE


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
            # Whether programs are screened against a policy before they run.
            "screened": language.screening.parser is not None,
        } | lifecycle.availability(language.id)
        items.append(item)
    return json_response({"languages": items})
