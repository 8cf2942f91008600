"""Converted statements, each made once: a statement is a package's (a third party's),
and converting one may cost a CPU for pandoc's whole timeout (LaTeX that never ends,
Markdown built to be slow). Whoever may read a problem may ask for its statement, so:

- a result is kept by its key (the statement's digest, its format, its files), and a
  failure too: asking again costs nothing, whatever it cost the first time;
- callers asking for the same key while it is made wait for that one conversion, and
  it goes on when they leave (closing the connection does not make it start over);
- at most ``at_once`` conversions run together (per event loop); the others wait.

What is kept is bounded in bytes (least recently used first out), so a statement may be
converted again after many others were.
"""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from cachetools import LRUCache

_ENTRY_BYTES = 256  # a key, the entry's own overhead


class ConversionError(Exception):
    """The statement could not be made HTML (the message says why)."""


@dataclass(frozen=True)
class _Failed:
    why: str  # the message alone: an exception would keep its traceback's frames


@dataclass
class _Running:
    limit: asyncio.Semaphore
    pending: dict[str, asyncio.Future[str]] = field(default_factory=dict)


class HtmlCache:
    def __init__(self, max_bytes: int, at_once: int) -> None:
        self._done: LRUCache[str, str | _Failed] = LRUCache(
            maxsize=max_bytes,
            getsizeof=lambda v: _ENTRY_BYTES + len(v if isinstance(v, str) else v.why),
        )
        self._at_once = at_once
        # Futures and semaphores belong to one event loop (tests run several in turn).
        self._running: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _Running] = (
            weakref.WeakKeyDictionary()
        )

    async def get(self, key: str, convert: Callable[[], Awaitable[str]]) -> str:
        """The HTML kept for ``key``, else ``convert()``'s (ConversionError, kept too)."""
        done = self._done.get(key)
        if isinstance(done, _Failed):
            raise ConversionError(done.why)
        if done is not None:
            return done
        loop = asyncio.get_running_loop()
        running = self._running.get(loop)
        if running is None:
            running = self._running[loop] = _Running(asyncio.Semaphore(self._at_once))
        pending = running.pending.get(key)
        if pending is None:
            pending = loop.create_task(self._convert(key, convert, running))
            pending.add_done_callback(_retrieved)  # when every caller has left
            running.pending[key] = pending
        return await asyncio.shield(pending)

    async def _convert(
        self, key: str, convert: Callable[[], Awaitable[str]], running: _Running
    ) -> str:
        try:
            async with running.limit:
                try:
                    html = await convert()
                except ConversionError as exc:
                    self._done[key] = _Failed(str(exc))
                    raise
            self._done[key] = html
            return html
        finally:
            running.pending.pop(key, None)


def _retrieved(task: asyncio.Future[str]) -> None:
    if not task.cancelled():
        task.exception()
