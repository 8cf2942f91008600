"""Request bodies, bounded before they become objects.

Every route that takes a body reads it here, each step bounded by the one before:

1. headers: the content type (415), no content coding (415: a body is never inflated),
   the declared length against the route's limit (413, nothing read);
2. bytes, as they arrive, chunked or not, up to the route's limit (413); a body that
   stops arriving for ``CODEEXEC_BODY_IDLE_TIMEOUT_S`` is 408;
3. shape, counted on the bytes by ``bytes`` methods before any object is made: at most
   the route's number of JSON values (413), nested at most ``MAX_DEPTH`` deep (400);
4. parsing (``json``, strict): UTF-8; no duplicate keys, lone surrogates, NaN or
   Infinity; numbers of at most ``MAX_NUMBER_CHARS`` characters (400);
5. validation (pydantic; see ``codeexec.bounded`` and ``errors.validation_error``).

A route's JSON values bound what parsing allocates (a value costs 50-100 bytes as a
Python object, however few bytes it takes in the body); its bytes bound the rest.
"""

from __future__ import annotations

import asyncio
import json
import math
import re
from collections.abc import AsyncIterator, Awaitable
from dataclasses import dataclass
from typing import Any, TypeVar

from aiohttp import hdrs, web

from codeexec.http.errors import ApiError
from codeexec.http.keys import SETTINGS

T = TypeVar("T")

MAX_DEPTH = 16  # the deepest valid body (a batch's files) is 5
MAX_NUMBER_CHARS = 40  # any int the API takes, any double; int("9" * 10**6) takes seconds
INLINE_BYTES = 256 * 1024  # bodies parsed on the event loop; longer ones in a thread
MALFORMED = "Body is not valid JSON"
TOO_LARGE = "Request body too large"

_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"[]{}")
_OPENERS = frozenset(b"[{")
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")
_SURROGATE = re.compile("[\ud800-\udfff]")  # after json.loads, only lone ones are left


@dataclass(frozen=True)
class BodyLimits:
    """What one route accepts: bytes, and JSON values (every scalar, array, object
    and object member counts one)."""

    max_bytes: int
    max_values: int


def check_json_type(request: web.Request) -> None:
    """415 unless the body is declared ``application/json`` in UTF-8."""
    message = "Content-Type must be application/json"
    if request.content_type != "application/json":
        raise ApiError(415, message)
    charset = request.charset
    if charset is not None and charset.lower() not in ("utf-8", "utf8"):
        raise ApiError(415, message, f"charset must be utf-8, not {charset[:40]!r}")


def check_identity(request: web.Request) -> None:
    """415 for a compressed body: codeexec never inflates one (a gzip bomb turns 1 MB
    into 1 GB); aiohttp's own decompression is off (``app.py``)."""
    codings = ",".join(request.headers.getall(hdrs.CONTENT_ENCODING, []))
    if any(c.strip().lower() not in ("", "identity") for c in codings.split(",")):
        raise ApiError(415, "Content-Encoding is not supported", "send the body uncompressed")


async def within(idle_s: float, step: Awaitable[T]) -> T:
    """``step``, or 408 when the client sends nothing for ``idle_s`` seconds."""
    try:
        async with asyncio.timeout(idle_s):
            return await step
    except TimeoutError:
        raise ApiError(408, "Request body timed out", f"nothing arrived for {idle_s:g} s") from None


async def body_chunks(request: web.Request, max_bytes: int) -> AsyncIterator[bytes]:
    """The raw body as it arrives: 415 if compressed, 413 past ``max_bytes`` (declared
    or sent), 408 when it stops arriving."""
    check_identity(request)
    too_large = ApiError(413, TOO_LARGE, f"at most {max_bytes} bytes")
    if (request.content_length or 0) > max_bytes:
        raise too_large
    idle_s = request.app[SETTINGS].http.body_idle_timeout_s
    size = 0
    while chunk := await within(idle_s, request.content.readany()):
        size += len(chunk)
        if size > max_bytes:
            raise too_large
        yield chunk


