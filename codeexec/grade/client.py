"""``codeexec grade``'s way to a codeexec server: its HTTP API, the same for a remote
server (``--server``) and the one started for a local package (``grade/local.py``).
Every source is a job (``/api/v1/submissions``), followed through its live event
stream, then read back whole."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import aiohttp

from codeexec.grade.graded import Graded

# The most of one answer read (a job's results with every shown test's output).
MAX_ANSWER_BYTES = 256 << 20
# A server that sends nothing for this long is gone (codeexec's event stream sends a
# keep-alive every 15 s, so a long job's stream is never silent that long).
SILENCE_S = 120.0
# The most one request/answer exchange may take (not the event stream: a job may run long).
REQUEST_S = 600.0
# Told of a source's progress: (source, tests done, tests in all; 0 until known).
Progress = Callable[[str, int, int], None]


class Unreachable(Exception):
    """The server cannot be reached or answered with something other than its API."""


class Refused(Exception):
    """The server refused what the program is (screening, size: 4xx but those below)."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


# Refusals that are not the program's doing: the token, the rate limit, a timeout.
NOT_THE_PROGRAMS = frozenset({401, 403, 408, 429})


@dataclass(frozen=True)
class ServerLanguage:
    id: str
    extensions: tuple[str, ...]
    available: bool
    kattis_names: tuple[str, ...] = ()


class GradeClient:
    def __init__(
        self, base_url: str, token: str | None,
        request_s: float = REQUEST_S, silence_s: float = SILENCE_S,
    ) -> None:  # fmt: skip
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        self.base_url = base_url
        self._request_timeout = aiohttp.ClientTimeout(
            total=request_s, sock_connect=10, sock_read=silence_s
        )
        # No total for the session: it bounds the event stream, which lasts as the job does.
        self._session = aiohttp.ClientSession(
            base_url.rstrip("/") + "/",
            headers=headers,
            timeout=aiohttp.ClientTimeout(total=None, sock_connect=10, sock_read=silence_s),
        )

    async def close(self) -> None:
        await self._session.close()

    async def _json(self, method: str, path: str, **kwargs: Any) -> Any:
        """The answer's JSON (Refused for a 4xx; Unreachable for a 5xx, no answer, or an
        answer that is not the API's, too large included)."""
        try:
            async with self._session.request(
                method, path, timeout=self._request_timeout, **kwargs
            ) as response:
                data = await response.content.read(MAX_ANSWER_BYTES + 1)
                status = response.status
        except (aiohttp.ClientError, TimeoutError, OSError) as exc:
            raise Unreachable(f"{self.base_url}: {exc or type(exc).__name__}") from exc
        if len(data) > MAX_ANSWER_BYTES:
            raise Unreachable(f"{path}: an answer larger than {MAX_ANSWER_BYTES} bytes")
        try:
            body = json.loads(data)
        except ValueError:
            raise Unreachable(f"{path}: answered {status} without JSON") from None
        if status >= 500:
            raise Unreachable(f"{path}: the server failed (HTTP {status})")
        if status >= 400:
            message = body.get("error", "") if isinstance(body, dict) else ""
            detail = body.get("detail") if isinstance(body, dict) else None
            text = f"{message}: {detail}" if detail else str(message) or f"HTTP {status}"
            if status in NOT_THE_PROGRAMS:
                raise Unreachable(f"the server refused the request (HTTP {status}): {text}")
            raise Refused(text, status)
        return body

    async def languages(self) -> dict[str, ServerLanguage]:
        body = await self._json("GET", "api/v1/languages")
        try:
            return {
                str(item["id"]): ServerLanguage(
                    str(item["id"]),
                    tuple(str(e) for e in item.get("extensions", ())),
                    bool(item.get("available")),
                    tuple(str(n) for n in item.get("kattis_names", ())),
                )
                for item in body["languages"]
            }
        except (KeyError, TypeError, AttributeError):
            raise Unreachable(f"{self.base_url}: not a codeexec server (its languages)") from None

    async def problem_exists(self, problem_id: str) -> bool:
        try:
            await self._json("GET", f"api/v1/problems/{quote(problem_id, safe='')}")
        except Refused as exc:
            if exc.status == 404:
                return False
            raise Unreachable(f"cannot look the problem up: {exc}") from exc
        return True

    async def grade(
        self, source: str, files: Mapping[str, str], problem: str, language: str,
        progress: Progress, entry_point: str | None = None,
    ) -> Graded:  # fmt: skip
        """Submit ``files`` as one program (``entry_point``: which file starts it, when
        the server cannot tell) and wait for its result (Refused and Unreachable are the
        caller's)."""
        started = time.monotonic()
        body: dict[str, Any] = {
            "problem_id": problem,
            "language": language,
            "files": [{"name": name, "content": text} for name, text in files.items()],
        }
        if entry_point is not None:
            body["entry_point"] = entry_point
        created = await self._json("POST", "api/v1/submissions", json=body)
        sid = created.get("id") if isinstance(created, dict) else None
        if not isinstance(sid, str) or not sid.isalnum():
            raise Unreachable(f"{self.base_url}: not a codeexec server (no job id)")
        async for kind, data in self._events(sid):
            position, total = data.get("position", 0), data.get("total", 0)
            if kind == "test" and isinstance(position, int) and isinstance(total, int):
                progress(source, position, total)
        job = await self._json("GET", f"api/v1/submissions/{sid}")
        if not isinstance(job, dict):
            raise Unreachable(f"{self.base_url}: not a codeexec server (job {sid})")
        error = job.get("error") if job.get("status") != "finished" else None
        return Graded(source, problem, language, job, error, time.monotonic() - started)

    async def _events(self, sid: str) -> AsyncIterator[tuple[str, dict[str, Any]]]:
        """The job's events as they happen, until it ends (Server-Sent Events)."""
        path = f"api/v1/submissions/{sid}/events"
        try:
            async with self._session.get(path, headers={"Accept": "text/event-stream"}) as response:
                if response.status != 200:
                    raise Refused(f"events of {sid}: HTTP {response.status}")
                kind = ""
                async for raw in response.content:
                    line = raw.decode("utf-8", errors="replace").rstrip("\r\n")
                    if line.startswith("event: "):
                        kind = line[7:]
                    elif line.startswith("data: "):
                        event = json.loads(line[6:])
                        data = event.get("data") if isinstance(event, dict) else None
                        yield kind, data if isinstance(data, dict) else {}
        except (aiohttp.ClientError, TimeoutError, OSError) as exc:
            raise Unreachable(f"events of {sid}: {exc or type(exc).__name__}") from exc
        except ValueError as exc:  # a line over aiohttp's limit, or one that is not JSON
            raise Unreachable(f"events of {sid}: not codeexec's event stream ({exc})") from exc


def language_of_file(name: str, languages: Mapping[str, ServerLanguage]) -> str | None:
    """The language whose extensions end ``name`` (case-sensitive: ``.C`` is C++; each
    extension belongs to one language)."""
    return next((lang.id for lang in languages.values() if name.endswith(lang.extensions)), None)
