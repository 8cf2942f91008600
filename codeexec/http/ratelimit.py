"""Per-caller rate limiting: a token bucket (aiolimiter's leaky bucket) per API key, or
per client address for anonymous callers, with ``CODEEXEC_RATE_LIMIT_PER_S`` refill and
``CODEEXEC_RATE_LIMIT_BURST`` capacity. Over the limit: 429 with ``Retry-After``; every
answer carries ``RateLimit-Limit`` and ``RateLimit-Remaining``."""

from __future__ import annotations

from aiohttp import web

from codeexec.http.auth import is_open, principal
from codeexec.http.errors import ApiError, Handler
from codeexec.http.keys import RATE_LIMITER


@web.middleware
async def rate_limit(request: web.Request, handler: Handler) -> web.StreamResponse:
    limiter = request.app[RATE_LIMITER]
    if not limiter.enabled or is_open(request):
        return await handler(request)
    caller = principal(request).key_id or f"address:{request.remote}"
    remaining = await limiter.take(caller)
    limit_header = {"RateLimit-Limit": str(limiter.burst)}
    if remaining is None:
        raise ApiError(
            429,
            "Too many requests",
            f"at most {limiter.per_s:g} per second, bursts of {limiter.burst}",
            headers=limit_header
            | {"RateLimit-Remaining": "0", "Retry-After": str(limiter.retry_after_s())},
        )
    response = await handler(request)
    if not response.prepared:  # a stream's headers are already sent
        response.headers.update(limit_header | {"RateLimit-Remaining": str(remaining)})
    return response
