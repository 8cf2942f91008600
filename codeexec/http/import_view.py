"""``POST /api/v1/problems/import``: a Kattis package as a zip upload (admin).

``multipart/form-data`` with the zip in ``package`` (its file name gives the problem id)
and optional ``id``, ``checker`` and ``checker_args`` fields; or the zip as the body
(``application/zip``) with the same names as query parameters. The upload is spooled to
a temporary file with its own size limit; nothing of it is extracted.
"""

from __future__ import annotations

import asyncio
import shlex
from collections.abc import AsyncIterator
from tempfile import SpooledTemporaryFile
from typing import IO, Any

from aiohttp import BodyPartReader, hdrs, web
from aiohttp.http_exceptions import HttpProcessingError

from codeexec.checker.program import CheckerFailed
from codeexec.http.answers import respond
from codeexec.http.auth import require_admin
from codeexec.http.body import TOO_LARGE, body_chunks, check_identity, within
from codeexec.http.error_schema import ErrorBody
from codeexec.http.errors import ApiError
from codeexec.http.keys import JUDGE, LANGUAGES, LIFECYCLE, SETTINGS, STORE
from codeexec.http.operations import Body, Operation, Param, Reply, operation
from codeexec.http.problem_schema import ImportOut
from codeexec.http.statements_view import described
from codeexec.http.visibility import problem_for, viewer_of
from codeexec.model import CHECKER_MODES, PROGRAM_MODES, CheckerSpec, FileSummary
from codeexec.packages.archive import PackageError, PackageTooLarge
from codeexec.packages.importer import import_package, open_upload, package_limits

_SPOOL_IN_MEMORY = 8 << 20
_FIELD_LIMIT = 4096
# A form holds the package and up to three fields (id, checker, checker_args): a few
# parts more are tolerated (and ignored), many are refused before they are read.
_MAX_PARTS = 8
_FORM_OVERHEAD = 64 * 1024  # boundaries, part headers and fields around the package
_PLAIN_CODINGS = frozenset({"", "identity", "binary", "7bit", "8bit"})


async def _spool(chunks: AsyncIterator[bytes], limit: int, spool: IO[bytes]) -> None:
    size = 0
    async for chunk in chunks:
        size += len(chunk)
        if size > limit:
            raise ApiError(413, "Package too large", f"at most {limit} bytes")
        await asyncio.to_thread(spool.write, chunk)


async def _part_chunks(part: BodyPartReader, idle_s: float) -> AsyncIterator[bytes]:
    while chunk := await within(idle_s, part.read_chunk(1 << 16)):
        yield chunk


async def _small_part(part: BodyPartReader, idle_s: float) -> bytes:
    value = bytearray()
    async for chunk in _part_chunks(part, idle_s):
        value += chunk
        if len(value) > _FIELD_LIMIT:
            name = (part.name or "")[:40]
            raise ApiError(413, "Form field too long", f"{name}: at most {_FIELD_LIMIT} bytes")
    return bytes(value)


async def _read_upload(
    request: web.Request, spool: IO[bytes], limit: int
) -> tuple[str, dict[str, str]]:
    """(the archive's file name, the form fields); the archive goes into ``spool``."""
    check_identity(request)
    if request.content_type in ("application/zip", "application/octet-stream"):
        await _spool(body_chunks(request, limit), limit, spool)
        return request.query.get("name", ""), dict(request.query)
    if request.content_type != "multipart/form-data":
        raise ApiError(415, "Send the package as multipart/form-data or application/zip")
    if (request.content_length or 0) > limit + _FORM_OVERHEAD:
        raise ApiError(413, TOO_LARGE, f"at most {limit + _FORM_OVERHEAD} bytes")
    try:
        return await _read_form(request, spool, limit)
    except (ValueError, RuntimeError, HttpProcessingError) as exc:  # aiohttp's multipart
        raise ApiError(400, "Malformed multipart body", str(exc)[:200]) from None


async def _read_form(
    request: web.Request, spool: IO[bytes], limit: int
) -> tuple[str, dict[str, str]]:
    idle_s = request.app[SETTINGS].http.body_idle_timeout_s
    fields: dict[str, str] = {}
    filename: str | None = None
    reader = await request.multipart()
    parts = 0
    while (part := await within(idle_s, reader.next())) is not None:
        parts += 1
        if parts > _MAX_PARTS:
            raise ApiError(413, TOO_LARGE, f"at most {_MAX_PARTS} form parts")
        if not isinstance(part, BodyPartReader):
            raise ApiError(400, "Nested multipart bodies are not accepted")
        _check_plain(part)
        name = part.name or ""
        if name in fields or (name == "package" and filename is not None):
            raise ApiError(400, "Malformed multipart body", f"field {name[:40]!r} given twice")
        if name == "package":
            filename = part.filename or ""
            await _spool(_part_chunks(part, idle_s), limit, spool)
        else:
            fields[name] = (await _small_part(part, idle_s)).decode("utf-8", errors="replace")
    if filename is None:
        raise ApiError(400, "No package", "send the zip in a form field named 'package'")
    return filename, fields