async def read_json(
    request: web.Request,
    limits: BodyLimits,
    malformed: str = MALFORMED,
    *,
    any_type: bool = False,
) -> Any:
    """The body as JSON within ``limits`` (415, 413, 408, 400 with ``malformed``).
    ``any_type``: read as JSON whatever ``Content-Type`` says (a door for clients that
    send JSON as ``text/plain`` or with no type, as some Piston clients do); a
    compressed body is refused all the same."""
    if not any_type:
        check_json_type(request)
    body = bytearray()
    async for chunk in body_chunks(request, limits.max_bytes):
        body += chunk
    if len(body) <= INLINE_BYTES:
        return parse_json(body, limits.max_values, malformed)
    # Longer bodies are parsed in a thread: the loop then waits for one C call at a
    # time (about 1 ms per MB on the development machine), not for the whole parse.
    return await asyncio.to_thread(parse_json, body, limits.max_values, malformed)


def parse_json(body: bytearray, max_values: int, malformed: str = MALFORMED) -> Any:
    """Strict JSON, its shape checked before it is parsed. ``body`` is emptied once it
    is decoded: its memory is free again before the objects are made."""
    _check_shape(body, max_values, malformed)
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ApiError(400, malformed, f"not UTF-8: {exc.reason} at byte {exc.start}") from None
    body.clear()
    decoder = json.JSONDecoder(
        object_pairs_hook=_unique_keys,
        parse_int=_int,
        parse_float=_float,
        parse_constant=_no_constant,
    )
    try:
        data = decoder.decode(text)
    except RecursionError:  # unreachable after _check_shape; never a 500
        raise ApiError(400, malformed, f"nested deeper than {MAX_DEPTH} levels") from None
    except ValueError as exc:
        raise ApiError(400, malformed, str(exc)[:300]) from None
    if _SURROGATE_ESCAPE.search(text) and _has_lone_surrogate(data):
        raise ApiError(400, malformed, "a string holds a lone surrogate (\\ud800-\\udfff)")
    return data


def _check_shape(body: bytes | bytearray, max_values: int, malformed: str) -> None:
    """Counts JSON values and nesting on the bytes. Without escaped quotes and
    backslashes every '"' delimits a string, so what lies between strings is the
    structure: values are separated by commas or open a container."""
    too_many = ApiError(413, TOO_LARGE, f"at most {max_values} JSON values")
    plain = body
    if b'\\"' in body:  # escaped quotes, or an escaped backslash closing a string
        plain = body.replace(b"\\\\", b"").replace(b'\\"', b"")
    if plain.count(b'"') > 4 * max_values:  # a value and a key, two quotes each
        raise too_many
    outside = b"".join(plain.split(b'"')[::2])
    del plain
    values = len(outside) - len(outside.translate(None, b",[{")) + 1
    # Within the budget there are at most 2 * max_values brackets; beyond it, the first
    # ones show whether the body is (also) too deep: nesting is the more precise answer.
    brackets = outside.translate(None, _NOT_BRACKETS)[: 2 * max_values]
    if _deeper_than(brackets, MAX_DEPTH):
        raise ApiError(400, malformed, f"nested deeper than {MAX_DEPTH} levels")
    if values > max_values:
        raise too_many


def _deeper_than(brackets: bytes, most: int) -> bool:
    depth = 0
    for byte in brackets:
        depth = depth + 1 if byte in _OPENERS else depth - 1
        if depth > most:
            return True
    return False


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    found = dict(pairs)
    if len(found) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise ValueError(f"duplicate key {key[:40]!r}")
            seen.add(key)
    return found


def _number_text(text: str) -> str:
    if len(text) > MAX_NUMBER_CHARS:
        raise ValueError(
            f"a number of {len(text)} characters; at most {MAX_NUMBER_CHARS} characters"
        )
    return text


def _int(text: str) -> int:
    return int(_number_text(text))


def _float(text: str) -> float:
    value = float(_number_text(text))
    if math.isinf(value):
        raise ValueError(f"number out of range: {text}")
    return value


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _has_lone_surrogate(value: Any) -> bool:
    if isinstance(value, str):
        return not value.isascii() and _SURROGATE.search(value) is not None
    if isinstance(value, dict):
        return any(_has_lone_surrogate(k) or _has_lone_surrogate(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_has_lone_surrogate(v) for v in value)
    return False