def _check_plain(part: BodyPartReader) -> None:
    """Parts are read as they are sent: never decoded, so never inflated."""
    for header in (hdrs.CONTENT_ENCODING, hdrs.CONTENT_TRANSFER_ENCODING):
        if part.headers.get(header, "").strip().lower() not in _PLAIN_CODINGS:
            raise ApiError(415, "Content-Encoding is not supported", "send parts uncompressed")


def _checker_override(fields: dict[str, str]) -> CheckerSpec | None:
    mode = fields.get("checker")
    if not mode:
        return None
    if mode not in CHECKER_MODES or mode in PROGRAM_MODES:
        raise ApiError(422, "Invalid checker", "checker must be one of exact, lines, tokens")
    return CheckerSpec(mode, tuple(shlex.split(fields.get("checker_args", ""))))


async def _compile_checker(app: web.Application, spec: CheckerSpec) -> None:
    # serve --no-workers has no Docker: a checker that does not compile fails its jobs
    if spec.program is None or JUDGE not in app:
        return
    try:
        await app[JUDGE].checkers.verify(spec)
    except CheckerFailed as exc:
        raise ApiError(422, "Checker does not compile", str(exc)) from exc


_ZIP = {"type": "string", "format": "binary", "contentMediaType": "application/zip"}
_FIELDS: dict[str, dict[str, Any]] = {
    "id": {"type": "string", "description": "the problem's id (default: the file's name)"},
    "checker": {"type": "string", "enum": ["exact", "lines", "tokens"]},
    "checker_args": {"type": "string", "description": "the checker's flags, shell-quoted"},
}


@operation(
    Operation(
        "importProblem", "Import a Kattis problem package (a zip)", ("problems",),
        {
            200: Reply("imported over the problem (new version)", ImportOut, headers=("Location",)),
            201: Reply("imported as a new problem", ImportOut, headers=("Location",)),
            400: Reply("a malformed form, or no package in it", ErrorBody),
            408: Reply("the body stopped arriving", ErrorBody),
            413: Reply("the package, a field or the form is too large", ErrorBody),
            415: Reply("neither a form nor a zip, or an encoded part", ErrorBody),
            422: Reply("not a usable package, or its checker does not compile", ErrorBody),
        },
        body=Body(
            media_type="multipart/form-data",
            schema={"type": "object", "required": ["package"],
                    "properties": {"package": _ZIP} | _FIELDS},
            others={"application/zip": _ZIP},
            json=False,
        ),
        params=tuple(
            Param(name, schema, "with a zip body: as the form's field")
            for name, schema in ({"name": {"type": "string"}} | _FIELDS).items()
        ),
        access="admin",
    )
)  # fmt: skip
async def import_problem(request: web.Request) -> web.Response:
    require_admin(request)
    app = request.app
    settings = app[SETTINGS]
    limits = package_limits(settings)
    with SpooledTemporaryFile(max_size=_SPOOL_IN_MEMORY) as spool:
        filename, fields = await _read_upload(request, spool, limits.max_bytes)
        checker = _checker_override(fields)
        try:
            files = await asyncio.to_thread(open_upload, spool, filename, limits)
            result = await import_package(
                app[STORE],
                files,
                app[LIFECYCLE].usable(app[LANGUAGES]),
                fields.get("id") or None,
                checker,
                verify=lambda spec: _compile_checker(app, spec),
                known=app[LANGUAGES],
            )
        except PackageTooLarge as exc:
            raise ApiError(413, "Package too large", str(exc)) from exc
        except PackageError as exc:
            raise ApiError(422, "Invalid package", str(exc)) from exc
    shown, hidden = result.imported.counts
    body: dict[str, Any] = (
        problem_for(viewer_of(request), result.problem)
        | {
            "layout": result.imported.layout,
            "tests": {"shown": shown, "hidden": hidden},
            "notes": result.imported.notes,
        }
        | described(
            result.problem,
            [
                FileSummary(f.kind, f.name, f.content_type, len(f.data))
                for f in result.imported.files
            ],
        )
    )
    location = {"Location": f"/api/v1/problems/{result.problem.id}"}
    return respond(ImportOut, body, 200 if result.replaced else 201, location)
